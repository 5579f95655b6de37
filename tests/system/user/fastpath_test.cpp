// The IPC fastpath and Yield's fast exit against the general path: every register but those
// carrying the message survives Call, ReplyRecv and Yield, whichever path the kernel takes
// (equal or different priorities, one or two address spaces); SIMD/FP ownership changes hands
// on every round trip; the exclusive monitor is cleared; and every case the fastpath must leave
// to the general path (a queued sender, a pending signal, a Call without a reply right, a reply
// to a fault, a partner below another runnable thread, a VSpace changed or an ASID retired
// since the partner last ran) gets the general result.
#include <cstddef>

#include "abi/fault.hpp"
#include "tessera/syscall.hpp"
#include "user_test.hpp"

static_assert(tessera::abi::kSvcImmediate == 0x7e55, "the register-check thread's svc below");

namespace tessera::test {

// One system call with every register chosen: x0-x30, the flags and v0-v31 going in; all of
// them, SP and TPIDR_EL0 coming out (tessera_test_svc below).
struct alignas(16) SvcFrame {
    uint64_t in[31];
    uint64_t out[31];
    uint64_t sp_in;
    uint64_t sp_out;
    uint64_t nzcv_in;
    uint64_t nzcv_out;
    uint64_t tpidr_in;
    uint64_t tpidr_out;
    uint64_t fp_in[64];  // q0-q31, two words each
    uint64_t fp_out[64];
};
static_assert(offsetof(SvcFrame, out) == 248);
static_assert(offsetof(SvcFrame, sp_in) == 496 && offsetof(SvcFrame, sp_out) == 504);
static_assert(offsetof(SvcFrame, nzcv_in) == 512 && offsetof(SvcFrame, nzcv_out) == 520);
static_assert(offsetof(SvcFrame, tpidr_in) == 528 && offsetof(SvcFrame, tpidr_out) == 536);
static_assert(offsetof(SvcFrame, fp_in) == 544 && offsetof(SvcFrame, fp_out) == 1056);

extern "C" void tessera_test_svc(SvcFrame* frame);

}  // namespace tessera::test

