// Faults from user level: VM faults (read, write, execute), unknown system calls and undefined
// instructions reach the thread's fault endpoint with the right message; the handler's reply
// resumes the thread (here at a recovery address); without a handler the thread is suspended.
#include "abi/fault.hpp"
#include "tessera/syscall.hpp"
#include "user_test.hpp"

namespace tessera::test {
namespace {

using abi::FaultType;
using abi::ObjectType;

uint64_t new_endpoint() {
    uint64_t ut = new_untyped(12);
    return ut == 0 ? 0 : make_objects(ut, ObjectType::kEndpoint, 0);
}

volatile uint64_t g_recovered = 0;

[[noreturn]] void recovered() {
    g_recovered = 1;
    uint64_t tcb;
    asm volatile("mov %0, x19" : "=r"(tcb));
    (void)tcb_suspend(abi::CapPtr(tcb));
    for (;;) {
    }
}

void read_unmapped(uint64_t) {
    (void)*reinterpret_cast<volatile uint64_t*>(0x10);
}
void write_code(uint64_t) {
    *reinterpret_cast<volatile uint32_t*>(reinterpret_cast<uint64_t>(&read_unmapped)) = 0;
}
alignas(16) uint32_t g_data_code[4] = {0xd65f03c0};  // "ret", in a data page
void execute_data(uint64_t) {
    reinterpret_cast<void (*)()>(g_data_code)();
}
void unknown_syscall(uint64_t) {
    register uint64_t x7 asm("x7") = 99;
    asm volatile("svc %[imm]" ::"r"(x7), [imm] "i"(abi::kSvcImmediate) : "memory");
}
void undefined_instruction(uint64_t) {
    asm volatile("udf #0");
}

struct FaultSeen {
    uint64_t label;
    uint64_t badge;
    uint64_t words[5];
};

// Runs body in a thread whose faults go to a fresh endpoint; receives the fault, points the
// thread at recovered() and replies so it resumes there.
bool catch_fault(void (*body)(uint64_t), FaultSeen& seen) {
    uint64_t ep = new_endpoint();
    uint64_t fault_ep = new_slot();
    if (!cnode_mint(kRootCNode, fault_ep, kRootDepth, kRootCNode, ep, kRootDepth, abi::kRightsAll,
                    0xfa)
             .ok()) {
        return false;
    }
    g_recovered = 0;
    TestThread th = start_thread(body, 0, kTestPriority, fault_ep);
    if (th.tcb == 0) {
        return false;
    }
    let_others_run();
    sys::Message m;
    sys::nb_recv(abi::CapPtr(ep), m);
    seen.label = m.info.label();
    seen.badge = m.badge_or_cap;
    abi::IpcBuffer* buffer = ipc_buffer();
    for (unsigned i = 0; i < 5; ++i) {
        seen.words[i] = i < 4 ? m.mr[i] : buffer->msg[i];
    }
    // Resume at recovered(): a VM-fault reply keeps the pc, so set it first.
    uint64_t pc = reinterpret_cast<uint64_t>(&recovered);
    (void)tcb_write_registers(abi::CapPtr(th.tcb), false, &pc, 1);
    sys::Message reply;
    reply.info = abi::MessageInfo(0, 0, 0, 1);
    reply.mr[0] = pc;
    sys::reply(reply);
    let_others_run();
    bool ok = g_recovered == 1;
    stop_thread(th);
    return ok;
}

}  // namespace

USER_TEST(fault, read_of_unmapped_address) {
    FaultSeen f{};
    CHECK(catch_fault(read_unmapped, f));
    CHECK_EQ(f.label, static_cast<uint64_t>(FaultType::kVmFault));
    CHECK_EQ(f.badge, uint64_t{0xfa});
    CHECK_EQ(f.words[0], uint64_t{0x10});
    CHECK_EQ(f.words[2], static_cast<uint64_t>(abi::FaultAccess::kRead));
    CHECK_EQ(f.words[3] & 0x3c, uint64_t{0x04});  // translation fault
}

USER_TEST(fault, write_to_code_is_permission_fault) {
    FaultSeen f{};
    CHECK(catch_fault(write_code, f));
    CHECK_EQ(f.label, static_cast<uint64_t>(FaultType::kVmFault));
    CHECK_EQ(f.words[0], reinterpret_cast<uint64_t>(&read_unmapped));
    CHECK_EQ(f.words[2], static_cast<uint64_t>(abi::FaultAccess::kWrite));
    CHECK_EQ(f.words[3] & 0x3c, uint64_t{0x0c});  // permission fault
}

USER_TEST(fault, execute_of_data_is_instruction_fault) {
    FaultSeen f{};
    CHECK(catch_fault(execute_data, f));
    CHECK_EQ(f.label, static_cast<uint64_t>(FaultType::kVmFault));
    CHECK_EQ(f.words[0], reinterpret_cast<uint64_t>(g_data_code));
    CHECK_EQ(f.words[1], reinterpret_cast<uint64_t>(g_data_code));
    CHECK_EQ(f.words[2], static_cast<uint64_t>(abi::FaultAccess::kExecute));
}

USER_TEST(fault, unknown_syscall) {
    FaultSeen f{};
    CHECK(catch_fault(unknown_syscall, f));
    CHECK_EQ(f.label, static_cast<uint64_t>(FaultType::kUnknownSyscall));
    CHECK_EQ(f.words[0], uint64_t{99});
}

USER_TEST(fault, undefined_instruction) {
    FaultSeen f{};
    CHECK(catch_fault(undefined_instruction, f));
    CHECK_EQ(f.label, static_cast<uint64_t>(FaultType::kUserException));
    CHECK_EQ(f.words[3], uint64_t{0});  // exception class: unknown
}

namespace {
volatile uint64_t g_after_fault = 0;
void fault_then_flag(uint64_t) {
    (void)*reinterpret_cast<volatile uint64_t*>(0x20);
    g_after_fault = 1;
}
}  // namespace

USER_TEST(fault, without_handler_thread_is_suspended) {
    g_after_fault = 0;
    TestThread th = start_thread(fault_then_flag, 0, kTestPriority);
    CHECK(th.tcb != 0);
    let_others_run();
    let_others_run();
    CHECK_EQ(g_after_fault, uint64_t{0});
    stop_thread(th);
}

namespace {
volatile uint64_t g_marker_ep = 0;
[[noreturn]] void call_with_marker(uint64_t) {
    sys::Message m;
    m.info = abi::MessageInfo(0x77, 0, 0, 1);
    m.mr[0] = 0x1234;
    for (;;) {
        sys::call(abi::CapPtr(g_marker_ep), m);
    }
}
}  // namespace

// A thread suspended while its fault waits for a handler loses that fault: given new registers
// and resumed (as exec does), its next call carries its own message.
USER_TEST(fault, suspending_drops_an_undelivered_fault) {
    uint64_t ep = new_endpoint();
    uint64_t fault_ep = new_slot();
    CHECK(cnode_mint(kRootCNode, fault_ep, kRootDepth, kRootCNode, ep, kRootDepth, abi::kRightsAll,
                     0xfa)
              .ok());
    g_marker_ep = fault_ep;
    TestThread th = start_thread(read_unmapped, 0, kTestPriority, fault_ep);
    CHECK(th.tcb != 0);
    let_others_run();  // it faults; nobody receives: its fault waits on the endpoint
    CHECK(tcb_suspend(abi::CapPtr(th.tcb)).ok());
    uint64_t pc = reinterpret_cast<uint64_t>(&call_with_marker);
    CHECK(tcb_write_registers(abi::CapPtr(th.tcb), true, &pc, 1).ok());
    let_others_run();
    sys::Message m;
    sys::nb_recv(abi::CapPtr(ep), m);
    CHECK_EQ(m.badge_or_cap, uint64_t{0xfa});
    CHECK_EQ(m.info.label(), uint64_t{0x77});
    CHECK_EQ(m.mr[0], uint64_t{0x1234});
    stop_thread(th);
}

}  // namespace tessera::test

