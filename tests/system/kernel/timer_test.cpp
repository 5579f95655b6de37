// Self-tests of the generic timer tick. Run under QEMU -icount shift=0 the virtual counter
// advances with executed instructions, so tick spacing is deterministic and checked tightly.
#include "arch/timer.hpp"
#include "arch/cpu.hpp"
#include "core/clock.hpp"
#include "selftest.hpp"

namespace tessera {
namespace {

constexpr unsigned kSamples = 21;
volatile unsigned g_sample_count = 0;
uint64_t g_samples[kSamples];

void record_tick(uint64_t counter) {
    if (g_sample_count < kSamples) {
        g_samples[g_sample_count] = counter;
        g_sample_count = g_sample_count + 1;
    }
}

}  // namespace

SELFTEST(timer, counter_runs) {
    CHECK(arch::counter_frequency() > 0);
    uint64_t a = arch::counter_now();
    for (volatile int i = 0; i < 10000; i = i + 1) {
    }
    uint64_t b = arch::counter_now();
    CHECK(b > a);
}

SELFTEST(timer, ticks_at_configured_rate) {
    CHECK(tick_hz() > 0);
    uint64_t period = tick_period();
    CHECK_EQ(period, arch::counter_frequency() / tick_hz());
    g_sample_count = 0;
    set_tick_observer(record_tick);
    uint64_t start_ticks = tick_count();
    while (g_sample_count < kSamples) {
        arch::wait_for_interrupt();
    }
    set_tick_observer(nullptr);
    CHECK(tick_count() - start_ticks >= kSamples);
    // Each interval within 1% of the period (handler latency only), and no drift overall:
    // deadlines are absolute, so 20 intervals span 20 periods within one period's 1%.
    for (unsigned i = 1; i < kSamples; ++i) {
        uint64_t delta = g_samples[i] - g_samples[i - 1];
        if (delta < period - period / 100 || delta > period + period / 100) {
            t.fail("tick {} came {} counter cycles after the previous one, period is {}", i, delta,
                   period);
            return;
        }
    }
    uint64_t span = g_samples[kSamples - 1] - g_samples[0];
    uint64_t expected = period * (kSamples - 1);
    CHECK(span > expected - period / 100 && span < expected + period / 100);
}

SELFTEST(timer, wfi_wakes_on_tick) {
    uint64_t before = tick_count();
    arch::wait_for_interrupt();
    arch::wait_for_interrupt();
    CHECK(tick_count() > before);
}

}  // namespace tessera
