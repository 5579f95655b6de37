// System-call dispatch. Thin: each case reads its registers, calls one kernel operation and
// writes the result back. A number the kernel does not know is a fault of the caller.
#include "syscall/syscall.hpp"

#include "abi/syscall.hpp"
#include "core/console.hpp"
#include "core/cspace.hpp"
#include "core/panic.hpp"
#include "core/thread_switch.hpp"
#include "core/user_fault.hpp"
#include "syscall/invocation.hpp"

namespace tessera {
namespace {

// Writes an invocation's outcome into the caller's registers: label = error code (0 on
// success), and for errors three detail words in the first message registers.
void reply_to_invocation(Tcb& t, const SysResult<void>& result) {
    if (result.ok()) {
        t.context.x[arch::kInfoRegister] = abi::MessageInfo(0, 0, 0, 0).raw();
        return;
    }
    const SyscallError& e = result.error();
    t.context.x[arch::kInfoRegister] =
        abi::MessageInfo(static_cast<uint64_t>(e.code), 0, 0, 3).raw();
    for (unsigned i = 0; i < 3; ++i) {
        t.context.x[arch::kFirstMessageRegister + i] = e.detail[i];
    }
}

void handle_call(Tcb& t) {
    abi::CapPtr cptr(t.context.x[arch::kCapRegister]);
    abi::MessageInfo info(t.context.x[arch::kInfoRegister]);
    auto slot = lookup_slot(t.cspace_root.cap(), cptr);
    if (!slot || slot.value()->is_empty()) {
        reply_to_invocation(t, fail(SyscallError::invalid_capability(0)));
        return;
    }
    Invocation inv(t, *slot.value(), info);
    reply_to_invocation(t, invoke(inv));
}

}  // namespace

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
        case abi::Syscall::kCall:
            handle_call(t);
            return;
        case abi::Syscall::kDebugCapIdentify: {
            auto slot = lookup_slot(t.cspace_root.cap(), abi::CapPtr(t.context.x[0]));
            Capability cap = slot ? slot.value()->cap() : Capability::null();
            t.context.x[0] = static_cast<uint64_t>(cap.type());
            t.context.x[1] = cap.rights();
            t.context.x[2] = cap.data();
            return;
        }
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
