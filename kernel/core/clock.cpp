// Tick bookkeeping on top of the arch timer. Deadlines advance by whole periods; if the
// kernel was held off for several periods, the missed ticks are counted, not replayed.
#include "core/clock.hpp"

#include "arch/timer.hpp"
#include "core/interrupts.hpp"
#include "core/thread_switch.hpp"

namespace tessera {
namespace {

uint32_t g_irq = 0;
uint32_t g_hz = 0;
uint64_t g_period = 0;
uint64_t g_deadline = 0;
uint64_t g_ticks = 0;
TickObserver g_observer = nullptr;

void on_tick(uint32_t /*irq*/, void* /*context*/) {
    uint64_t now = arch::counter_now();
    do {
        g_deadline += g_period;
        ++g_ticks;
    } while (g_deadline <= now);
    arch::timer_set_deadline(g_deadline);
    scheduler_tick();
    if (g_observer != nullptr) {
        g_observer(now);
    }
}

}  // namespace

bool clock_start(uint32_t irq, uint32_t hz) {
    uint64_t frequency = arch::counter_frequency();
    if (hz == 0 || hz > frequency) {
        return false;
    }
    g_irq = irq;
    g_hz = hz;
    g_period = frequency / hz;
    g_deadline = arch::counter_now() + g_period;
    if (!register_interrupt_handler(irq, on_tick, nullptr)) {
        return false;
    }
    arch::timer_set_deadline(g_deadline);
    return true;
}

void clock_stop() {
    arch::timer_stop();
    unregister_interrupt_handler(g_irq);
    g_hz = 0;
}

uint64_t tick_count() {
    return g_ticks;
}
uint32_t tick_hz() {
    return g_hz;
}
uint64_t tick_period() {
    return g_period;
}
void set_tick_observer(TickObserver observer) {
    g_observer = observer;
}

}  // namespace tessera