namespace tessera::test {
namespace {

bool pc_in(uint64_t pc, void (*function)(uint64_t)) {
    auto start = reinterpret_cast<uint64_t>(function);
    return pc >= start && pc < start + 256;
}

}  // namespace

// Every fault kind, as the kernel sends it, through the one decoder every reporter uses
// (abi::decode_fault): the pc is the pc, the address the address, the sp the sp.
USER_TEST(fault, every_kind_decodes_with_the_shared_decoder) {
    FaultSeen seen{};
    CHECK(catch_fault(read_unmapped, seen));
    abi::FaultMessage vm = abi::decode_fault(seen.label, seen.words, 5);
    CHECK(vm.type == FaultType::kVmFault);
    CHECK_EQ(vm.address, uint64_t{0x10});
    CHECK(vm.access == abi::FaultAccess::kRead);
    CHECK(pc_in(vm.pc, read_unmapped));
    CHECK(abi::fault_kind(vm) == StringView("read"));

    CHECK(catch_fault(unknown_syscall, seen));
    abi::FaultMessage sc = abi::decode_fault(seen.label, seen.words, 5);
    CHECK(sc.type == FaultType::kUnknownSyscall);
    CHECK_EQ(sc.number, uint64_t{99});
    CHECK_EQ(sc.immediate, uint64_t{abi::kSvcImmediate});
    CHECK(pc_in(sc.pc, unknown_syscall));
    CHECK(sc.sp != 0 && sc.sp != sc.pc);

    CHECK(catch_fault(undefined_instruction, seen));
    abi::FaultMessage ex = abi::decode_fault(seen.label, seen.words, 5);
    CHECK(ex.type == FaultType::kUserException);
    CHECK(pc_in(ex.pc, undefined_instruction));
    CHECK(ex.sp != 0 && ex.sp != ex.pc);
    CHECK_EQ(ex.address, uint64_t{0});
    CHECK(abi::fault_kind(ex) == StringView("exception"));
}

}  // namespace tessera::test
