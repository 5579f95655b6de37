/* Architectural constants shared by assembly (boot.S, vectors.S) and C++. Plain #defines so the
 * assembler can use them; C++ code static_asserts its own views against these. */
#pragma once

#define PMU_EVENT_INST_RETIRED 0x08
#define PMEVTYPER_NSH (1 << 27)
#define PMCR_E (1 << 0)
#define PMCR_P (1 << 1)

#define HCR_EL2_RW (1 << 31)
#define CNTHCTL_EL1PCTEN (1 << 0)
#define CNTHCTL_EL1PCEN (1 << 1)
#define CPTR_EL2_DEFAULT 0x33ff
#define SPSR_EL1H_MASKED 0x3c5 /* EL1h, D, A, I, F masked */

/* SCTLR_EL1: RES1 bits (11, 20, 22, 23, 28, 29); boot.S adds M, C, SA, SA0, I. WXN (writable
 * implies execute-never) is set once the final tables, which never map W+X, are active: the
 * boot tables map the first gigabyte read-write-execute. */
#define SCTLR_EL1_RES1 0x30d00800
#define SCTLR_M (1 << 0)
#define SCTLR_C (1 << 2)
#define SCTLR_SA (1 << 3)
#define SCTLR_SA0 (1 << 4)
#define SCTLR_I (1 << 12)
#define SCTLR_WXN (1 << 19)
#define SCTLR_EL1_KERNEL (SCTLR_EL1_RES1 | SCTLR_M | SCTLR_C | SCTLR_SA | SCTLR_SA0 | SCTLR_I)

/* MAIR slots: 0 Device-nGnRnE, 1 Normal WB, 2 Normal NC, 3 Device-nGnRE (see descriptor.hpp). */
#define MAIR_VALUE 0x0444ff00

/* TCR_EL1: 48-bit VAs in both halves, 4 KiB granules, write-back inner-shareable walks. */
#define TCR_T0SZ (16 << 0)
#define TCR_IRGN0_WBWA (1 << 8)
#define TCR_ORGN0_WBWA (1 << 10)
#define TCR_SH0_INNER (3 << 12)
#define TCR_TG0_4K (0 << 14)
#define TCR_T1SZ (16 << 16)
#define TCR_EPD0 (1 << 7)
#define TCR_IRGN1_WBWA (1 << 24)
#define TCR_ORGN1_WBWA (1 << 26)
#define TCR_SH1_INNER (3 << 28)
#define TCR_TG1_4K (2 << 30)
#define TCR_IPS_SHIFT 32
#define TCR_AS (1 << 36)
#define TCR_BASE                                                                          \
    (TCR_T0SZ | TCR_IRGN0_WBWA | TCR_ORGN0_WBWA | TCR_SH0_INNER | TCR_TG0_4K | TCR_T1SZ | \
     TCR_IRGN1_WBWA | TCR_ORGN1_WBWA | TCR_SH1_INNER | TCR_TG1_4K)

/* Early boot descriptors: a table entry, and 1 GiB blocks (AF set; Normal inner shareable or
 * Device outer shareable and execute-never). */
#define DESC_TABLE 0x3
#define EARLY_NORMAL_BLOCK (0x1 | (1 << 2) | (3 << 8) | (1 << 10))
#define EARLY_DEVICE_BLOCK (0x1 | (0 << 2) | (2 << 8) | (1 << 10) | (3 << 53))

/* Exception frame layout (see exception_frame.hpp). */
#define FRAME_X0 0
#define FRAME_SP 248
#define FRAME_ELR 256
#define FRAME_SPSR 264
#define FRAME_ESR 272
#define FRAME_FAR 280
#define FRAME_RECORD 288
#define FRAME_SIZE 304

/* UserContext layout (see user_context.hpp): x0-x30, then SP_EL0, ELR (pc), SPSR, TPIDR_EL0. */
#define UCTX_X0 0
#define UCTX_SP 248
#define UCTX_PC 256
#define UCTX_SPSR 264
#define UCTX_TPIDR 272
#define UCTX_SIZE 288

/* SPSR for a new user thread: EL0t, AArch64, interrupts unmasked. */
#define SPSR_EL0T 0x0

/* What the entry from EL0 decodes before saving anything (arch/aarch64/trap.cpp checks these
 * against abi/syscall.hpp, object/tcb.hpp and core/scheduler.hpp). */
#define ESR_EC_SHIFT 26
#define ESR_EC_SVC64 0x15
// Native system calls: `svc #TESSERA_SVC_IMMEDIATE` (abi::kSvcImmediate), whose ESR is exactly
// EC SVC64, IL set and the immediate.
#define TESSERA_SVC_IMMEDIATE 0x7e55
#define ESR_SVC_NATIVE_HIGH ((ESR_EC_SVC64 << 10) | (1 << 9))  // bits 31:16 of that ESR
#define SYSCALL_CALL 0
#define SYSCALL_REPLY_RECV 1
#define SYSCALL_YIELD 7
#define TCB_TIMESLICE_TICKS 928
#define TCB_READY_NEXT 952
#define SCHED_TIMESLICE_TICKS 5

/* Vector kinds the user entry path passes to handle_user_entry. */
#define USER_ENTRY_SYNC 0
#define USER_ENTRY_IRQ 1
#define USER_ENTRY_SERROR 2