// Saves the callee-saved registers (x19-x30, d8-d15) and the frame pointer on the stack, loads
// every register from frame->in (x30 too: the return address is on the stack), makes the
// system call, and stores every register in frame->out before restoring its own.
asm(R"(
    .text
    .balign 4
    .global tessera_test_svc
    .type tessera_test_svc, %function
tessera_test_svc:
    stp     x29, x30, [sp, #-176]!
    stp     x19, x20, [sp, #16]
    stp     x21, x22, [sp, #32]
    stp     x23, x24, [sp, #48]
    stp     x25, x26, [sp, #64]
    stp     x27, x28, [sp, #80]
    stp     d8, d9, [sp, #96]
    stp     d10, d11, [sp, #112]
    stp     d12, d13, [sp, #128]
    stp     d14, d15, [sp, #144]
    str     x0, [sp, #160]
    mov     x1, sp
    str     x1, [x0, #496]
    mrs     x1, tpidr_el0
    str     x1, [x0, #528]
    add     x1, x0, #544
    ldp     q0, q1, [x1, #0]
    ldp     q2, q3, [x1, #32]
    ldp     q4, q5, [x1, #64]
    ldp     q6, q7, [x1, #96]
    ldp     q8, q9, [x1, #128]
    ldp     q10, q11, [x1, #160]
    ldp     q12, q13, [x1, #192]
    ldp     q14, q15, [x1, #224]
    ldp     q16, q17, [x1, #256]
    ldp     q18, q19, [x1, #288]
    ldp     q20, q21, [x1, #320]
    ldp     q22, q23, [x1, #352]
    ldp     q24, q25, [x1, #384]
    ldp     q26, q27, [x1, #416]
    ldp     q28, q29, [x1, #448]
    ldp     q30, q31, [x1, #480]
    ldr     x1, [x0, #512]
    msr     nzcv, x1
    ldp     x2, x3, [x0, #16]
    ldp     x4, x5, [x0, #32]
    ldp     x6, x7, [x0, #48]
    ldp     x8, x9, [x0, #64]
    ldp     x10, x11, [x0, #80]
    ldp     x12, x13, [x0, #96]
    ldp     x14, x15, [x0, #112]
    ldp     x16, x17, [x0, #128]
    ldp     x18, x19, [x0, #144]
    ldp     x20, x21, [x0, #160]
    ldp     x22, x23, [x0, #176]
    ldp     x24, x25, [x0, #192]
    ldp     x26, x27, [x0, #208]
    ldp     x28, x29, [x0, #224]
    ldr     x30, [x0, #240]
    ldp     x0, x1, [x0, #0]
    svc     #0x7e55
    stp     x0, x1, [sp, #-16]!
    mrs     x1, nzcv
    ldr     x0, [sp, #176]
    str     x1, [x0, #520]
    add     x1, sp, #16
    str     x1, [x0, #504]
    stp     x2, x3, [x0, #264]
    stp     x4, x5, [x0, #280]
    stp     x6, x7, [x0, #296]
    stp     x8, x9, [x0, #312]
    stp     x10, x11, [x0, #328]
    stp     x12, x13, [x0, #344]
    stp     x14, x15, [x0, #360]
    stp     x16, x17, [x0, #376]
    stp     x18, x19, [x0, #392]
    stp     x20, x21, [x0, #408]
    stp     x22, x23, [x0, #424]
    stp     x24, x25, [x0, #440]
    stp     x26, x27, [x0, #456]
    stp     x28, x29, [x0, #472]
    str     x30, [x0, #488]
    ldp     x2, x3, [sp], #16
    stp     x2, x3, [x0, #248]
    mrs     x1, tpidr_el0
    str     x1, [x0, #536]
    add     x1, x0, #1056
    stp     q0, q1, [x1, #0]
    stp     q2, q3, [x1, #32]
    stp     q4, q5, [x1, #64]
    stp     q6, q7, [x1, #96]
    stp     q8, q9, [x1, #128]
    stp     q10, q11, [x1, #160]
    stp     q12, q13, [x1, #192]
    stp     q14, q15, [x1, #224]
    stp     q16, q17, [x1, #256]
    stp     q18, q19, [x1, #288]
    stp     q20, q21, [x1, #320]
    stp     q22, q23, [x1, #352]
    stp     q24, q25, [x1, #384]
    stp     q26, q27, [x1, #416]
    stp     q28, q29, [x1, #448]
    stp     q30, q31, [x1, #480]
    ldp     x19, x20, [sp, #16]
    ldp     x21, x22, [sp, #32]
    ldp     x23, x24, [sp, #48]
    ldp     x25, x26, [sp, #64]
    ldp     x27, x28, [sp, #80]
    ldp     d8, d9, [sp, #96]
    ldp     d10, d11, [sp, #112]
    ldp     d12, d13, [sp, #128]
    ldp     d14, d15, [sp, #144]
    ldp     x29, x30, [sp], #176
    ret
    .size tessera_test_svc, . - tessera_test_svc
)");

namespace tessera::test {
namespace {

using abi::MessageInfo;
using abi::ObjectType;
using abi::Syscall;

constexpr unsigned kSp = 31;
constexpr unsigned kFlags = 32;
constexpr unsigned kTpidr = 33;
constexpr unsigned kFirstFp = 34;  // then the 64 words of v0-v31
constexpr unsigned kNone = ~0u;

// A pattern in every register, different for every seed (and for every thread using one).
void fill(SvcFrame& f, uint64_t seed, Syscall number) {
    for (unsigned i = 0; i < 31; ++i) {
        f.in[i] = (seed + 1) * 0x9e37'79b9'7f4a'7c15ull + i * 0x0101'0101'0101'0101ull;
    }
    for (unsigned i = 0; i < 64; ++i) {
        f.fp_in[i] = ~((seed + 7) * 0xc2b2'ae3d'27d4'eb4full + i);
    }
    f.nzcv_in = (seed % 16) << 28;
    f.in[7] = static_cast<uint64_t>(number);
}

// The first register from x`from` on that is not what it was before the call (x0-x30, then
// kSp, kFlags, kTpidr, kFirstFp + word of v0-v31), or kNone.
unsigned first_changed(const SvcFrame& f, unsigned from) {
    for (unsigned i = from; i < 31; ++i) {
        if (f.out[i] != f.in[i]) {
            return i;
        }
    }
    if (f.sp_out != f.sp_in) {
        return kSp;
    }
    if (f.nzcv_out != f.nzcv_in) {
        return kFlags;
    }
    if (f.tpidr_out != f.tpidr_in) {
        return kTpidr;
    }
    for (unsigned i = 0; i < 64; ++i) {
        if (f.fp_out[i] != f.fp_in[i]) {
            return kFirstFp + i;
        }
    }
    return kNone;
}

uint64_t new_endpoint() {
    uint64_t ut = new_untyped(12);
    return ut == 0 ? 0 : make_objects(ut, ObjectType::kEndpoint, 0);
}

uint64_t mint(uint64_t src, uint64_t rights, uint64_t badge) {
    uint64_t slot = new_slot();
    if (!cnode_mint(kRootCNode, slot, kRootDepth, kRootCNode, src, kRootDepth, rights, badge)
             .ok()) {
        return 0;
    }
    return slot;
}

void set_own_priority(uint64_t priority) {
    (void)tcb_set_priority(abi::CapPtr(abi::kSlotInitThreadTcb),
                           abi::CapPtr(abi::kSlotInitThreadTcb), priority, 255);
}

// --- Registers over Call and ReplyRecv ---------------------------------------------------

constexpr uint64_t kRounds = 40;
constexpr uint64_t kPatternBadge = 0xb0b;

// The sender's "capabilities unwrapped" field, which the receiver must always see cleared.
constexpr uint64_t kIgnoredInfoBits = MessageInfo(0, 7, 0, 0).raw();

// Request n: label 0x100 + n, words 3n and ~n. The reply to it: label 0x201 + n, words + 1.
constexpr MessageInfo request_info(uint64_t n) {
    return MessageInfo(0x100 + n, 0, 0, 2);
}
constexpr MessageInfo reply_info(uint64_t n) {
    return MessageInfo(0x201 + n, 0, 0, 2);
}

// Globals: the server may run in another address space that shares this program's data.
SvcFrame g_client_frame;
SvcFrame g_server_frame;
volatile uint64_t g_server_rounds = 0;
volatile uint64_t g_server_error = 0;  // 1 + register index of the first difference it saw
volatile uint64_t g_server_error_round = 0;
// What the servers of the later cases saw.
volatile uint64_t g_seen[4];
volatile uint64_t g_served = 0;
volatile uint64_t g_done = 0;

// Answers every request with ReplyRecv, its registers filled with a pattern of its own; checks
// what each request left in them.
void pattern_server(uint64_t ep) {
    SvcFrame& f = g_server_frame;
    uint64_t words[2] = {0, 0};
    for (uint64_t n = 0;; ++n) {
        fill(f, 0x5e4e + n, Syscall::kReplyRecv);
        f.in[0] = ep;
        f.in[1] = (n == 0 ? MessageInfo(0, 0, 0, 0) : reply_info(n - 1)).raw() | kIgnoredInfoBits;
        f.in[2] = words[0] + 1;
        f.in[3] = words[1] + 1;
        tessera_test_svc(&f);
        unsigned changed = first_changed(f, 4);
        if (f.out[0] != kPatternBadge) {
            changed = 0;
        } else if (f.out[1] != request_info(n).raw()) {
            changed = 1;
        } else if (f.out[2] != 3 * n) {
            changed = 2;
        } else if (f.out[3] != ~n) {
            changed = 3;
        }
        if (changed != kNone && g_server_error == 0) {
            g_server_error = changed + 1;
            g_server_error_round = n;
        }
        words[0] = f.out[2];
        words[1] = f.out[3];
        g_server_rounds = n + 1;
    }
}

// kRounds Calls from this thread at client_priority to a pattern server at server_priority,
// in this address space or another.
void exchange_patterns(TestContext& t, uint64_t client_priority, uint64_t server_priority,
                       bool other_address_space) {
    uint64_t ep = new_endpoint();
    uint64_t badged = mint(ep, abi::kRightsAll, kPatternBadge);
    uint64_t vspace = abi::kSlotInitThreadVSpace;
    if (other_address_space) {
        vspace = new_shared_vspace();
        CHECK(vspace != 0);
    }
    g_server_rounds = 0;
    g_server_error = 0;
    TestThread server = start_thread(pattern_server, ep, server_priority, 0, vspace);
    CHECK(server.tcb != 0);
    let_others_run();  // it waits in ReplyRecv
    set_own_priority(client_priority);
    SvcFrame& f = g_client_frame;
    unsigned changed = kNone;
    uint64_t round = 0;
    for (; round < kRounds && changed == kNone; ++round) {
        fill(f, 0xc11e + round, Syscall::kCall);
        f.in[0] = badged;
        f.in[1] = request_info(round).raw() | kIgnoredInfoBits;
        f.in[2] = 3 * round;
        f.in[3] = ~round;
        tessera_test_svc(&f);
        changed = first_changed(f, 4);
        if (f.out[0] != 0) {
            changed = 0;
        } else if (f.out[1] != reply_info(round).raw()) {
            changed = 1;
        } else if (f.out[2] != 3 * round + 1) {
            changed = 2;
        } else if (f.out[3] != ~round + 1) {
            changed = 3;
        }
    }
    set_own_priority(255);
    stop_thread(server);
    if (changed != kNone) {
        t.fail("caller: register {} wrong after round {}", changed, round - 1);
        return;
    }
    if (g_server_error != 0) {
        t.fail("server: register {} wrong in round {}", g_server_error - 1, g_server_error_round);
        return;
    }
    CHECK_EQ(g_server_rounds, kRounds);
}

}  // namespace

// The root task runs at 255. Equal priorities: both directions take the fastpath. A server
// below the caller: Call takes the general path, the reply the fastpath. A server above it:
// Call the fastpath, the reply the general path.
USER_TEST(fastpath, registers_equal_priority) {
    exchange_patterns(t, 255, 255, false);
}
USER_TEST(fastpath, registers_server_below_caller) {
    exchange_patterns(t, 255, 254, false);
}
USER_TEST(fastpath, registers_server_above_caller) {
    exchange_patterns(t, 100, 200, false);
}
USER_TEST(fastpath, registers_equal_priority_across_address_spaces) {
    exchange_patterns(t, 255, 255, true);
}
USER_TEST(fastpath, registers_server_below_caller_across_address_spaces) {
    exchange_patterns(t, 255, 254, true);
}
USER_TEST(fastpath, registers_server_above_caller_across_address_spaces) {
    exchange_patterns(t, 100, 200, true);
}

// --- Yield --------------------------------------------------------------------------------

namespace {

volatile uint64_t g_peer_turns = 0;

void yielding_peer(uint64_t) {
    for (;;) {
        g_peer_turns = g_peer_turns + 1;
        sys::yield();
    }
}

}  // namespace

USER_TEST(fastpath, yield_alone_changes_nothing) {
    // A thread below this one's priority does not count: this one stays alone at its own.
    g_peer_turns = 0;
    TestThread below = start_thread(yielding_peer, 0, 254);
    CHECK(below.tcb != 0);
    SvcFrame& f = g_client_frame;
    for (uint64_t i = 0; i < 10; ++i) {
        fill(f, 0x71e1d + i, Syscall::kYield);
        tessera_test_svc(&f);
        unsigned changed = first_changed(f, 0);
        if (changed != kNone) {
            stop_thread(below);
            t.fail("register {} changed by Yield {}", changed, i);
            return;
        }
    }
    uint64_t turns = g_peer_turns;
    stop_thread(below);
    CHECK_EQ(turns, uint64_t{0});
}

USER_TEST(fastpath, yield_with_a_peer_runs_it) {
    g_peer_turns = 0;
    TestThread peer = start_thread(yielding_peer, 0, 255);
    CHECK(peer.tcb != 0);
    SvcFrame& f = g_client_frame;
    unsigned changed = kNone;
    uint64_t turns[3] = {};
    for (unsigned i = 0; i < 3 && changed == kNone; ++i) {
        fill(f, 0x9ee4 + i, Syscall::kYield);
        tessera_test_svc(&f);
        changed = first_changed(f, 0);
        turns[i] = g_peer_turns;
    }
    stop_thread(peer);
    CHECK(changed == kNone);
    // Each Yield moves this thread behind the peer, which takes a turn and yields back (a
    // timeslice ending in between may give it one more).
    CHECK(turns[0] >= 1);
    CHECK(turns[1] > turns[0]);
    CHECK(turns[2] > turns[1]);
}

// --- SIMD/FP and the exclusive monitor ----------------------------------------------------

// Both sides of registers_* fill v0-v31 before every call, so the SIMD/FP registers change
// owner twice per round trip and the fastpath must leave them trapping for the thread that
// does not own them. This case does the same with a large number of round trips.
USER_TEST(fastpath, fpu_changes_hands_every_round_trip) {
    uint64_t ep = new_endpoint();
    uint64_t badged = mint(ep, abi::kRightsAll, kPatternBadge);
    g_server_rounds = 0;
    g_server_error = 0;
    TestThread server = start_thread(pattern_server, ep, 255);
    CHECK(server.tcb != 0);
    let_others_run();
    SvcFrame& f = g_client_frame;
    unsigned changed = kNone;
    uint64_t round = 0;
    for (; round < 200 && changed == kNone; ++round) {
        fill(f, 0xf00 + round, Syscall::kCall);
        f.in[0] = badged;
        f.in[1] = request_info(round).raw();
        f.in[2] = 3 * round;
        f.in[3] = ~round;
        tessera_test_svc(&f);
        changed = first_changed(f, 4);
    }
    stop_thread(server);
    if (changed != kNone) {
        t.fail("register {} wrong after round {}", changed, round - 1);
        return;
    }
    CHECK_EQ(g_server_error, uint64_t{0});
    CHECK_EQ(g_server_rounds, uint64_t{200});
}

namespace {

void echo_server(uint64_t ep) {
    sys::Message m;
    sys::recv(abi::CapPtr(ep), m);
    for (;;) {
        sys::reply_recv(abi::CapPtr(ep), m);
    }
}

}  // namespace

USER_TEST(fastpath, exclusive_monitor_cleared_by_a_round_trip) {
    uint64_t ep = new_endpoint();
    TestThread server = start_thread(echo_server, ep, 255);
    CHECK(server.tcb != 0);
    let_others_run();
    alignas(8) static uint64_t word = 0;
    uint64_t status = 0;
    // A Call with no words to a server at this priority: the fastpath both ways.
    asm volatile(
        "ldxr x9, [%1]\n"
        "mov x0, %2\n mov x1, #0\n mov x7, #0\n svc %3\n"
        "stxr w10, x9, [%1]\n"
        "mov %0, x10\n"
        : "=r"(status)
        : "r"(&word), "r"(ep), "i"(abi::kSvcImmediate)
        : "x0", "x1", "x2", "x3", "x4", "x5", "x7", "x9", "x10", "memory");
    stop_thread(server);
    CHECK_EQ(status, uint64_t{1});  // the store-exclusive must fail
}

// --- What the fastpath leaves to the general path -----------------------------------------

namespace {

uint64_t g_gift_slot = 0;  // where the buffer server receives a capability

// Records the five words of each request (the fifth from its IPC buffer) and whether a
// capability came with it; replies with every word plus one.
void buffer_server(uint64_t ep) {
    abi::IpcBuffer* buffer = ipc_buffer();
    sys::Message m;
    sys::recv(abi::CapPtr(ep), m);
    for (;;) {
        for (unsigned i = 0; i < 4; ++i) {
            g_seen[i] = m.mr[i];
            m.mr[i] += 1;
        }
        g_server_rounds = buffer->msg[4];
        g_served = m.info.extra_caps();
        buffer->msg[4] += 1;
        buffer->receive_cnode = kRootCNode;
        buffer->receive_index = g_gift_slot;
        buffer->receive_depth = kRootDepth;
        m.info = MessageInfo(0, 0, 0, 5);
        sys::reply_recv(abi::CapPtr(ep), m);
    }
}

}  // namespace

USER_TEST(fastpath, long_messages_and_capabilities_take_the_general_path) {
    // At this thread's priority, so only the message decides: five words, or a capability.
    uint64_t ep = new_endpoint();
    g_gift_slot = new_slot();
    TestThread server = start_thread(buffer_server, ep, 255);
    CHECK(server.tcb != 0);
    let_others_run();
    abi::IpcBuffer* buffer = ipc_buffer();
    sys::Message m;
    m.info = MessageInfo(0, 0, 0, 5);
    for (unsigned i = 0; i < 4; ++i) {
        m.mr[i] = 10 + i;
    }
    buffer->msg[4] = 14;
    sys::call(abi::CapPtr(ep), m);
    CHECK_EQ(g_seen[3], uint64_t{13});
    CHECK_EQ(g_server_rounds, uint64_t{14});  // the fifth word, through the buffers
    CHECK_EQ(m.info.length(), 5u);
    CHECK_EQ(m.mr[3], uint64_t{14});
    CHECK_EQ(buffer->msg[4], uint64_t{15});
    // One capability with two words (the server asked for it in its receive slot).
    buffer->caps_or_badges[0] = ep;
    m.info = MessageInfo(0, 0, 1, 2);
    sys::call(abi::CapPtr(ep), m);
    CHECK_EQ(g_served, uint64_t{1});
    stop_thread(server);
    CHECK(identify(abi::CapPtr(g_gift_slot)).type == abi::CapType::kEndpoint);
}

namespace {

uint64_t g_queue_ep = 0;

// Takes one request, lets another caller queue behind it, then replies with ReplyRecv: that
// must take the queued call at once.
void queue_server(uint64_t ep) {
    sys::Message m;
    sys::recv(abi::CapPtr(ep), m);
    g_seen[0] = m.badge_or_cap;
    sys::yield();  // the second caller runs and queues on the endpoint
    m.info = MessageInfo(0x11, 0, 0, 0);
    sys::reply_recv(abi::CapPtr(ep), m);
    g_seen[1] = m.badge_or_cap;
    g_seen[2] = m.info.label();
    m.info = MessageInfo(0x22, 0, 0, 0);
    sys::reply_recv(abi::CapPtr(ep), m);
}

void second_caller(uint64_t cap) {
    sys::Message m;
    m.info = MessageInfo(0x33, 0, 0, 0);
    sys::call(abi::CapPtr(cap), m);
    g_seen[3] = m.info.label();
}

}  // namespace

USER_TEST(fastpath, reply_recv_takes_a_queued_sender) {
    g_queue_ep = new_endpoint();
    for (volatile uint64_t& s : g_seen) {
        s = 0;
    }
    TestThread server = start_thread(queue_server, g_queue_ep, 255);
    CHECK(server.tcb != 0);
    let_others_run();  // it waits in Recv
    TestThread caller = start_thread(second_caller, mint(g_queue_ep, abi::kRightsAll, 2), 255);
    CHECK(caller.tcb != 0);
    sys::Message m;
    m.info = MessageInfo(0x44, 0, 0, 0);
    sys::call(abi::CapPtr(mint(g_queue_ep, abi::kRightsAll, 1)), m);
    let_others_run();
    stop_thread(caller);
    stop_thread(server);
    CHECK_EQ(m.info.label(), uint64_t{0x11});
    CHECK_EQ(g_seen[0], uint64_t{1});
    CHECK_EQ(g_seen[1], uint64_t{2});  // the queued call, received without blocking
    CHECK_EQ(g_seen[2], uint64_t{0x33});
    CHECK_EQ(g_seen[3], uint64_t{0x22});
}

namespace {

uint64_t g_signal_cap = 0;

// Signals its own bound notification while busy, then replies with ReplyRecv: the pending
// signal must arrive at once instead of the next request.
void signal_server(uint64_t ep) {
    sys::Message m;
    sys::recv(abi::CapPtr(ep), m);
    sys::signal(abi::CapPtr(g_signal_cap));
    m.info = MessageInfo(0x55, 0, 0, 0);
    sys::reply_recv(abi::CapPtr(ep), m);
    g_seen[0] = m.badge_or_cap;
    g_seen[1] = m.info.label();
    g_done = 1;
    sys::recv(abi::CapPtr(ep), m);
}

}  // namespace

USER_TEST(fastpath, reply_recv_takes_a_pending_signal) {
    uint64_t ep = new_endpoint();
    uint64_t ut = new_untyped(12);
    uint64_t ntfn = make_objects(ut, ObjectType::kNotification, 0);
    CHECK(ntfn != 0);
    g_signal_cap = mint(ntfn, abi::kRightWrite, 0x40);
    g_done = 0;
    g_seen[0] = 0;
    g_seen[1] = ~uint64_t{0};
    TestThread server = start_thread(signal_server, ep, 255);
    CHECK(server.tcb != 0);
    CHECK(tcb_bind_notification(abi::CapPtr(server.tcb), abi::CapPtr(ntfn)).ok());
    let_others_run();  // it waits in Recv
    sys::Message m;
    m.info = MessageInfo(0x66, 0, 0, 0);
    sys::call(abi::CapPtr(ep), m);
    let_others_run();
    stop_thread(server);
    CHECK_EQ(m.info.label(), uint64_t{0x55});
    CHECK_EQ(g_done, uint64_t{1});
    CHECK_EQ(g_seen[0], uint64_t{0x40});  // the signal's badge
    CHECK_EQ(g_seen[1], uint64_t{0});
}

namespace {

// Records every request and answers it.
void recording_server(uint64_t ep) {
    sys::Message m;
    sys::recv(abi::CapPtr(ep), m);
    for (;;) {
        g_seen[0] = m.badge_or_cap;
        g_seen[1] = m.info.label();
        g_served = g_served + 1;
        m.info = MessageInfo(0x77, 0, 0, 0);
        sys::reply_recv(abi::CapPtr(ep), m);
    }
}

void call_once(uint64_t cap) {
    sys::Message m;
    m.info = MessageInfo(0x88, 0, 0, 0);
    sys::call(abi::CapPtr(cap), m);
    g_seen[2] = m.info.label();
    g_done = 1;
}

}  // namespace

USER_TEST(fastpath, call_without_reply_right_suspends_the_caller) {
    uint64_t ep = new_endpoint();
    g_served = 0;
    g_done = 0;
    g_seen[2] = 0;
    TestThread server = start_thread(recording_server, ep, kTestPriority);
    CHECK(server.tcb != 0);
    let_others_run();
    // Write only: the message is delivered, but nobody can reply, so the caller is suspended.
    TestThread caller = start_thread(call_once, mint(ep, abi::kRightWrite, 7), kTestPriority);
    CHECK(caller.tcb != 0);
    let_others_run();
    CHECK_EQ(g_served, uint64_t{1});
    CHECK_EQ(g_seen[0], uint64_t{7});
    CHECK_EQ(g_seen[1], uint64_t{0x88});
    CHECK_EQ(g_done, uint64_t{0});
    stop_thread(caller);
    // With GrantReply the same call is answered.
    caller = start_thread(call_once, mint(ep, abi::kRightWrite | abi::kRightGrantReply, 8),
                          kTestPriority);
    CHECK(caller.tcb != 0);
    let_others_run();
    stop_thread(caller);
    stop_thread(server);
    CHECK_EQ(g_served, uint64_t{2});
    CHECK_EQ(g_seen[0], uint64_t{8});
    CHECK_EQ(g_done, uint64_t{1});
    CHECK_EQ(g_seen[2], uint64_t{0x77});
}

namespace {

volatile uint64_t g_fault_messages = 0;
volatile uint64_t g_fault_label = 0;

void faulting_thread(uint64_t) {
    asm volatile("udf #0");
    g_done = 1;
}

// Resumes the faulting thread after its undefined instruction with one ReplyRecv, then waits.
void fault_handler(uint64_t ep) {
    sys::Message m;
    sys::recv(abi::CapPtr(ep), m);
    g_fault_label = m.info.label();
    g_fault_messages = 1;
    uint64_t pc = m.mr[0];
    m.info = MessageInfo(0, 0, 0, 1);
    m.mr[0] = pc + 4;
    sys::reply_recv(abi::CapPtr(ep), m);
    g_fault_messages = 2;  // a second fault: the first reply did not resume it correctly
    sys::recv(abi::CapPtr(ep), m);
}

}  // namespace

USER_TEST(fastpath, reply_recv_to_a_faulted_thread_resumes_it) {
    // The caller waiting for this reply is a thread with a pending fault: ReplyRecv must
    // resume it as the fault protocol says (here at a new pc), not hand it a message.
    uint64_t ep = new_endpoint();
    uint64_t fault_ep = mint(ep, abi::kRightsAll, 0xfa);
    g_done = 0;
    g_fault_messages = 0;
    TestThread handler = start_thread(fault_handler, ep, kTestPriority);
    CHECK(handler.tcb != 0);
    let_others_run();
    TestThread faulter = start_thread(faulting_thread, 0, kTestPriority, fault_ep);
    CHECK(faulter.tcb != 0);
    let_others_run();
    stop_thread(faulter);
    stop_thread(handler);
    CHECK_EQ(g_fault_label, static_cast<uint64_t>(abi::FaultType::kUserException));
    CHECK_EQ(g_fault_messages, uint64_t{1});
    CHECK_EQ(g_done, uint64_t{1});
}

// --- Priorities ---------------------------------------------------------------------------

namespace {

char g_order[8];
volatile unsigned g_order_length = 0;
uint64_t g_wake = 0;  // a notification the middle thread waits on

void note(char who) {
    if (g_order_length < sizeof(g_order)) {
        g_order[g_order_length] = who;
        g_order_length = g_order_length + 1;
    }
}

// Between the other two in priority: notes every wake-up.
void middle_thread(uint64_t) {
    for (;;) {
        sys::wait(abi::CapPtr(g_wake));
        note('M');
    }
}

// Wakes the middle thread while handling each request, then replies.
void waking_server(uint64_t ep) {
    sys::Message m;
    sys::recv(abi::CapPtr(ep), m);
    for (;;) {
        sys::signal(abi::CapPtr(g_wake));
        note('S');
        sys::reply_recv(abi::CapPtr(ep), m);
    }
}

// Wakes the middle thread, then calls.
void waking_caller(uint64_t ep) {
    sys::signal(abi::CapPtr(g_wake));
    sys::Message m;
    sys::call(abi::CapPtr(ep), m);
    note('C');
}

void plain_caller(uint64_t ep) {
    sys::Message m;
    sys::call(abi::CapPtr(ep), m);
    note('C');
}

void noting_server(uint64_t ep) {
    sys::Message m;
    sys::recv(abi::CapPtr(ep), m);
    for (;;) {
        note('S');
        sys::reply_recv(abi::CapPtr(ep), m);
    }
}

bool order_is(const char* expected) {
    unsigned i = 0;
    for (; expected[i] != '\0'; ++i) {
        if (i >= g_order_length || g_order[i] != expected[i]) {
            return false;
        }
    }
    return i == g_order_length;
}

}  // namespace

USER_TEST(fastpath, partner_below_a_runnable_thread_waits_for_it) {
    // A reply to a caller below a runnable thread, and a call to a server below one, must let
    // that thread run first: the fastpath only switches to a partner the scheduler would pick.
    uint64_t ut = new_untyped(12);
    g_wake = make_objects(ut, ObjectType::kNotification, 0);
    CHECK(g_wake != 0);
    uint64_t ep = new_endpoint();
    g_order_length = 0;
    TestThread middle = start_thread(middle_thread, 0, 150);
    TestThread server = start_thread(waking_server, ep, 200);
    CHECK(middle.tcb != 0 && server.tcb != 0);
    let_others_run();
    TestThread caller = start_thread(plain_caller, ep, 100);
    CHECK(caller.tcb != 0);
    let_others_run();
    stop_thread(caller);
    stop_thread(server);
    bool reply_ok = order_is("SMC");
    g_order_length = 0;
    ep = new_endpoint();
    server = start_thread(noting_server, ep, 100);
    CHECK(server.tcb != 0);
    let_others_run();
    caller = start_thread(waking_caller, ep, 200);
    CHECK(caller.tcb != 0);
    let_others_run();
    stop_thread(caller);
    stop_thread(server);
    stop_thread(middle);
    CHECK(reply_ok);
    CHECK(order_is("MSC"));
}

USER_TEST(fastpath, equal_priority_partner_takes_the_callers_place) {
    // Call and reply each put the partner where the caller was, ahead of a third thread at the
    // same priority; a Yield afterwards still reaches that thread.
    uint64_t ep = new_endpoint();
    TestThread server = start_thread(echo_server, ep, 255);
    CHECK(server.tcb != 0);
    let_others_run();
    sys::yield();  // alone here: a fresh timeslice, so no tick moves this thread before its Yield
    g_peer_turns = 0;
    TestThread peer = start_thread(yielding_peer, 0, 255);  // queued behind this thread
    CHECK(peer.tcb != 0);
    sys::Message m;
    for (unsigned i = 0; i < 3; ++i) {
        sys::call(abi::CapPtr(ep), m);
    }
    uint64_t before = g_peer_turns;
    sys::yield();
    uint64_t after = g_peer_turns;
    stop_thread(peer);
    stop_thread(server);
    CHECK_EQ(before, uint64_t{0});
    CHECK(after >= 1);
}

// --- Address spaces -----------------------------------------------------------------------

namespace {

constexpr uint64_t kPrivateVa = 0x61'0000'0000;
constexpr uint64_t kFillVa = 0x75'0000'0000;
constexpr uint64_t kRW = abi::kMapRead | abi::kMapWrite;

// A VSpace sharing this program's image, with a page of its own at kPrivateVa holding value.
uint64_t shared_vspace_with_page(uint64_t value, uint64_t pool = 0) {
    uint64_t vs = new_shared_vspace(pool);
    uint64_t frame = new_frame();
    uint64_t alias = new_slot();
    if (vs == 0 || frame == 0 || !map_tables(abi::CapPtr(vs), kPrivateVa) ||
        !frame_map(abi::CapPtr(frame), abi::CapPtr(vs), kPrivateVa, kRW,
                   abi::MapAttributes::kCached)
             .ok() ||
        !cnode_copy(kRootCNode, alias, kRootDepth, kRootCNode, frame, kRootDepth, abi::kRightsAll)
             .ok() ||
        !map_tables(abi::CapPtr(abi::kSlotInitThreadVSpace), kFillVa) ||
        !frame_map(abi::CapPtr(alias), abi::CapPtr(abi::kSlotInitThreadVSpace), kFillVa, kRW,
                   abi::MapAttributes::kCached)
             .ok()) {
        return 0;
    }
    *reinterpret_cast<volatile uint64_t*>(kFillVa) = value;
    (void)cnode_delete(kRootCNode, alias, kRootDepth);  // unmaps it here
    return vs;
}

// Answers each call with the word at kPrivateVa in the address space it runs in.
void private_page_server(uint64_t ep) {
    sys::Message m;
    sys::recv(abi::CapPtr(ep), m);
    for (;;) {
        g_served = g_served + 1;
        m.info = MessageInfo(0, 0, 0, 1);
        m.mr[0] = *reinterpret_cast<volatile uint64_t*>(kPrivateVa);
        sys::reply_recv(abi::CapPtr(ep), m);
    }
}

uint64_t call_for_word(uint64_t ep) {
    sys::Message m;
    m.info = MessageInfo(0, 0, 0, 0);
    sys::call(abi::CapPtr(ep), m);
    return m.mr[0];
}

InvocationResult set_space(uint64_t tcb, uint64_t vspace) {
    const uint64_t args[] = {0, 0, 0};  // no fault endpoint, CSpace and VSpace data unchanged
    const abi::CapPtr caps[] = {kRootCNode, abi::CapPtr(vspace)};
    return invoke(abi::CapPtr(tcb), abi::InvocationLabel::kTcbSetSpace, args, caps);
}

}  // namespace

USER_TEST(fastpath, new_vspace_takes_effect_at_the_next_message) {
    uint64_t first = shared_vspace_with_page(0x1111);
    uint64_t second = shared_vspace_with_page(0x2222);
    CHECK(first != 0 && second != 0);
    uint64_t ep = new_endpoint();
    g_served = 0;
    // At this thread's priority: every call below is a fastpath candidate.
    TestThread server = start_thread(private_page_server, ep, 255, 0, first);
    CHECK(server.tcb != 0);
    let_others_run();
    uint64_t seen[5];
    seen[0] = call_for_word(ep);
    seen[1] = call_for_word(ep);
    // Replaced while it waits for the next message: that message must find it in the new one.
    CHECK(set_space(server.tcb, second).ok());
    seen[2] = call_for_word(ep);
    seen[3] = call_for_word(ep);
    CHECK(set_space(server.tcb, first).ok());
    seen[4] = call_for_word(ep);
    stop_thread(server);
    CHECK_EQ(g_served, uint64_t{5});
    CHECK_EQ(seen[0], uint64_t{0x1111});
    CHECK_EQ(seen[1], uint64_t{0x1111});
    CHECK_EQ(seen[2], uint64_t{0x2222});
    CHECK_EQ(seen[3], uint64_t{0x2222});
    CHECK_EQ(seen[4], uint64_t{0x1111});
}

namespace {

uint64_t g_retire_ep = 0;
uint64_t g_go = 0;

// Two calls for the word, with a wait for a signal between them.
void two_calls_for_word(uint64_t) {
    g_seen[0] = call_for_word(g_retire_ep);
    sys::wait(abi::CapPtr(g_go));
    g_seen[1] = call_for_word(g_retire_ep);
    g_done = 1;
}

}  // namespace

USER_TEST(fastpath, retired_asid_is_never_switched_to) {
    // A server in a VSpace whose ASID pool is deleted must never run again, not even once
    // another VSpace holds the same ASID.
    uint64_t pool = new_asid_pool();
    CHECK(pool != 0);
    uint64_t vs = shared_vspace_with_page(0x3333, pool);
    CHECK(vs != 0);
    uint64_t asid = identify(abi::CapPtr(vs)).data & 0xffff;
    g_retire_ep = new_endpoint();
    uint64_t ut = new_untyped(12);
    g_go = make_objects(ut, ObjectType::kNotification, 0);
    CHECK(g_go != 0);
    g_served = 0;
    g_done = 0;
    g_seen[0] = 0;
    g_seen[1] = 0;
    // The caller is at the server's priority: the fastpath would switch straight to it. Both
    // run before the pool goes, so nothing but its deletion tells the kernel to check again.
    TestThread server = start_thread(private_page_server, g_retire_ep, kTestPriority, 0, vs);
    CHECK(server.tcb != 0);
    let_others_run();
    TestThread caller = start_thread(two_calls_for_word, 0, kTestPriority);
    CHECK(caller.tcb != 0);
    let_others_run();  // the first call is answered; the caller waits for the signal
    CHECK_EQ(g_seen[0], uint64_t{0x3333});
    CHECK_EQ(g_served, uint64_t{1});

    CHECK(cnode_delete(kRootCNode, pool, kRootDepth).ok());  // retires every ASID in it
    uint64_t again = new_asid_pool();
    CHECK(again != 0);
    uint64_t other = new_untyped(12);
    uint64_t reused = make_objects(other, ObjectType::kVSpace, 0);
    CHECK(reused != 0 && asid_pool_assign(abi::CapPtr(again), abi::CapPtr(reused)).ok());
    CHECK_EQ(identify(abi::CapPtr(reused)).data & 0xffff, asid);

    sys::signal(abi::CapPtr(g_go));
    let_others_run();  // the second call reaches the server, which is suspended, not run
    stop_thread(caller);
    stop_thread(server);
    CHECK_EQ(g_served, uint64_t{1});
    CHECK_EQ(g_done, uint64_t{0});
    CHECK(cnode_delete(kRootCNode, again, kRootDepth).ok());
}

}  // namespace tessera::test
