// System-call dispatch. Thin: each case reads its registers, looks up the capability, calls
// one kernel operation and writes the result back. A number the kernel does not know is a
// fault of the caller.
#include "syscall/syscall.hpp"

#include "abi/syscall.hpp"
#include "arch/mmu.hpp"
#include "core/console.hpp"
#include "core/cspace.hpp"
#include "core/ipc.hpp"
#include "core/kernel_memory.hpp"
#include "core/panic.hpp"
#include "core/thread_switch.hpp"
#include "core/user_fault.hpp"
#include "syscall/invocation.hpp"

namespace tessera {
namespace {

// Writes an error into the caller's registers: label = error code, three detail words.
void reply_error(Tcb& t, const SyscallError& e) {
    t.context.x[arch::kCapRegister] = 0;
    t.context.x[arch::kInfoRegister] =
        abi::MessageInfo(static_cast<uint64_t>(e.code), 0, 0, 3).raw();
    for (unsigned i = 0; i < 3; ++i) {
        t.context.x[arch::kFirstMessageRegister + i] = e.detail[i];
    }
}

// Writes an invocation's outcome: label 0 and its result words, or the error.
void reply_to_invocation(Tcb& t, const SysResult<void>& result, unsigned reply_length) {
    if (result.ok()) {
        t.context.x[arch::kInfoRegister] = abi::MessageInfo(0, 0, 0, reply_length).raw();
        return;
    }
    reply_error(t, result.error());
}

SysResult<Cte*> lookup_invoked(Tcb& t) {
    auto slot = lookup_slot(t.cspace_root.cap(), abi::CapPtr(t.context.x[arch::kCapRegister]));
    if (!slot || slot.value()->is_empty()) {
        return fail(SyscallError::invalid_capability(0));
    }
    return slot.value();
}

// Send, NBSend and Call: IPC on endpoints, Signal on notifications, invocations otherwise.
void handle_send(Tcb& t, bool blocking, bool is_call) {
    auto slot = lookup_invoked(t);
    if (!slot) {
        reply_error(t, slot.error());
        return;
    }
    const Capability& cap = slot.value()->cap();
    switch (cap.type()) {
        case CapType::kEndpoint: {
            if (!cap.has_rights(abi::kRightWrite)) {
                reply_error(t, SyscallError::invalid_capability(0));
                return;
            }
            SendOptions options;
            options.badge = cap.badge();
            options.can_grant = cap.has_rights(abi::kRightGrant);
            options.can_grant_reply = cap.has_rights(abi::kRightGrantReply);
            options.blocking = blocking;
            options.is_call = is_call;
            send_ipc(t, *object_at<Endpoint>(cap.object()), options);
            return;
        }
        case CapType::kNotification:
            if (!cap.has_rights(abi::kRightWrite)) {
                reply_error(t, SyscallError::invalid_capability(0));
                return;
            }
            signal_notification(*object_at<Notification>(cap.object()), cap.badge());
            return;
        case CapType::kReply:
            if (is_call) {
                reply_error(t, SyscallError::of(abi::Error::kIllegalOperation));
                return;
            }
            reply_through_capability(t, *slot.value());
            return;
        default: {
            Invocation inv(t, *slot.value(), abi::MessageInfo(t.context.x[arch::kInfoRegister]));
            SysResult<void> result = invoke(inv);
            if (!result.ok() && result.error().is_restart()) {
                t.context.pc -= 4;  // run the SVC again once the interrupt is handled
                return;
            }
            if (is_call) {
                reply_to_invocation(t, result, inv.reply_length());
            }
            return;
        }
    }
}

// Recv and NBRecv: on an endpoint or a notification (Wait / Poll).
void handle_receive(Tcb& t, bool blocking) {
    auto slot = lookup_invoked(t);
    if (!slot) {
        reply_error(t, slot.error());
        return;
    }
    const Capability& cap = slot.value()->cap();
    if ((cap.type() != CapType::kEndpoint && cap.type() != CapType::kNotification) ||
        !cap.has_rights(abi::kRightRead)) {
        reply_error(t, SyscallError::invalid_capability(0));
        return;
    }
    if (cap.type() == CapType::kEndpoint) {
        receive_ipc(t, *object_at<Endpoint>(cap.object()), blocking,
                    cap.has_rights(abi::kRightGrant));
    } else {
        wait_notification(t, *object_at<Notification>(cap.object()), blocking);
    }
}

}  // namespace

void handle_syscall(Tcb& t) {
    uint64_t number = t.context.x[arch::kSyscallNumberRegister];
    switch (static_cast<abi::Syscall>(number)) {
        case abi::Syscall::kCall:
            handle_send(t, true, true);
            return;
        case abi::Syscall::kSend:
            handle_send(t, true, false);
            return;
        case abi::Syscall::kNBSend:
            handle_send(t, false, false);
            return;
        case abi::Syscall::kRecv:
            handle_receive(t, true);
            return;
        case abi::Syscall::kNBRecv:
            handle_receive(t, false);
            return;
        case abi::Syscall::kReply:
            reply_ipc(t);
            return;
        case abi::Syscall::kReplyRecv:
            reply_ipc(t);
            handle_receive(t, true);
            return;
        case abi::Syscall::kYield:
            scheduler().rotate(t);
            return;
        default: {
            UserFault fault;
            fault.kind = UserFaultKind::kUnknownSyscall;
            fault.pc = t.context.pc;
            fault.syndrome = abi::kSvcImmediate;  // a native call: only the number is unknown
            handle_user_fault(t, fault);
            return;
        }
    }
}

}  // namespace tessera
