// Entry from EL0 on AArch64, after user_entry.S has saved the registers: system calls the
// vector did not finish (it decodes them itself), and the exception syndrome of everything
// else - a user fault, an FPU hand-over or an interrupt. Generic code handles it, then the
// thread or another is run. Never returns.
#include <cstddef>

#include "abi/syscall.hpp"
#include "arch/exception.hpp"
#include "arch/interrupt_controller.hpp"
#include "arch/registers.hpp"
#include "base/bits.hpp"
#include "core/scheduler.hpp"
#include "core/thread_switch.hpp"
#include "core/user_fault.hpp"
#include "syscall/syscall.hpp"

namespace tessera {
namespace {

// What vectors.S decodes and touches before anything is saved.
static_assert(static_cast<uint64_t>(abi::Syscall::kCall) == SYSCALL_CALL && SYSCALL_CALL == 0);
static_assert(static_cast<uint64_t>(abi::Syscall::kReplyRecv) == SYSCALL_REPLY_RECV &&
              SYSCALL_REPLY_RECV == 1);
static_assert(static_cast<uint64_t>(abi::Syscall::kYield) == SYSCALL_YIELD);
static_assert(arch::kEcSvc64 == ESR_EC_SVC64);
static_assert(abi::kSvcImmediate == TESSERA_SVC_IMMEDIATE);
static_assert(ESR_SVC_NATIVE_HIGH == ((ESR_EC_SVC64 << 10) | (1u << 9)), "EC 0x15, IL set");
static_assert(offsetof(Tcb, ready_next) == TCB_READY_NEXT);
static_assert(offsetof(Tcb, timeslice_ticks) == TCB_TIMESLICE_TICKS);
static_assert(sizeof(Tcb::timeslice_ticks) == 4, "stored with a 32-bit store");
static_assert(kTimesliceTicks == SCHED_TIMESLICE_TICKS);

constexpr uint32_t kEcFpAccess = 0x07;
constexpr uint32_t kEcPcAlignment = 0x22;
constexpr uint32_t kEcSpAlignment = 0x26;

// Synchronous exceptions other than SVC (the vector sends those to handle_user_syscall).
void handle_user_sync(Tcb& t) {
    uint64_t esr = TESSERA_READ_SYSREG(esr_el1);
    uint64_t far = TESSERA_READ_SYSREG(far_el1);
    uint32_t ec = arch::exception_class(esr);
    switch (ec) {
        case kEcFpAccess:
            switch_fpu_owner(t);
            return;
        case arch::kEcDataAbortLower:
        case arch::kEcInstructionAbortLower: {
            UserFault fault;
            fault.kind = UserFaultKind::kVmFault;
            fault.address = far;
            fault.pc = t.context.pc;
            fault.syndrome = esr;
            fault.instruction = ec == arch::kEcInstructionAbortLower;
            fault.write = !fault.instruction && bit_field(esr, 6, 1) != 0;
            handle_user_fault(t, fault);
            return;
        }
        case arch::kEcSvc64: {
            // An SVC with another immediate than the native one (the vector took those): a
            // foreign system call, for the thread's handler to emulate.
            UserFault fault;
            fault.kind = UserFaultKind::kUnknownSyscall;
            fault.pc = t.context.pc;
            fault.syndrome = esr;
            handle_user_fault(t, fault);
            return;
        }
        case kEcPcAlignment:
        case kEcSpAlignment:
        default: {
            UserFault fault;
            fault.kind = UserFaultKind::kUserException;
            fault.address = far;
            fault.pc = t.context.pc;
            fault.syndrome = esr;
            handle_user_fault(t, fault);
            return;
        }
    }
}

}  // namespace
}  // namespace tessera

using namespace tessera;

// A system call the vector did not complete: any but Call and ReplyRecv, those two when the
// fastpath declined them, and Yield with another thread at the caller's priority.
extern "C" [[noreturn]] void handle_user_syscall(Tcb* thread) {
    handle_syscall(*thread);
    resume_or_schedule(*thread);
}

extern "C" [[noreturn]] void handle_user_entry(uint64_t kind, Tcb* thread) {
    switch (kind) {
        case USER_ENTRY_SYNC:
            handle_user_sync(*thread);
            break;
        case USER_ENTRY_IRQ:
            arch::handle_pending_interrupts();
            break;
        default: {
            // An SError taken from EL0 (an external abort, say from a device a driver maps):
            // the thread's fault, reported or handled like any other exception of its own.
            UserFault fault;
            fault.kind = UserFaultKind::kUserException;
            fault.pc = thread->context.pc;
            fault.syndrome = TESSERA_READ_SYSREG(esr_el1);
            handle_user_fault(*thread, fault);
            break;
        }
    }
    resume_or_schedule(*thread);
}
