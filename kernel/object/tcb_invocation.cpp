// TCB invocations available so far: Suspend and Resume.
#include "core/kernel_memory.hpp"
#include "core/thread_switch.hpp"
#include "syscall/invocation.hpp"

namespace tessera {

SysResult<void> invoke_tcb(const Invocation& inv) {
    Tcb* t = object_at<Tcb>(inv.cap().object());
    switch (static_cast<abi::InvocationLabel>(inv.label())) {
        case abi::InvocationLabel::kTcbSuspend:
            suspend(*t);
            return {};
        case abi::InvocationLabel::kTcbResume:
            // A thread runs only in an address space with an ASID (never on stray tables).
            if (t->vspace_root.cap().type() != CapType::kVSpace ||
                t->vspace_root.cap().vspace_asid() == 0) {
                return fail(SyscallError::of(abi::Error::kIllegalOperation));
            }
            if (t->state == ThreadState::kInactive) {
                make_runnable(*t);
            }
            return {};
        default:
            return fail(SyscallError::of(abi::Error::kIllegalOperation));
    }
}

}  // namespace tessera
