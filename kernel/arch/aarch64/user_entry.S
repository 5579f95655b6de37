// Entry from and return to EL0. An exception from user mode saves the thread's registers
// straight into its UserContext (TPIDR_EL1 holds the current TCB, UserContext at offset 0);
// the kernel then runs on its single, empty kernel stack and leaves through user_exit with
// whichever thread should run next. No kernel state survives on the stack across a return to
// user mode. The vectors (vectors.S) push the user's x0/x1 and branch to one of the entries
// below; only Yield's fast exit leaves without saving anything.

#include "arch/asm_constants.h"

// Saves every user register into the current TCB. Expects the user's x0/x1 pushed on the
// kernel stack and pops them, so the stack is empty again; leaves x1 = the TCB. Clobbers
// x2-x5 (saved first); x0, x6 and x7 keep their values.
.macro SAVE_USER_CONTEXT
    mrs     x1, tpidr_el1
    stp     x2, x3, [x1, #16]
    stp     x4, x5, [x1, #32]
    stp     x6, x7, [x1, #48]
    stp     x8, x9, [x1, #64]
    stp     x10, x11, [x1, #80]
    stp     x12, x13, [x1, #96]
    stp     x14, x15, [x1, #112]
    stp     x16, x17, [x1, #128]
    stp     x18, x19, [x1, #144]
    stp     x20, x21, [x1, #160]
    stp     x22, x23, [x1, #176]
    stp     x24, x25, [x1, #192]
    stp     x26, x27, [x1, #208]
    stp     x28, x29, [x1, #224]
    ldp     x2, x3, [sp], #16       // the user's x0, x1
    stp     x2, x3, [x1, #UCTX_X0]
    mrs     x2, sp_el0
    mrs     x3, elr_el1
    stp     x30, x2, [x1, #240]     // x30 and SP_EL0 (UCTX_SP = 248)
    mrs     x4, spsr_el1
    stp     x3, x4, [x1, #UCTX_PC]
    mrs     x5, tpidr_el0
    str     x5, [x1, #UCTX_TPIDR]
.endm

    .text

// Call (x7 = 0) and ReplyRecv (x7 = 1). The registers are saved in full before the fastpath
// runs, so when it declines (returns null, having changed nothing) the general path finds a
// complete context, and any later switch away from this thread is correct too. On success it
// returns the partner, already made current, and the exit loads it.
    .global user_ipc_entry
user_ipc_entry:
    SAVE_USER_CONTEXT
    mov     x0, x1
    mov     x29, xzr                // no frame record: backtraces end here
    cbnz    x7, 1f
    bl      fast_call
    cbnz    x0, user_exit
    b       2f
1:  bl      fast_reply_recv
    cbnz    x0, user_exit
2:  mrs     x0, tpidr_el1
    b       3f

// Every other system call (and Yield when another thread shares the caller's priority).
    .global user_syscall_entry
user_syscall_entry:
    SAVE_USER_CONTEXT
    mov     x0, x1
    mov     x29, xzr                // the kernel's backtraces end here
3:  mov     x30, xzr
    bl      handle_user_syscall     // (Tcb*): never returns
    b       .

// Synchronous exceptions other than SVC: faults, FP/SIMD traps, undefined instructions.
    .global user_exception_entry
user_exception_entry:
    mov     x0, #USER_ENTRY_SYNC

// x0: kind (USER_ENTRY_*). Called from the lower-EL vectors with the user's x0/x1 pushed.
    .global user_entry_common
user_entry_common:
    SAVE_USER_CONTEXT
    mov     x29, xzr                // the kernel's backtraces end here
    mov     x30, xzr
    bl      handle_user_entry       // (kind, Tcb*): never returns
    b       .

// void arch_return_to_user(UserContext* context)
// IRQs are masked first: boot code and the idle loop run with them open, and an IRQ taken
// after ELR_EL1/SPSR_EL1 hold the user's values would replace them with its own return state.
    .global arch_return_to_user
arch_return_to_user:
    msr     daifset, #3             // I and F
    adrp    x1, __boot_stack_top    // the kernel stack is empty whenever user code runs
    add     x1, x1, :lo12:__boot_stack_top
    mov     sp, x1
    // Falls through.

// x0: the thread to run (its UserContext). IRQs are masked and stay so until the ERET.
user_exit:
    msr     tpidr_el1, x0
    ldp     x1, x2, [x0, #UCTX_SP]  // SP_EL0, pc
    msr     sp_el0, x1
    msr     elr_el1, x2
    ldp     x3, x4, [x0, #UCTX_SPSR]  // SPSR, TPIDR_EL0
    msr     spsr_el1, x3
    msr     tpidr_el0, x4
    ldp     x2, x3, [x0, #16]
    ldp     x4, x5, [x0, #32]
    ldp     x6, x7, [x0, #48]
    ldp     x8, x9, [x0, #64]
    ldp     x10, x11, [x0, #80]
    ldp     x12, x13, [x0, #96]
    ldp     x14, x15, [x0, #112]
    ldp     x16, x17, [x0, #128]
    ldp     x18, x19, [x0, #144]
    ldp     x20, x21, [x0, #160]
    ldp     x22, x23, [x0, #176]
    ldp     x24, x25, [x0, #192]
    ldp     x26, x27, [x0, #208]
    ldp     x28, x29, [x0, #224]
    ldr     x30, [x0, #240]
    ldp     x0, x1, [x0, #UCTX_X0]
    clrex                           // no exclusive reservation survives a kernel entry
    eret

// void arch_fpu_save(FpuContext*), arch_fpu_restore(const FpuContext*): q0-q31, FPCR, FPSR.
    .global arch_fpu_save
arch_fpu_save:
    stp     q0, q1, [x0, #0]
    stp     q2, q3, [x0, #32]
    stp     q4, q5, [x0, #64]
    stp     q6, q7, [x0, #96]
    stp     q8, q9, [x0, #128]
    stp     q10, q11, [x0, #160]
    stp     q12, q13, [x0, #192]
    stp     q14, q15, [x0, #224]
    stp     q16, q17, [x0, #256]
    stp     q18, q19, [x0, #288]
    stp     q20, q21, [x0, #320]
    stp     q22, q23, [x0, #352]
    stp     q24, q25, [x0, #384]
    stp     q26, q27, [x0, #416]
    stp     q28, q29, [x0, #448]
    stp     q30, q31, [x0, #480]
    mrs     x1, fpcr
    mrs     x2, fpsr
    add     x0, x0, #512
    stp     x1, x2, [x0]
    ret

    .global arch_fpu_restore
arch_fpu_restore:
    ldp     q0, q1, [x0, #0]
    ldp     q2, q3, [x0, #32]
    ldp     q4, q5, [x0, #64]
    ldp     q6, q7, [x0, #96]
    ldp     q8, q9, [x0, #128]
    ldp     q10, q11, [x0, #160]
    ldp     q12, q13, [x0, #192]
    ldp     q14, q15, [x0, #224]
    ldp     q16, q17, [x0, #256]
    ldp     q18, q19, [x0, #288]
    ldp     q20, q21, [x0, #320]
    ldp     q22, q23, [x0, #352]
    ldp     q24, q25, [x0, #384]
    ldp     q26, q27, [x0, #416]
    ldp     q28, q29, [x0, #448]
    ldp     q30, q31, [x0, #480]
    add     x0, x0, #512
    ldp     x1, x2, [x0]
    msr     fpcr, x1
    msr     fpsr, x2
    ret
