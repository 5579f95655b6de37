// IPC benchmark root task (run with `pmu_user`): guest instructions per operation, read from
// the PMU instruction counter at EL0 (exact under QEMU -icount). Each figure is the average
// over many iterations minus the cost of the empty measurement loop, so it includes the user
// system-call stubs and the kernel path, as seen by the program.
#include "abi/bootinfo.hpp"
#include "abi/process.hpp"
#include "tessera/boot_info.hpp"
#include "tessera/debug_print.hpp"
#include "tessera/invocation.hpp"
#include "tessera/runtime.h"
#include "tessera/syscall.hpp"
#include "tessera/thread_block.hpp"

using namespace tessera;

namespace {

constexpr uint64_t kIterations = 1000;
constexpr abi::CapPtr kRoot{abi::kSlotInitThreadCNode};

inline uint64_t instructions() {
    uint64_t v;
    asm volatile("isb; mrs %0, pmevcntr0_el0" : "=r"(v)::"memory");
    return v;
}

const abi::BootInfo* g_info;
uint64_t g_next_slot;
uint64_t g_pool;

uint64_t slot() {
    return g_next_slot++;
}

uint64_t make(abi::ObjectType type, uint64_t bits) {
    uint64_t s = slot();
    InvocationResult r = untyped_retype(abi::CapPtr(g_pool), type, bits, kRoot, 0, 0, s, 1);
    return r.ok() ? s : 0;
}

alignas(4096) uint8_t g_stack[16384];
alignas(4096) uint8_t g_ipc_page[4096];

uint64_t frame_for(const void* page) {
    for (uint64_t s = g_info->image_frames.start; s < g_info->image_frames.end; ++s) {
        if ((cnode_identify(kRoot, s, 64).data & 0xffff'ffff'ffff) ==
            reinterpret_cast<uint64_t>(page)) {
            return s;
        }
    }
    return 0;
}

uint64_t start_thread(void (*entry)(uint64_t), uint64_t arg, uint64_t priority,
                      uint64_t fault_ep = 0, uint64_t vspace = abi::kSlotInitThreadVSpace) {
    uint64_t tcb = make(abi::ObjectType::kTcb, 0);
    uint64_t buffer = reinterpret_cast<uint64_t>(g_ipc_page);
    (void)tcb_configure(abi::CapPtr(tcb), abi::CapPtr(fault_ep), kRoot, 0, abi::CapPtr(vspace),
                        buffer, abi::CapPtr(frame_for(g_ipc_page)));
    (void)tcb_set_priority(abi::CapPtr(tcb), abi::CapPtr(abi::kSlotInitThreadTcb), priority, 0);
    uint64_t stack_top = reinterpret_cast<uint64_t>(g_stack + sizeof(g_stack));
    uint64_t regs[abi::kUserRegisterCount] = {};
    regs[abi::kRegisterIndexTpidr] =
        push_thread_block(stack_top, reinterpret_cast<abi::IpcBuffer*>(buffer));
    regs[abi::kRegisterIndexPc] = reinterpret_cast<uint64_t>(entry);
    regs[abi::kRegisterIndexSp] = stack_top;
    regs[abi::kRegisterIndexX0] = arg;
    (void)tcb_write_registers(abi::CapPtr(tcb), true, regs, abi::kUserRegisterCount);
    return tcb;
}

// A second address space sharing this program's image (same addresses, same rights).
uint64_t second_address_space() {
    uint64_t pool_ut = make(abi::ObjectType::kUntyped, 12);
    uint64_t pool = slot();
    (void)asid_control_make_pool(abi::CapPtr(abi::kSlotAsidControl), abi::CapPtr(pool_ut), kRoot,
                                 pool, 64);
    uint64_t vs = make(abi::ObjectType::kVSpace, 0);
    (void)asid_pool_assign(abi::CapPtr(pool), abi::CapPtr(vs));
    for (uint64_t s = g_info->image_frames.start; s < g_info->image_frames.end; ++s) {
        CapIdentity id = cnode_identify(kRoot, s, 64);
        uint64_t va = id.data & 0xffff'ffff'ffff;
        for (unsigned i = 0; i < 4; ++i) {
            uint64_t table = make(abi::ObjectType::kPageTable, 0);
            if (!page_table_map(abi::CapPtr(table), abi::CapPtr(vs), va).ok()) {
                break;
            }
        }
        uint64_t copy = slot();
        (void)cnode_copy(kRoot, copy, 64, kRoot, s, 64, abi::kRightsAll);
        uint64_t rights = (id.rights & abi::kRightWrite) != 0 ? abi::kMapRead | abi::kMapWrite
                                                              : abi::kMapRead | abi::kMapExecute;
        (void)frame_map(abi::CapPtr(copy), abi::CapPtr(vs), va, rights,
                        abi::MapAttributes::kCached);
    }
    return vs;
}

void row(const char* what, uint64_t total, uint64_t overhead) {
    uint64_t per = (total - overhead) / kIterations;
    println("| {:<46} | {:12} |", what, per);
}

uint64_t empty_loop() {
    uint64_t start = instructions();
    for (uint64_t i = 0; i < kIterations; ++i) {
        asm volatile("" ::: "memory");
    }
    return instructions() - start;
}

// Server: answers every call with the same number of words it got.
void echo_server(uint64_t ep) {
    sys::Message m;
    sys::recv(abi::CapPtr(ep), m);
    for (;;) {
        sys::reply_recv(abi::CapPtr(ep), m);
    }
}

uint64_t call_loop(uint64_t ep, unsigned words) {
    sys::Message m;
    uint64_t start = instructions();
    for (uint64_t i = 0; i < kIterations; ++i) {
        m.info = abi::MessageInfo(0, 0, 0, words);
        sys::call(abi::CapPtr(ep), m);
    }
    return instructions() - start;
}

void sink_server(uint64_t ep) {
    sys::Message m;
    for (;;) {
        sys::recv(abi::CapPtr(ep), m);
    }
}

// Faults forever: each undefined instruction is one fault round trip.
void faulter(uint64_t) {
    for (;;) {
        asm volatile("udf #0");
    }
}

// Instructions to delete a chain of n radix-1 CNodes, each holding the only capability to the
// next, by deleting the first (built in a holding CNode, then linked from the bottom up).
uint64_t chain_delete_cost(uint64_t n) {
    constexpr unsigned kHoldRadix = 14;
    uint64_t hold = make(abi::ObjectType::kCNode, kHoldRadix);
    for (uint64_t at = 0; at < n; at += 256) {
        uint64_t batch = n - at < 256 ? n - at : 256;
        (void)untyped_retype(abi::CapPtr(g_pool), abi::ObjectType::kCNode, 1, kRoot, hold, 64, at,
                             batch);
    }
    for (uint64_t i = n - 1; i > 0; --i) {
        (void)cnode_move(abi::CapPtr(hold), ((i - 1) << 1) | 1, kHoldRadix + 1, abi::CapPtr(hold),
                         i, kHoldRadix);
    }
    uint64_t first = slot();
    (void)cnode_move(kRoot, first, 64, abi::CapPtr(hold), 0, kHoldRadix);
    (void)cnode_delete(kRoot, hold, 64);
    uint64_t start = instructions();
    (void)cnode_delete(kRoot, first, 64);
    return instructions() - start;
}

}  // namespace

