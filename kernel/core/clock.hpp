// The kernel tick: the generic timer re-armed every period from an absolute deadline, so
// ticks never drift. Later the scheduler hangs its timeslice accounting here.
#pragma once

#include <cstdint>

namespace tessera {

constexpr uint32_t kDefaultTickHz = 250;

// Starts ticking at hz on timer interrupt line irq. False if hz is 0 or above the counter rate.
bool clock_start(uint32_t irq, uint32_t hz);
void clock_stop();
uint64_t tick_count();
uint32_t tick_hz();
// Counter cycles per tick.
uint64_t tick_period();

// Called on every tick with the counter value read in the handler (tests measure the rate).
using TickObserver = void (*)(uint64_t counter);
void set_tick_observer(TickObserver observer);

}  // namespace tessera
