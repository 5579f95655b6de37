// Interrupts for user-level drivers. IRQ control issues at most one handler capability per
// line; a line with a notification set is signalled (with its badge) and masked when it fires,
// and unmasked again by the driver's Ack.
#pragma once

#include <cstdint>

#include "object/endpoint.hpp"

namespace tessera {

// First interrupt ID user level may claim: SGIs (0-15) stay the kernel's.
constexpr uint32_t kFirstUserIrq = 16;

// The last IRQ handler capability for irq is gone.
void irq_handler_destroyed(uint32_t irq);
// A notification is destroyed: no line may keep signalling it.
void irq_forget_notification(const Notification& n);

// For kernel self-tests: route irq to n with badge as a handler capability would.
bool irq_route_to_notification(uint32_t irq, Notification& n, uint64_t badge);

}  // namespace tessera
