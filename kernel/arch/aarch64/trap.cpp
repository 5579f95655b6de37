// Entry from EL0 on AArch64: decodes the exception syndrome into a system call, a user fault,
// an FPU hand-over or an interrupt, lets generic code handle it, then schedules. Never returns.
#include "arch/exception.hpp"
#include "arch/interrupt_controller.hpp"
#include "arch/registers.hpp"
#include "base/bits.hpp"
#include "core/panic.hpp"
#include "core/thread_switch.hpp"
#include "core/user_fault.hpp"
#include "syscall/fastpath.hpp"
#include "syscall/syscall.hpp"

namespace tessera {
namespace {

constexpr uint32_t kEcFpAccess = 0x07;
constexpr uint32_t kEcPcAlignment = 0x22;
constexpr uint32_t kEcSpAlignment = 0x26;

void handle_user_sync(Tcb& t) {
    uint64_t esr = TESSERA_READ_SYSREG(esr_el1);
    uint32_t ec = arch::exception_class(esr);
    if (ec == arch::kEcSvc64) [[likely]] {
        if (!try_fastpath(t)) {
            handle_syscall(t);
        }
        return;
    }
    uint64_t far = TESSERA_READ_SYSREG(far_el1);
    switch (ec) {
        case arch::kEcSvc64:
            if (!try_fastpath(t)) {
                handle_syscall(t);
            }
            return;
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

extern "C" [[noreturn]] void handle_user_entry(uint64_t kind, Tcb* thread) {
    switch (kind) {
        case USER_ENTRY_SYNC:
            handle_user_sync(*thread);
            break;
        case USER_ENTRY_IRQ:
            arch::handle_pending_interrupts();
            break;
        default:
            panic("SError while thread \"{}\" ran (ESR {:#x})", thread->name,
                  TESSERA_READ_SYSREG(esr_el1));
    }
    resume_or_schedule(*thread);
}
