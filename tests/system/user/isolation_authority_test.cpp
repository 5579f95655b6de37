// Isolation attacks on authority outside the CSpace (docs/SECURITY.md, findings 9 and 11): the
// old debug call numbers and foreign SVCs are faults, and EL0 reaches no timer.
#include "abi/fault.hpp"
#include "isolation_support.hpp"
#include "tessera/debug_print.hpp"
#include "tessera/syscall.hpp"
#include "user_test.hpp"

namespace tessera::test {

using namespace isolation;
using abi::CapPtr;

namespace {

uint64_t g_old_call = 0;

// The numbers 8-12 were ambient debug calls (DebugHalt was 9): now unknown system calls.
void old_debug_call(uint64_t) {
    register uint64_t x0 asm("x0") = 0;
    register uint64_t x7 asm("x7") = g_old_call;
    asm volatile("svc %[imm]"
                 : "+r"(x0), "+r"(x7)
                 : [imm] "i"(abi::kSvcImmediate)
                 : "x1", "x2", "x3", "x4", "x5", "x6", "memory");
    for (;;) {
        sys::yield();
    }
}

}  // namespace

// Finding 9: no system call needs no capability but IPC on one's own endpoints: the old debug
// numbers (put-char, halt, identify, translate, write) fault as unknown system calls.
USER_TEST(isolation, old_debug_call_numbers_are_unknown_system_calls) {
    uint64_t fault_ep = 0;
    uint64_t ep = endpoints_with_fault_cap(1, 0x9, fault_ep);
    CHECK(ep != 0);
    for (uint64_t number = 8; number <= 12; ++number) {
        g_old_call = number;
        TestThread th = start_thread(old_debug_call, 0, kTestPriority, fault_ep);
        CHECK(th.tcb != 0);
        let_others_run();
        sys::Message m;
        sys::nb_recv(CapPtr(ep), m);
        stop_thread(th);
        CHECK_EQ(m.info.label(), static_cast<uint64_t>(abi::FaultType::kUnknownSyscall));
        CHECK_EQ(m.mr[0], number);
    }
}

namespace {

uint64_t g_foreign_ep = 0;
volatile uint64_t g_foreign_resumed = 0;

// A Linux-style system call: `svc #0`, number in x8 (64: write) - but with x0 and x7 set as a
// native Call on an endpoint would have them. Only the native immediate makes a system call.
void foreign_call(uint64_t) {
    register uint64_t x0 asm("x0") = g_foreign_ep;
    register uint64_t x1 asm("x1") = 0;
    register uint64_t x7 asm("x7") = static_cast<uint64_t>(abi::Syscall::kCall);
    register uint64_t x8 asm("x8") = 64;
    asm volatile("svc #0"
                 : "+r"(x0), "+r"(x1), "+r"(x7), "+r"(x8)::"x2", "x3", "x4", "x5", "memory");
    g_foreign_resumed = x0 == g_foreign_ep && x8 == 64 ? 1 : 2;  // its registers as they were
}

}  // namespace

// A foreign binary's `svc #0` ran as a native system call selected by x7. Now it is an
// unknown-system-call fault carrying the immediate, delivered to the thread's handler, and
// resuming it leaves its registers as they were.
USER_TEST(isolation, foreign_svc_is_a_fault_not_a_native_call) {
    uint64_t fault_ep = 0;
    uint64_t eps = endpoints_with_fault_cap(2, 0xf0, fault_ep);
    CHECK(eps != 0);
    g_foreign_ep = eps + 1;
    g_foreign_resumed = 0;
    TestThread th = start_thread(foreign_call, 0, kTestPriority, fault_ep);
    CHECK(th.tcb != 0);
    let_others_run();
    sys::Message call;
    sys::nb_recv(CapPtr(g_foreign_ep), call);  // a native Call would be waiting here
    sys::Message fault;
    sys::nb_recv(CapPtr(eps), fault);
    bool no_call = call.info.label() == 0 && call.badge_or_cap == 0;
    bool is_fault = fault.info.label() == static_cast<uint64_t>(abi::FaultType::kUnknownSyscall) &&
                    fault.badge_or_cap == 0xf0 && ipc_buffer()->msg[4] == 0;
    sys::Message reply;
    reply.info = abi::MessageInfo(0, 0, 0, 0);
    sys::reply(reply);  // resume after the SVC
    let_others_run();
    uint64_t resumed = g_foreign_resumed;
    stop_thread(th);
    CHECK(no_call);
    CHECK(is_fault);
    CHECK_EQ(resumed, uint64_t{1});
}

namespace {

volatile uint64_t g_counter_read = 0;

void read_virtual_count(uint64_t) {
    uint64_t v;
    asm volatile("mrs %0, cntvct_el0" : "=r"(v));
    g_counter_read = v != 0 ? 1 : 2;
}
void read_physical_count(uint64_t) {
    uint64_t v;
    asm volatile("mrs %0, cntpct_el0" : "=r"(v));
    g_counter_read = v;
}
void program_virtual_timer(uint64_t) {
    asm volatile("msr cntv_ctl_el0, %0" ::"r"(uint64_t{1}));
    g_counter_read = 3;
}

}  // namespace

// Finding 11: CNTKCTL_EL1 is set at boot: EL0 may read the virtual count (a clock) but not the
// physical one, and may not touch the kernel's timer. The refused accesses are the thread's
// own user exceptions.
USER_TEST(isolation, el0_reads_the_virtual_count_but_not_the_timers) {
    uint64_t fault_ep = 0;
    uint64_t ep = endpoints_with_fault_cap(1, 0xc7, fault_ep);
    CHECK(ep != 0);
    g_counter_read = 0;
    TestThread reader = start_thread(read_virtual_count, 0, kTestPriority, fault_ep);
    CHECK(reader.tcb != 0);
    let_others_run();
    stop_thread(reader);
    CHECK_EQ(g_counter_read, uint64_t{1});
    for (void (*body)(uint64_t) : {read_physical_count, program_virtual_timer}) {
        g_counter_read = 0;
        TestThread th = start_thread(body, 0, kTestPriority, fault_ep);
        CHECK(th.tcb != 0);
        let_others_run();
        sys::Message m;
        sys::nb_recv(CapPtr(ep), m);
        stop_thread(th);
        CHECK_EQ(m.info.label(), static_cast<uint64_t>(abi::FaultType::kUserException));
        CHECK_EQ(g_counter_read, uint64_t{0});  // it never got past the access
    }
}

}  // namespace tessera::test
