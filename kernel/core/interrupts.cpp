// Interrupt handler table and dispatch. Handlers run with interrupts masked on the kernel
// stack; they must be short (the timer handler only re-arms and counts).
#include "core/interrupts.hpp"

#include "arch/interrupt_controller.hpp"
#include "core/console.hpp"

namespace tessera {
namespace {

struct Slot {
    InterruptHandler handler = nullptr;
    void* context = nullptr;
    uint64_t count = 0;
};

Slot g_slots[kMaxInterruptLines];

}  // namespace

bool register_interrupt_handler(uint32_t irq, InterruptHandler handler, void* context) {
    if (irq >= kMaxInterruptLines || handler == nullptr || g_slots[irq].handler != nullptr) {
        return false;
    }
    g_slots[irq].handler = handler;
    g_slots[irq].context = context;
    arch::enable_interrupt_line(irq);
    return true;
}

void unregister_interrupt_handler(uint32_t irq) {
    if (irq < kMaxInterruptLines) {
        arch::disable_interrupt_line(irq);
        g_slots[irq] = Slot{};
    }
}

void dispatch_interrupt(uint32_t irq) {
    if (irq >= kMaxInterruptLines || g_slots[irq].handler == nullptr) {
        kprintln("warning: unexpected interrupt {} masked", irq);
        arch::disable_interrupt_line(irq);
        return;
    }
    ++g_slots[irq].count;
    g_slots[irq].handler(irq, g_slots[irq].context);
}

bool interrupt_line_taken(uint32_t irq) {
    return irq < kMaxInterruptLines && g_slots[irq].handler != nullptr;
}

uint64_t interrupt_count(uint32_t irq) {
    return irq < kMaxInterruptLines ? g_slots[irq].count : 0;
}

}  // namespace tessera