extern "C" void tessera_start(uint64_t argument, uint64_t /*unused*/) {
    g_info = reinterpret_cast<const abi::BootInfo*>(argument);
    set_ipc_buffer(reinterpret_cast<abi::IpcBuffer*>(g_info->ipc_buffer));
    g_next_slot = g_info->empty.start;
    g_pool = largest_ram_untyped(*g_info).slot.value();
    uint64_t overhead = empty_loop();

    println("");
    println("Benchmark: IPC (guest instructions per operation under -icount shift=0)");
    println("| {:<46} | {:12} |", "operation", "instructions");
    println("|------------------------------------------------|--------------|");

    uint64_t start = instructions();
    for (uint64_t i = 0; i < kIterations; ++i) {
        sys::yield();
    }
    row("null system call (Yield, no other thread)", instructions() - start, overhead);

    uint64_t ep = make(abi::ObjectType::kEndpoint, 0);
    uint64_t server = start_thread(echo_server, ep, 255);  // same priority: the fastpath applies
    row("Call + ReplyRecv round trip, same AS, 0 words", call_loop(ep, 0), overhead);
    row("Call + ReplyRecv round trip, same AS, 4 words", call_loop(ep, 4), overhead);
    (void)cnode_delete(kRoot, server, 64);

    uint64_t vs = second_address_space();
    uint64_t cross_ep = make(abi::ObjectType::kEndpoint, 0);
    uint64_t remote = start_thread(echo_server, cross_ep, 255, 0, vs);
    row("Call + ReplyRecv round trip, cross AS, 0 words", call_loop(cross_ep, 0), overhead);
    row("Call + ReplyRecv round trip, cross AS, 4 words", call_loop(cross_ep, 4), overhead);
    (void)cnode_delete(kRoot, remote, 64);

    uint64_t sink_ep = make(abi::ObjectType::kEndpoint, 0);
    uint64_t sink = start_thread(sink_server, sink_ep, 254);
    sys::Message m;
    start = instructions();
    for (uint64_t i = 0; i < kIterations; ++i) {
        m.info = abi::MessageInfo(0, 0, 0, 0);
        sys::send(abi::CapPtr(sink_ep), m);
    }
    row("Send to a waiting receiver (send + its Recv)", instructions() - start, overhead);
    (void)cnode_delete(kRoot, sink, 64);

    // Fault round trip: the faulting thread runs at a lower priority than this handler.
    uint64_t fault_ep = make(abi::ObjectType::kEndpoint, 0);
    uint64_t fault_cap = slot();
    (void)cnode_mint(kRoot, fault_cap, 64, kRoot, fault_ep, 64, abi::kRightsAll, 1);
    uint64_t victim = start_thread(faulter, 0, 100, fault_cap);
    (void)victim;
    sys::recv(abi::CapPtr(fault_ep), m);  // first fault
    start = instructions();
    for (uint64_t i = 0; i < kIterations; ++i) {
        uint64_t pc = m.mr[0];
        m.info = abi::MessageInfo(0, 0, 0, 1);
        m.mr[0] = pc + 4;  // resume after the undefined instruction
        sys::reply_recv(abi::CapPtr(fault_ep), m);
    }
    row("fault round trip (fault, handler ReplyRecv)", instructions() - start, overhead);

    // Virtual memory: map and unmap 4 KiB frames into a fresh region of this address space,
    // counting the tables the kernel needed (page-table memory per MiB mapped).
    println("");
    println("Benchmark: virtual memory (guest instructions per operation)");
    println("| {:<46} | {:12} |", "operation", "instructions");
    println("|------------------------------------------------|--------------|");
    constexpr uint64_t kFrames = 2048;  // 8 MiB
    constexpr uint64_t kBase = 0x10'0000'0000;
    uint64_t first_frame = 0;
    for (uint64_t i = 0; i < kFrames; ++i) {
        uint64_t f = make(abi::ObjectType::kFrame4K, 0);
        first_frame = i == 0 ? f : first_frame;
    }
    uint64_t tables = 0;
    for (uint64_t va = kBase; va < kBase + kFrames * 4096; va += 0x20'0000) {
        for (;;) {
            uint64_t table = make(abi::ObjectType::kPageTable, 0);
            if (!page_table_map(abi::CapPtr(table), abi::CapPtr(abi::kSlotInitThreadVSpace), va)
                     .ok()) {
                break;
            }
            ++tables;
        }
    }
    start = instructions();
    for (uint64_t i = 0; i < kFrames; ++i) {
        (void)frame_map(abi::CapPtr(first_frame + i), abi::CapPtr(abi::kSlotInitThreadVSpace),
                        kBase + i * 4096, abi::kMapRead | abi::kMapWrite,
                        abi::MapAttributes::kCached);
    }
    uint64_t map_total = instructions() - start;
    // New rights for existing mappings (copy-on-write): one page at a time, and runs of 512
    // (one last-level table) read-only and back.
    const abi::CapPtr own_vspace(abi::kSlotInitThreadVSpace);
    start = instructions();
    for (uint64_t i = 0; i < kFrames; ++i) {
        (void)frame_remap(abi::CapPtr(first_frame + i), abi::kMapRead);
    }
    uint64_t remap_total = instructions() - start;
    start = instructions();
    for (uint64_t i = 0; i < kFrames; i += 512) {
        (void)vspace_remap_frames(own_vspace, abi::CapPtr(first_frame + i), 512,
                                  abi::kMapRead | abi::kMapWrite);
    }
    uint64_t remap_run_total = instructions() - start;
    start = instructions();
    for (uint64_t i = 0; i < kFrames; ++i) {
        (void)frame_unmap(abi::CapPtr(first_frame + i));
    }
    uint64_t unmap_total = instructions() - start;
    println("| {:<46} | {:12} |", "map a 4 KiB frame (FrameMap)", map_total / kFrames);
    println("| {:<46} | {:12} |", "make a mapping read-only (FrameRemap)", remap_total / kFrames);
    println("| {:<46} | {:12} |", "VSpaceRemapFrames of 512, per page", remap_run_total / kFrames);
    println("| {:<46} | {:12} |", "unmap a 4 KiB frame (FrameUnmap)", unmap_total / kFrames);
    uint64_t mib = kFrames * 4096 / (uint64_t{1024} * 1024);
    println("page-table memory for {} MiB of 4 KiB pages: {} tables = {} bytes per MiB mapped", mib,
            tables, tables * 4096 / mib);

    // Capabilities: deleting deep structures is linear in what it empties (and preemptible).
    println("");
    println("Benchmark: capability deletion (guest instructions)");
    println("| {:<46} | {:12} | {:12} |", "operation", "total", "per CNode");
    println("|------------------------------------------------|--------------|--------------|");
    for (uint64_t n : {uint64_t{1000}, uint64_t{8000}}) {
        uint64_t total = chain_delete_cost(n);
        println("| delete a chain of {:5} CNodes{:<16} | {:12} | {:12} |", n, "", total, total / n);
    }
    tessera_exit(0);
}
