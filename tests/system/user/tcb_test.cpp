// TCB operations from user level: registers round-trip, priorities order execution and
// round-robin within one, callee-saved registers survive system calls, and the exclusive
// monitor does not survive a context switch.
#include "tessera/syscall.hpp"
#include "user_test.hpp"

namespace tessera::test {
namespace {

volatile uint64_t g_order[8];
volatile uint64_t g_order_count = 0;

void record(uint64_t id) {
    uint64_t n = g_order_count;
    g_order[n] = id;
    g_order_count = n + 1;
}

void spin_forever(uint64_t) {
    for (;;) {
        sys::yield();
    }
}

}  // namespace

USER_TEST(tcb, registers_round_trip) {
    TestThread th = start_thread(spin_forever, 0, 1);  // lowest priority: never preempts us
    CHECK(th.tcb != 0);
    CHECK(tcb_suspend(abi::CapPtr(th.tcb)).ok());
    uint64_t regs[abi::kUserRegisterCount];
    for (unsigned i = 0; i < abi::kUserRegisterCount; ++i) {
        regs[i] = 0x1000 + i;
    }
    regs[abi::kRegisterIndexSpsr] = 0xffff'ffff;  // only the flags may be set
    CHECK(tcb_write_registers(abi::CapPtr(th.tcb), false, regs, abi::kUserRegisterCount).ok());
    uint64_t back[abi::kUserRegisterCount] = {};
    CHECK(tcb_read_registers(abi::CapPtr(th.tcb), false, back, abi::kUserRegisterCount).ok());
    for (unsigned i = 0; i < abi::kUserRegisterCount; ++i) {
        uint64_t expected = i == abi::kRegisterIndexSpsr ? 0xf000'0000 : regs[i];
        if (back[i] != expected) {
            t.fail("register {} read back {:#x}, wrote {:#x}", i, back[i], regs[i]);
            return;
        }
    }
    stop_thread(th);
}

USER_TEST(tcb, register_count_checked) {
    TestThread th = start_thread(spin_forever, 0, 1);
    uint64_t regs[1] = {0};
    InvocationResult r = tcb_read_registers(abi::CapPtr(th.tcb), false, regs, 36);
    CHECK(r.error == abi::Error::kRangeError);
    CHECK_EQ(r.detail[1], uint64_t{abi::kUserRegisterCount});
    stop_thread(th);
}

USER_TEST(tcb, higher_priority_runs_first) {
    g_order_count = 0;
    TestThread low = start_thread(record, 1, 50);
    TestThread high = start_thread(record, 2, 60);
    let_others_run();
    CHECK_EQ(g_order_count, uint64_t{2});
    CHECK_EQ(g_order[0], uint64_t{2});
    CHECK_EQ(g_order[1], uint64_t{1});
    stop_thread(low);
    stop_thread(high);
}

USER_TEST(tcb, priority_above_authority_refused) {
    TestThread th = start_thread(spin_forever, 0, 1);
    // The new thread's MCP is 0: as authority it cannot raise anyone.
    InvocationResult r = tcb_set_priority(abi::CapPtr(th.tcb), abi::CapPtr(th.tcb), 5, 0);
    CHECK(r.error == abi::Error::kRangeError);
    stop_thread(th);
}

namespace {
volatile uint64_t g_yields[2];
void yielder(uint64_t id) {
    for (;;) {
        g_yields[id] = g_yields[id] + 1;
        sys::yield();
    }
}
}  // namespace

USER_TEST(tcb, round_robin_within_priority) {
    g_yields[0] = 0;
    g_yields[1] = 0;
    TestThread a = start_thread(yielder, 0, 1);
    TestThread b = start_thread(yielder, 1, 1);
    // Spin at a priority below theirs for a few ticks by blocking on nothing: a short busy
    // wait at priority 1 shares the CPU with them round-robin.
    (void)tcb_set_priority(abi::CapPtr(abi::kSlotInitThreadTcb),
                           abi::CapPtr(abi::kSlotInitThreadTcb), 1, 255);
    for (int i = 0; i < 200; ++i) {
        sys::yield();
    }
    (void)tcb_set_priority(abi::CapPtr(abi::kSlotInitThreadTcb),
                           abi::CapPtr(abi::kSlotInitThreadTcb), 255, 255);
    stop_thread(a);
    stop_thread(b);
    CHECK(g_yields[0] > 50);
    CHECK(g_yields[1] > 50);
    uint64_t diff =
        g_yields[0] > g_yields[1] ? g_yields[0] - g_yields[1] : g_yields[1] - g_yields[0];
    CHECK(diff <= 2);
}

USER_TEST(tcb, callee_saved_registers_survive_syscalls) {
    uint64_t out[10] = {};
    asm volatile(
        "mov x19, #19\n mov x20, #20\n mov x21, #21\n mov x22, #22\n mov x23, #23\n"
        "mov x24, #24\n mov x25, #25\n mov x26, #26\n mov x27, #27\n mov x28, #28\n"
        "mov x7, #7\n svc %1\n"               // Yield
        "mov x0, #0\n mov x7, #5\n svc %1\n"  // NBRecv on no capability: an error in x0-x4
        "stp x19, x20, [%0]\n stp x21, x22, [%0, #16]\n stp x23, x24, [%0, #32]\n"
        "stp x25, x26, [%0, #48]\n stp x27, x28, [%0, #64]\n"
        :
        : "r"(out), "i"(abi::kSvcImmediate)
        : "x0", "x1", "x2", "x3", "x4", "x5", "x7", "x19", "x20", "x21", "x22", "x23", "x24", "x25",
          "x26", "x27", "x28", "memory");
    for (unsigned i = 0; i < 10; ++i) {
        CHECK_EQ(out[i], uint64_t{19 + i});
    }
}

USER_TEST(tcb, exclusive_monitor_cleared_by_kernel_entry) {
    alignas(8) static uint64_t word = 0;
    uint64_t status = 0;
    asm volatile(
        "ldxr x9, [%1]\n"
        "mov x7, #7\n svc %[imm]\n"  // Yield: a trip through the kernel
        "stxr w10, x9, [%1]\n"
        "mov %0, x10\n"
        : "=r"(status)
        : "r"(&word), [imm] "i"(abi::kSvcImmediate)
        : "x7", "x9", "x10", "memory");
    CHECK_EQ(status, uint64_t{1});  // the store-exclusive must fail
}

}  // namespace tessera::test

