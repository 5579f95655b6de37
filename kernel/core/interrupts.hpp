// Generic interrupt dispatch: a table from interrupt line to kernel handler. Lines with no
// handler are reported once and masked so a stuck device cannot live-lock the kernel.
#pragma once

#include <cstdint>

namespace tessera {

using InterruptHandler = void (*)(uint32_t irq, void* context);

constexpr uint32_t kMaxInterruptLines = 1024;

// Installs handler for irq and unmasks the line. False if irq is out of range or taken.
bool register_interrupt_handler(uint32_t irq, InterruptHandler handler, void* context);
void unregister_interrupt_handler(uint32_t irq);
void dispatch_interrupt(uint32_t irq);
uint64_t interrupt_count(uint32_t irq);
// Whether a kernel (or user) handler owns the line.
bool interrupt_line_taken(uint32_t irq);

}  // namespace tessera
