// The CPU as seen by generic kernel code: identity, interrupt masking, SIMD/FP access, idling
// and halting.
#pragma once

#include <cstdint>

namespace tessera::arch {

struct CpuInfo {
    uint32_t midr = 0;
    uint8_t implementer = 0;
    uint8_t variant = 0;
    uint16_t part = 0;
    uint8_t revision = 0;
    const char* implementer_name = "";
    const char* part_name = "";  // "Cortex-A72", or "unknown"
};

CpuInfo cpu_info();

inline void enable_interrupts() {
    asm volatile("msr daifclr, #2" ::: "memory");
}
inline void disable_interrupts() {
    asm volatile("msr daifset, #2" ::: "memory");
}
inline bool interrupts_enabled() {
    uint64_t daif;
    asm volatile("mrs %0, daif" : "=r"(daif));
    return (daif & (1u << 7)) == 0;
}
inline void wait_for_interrupt() {
    asm volatile("dsb sy; wfi" ::: "memory");
}

// Lets user code (and the kernel's FPU save/restore) use SIMD/FP, or makes every use trap
// (EC 0x07) so ownership can change hands lazily. Boot clears CPACR_EL1, so FPEN is the only
// field ever set and the whole register can be written.
inline void set_fpu_access(bool enabled) {
    asm volatile("msr cpacr_el1, %0; isb" ::"r"(enabled ? uint64_t{3} << 20 : 0) : "memory");
}

// An IRQ is pending (ISR_EL1.I) even though it is masked: long operations check this.
inline bool interrupt_pending() {
    uint64_t isr;
    asm volatile("mrs %0, isr_el1" : "=r"(isr));
    return (isr & (1u << 7)) != 0;
}

// Puts every EL1 control register that decides what EL0 may reach into a known state, whatever
// firmware or a boot loader left there: CNTKCTL_EL1 lets EL0 read the virtual count (a clock)
// but not the physical one nor any timer, MDSCR_EL1 has every debug exception and single-step
// off and traps EL0 use of the debug channel, PMUSERENR_EL0 gives EL0 no PMU access.
void init_el0_controls();

// ASIDs the MMU tags translations with: 65536 with TCR_EL1.AS set, else 256.
uint32_t asid_count();
// Drops to 8-bit ASIDs (TCR_EL1.AS clear) before any user address space exists: lets the
// kernel's handling of 8-bit CPUs run on one with 16 (the boot argument asid_bits=8).
void use_8_bit_asids();

[[noreturn]] void halt_forever();

inline uint64_t current_frame_pointer() {
    uint64_t fp;
    asm volatile("mov %0, x29" : "=r"(fp));
    return fp;
}

}  // namespace tessera::arch