namespace tessera::test {
namespace {

volatile uint64_t g_fpu_errors = 0;
volatile uint64_t g_fpu_rounds[2];

// Keeps a distinct value in a SIMD register across many switches to the other thread.
void fpu_worker(uint64_t id) {
    uint64_t pattern = 0x1111'2222'3333'4444ull * (id + 1);
    asm volatile("fmov d8, %0" ::"r"(pattern) : "v8");
    for (int i = 0; i < 200; ++i) {
        sys::yield();
        uint64_t seen;
        asm volatile("fmov %0, d8" : "=r"(seen));
        if (seen != pattern) {
            g_fpu_errors = g_fpu_errors + 1;
        }
        g_fpu_rounds[id] = g_fpu_rounds[id] + 1;
    }
}

volatile uint64_t g_spins[2];

void spin_without_yield(uint64_t id) {
    for (;;) {
        g_spins[id] = g_spins[id] + 1;
    }
}

}  // namespace

USER_TEST(tcb, fpu_registers_are_per_thread) {
    g_fpu_errors = 0;
    g_fpu_rounds[0] = 0;
    g_fpu_rounds[1] = 0;
    TestThread a = start_thread(fpu_worker, 0, 1);
    TestThread b = start_thread(fpu_worker, 1, 1);
    (void)tcb_set_priority(abi::CapPtr(abi::kSlotInitThreadTcb),
                           abi::CapPtr(abi::kSlotInitThreadTcb), 1, 255);
    while (g_fpu_rounds[0] < 200 || g_fpu_rounds[1] < 200) {
        double x = static_cast<double>(g_fpu_rounds[0]) * 1.5;  // this thread uses the FPU too
        asm volatile("" ::"w"(x));
        sys::yield();
    }
    (void)tcb_set_priority(abi::CapPtr(abi::kSlotInitThreadTcb),
                           abi::CapPtr(abi::kSlotInitThreadTcb), 255, 255);
    stop_thread(a);
    stop_thread(b);
    CHECK_EQ(g_fpu_errors, uint64_t{0});
}

USER_TEST(tcb, timer_preempts_threads_that_never_yield) {
    g_spins[0] = 0;
    g_spins[1] = 0;
    TestThread a = start_thread(spin_without_yield, 0, 2);
    TestThread b = start_thread(spin_without_yield, 1, 2);
    // Join them at their priority and spin too: only timeslice preemption lets all three run.
    (void)tcb_set_priority(abi::CapPtr(abi::kSlotInitThreadTcb),
                           abi::CapPtr(abi::kSlotInitThreadTcb), 2, 255);
    while (g_spins[0] == 0 || g_spins[1] == 0) {
    }
    (void)tcb_set_priority(abi::CapPtr(abi::kSlotInitThreadTcb),
                           abi::CapPtr(abi::kSlotInitThreadTcb), 255, 255);
    stop_thread(a);
    stop_thread(b);
    CHECK(g_spins[0] > 0 && g_spins[1] > 0);
}

}  // namespace tessera::test

namespace tessera::test {

USER_TEST(tcb, ipc_buffer_address_checked) {
    uint64_t ut = new_untyped(12);
    uint64_t tcb = make_objects(ut, abi::ObjectType::kTcb, 0);
    abi::CapPtr frame(abi::kSlotInitThreadIpcBuffer);
    auto configure = [&](uint64_t buffer) {
        return tcb_configure(abi::CapPtr(tcb), abi::CapPtr(0), kRootCNode, 0,
                             abi::CapPtr(abi::kSlotInitThreadVSpace), buffer, frame);
    };
    InvocationResult r = configure(abi::kRootIpcBufferAddress + 8);
    CHECK(r.error == abi::Error::kAlignmentError);
    CHECK_EQ(r.detail[0], uint64_t{3});
    r = configure(0xffff'0000'0000'0000);
    CHECK(r.error == abi::Error::kInvalidArgument);
    CHECK(configure(abi::kRootIpcBufferAddress).ok());
    // The buffer frame must be a frame.
    r = tcb_configure(abi::CapPtr(tcb), abi::CapPtr(0), kRootCNode, 0,
                      abi::CapPtr(abi::kSlotInitThreadVSpace), abi::kRootIpcBufferAddress,
                      kRootCNode);
    CHECK(r.error == abi::Error::kInvalidCapability);
    CHECK_EQ(r.detail[0], uint64_t{3});
    CHECK(cnode_delete(kRootCNode, tcb, kRootDepth).ok());
}

}  // namespace tessera::test
