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

}  // namespace tessera::arch
