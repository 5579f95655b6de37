// Kernel entry on AArch64. Runs at the physical load address with the MMU off: starts the
// instruction counter, drops from EL2 to EL1 if needed, zeroes .bss, maps the kernel's first
// gigabyte (and the early UART's) both at their physical address and at the TTBR1 alias, turns
// the MMU on and jumps to kernel_main in the upper half. Everything here is PC-relative.

#include "arch/asm_constants.h"
#include "platform/board_constants.h"

    .section .text.boot, "ax"
    .global _start
_start:
    mov     x19, x0                 // DTB pointer if a boot loader passed one (0 from QEMU ELF boot)

    // PMU counter 0 counts retired instructions at EL1 and EL2 from here on (boot benchmark).
    mov     x1, #PMU_EVENT_INST_RETIRED
    orr     x1, x1, #PMEVTYPER_NSH
    msr     pmevtyper0_el0, x1
    mov     x1, #1
    msr     pmcntenset_el0, x1
    mrs     x1, pmcr_el0
    orr     x1, x1, #(PMCR_E | PMCR_P)
    msr     pmcr_el0, x1
    isb

    mrs     x20, CurrentEL
    lsr     x20, x20, #2            // x20 = exception level we were entered at
    cmp     x20, #2
    b.eq    from_el2
    cmp     x20, #1
    b.eq    el1_entry
    b       boot_hang               // EL3 entry is not supported

from_el2:
    mov     x1, #HCR_EL2_RW         // EL1 is AArch64, nothing trapped to EL2
    msr     hcr_el2, x1
    mrs     x1, cnthctl_el2
    orr     x1, x1, #(CNTHCTL_EL1PCTEN | CNTHCTL_EL1PCEN)
    msr     cnthctl_el2, x1
    msr     cntvoff_el2, xzr        // virtual counter == physical counter
    mov     x1, #CPTR_EL2_DEFAULT   // no FP/SIMD traps to EL2
    msr     cptr_el2, x1
    mrs     x1, pmcr_el0            // EL1 owns every PMU counter (MDCR_EL2.HPMN = PMCR.N)
    ubfx    x1, x1, #11, #5
    msr     mdcr_el2, x1
    mrs     x1, midr_el1            // EL1 reads the real CPU identity
    msr     vpidr_el2, x1
    mrs     x1, mpidr_el1
    msr     vmpidr_el2, x1
    msr     vttbr_el2, xzr
    ldr     x1, =SCTLR_EL1_RES1
    msr     sctlr_el1, x1
    mov     x1, #SPSR_EL1H_MASKED
    msr     spsr_el2, x1
    adr     x1, el1_entry
    msr     elr_el2, x1
    eret

el1_entry:
    msr     daifset, #0xf
    ldr     x1, =SCTLR_EL1_RES1     // MMU and caches off, whatever a boot loader left
    msr     sctlr_el1, x1
    msr     cpacr_el1, xzr          // SIMD/FP traps until a thread owns it (arch/cpu.hpp)
    isb

    adrp    x1, __boot_stack_top
    add     x1, x1, :lo12:__boot_stack_top
    mov     sp, x1

    adrp    x1, __bss_start
    add     x1, x1, :lo12:__bss_start
    adrp    x2, __bss_end
    add     x2, x2, :lo12:__bss_end
1:  cmp     x1, x2
    b.hs    2f
    stp     xzr, xzr, [x1], #16
    b       1b
2:
    // One L0 table serves TTBR0 (identity) and TTBR1 (kernel alias): both index 0.
    adrp    x1, early_l0_table
    adrp    x2, early_l1_table
    orr     x3, x2, #DESC_TABLE
    str     x3, [x1]
    // The gigabyte holding the kernel image (and, on QEMU virt, the DTB) as Normal memory.
    adrp    x4, _start
    lsr     x5, x4, #30
    and     x5, x5, #511
    lsl     x6, x5, #30
    ldr     x3, =EARLY_NORMAL_BLOCK
    orr     x3, x3, x6
    str     x3, [x2, x5, lsl #3]
    // The gigabyte holding the early UART as Device-nGnRnE (skipped if it is the kernel's).
    ldr     x6, =EARLY_UART_PHYS
    lsr     x7, x6, #30
    and     x7, x7, #511
    cmp     x7, x5
    b.eq    3f
    lsl     x6, x7, #30
    ldr     x3, =EARLY_DEVICE_BLOCK
    orr     x3, x3, x6
    str     x3, [x2, x7, lsl #3]
3:
    // The tables were written with the MMU off (non-cacheable): drop any stale cache lines.
    mov     x3, x1
    add     x4, x1, #(2 * 4096)     // early_l0_table and early_l1_table are adjacent
4:  dc      ivac, x3
    add     x3, x3, #64
    cmp     x3, x4
    b.lo    4b
    dsb     sy

    ldr     x3, =MAIR_VALUE
    msr     mair_el1, x3
    ldr     x3, =TCR_BASE
    mrs     x4, id_aa64mmfr0_el1
    and     x5, x4, #0xf            // PARange -> IPS, capped at 48 bits (no LPA)
    cmp     x5, #5
    mov     x6, #5
    csel    x5, x5, x6, ls
    orr     x3, x3, x5, lsl #TCR_IPS_SHIFT
    ubfx    x5, x4, #4, #4          // ASIDBits: 2 means 16-bit ASIDs
    cmp     x5, #2
    b.ne    5f
    orr     x3, x3, #TCR_AS
5:  msr     tcr_el1, x3
    msr     ttbr0_el1, x1
    msr     ttbr1_el1, x1
    isb
    tlbi    vmalle1
    dsb     nsh
    isb
    ldr     x3, =SCTLR_EL1_KERNEL
    msr     sctlr_el1, x3
    isb
    ldr     x3, =upper_half_entry
    br      x3

boot_hang:
    wfe
    b       boot_hang

    .ltorg

    .text
upper_half_entry:
    adrp    x1, __boot_stack_top    // now the upper-half alias
    add     x1, x1, :lo12:__boot_stack_top
    mov     sp, x1
    mov     x29, xzr                // terminates backtraces
    mov     x30, xzr
    mov     x0, x19
    mov     x1, x20
    bl      kernel_main
6:  wfe
    b       6b

    .section .bss.early_tables, "aw", %nobits
    .balign 4096
early_l0_table:
    .space  4096
early_l1_table:
    .space  4096

// void arch_switch_ttbr1(uint64_t ttbr1): installs the final kernel tables. Called through its
// identity-mapped address so no instruction fetch depends on TTBR1 while it changes.
    .section .text.boot, "ax"
    .global arch_switch_ttbr1
arch_switch_ttbr1:
    msr     ttbr1_el1, x0
    isb
    tlbi    vmalle1
    dsb     nsh
    isb
    ret
