// System-call dispatch. Thin: each case reads its registers, calls one kernel operation and
// writes the result back. A number the kernel does not know is a fault of the caller.
#include "syscall/syscall.hpp"

#include "abi/syscall.hpp"
#include "core/console.hpp"
#include "core/panic.hpp"
#include "core/thread_switch.hpp"
#include "core/user_fault.hpp"

namespace tessera {

void handle_syscall(Tcb& t) {
    uint64_t number = t.context.x[arch::kSyscallNumberRegister];
    switch (static_cast<abi::Syscall>(number)) {
        case abi::Syscall::kDebugPutChar: {
            char c = static_cast<char>(t.context.x[0]);
            console::write(&c, 1);
            return;
        }
        case abi::Syscall::kDebugHalt:
            kprintln("thread \"{}\" halted the system with status {}", t.name, t.context.x[0]);
            system_halt(static_cast<int>(t.context.x[0] & 0xff));
        case abi::Syscall::kYield:
            scheduler().rotate(t);
            return;
        default: {
            UserFault fault;
            fault.kind = UserFaultKind::kUnknownSyscall;
            fault.pc = t.context.pc;
            handle_user_fault(t, fault);
            return;
        }
    }
}

}  // namespace tessera
