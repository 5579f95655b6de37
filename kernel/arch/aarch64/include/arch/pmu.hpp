// The PMU counter boot.S programs: event counter 0 counts retired instructions from the first
// kernel instruction. Exact under QEMU -icount; benchmarks read it.
#pragma once

#include <cstdint>

namespace tessera::arch {

inline uint64_t instructions_retired() {
    uint64_t v;
    asm volatile("isb; mrs %0, pmevcntr0_el0" : "=r"(v));
    return v;
}

// Lets EL0 read the counters (PMUSERENR_EL0: EN, CR, ER). Only for benchmark runs: it gives
// every thread a precise clock.
inline void allow_user_counter_reads() {
    asm volatile("msr pmuserenr_el0, %0; isb" ::"r"(uint64_t{0xd}));
}

}  // namespace tessera::arch
