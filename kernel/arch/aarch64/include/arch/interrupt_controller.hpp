// The interrupt controller (GICv2 on the boards Tessera supports): distributor and CPU
// interface setup, per-line enable, software-generated interrupts, and the acknowledge loop.
#pragma once

#include <cstdint>

#include "base/address.hpp"

namespace tessera::arch {

constexpr uint32_t kFirstPpi = 16;
constexpr uint32_t kFirstSpi = 32;
constexpr uint32_t kSpuriousInterrupt = 1023;

// distributor / cpu_interface are kernel virtual addresses of the mapped register frames.
void interrupt_controller_init(VirtAddr distributor, VirtAddr cpu_interface);
uint32_t interrupt_line_count();
void enable_interrupt_line(uint32_t irq);
void disable_interrupt_line(uint32_t irq);
bool interrupt_line_enabled(uint32_t irq);
// Raises software-generated interrupt `sgi` (0..15) on this CPU.
void send_sgi_to_self(uint32_t sgi);
// Acknowledges and dispatches every pending interrupt; called from the IRQ vector.
void handle_pending_interrupts();

}  // namespace tessera::arch
