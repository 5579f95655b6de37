// Thread helpers for user-level tests: threads share the test program's address space and
// CSpace; each gets a static stack with its thread block at the top, and an IPC-buffer page
// whose frame capability is found among the root task's image frames by its mapped address.
#include "tessera/debug_print.hpp"
#include "tessera/syscall.hpp"
#include "tessera/thread_block.hpp"
#include "user_test.hpp"

namespace tessera::test {
namespace {

constexpr uint64_t kStackSize = uint64_t{16} * 1024;
alignas(4096) uint8_t g_stacks[kMaxTestThreads][kStackSize];
alignas(4096) uint8_t g_ipc_pages[kMaxTestThreads][4096];
bool g_in_use[kMaxTestThreads];

uint64_t frame_slot_for(const void* page) {
    uint64_t address = reinterpret_cast<uint64_t>(page);
    const abi::BootInfo* info = env().info;
    for (uint64_t slot = info->image_frames.start; slot < info->image_frames.end; ++slot) {
        CapIdentity id = identify(abi::CapPtr(slot));
        if ((id.data & 0xffff'ffff'ffff) == address) {
            return slot;
        }
    }
    return 0;
}

// Threads return here: x19 holds their TCB slot (set at start).
[[noreturn]] void thread_exit() {
    uint64_t tcb;
    asm volatile("mov %0, x19" : "=r"(tcb));
    (void)tcb_suspend(abi::CapPtr(tcb));
    for (;;) {
    }
}

}  // namespace

TestThread start_thread(void (*entry)(uint64_t), uint64_t argument, uint64_t priority,
                        uint64_t fault_ep, uint64_t vspace, uint64_t tcb_untyped) {
    TestThread thread;
    unsigned index = 0;
    while (index < kMaxTestThreads && g_in_use[index]) {
        ++index;
    }
    uint64_t frame = index < kMaxTestThreads ? frame_slot_for(g_ipc_pages[index]) : 0;
    uint64_t ut = tcb_untyped != 0 ? tcb_untyped : new_untyped(12);
    uint64_t tcb = ut == 0 ? 0 : make_objects(ut, abi::ObjectType::kTcb, 0);
    if (frame == 0 || tcb == 0) {
        return thread;
    }
    uint64_t buffer = reinterpret_cast<uint64_t>(g_ipc_pages[index]);
    if (!tcb_configure(abi::CapPtr(tcb), abi::CapPtr(fault_ep), kRootCNode, 0, abi::CapPtr(vspace),
                       buffer, abi::CapPtr(frame))
             .ok() ||
        !tcb_set_priority(abi::CapPtr(tcb), abi::CapPtr(abi::kSlotInitThreadTcb), priority, 0)
             .ok()) {
        return thread;
    }
    uint64_t stack_top = reinterpret_cast<uint64_t>(g_stacks[index] + kStackSize);
    uint64_t regs[abi::kUserRegisterCount] = {};
    regs[abi::kRegisterIndexTpidr] =
        push_thread_block(stack_top, reinterpret_cast<abi::IpcBuffer*>(buffer));
    regs[abi::kRegisterIndexPc] = reinterpret_cast<uint64_t>(entry);
    regs[abi::kRegisterIndexSp] = stack_top;
    regs[abi::kRegisterIndexX0] = argument;
    regs[abi::kRegisterIndexX0 + 19] = tcb;
    regs[abi::kRegisterIndexX0 + 30] = reinterpret_cast<uint64_t>(&thread_exit);
    if (!tcb_write_registers(abi::CapPtr(tcb), true, regs, abi::kUserRegisterCount).ok()) {
        return thread;
    }
    g_in_use[index] = true;
    thread.tcb = tcb;
    thread.index = index;
    return thread;
}

void stop_thread(TestThread& thread) {
    if (thread.tcb != 0) {
        (void)cnode_delete(kRootCNode, thread.tcb, kRootDepth);
        g_in_use[thread.index] = false;
        thread.tcb = 0;
    }
}

void release_thread(TestThread& thread) {
    g_in_use[thread.index] = false;
    thread.tcb = 0;
}

void let_others_run() {
    // Drop to the lowest priority for a moment: every test thread runs until it blocks.
    (void)tcb_set_priority(abi::CapPtr(abi::kSlotInitThreadTcb),
                           abi::CapPtr(abi::kSlotInitThreadTcb), 1, 255);
    sys::yield();
    (void)tcb_set_priority(abi::CapPtr(abi::kSlotInitThreadTcb),
                           abi::CapPtr(abi::kSlotInitThreadTcb), 255, 255);
}

}  // namespace tessera::test
