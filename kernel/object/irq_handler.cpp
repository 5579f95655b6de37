// IRQ control and IRQ handler invocations, and delivery of user-owned interrupts. Per-line state
// is a fixed table in the kernel image (one entry per possible line).
// Invariant: a line is unmasked only while it has a notification and is not awaiting an Ack.
#include "object/irq_handler.hpp"

#include "arch/interrupt_controller.hpp"
#include "core/cspace.hpp"
#include "core/interrupts.hpp"
#include "core/ipc.hpp"
#include "core/kernel_memory.hpp"
#include "syscall/invocation.hpp"

namespace tessera {
namespace {

using abi::InvocationLabel;

struct UserIrq {
    bool issued = false;      // a handler capability exists
    bool registered = false;  // routed through the generic dispatcher
    Notification* notification = nullptr;
    uint64_t badge = 0;
};

UserIrq g_irqs[kMaxInterruptLines];

void on_user_irq(uint32_t irq, void* /*context*/) {
    UserIrq& u = g_irqs[irq];
    arch::disable_interrupt_line(irq);  // until the driver acknowledges
    if (u.notification != nullptr) {
        signal_notification(*u.notification, u.badge);
    }
}

void route(uint32_t irq, Notification* n, uint64_t badge) {
    UserIrq& u = g_irqs[irq];
    u.notification = n;
    u.badge = badge;
    if (n != nullptr && !u.registered) {
        u.registered = register_interrupt_handler(irq, on_user_irq, nullptr);
    } else if (n == nullptr && u.registered) {
        unregister_interrupt_handler(irq);
        u.registered = false;
    }
}

SysResult<void> irq_control_get(const Invocation& inv) {
    // irq, dest_index, dest_depth; cap: dest root.
    TRY(inv.require(3, 1));
    uint64_t irq = TRY(inv.arg(0));
    uint64_t index = TRY(inv.arg(1));
    uint64_t depth = TRY(inv.arg(2));
    uint32_t lines = arch::interrupt_line_count();
    if (irq < kFirstUserIrq || irq >= lines) {
        return fail(SyscallError::range(kFirstUserIrq, lines - 1));
    }
    if (g_irqs[irq].issued ||
        (interrupt_line_taken(static_cast<uint32_t>(irq)) && !g_irqs[irq].registered)) {
        return fail(SyscallError::of(abi::Error::kRevokeFirst));  // already handed out or kernel's
    }
    Cte* dest = TRY(inv.empty_destination(0, index, depth));
    g_irqs[irq].issued = true;
    DerivationTree::insert_derived(inv.slot(), *dest,
                                   Capability::irq_handler(static_cast<uint32_t>(irq)));
    return {};
}

SysResult<void> irq_handler_invoke(const Invocation& inv) {
    uint32_t irq = inv.cap().irq();
    switch (static_cast<InvocationLabel>(inv.label())) {
        case InvocationLabel::kIrqHandlerAck:
            if (g_irqs[irq].notification != nullptr) {
                arch::enable_interrupt_line(irq);
            }
            return {};
        case InvocationLabel::kIrqHandlerSetNotification: {
            TRY(inv.require(0, 1));
            Cte* n = TRY(inv.extra_cap(0));
            if (n->cap().type() != CapType::kNotification ||
                !n->cap().has_rights(abi::kRightWrite)) {
                return fail(SyscallError::invalid_capability(1));
            }
            route(irq, object_at<Notification>(n->cap().object()), n->cap().badge());
            return {};
        }
        case InvocationLabel::kIrqHandlerClear:
            route(irq, nullptr, 0);
            return {};
        default:
            return fail(SyscallError::of(abi::Error::kIllegalOperation));
    }
}

}  // namespace

void irq_handler_destroyed(uint32_t irq) {
    if (irq < kMaxInterruptLines) {
        route(irq, nullptr, 0);
        g_irqs[irq].issued = false;
    }
}

void irq_forget_notification(const Notification& n) {
    for (uint32_t irq = 0; irq < kMaxInterruptLines; ++irq) {
        if (g_irqs[irq].notification == &n) {
            route(irq, nullptr, 0);
        }
    }
}

bool irq_route_to_notification(uint32_t irq, Notification& n, uint64_t badge) {
    if (irq >= kMaxInterruptLines || g_irqs[irq].issued) {
        return false;
    }
    route(irq, &n, badge);
    return g_irqs[irq].registered;
}

SysResult<void> invoke_irq_control(const Invocation& inv) {
    if (static_cast<InvocationLabel>(inv.label()) != InvocationLabel::kIrqControlGet) {
        return fail(SyscallError::of(abi::Error::kIllegalOperation));
    }
    return irq_control_get(inv);
}

SysResult<void> invoke_irq_handler(const Invocation& inv) {
    return irq_handler_invoke(inv);
}

}  // namespace tessera
