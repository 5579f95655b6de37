// The Arm generic timer, EL1 virtual timer (CNTV_*): counter reads and one-shot deadlines.
// The virtual timer is always accessible at EL1; boot.S zeroes CNTVOFF when entered at EL2.
#pragma once

#include <cstdint>

namespace tessera::arch {

inline uint64_t counter_frequency() {
    uint64_t v;
    asm volatile("mrs %0, cntfrq_el0" : "=r"(v));
    return v;
}

inline uint64_t counter_now() {
    uint64_t v;
    asm volatile("isb; mrs %0, cntvct_el0" : "=r"(v)::"memory");
    return v;
}

// Fires the timer interrupt once the counter reaches deadline (unmasked, enabled).
inline void timer_set_deadline(uint64_t deadline) {
    asm volatile("msr cntv_cval_el0, %0; msr cntv_ctl_el0, %1; isb" ::"r"(deadline), "r"(1ull)
                 : "memory");
}

inline void timer_stop() {
    asm volatile("msr cntv_ctl_el0, %0; isb" ::"r"(0ull) : "memory");
}

}  // namespace tessera::arch
