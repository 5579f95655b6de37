// syscall-fuzz: an untrusted PD that attacks the kernel with random invocations. From the
// untyped its creator gives it ("pool") it builds a zoo of every kind of object - untyped
// children, endpoints and notifications (badged and reduced copies), CNodes, frames, page
// tables mapped at every level, a VSpace, a thread that faults, a reply capability - then issues
// `calls` invocations chosen by a seeded generator: real labels for each capability's type most
// of the time, boundary values, kernel-half and unaligned addresses, random message words and
// extra capabilities. Endpoints are only ever used without blocking. It counts every call in
// the shared region "progress" (its creator's watchdog) and exits with status 0; a kernel panic,
// a hang or memory not coming back is what its creator looks for. argv: seed calls [trace-from]
// (with a console, every call from that index on is printed before it is made: a replay).
#include "abi/invocation.hpp"
#include "abi/ipc_buffer.hpp"
#include "abi/object_type.hpp"
#include "abi/process.hpp"
#include "base/string_view.hpp"
#include "tessera/debug_print.hpp"
#include "tessera/invocation.hpp"
#include "tessera/startup.hpp"
#include "tessera/syscall.hpp"

using namespace tessera;

namespace {

using abi::CapPtr;
using abi::InvocationLabel;
using abi::ObjectType;

constexpr CapPtr kSelfCNode{abi::kPdSlotSelfCNode};
constexpr CapPtr kSelfVSpace{abi::kPdSlotSelfVSpace};
constexpr CapPtr kSelfTcb{abi::kPdSlotSelfTcb};
constexpr uint64_t kDepth = abi::kWordBits;  // every slot of a single-level CSpace
constexpr uint64_t kZooSize = 96;
constexpr uint64_t kMapBase = 0x10'0000'0000;  // the zoo's mappings

// Shared with the creator: [0] calls made, [1] seed, [2] last slot, [3] last label, [4] done,
// [5] calls the kernel carried out (label 0 back), [6] zoo rebuilds; from word 8, a ring of the
// last kRingSize calls, 8 words each (index, slot, type, label, length | caps << 8, words 0-2),
// which the creator prints when the PD stops.
constexpr uint64_t kRingSize = 32;
volatile uint64_t* g_progress = nullptr;

uint64_t g_state = 1;
uint64_t next_random() {
    // xorshift64*: deterministic for a seed, so a failing seed replays exactly.
    g_state ^= g_state >> 12;
    g_state ^= g_state << 25;
    g_state ^= g_state >> 27;
    return g_state * 0x2545'f491'4f6c'dd1dULL;
}
uint64_t below(uint64_t n) {
    return n == 0 ? 0 : next_random() % n;
}

uint64_t g_zoo = 0;  // first zoo slot
uint64_t g_trace_from = ~uint64_t{0};
uint64_t g_call = 0;
uint64_t g_zoo_used = 0;

// Mostly the slots the zoo filled; now and then any of its range.
uint64_t zoo_slot() {
    uint64_t used = g_zoo_used + 4 < kZooSize ? g_zoo_used + 4 : kZooSize;
    return g_zoo + (below(4) == 0 ? below(kZooSize) : below(used));
}

uint64_t make(uint64_t untyped, ObjectType type, uint64_t bits) {
    if (g_zoo_used >= kZooSize) {
        return 0;
    }
    uint64_t slot = g_zoo + g_zoo_used;
    if (!untyped_retype(CapPtr(untyped), type, bits, kSelfCNode, 0, 0, slot, 1).ok()) {
        return 0;
    }
    ++g_zoo_used;
    return slot;
}

uint64_t derive(uint64_t src, uint64_t rights, uint64_t badge) {
    if (g_zoo_used >= kZooSize || src == 0) {
        return 0;
    }
    uint64_t slot = g_zoo + g_zoo_used;
    InvocationResult r =
        badge != 0 ? cnode_mint(kSelfCNode, slot, kDepth, kSelfCNode, src, kDepth, rights, badge)
                   : cnode_copy(kSelfCNode, slot, kDepth, kSelfCNode, src, kDepth, rights);
    if (!r.ok()) {
        return 0;
    }
    ++g_zoo_used;
    return slot;
}

// Every kind of object, some copies, mapped tables, a faulting thread and a reply capability.
void build_zoo(uint64_t pool) {
    g_zoo_used = 0;
    (void)cnode_delete_range(kSelfCNode, g_zoo, kDepth, kZooSize);
    uint64_t small = make(pool, ObjectType::kUntyped, 14);
    (void)make(pool, ObjectType::kUntyped, 16);
    uint64_t ep = make(pool, ObjectType::kEndpoint, 0);
    uint64_t fault_ep = make(pool, ObjectType::kEndpoint, 0);
    uint64_t ntfn = make(pool, ObjectType::kNotification, 0);
    (void)derive(ep, abi::kRightsAll, 0x51);
    (void)derive(ep, abi::kRightRead, 0);
    (void)derive(ntfn, abi::kRightsAll, 0x7);
    uint64_t cn = make(pool, ObjectType::kCNode, 2);
    (void)make(small, ObjectType::kCNode, 4);
    (void)derive(cn, abi::kRightsAll, 0);
    uint64_t tcb = make(pool, ObjectType::kTcb, 0);
    uint64_t frames[4];
    for (uint64_t& f : frames) {
        f = make(pool, ObjectType::kFrame4K, 0);
    }
    (void)derive(frames[0], abi::kRightRead, 0);
    uint64_t tables[3];
    for (uint64_t& t : tables) {
        t = make(pool, ObjectType::kPageTable, 0);
    }
    (void)make(pool, ObjectType::kVSpace, 0);
    (void)make(pool, ObjectType::kFrame2M, 0);
    // Tables at levels 1, 2 and 3 of its own address space, frames through them.
    uint64_t va = kMapBase + below(64) * 0x4000'0000;
    for (uint64_t t : tables) {
        (void)page_table_map(CapPtr(t), kSelfVSpace, va);
    }
    (void)derive(tables[2], abi::kRightsAll, 0);
    for (uint64_t i = 0; i < 3; ++i) {
        (void)frame_map(CapPtr(frames[i]), kSelfVSpace, va + i * 4096, abi::kMapRead,
                        abi::MapAttributes::kCached);
    }
    // A thread in its own spaces that faults at once, its fault waiting on fault_ep; receiving
    // it leaves a reply owed, saved as a reply capability.
    uint64_t fault_cap = derive(fault_ep, abi::kRightsAll, 0x99);
    if (tcb != 0 && fault_cap != 0 &&
        tcb_configure(CapPtr(tcb), CapPtr(fault_cap), kSelfCNode, 0, kSelfVSpace, 0, CapPtr(0))
            .ok() &&
        tcb_set_priority(CapPtr(tcb), kSelfTcb, 100, 0).ok()) {
        uint64_t regs[3] = {0x10, 0, 0};  // pc at the null page
        (void)tcb_write_registers(CapPtr(tcb), true, regs, 3);
        sys::yield();
        sys::Message m;
        sys::nb_recv(CapPtr(fault_ep), m);
        if (m.info.label() != 0 && g_zoo_used < kZooSize) {
            const uint64_t args[] = {g_zoo + g_zoo_used, kDepth};
            if (invoke(kSelfCNode, InvocationLabel::kCNodeSaveCaller, args).ok()) {
                ++g_zoo_used;
            }
        }
    }
}

// Labels each type answers to (the first of its range and a few past it are tried too).
struct LabelRange {
    abi::CapType type;
    uint64_t first;
    uint64_t last;
};
constexpr LabelRange kLabels[] = {
    {abi::CapType::kUntyped, 1, 1},      {abi::CapType::kCNode, 10, 21},
    {abi::CapType::kTcb, 31, 42},        {abi::CapType::kIrqControl, 50, 50},
    {abi::CapType::kIrqHandler, 51, 53}, {abi::CapType::kAsidControl, 60, 60},
    {abi::CapType::kAsidPool, 61, 61},   {abi::CapType::kPageTable, 62, 63},
    {abi::CapType::kFrame, 64, 72},      {abi::CapType::kVSpace, 68, 70},
    {abi::CapType::kConsole, 85, 85},    {abi::CapType::kZombie, 0, 100},
};

uint64_t pick_label(abi::CapType type) {
    uint64_t roll = below(100);
    if (roll < 75) {
        for (const LabelRange& r : kLabels) {
            if (r.type == type) {
                return r.first + below(r.last - r.first + 1);
            }
        }
    }
    return roll < 95 ? below(100) : next_random();
}

uint64_t pick_word() {
    static constexpr uint64_t kSpecial[] = {
        0,
        1,
        2,
        3,
        63,
        64,
        65,
        4096,
        0x1fffff,
        0x200000,
        ~uint64_t{0},
        uint64_t{1} << 47,
        (uint64_t{1} << 47) - 4096,
        0xffff'0000'4020'0000,  // the kernel image, through the upper half
        0x4020'0000,            // its physical address
        kMapBase,
        kMapBase + 1,  // unaligned
    };
    switch (below(6)) {
        case 0:
            return kSpecial[below(sizeof(kSpecial) / sizeof(kSpecial[0]))];
        case 1:
            return below(16);
        case 2:
            return zoo_slot();
        case 3:
            return kMapBase + below(64) * 0x4000'0000 + below(1024) * 4096;
        case 4:
            return below(65);  // sizes, depths, radices, rights
        default:
            return next_random();
    }
}

uint64_t pick_slot() {
    uint64_t roll = below(100);
    if (roll < 85) {
        return zoo_slot();
    }
    if (roll < 97) {
        // Its own low slots, but never its own TCB: suspending or deprioritising itself only
        // stops the fuzzing.
        uint64_t s = below(abi::kPdSlotFirstFree);
        return s == abi::kPdSlotSelfTcb ? abi::kPdSlotSelfCNode : s;
    }
    return next_random();
}

// Arguments shaped like a real call of `label` (half the time): slots of the zoo at depth 64,
// object types and sizes that fit, page-aligned addresses of the zoo's mapping area. The rest
// of the time every word is pick_word()'s.
unsigned shaped_arguments(uint64_t label, uint64_t* w) {
    auto addr = []() { return kMapBase + below(64) * 0x4000'0000 + below(512) * 4096; };
    switch (static_cast<InvocationLabel>(label)) {
        case InvocationLabel::kUntypedRetype:
            w[0] = below(static_cast<uint64_t>(ObjectType::kCount) + 1);
            w[1] = below(3) == 0 ? 12 + below(6) : below(8);
            w[2] = 0;
            w[3] = 0;
            w[4] = zoo_slot();
            w[5] = 1 + below(4);
            return 6;
        case InvocationLabel::kCNodeCopy:
        case InvocationLabel::kCNodeMint:
        case InvocationLabel::kCNodeMove:
        case InvocationLabel::kCNodeMutate:
            w[0] = zoo_slot();
            w[1] = kDepth;
            w[2] = zoo_slot();
            w[3] = kDepth;
            w[4] = below(16);
            w[5] = below(4) == 0 ? 0 : below(256);
            return 6;
        case InvocationLabel::kCNodeDelete:
        case InvocationLabel::kCNodeRevoke:
        case InvocationLabel::kCNodeSaveCaller:
        case InvocationLabel::kCNodeIdentify:
        case InvocationLabel::kCNodeCancelBadgedSends:
            w[0] = zoo_slot();
            w[1] = kDepth;
            return 2;
        case InvocationLabel::kCNodeDeleteRange:
            w[0] = zoo_slot();
            w[1] = kDepth;
            w[2] = 1 + below(8);
            return 3;
        case InvocationLabel::kCNodeCopyRange:
            w[0] = zoo_slot();
            w[1] = kDepth;
            w[2] = zoo_slot();
            w[3] = kDepth;
            w[4] = below(16);
            w[5] = below(8) == 0 ? below(600) : 1 + below(8);
            return 6;
        case InvocationLabel::kCNodeRotate:
            w[0] = zoo_slot();
            w[1] = kDepth;
            w[2] = 0;
            w[3] = zoo_slot();
            w[4] = kDepth;
            w[5] = 0;
            w[6] = zoo_slot();
            w[7] = kDepth;
            return 8;
        case InvocationLabel::kPageTableMap:
            w[0] = addr();
            return 1;
        case InvocationLabel::kFrameMap:
            w[0] = addr();
            w[1] = 1 + below(7);
            w[2] = below(3);
            return 3;
        case InvocationLabel::kFrameCacheOp:
            w[0] = below(4);
            w[1] = below(2) * 64;
            w[2] = 64 * (1 + below(64));
            return 3;
        case InvocationLabel::kVSpaceMapFrames:
            w[0] = zoo_slot();
            w[1] = 1 + below(4);
            w[2] = addr();
            w[3] = 1 + below(3);
            w[4] = below(3);
            return 5;
        case InvocationLabel::kVSpaceUnmapFrames:
            w[0] = zoo_slot();
            w[1] = 1 + below(4);
            return 2;
        case InvocationLabel::kVSpaceRemapFrames:
            w[0] = zoo_slot();
            w[1] = 1 + below(4);
            w[2] = below(8);
            return 3;
        case InvocationLabel::kFrameRemap:
            w[0] = below(8);
            return 1;
        case InvocationLabel::kTcbConfigure:
        case InvocationLabel::kTcbSetSpace:
            w[0] = zoo_slot();
            w[1] = 0;
            w[2] = 0;
            w[3] = below(2) == 0 ? 0 : addr();
            return 4;
        case InvocationLabel::kTcbSetPriority:
            w[0] = below(256);
            w[1] = below(256);
            return 2;
        case InvocationLabel::kTcbWriteRegisters:
            w[0] = below(2);
            w[1] = 0;
            w[2] = 1 + below(3);
            w[3] = below(2) == 0 ? kMapBase : pick_word();
            w[4] = pick_word();
            w[5] = pick_word();
            return 6;
        default:
            return 0;
    }
}

// One random invocation (or non-blocking IPC for endpoints, notifications and replies).
void one_call() {
    uint64_t slot = pick_slot();
    abi::CapType type = cnode_identify(kSelfCNode, slot, kDepth).type;
    uint64_t label = pick_label(type);
    g_progress[2] = slot;
    g_progress[3] = label;
    abi::IpcBuffer* buffer = ipc_buffer();
    unsigned length = below(10) == 0 ? static_cast<unsigned>(below(abi::kMaxMessageLength + 1))
                                     : static_cast<unsigned>(below(9));
    sys::Message m;
    uint64_t shaped[8] = {};
    unsigned shaped_length = below(2) == 0 ? shaped_arguments(label, shaped) : 0;
    if (shaped_length != 0) {
        length = shaped_length;
    }
    for (unsigned i = 0; i < length; ++i) {
        uint64_t w = i < shaped_length ? shaped[i] : pick_word();
        if (i < abi::kMessageRegistersInCpu) {
            m.mr[i] = w;
        } else {
            buffer->msg[i] = w;
        }
    }
    unsigned caps = static_cast<unsigned>(below(abi::kMaxExtraCaps + 1));
    for (unsigned i = 0; i < caps; ++i) {
        buffer->caps_or_badges[i] = pick_slot();
    }
    if (shaped_length != 0 && below(4) != 0) {
        // The capabilities such a call takes: its CNode as root, its VSpace, a zoo object.
        caps = static_cast<unsigned>(1 + below(abi::kMaxExtraCaps));
        buffer->caps_or_badges[0] = label < 30 ? kSelfCNode.value() : kSelfVSpace.value();
        if (label == static_cast<uint64_t>(InvocationLabel::kTcbConfigure) ||
            label == static_cast<uint64_t>(InvocationLabel::kTcbSetSpace)) {
            buffer->caps_or_badges[0] = kSelfCNode.value();
            buffer->caps_or_badges[1] = kSelfVSpace.value();
        }
    }
    buffer->receive_cnode = below(2) == 0 ? kSelfCNode : CapPtr(pick_word());
    buffer->receive_index = zoo_slot();
    buffer->receive_depth = below(4) == 0 ? pick_word() : kDepth;
    m.info = abi::MessageInfo(label, 0, caps, length);
    m.badge_or_cap = slot;
    volatile uint64_t* record = g_progress + 8 + (g_call % kRingSize) * 8;
    record[0] = g_call;
    record[1] = slot;
    record[2] = static_cast<uint64_t>(type);
    record[3] = label;
    record[4] = length | (uint64_t{caps} << 8);
    record[5] = m.mr[0];
    record[6] = m.mr[1];
    record[7] = m.mr[2];
    if (g_call >= g_trace_from) {
        println(
            "syscall-fuzz: call {}: slot {:#x} ({}) label {} length {} caps {} words {:#x} "
            "{:#x} {:#x} {:#x}",
            g_call, slot, static_cast<uint64_t>(type), label, length, caps, m.mr[0], m.mr[1],
            m.mr[2], m.mr[3]);
    }
    switch (type) {
        case abi::CapType::kEndpoint:
        case abi::CapType::kNotification:
            if (below(2) == 0) {
                sys::nb_send(CapPtr(slot), m);
            } else {
                sys::nb_recv(CapPtr(slot), m);
            }
            break;
        case abi::CapType::kReply:
            sys::send(CapPtr(slot), m);  // replies once, never blocks
            break;
        case abi::CapType::kNull:
            // Empty - or unknown, once it has lost its own CNode capability: NBSend performs an
            // invocation without a reply and never blocks on an endpoint.
            sys::nb_send(CapPtr(slot), m);
            break;
        default:
            sys::call(CapPtr(slot), m);
            if (m.info.label() == 0) {
                g_progress[5] = g_progress[5] + 1;
            }
            break;
    }
}

}  // namespace

int main(int argc, char** argv, char** /*envp*/) {
    uint64_t seed = 1;
    uint64_t calls = 1000;
    if (argc < 3 || !parse_u64(StringView(argv[1]), seed) ||
        !parse_u64(StringView(argv[2]), calls)) {
        println("syscall-fuzz: usage: syscall-fuzz SEED CALLS");
        return 2;
    }
    const abi::StartupCap* pool = find_cap("pool");
    const abi::StartupRegion* progress = find_region("progress");
    if (pool == nullptr || progress == nullptr) {
        println("syscall-fuzz: needs a \"pool\" untyped and a \"progress\" region");
        return 3;
    }
    g_progress = reinterpret_cast<volatile uint64_t*>(progress->address);
    g_progress[1] = seed;
    g_state = seed * 0x9e37'79b9'7f4a'7c15ULL + 1;
    g_zoo = startup_record()->first_free_slot;
    if (argc >= 4) {
        (void)parse_u64(StringView(argv[3]), g_trace_from);
    }
    build_zoo(pool->slot);
    for (uint64_t i = 0; i < calls; ++i) {
        // Now and then the zoo is built again (its objects may all be gone by now).
        if (i % 500 == 499) {
            (void)cnode_revoke(kSelfCNode, pool->slot, kDepth);
            build_zoo(pool->slot);
            g_progress[6] = g_progress[6] + 1;
        }
        g_call = i;
        one_call();
        g_progress[0] = i + 1;
    }
    g_progress[4] = 1;
    return 0;
}
