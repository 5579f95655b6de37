// The EL1 exception vector table (16 entries) and the common entry/exit path for exceptions
// taken in the kernel: each saves a full ExceptionFrame on the current stack, links a frame
// record so backtraces continue into the interrupted code, and calls handle_exception(kind,
// frame). Exceptions from EL0 go to user_entry.S instead; a synchronous one is decoded right in
// its vector, which also holds the whole of Yield's fast exit.

#include "arch/asm_constants.h"

.macro VECTOR kind
    .balign 0x80
    sub     sp, sp, #FRAME_SIZE
    stp     x0, x1, [sp, #0]
    mov     x0, #\kind
    b       exception_entry
.endm

// From EL0 the kernel stack is empty: park x0/x1 on it and save into the current TCB.
.macro USER_VECTOR kind
    .balign 0x80
    stp     x0, x1, [sp, #-16]!
    mov     x0, #\kind
    b       user_entry_common
.endm

    .text
    .balign 2048
    .global exception_vectors
exception_vectors:
    VECTOR 0    // current EL, SP_EL0: sync
    VECTOR 1    //   IRQ
    VECTOR 2    //   FIQ
    VECTOR 3    //   SError
    VECTOR 4    // current EL, SP_ELx: sync
    VECTOR 5    //   IRQ
    VECTOR 6    //   FIQ
    VECTOR 7    //   SError

    // Lower EL, AArch64: sync. Call and ReplyRecv go to the IPC fastpath, other native system
    // calls to the general dispatch, anything else (foreign SVCs included: only the native
    // immediate makes a system call) to the exception decoding. Yield when no other thread
    // shares the caller's priority only renews its timeslice, as Scheduler::rotate would: the
    // caller is the head of the highest non-empty ready queue, so with no successor it is
    // alone there and stays the thread to run. Nothing is saved; IRQs stay masked to the ERET.
    .balign 0x80
lower_sync_vector:
    stp     x0, x1, [sp, #-16]!
    mrs     x0, esr_el1
    mov     w1, #(ESR_SVC_NATIVE_HIGH << 16)
    movk    w1, #TESSERA_SVC_IMMEDIATE
    cmp     w0, w1
    b.ne    user_exception_entry
    cmp     x7, #SYSCALL_REPLY_RECV
    b.ls    user_ipc_entry          // SYSCALL_CALL or SYSCALL_REPLY_RECV
    cmp     x7, #SYSCALL_YIELD
    b.ne    user_syscall_entry
    mrs     x0, tpidr_el1
    ldr     x1, [x0, #TCB_READY_NEXT]
    cbnz    x1, user_syscall_entry
    mov     w1, #SCHED_TIMESLICE_TICKS
    str     w1, [x0, #TCB_TIMESLICE_TICKS]
    ldp     x0, x1, [sp], #16
    clrex                           // as on every return to user mode
    eret
    .org    lower_sync_vector + 0x80  // an error if the code outgrew its 32 instructions

    USER_VECTOR USER_ENTRY_IRQ      //   IRQ
    VECTOR 10                       //   FIQ (never routed here: FIQs stay masked)
    USER_VECTOR USER_ENTRY_SERROR   //   SError
    VECTOR 12   // lower EL, AArch32: sync
    VECTOR 13   //   IRQ
    VECTOR 14   //   FIQ
    VECTOR 15   //   SError

exception_entry:
    stp     x2, x3, [sp, #16]
    stp     x4, x5, [sp, #32]
    stp     x6, x7, [sp, #48]
    stp     x8, x9, [sp, #64]
    stp     x10, x11, [sp, #80]
    stp     x12, x13, [sp, #96]
    stp     x14, x15, [sp, #112]
    stp     x16, x17, [sp, #128]
    stp     x18, x19, [sp, #144]
    stp     x20, x21, [sp, #160]
    stp     x22, x23, [sp, #176]
    stp     x24, x25, [sp, #192]
    stp     x26, x27, [sp, #208]
    stp     x28, x29, [sp, #224]
    str     x30, [sp, #240]
    cmp     x0, #8                  // kinds >= 8 come from EL0: their SP is SP_EL0
    b.lo    1f
    mrs     x1, sp_el0
    b       2f
1:  add     x1, sp, #FRAME_SIZE
2:  mrs     x2, elr_el1
    stp     x1, x2, [sp, #FRAME_SP]
    mrs     x3, spsr_el1
    mrs     x4, esr_el1
    stp     x3, x4, [sp, #FRAME_SPSR]
    mrs     x5, far_el1
    str     x5, [sp, #FRAME_FAR]
    stp     x29, x2, [sp, #FRAME_RECORD]
    add     x29, sp, #FRAME_RECORD
    mov     x1, sp
    bl      handle_exception

    // The handler may have changed the frame (registers, ELR, SPSR, SP_EL0).
    ldp     x1, x2, [sp, #FRAME_SP]
    ldr     x3, [sp, #FRAME_SPSR]
    msr     elr_el1, x2
    msr     spsr_el1, x3
    tst     x3, #0xf                // returning to EL0t: restore its stack pointer
    b.ne    3f
    msr     sp_el0, x1
3:  ldp     x2, x3, [sp, #16]
    ldp     x4, x5, [sp, #32]
    ldp     x6, x7, [sp, #48]
    ldp     x8, x9, [sp, #64]
    ldp     x10, x11, [sp, #80]
    ldp     x12, x13, [sp, #96]
    ldp     x14, x15, [sp, #112]
    ldp     x16, x17, [sp, #128]
    ldp     x18, x19, [sp, #144]
    ldp     x20, x21, [sp, #160]
    ldp     x22, x23, [sp, #176]
    ldp     x24, x25, [sp, #192]
    ldp     x26, x27, [sp, #208]
    ldp     x28, x29, [sp, #224]
    ldr     x30, [sp, #240]
    ldp     x0, x1, [sp, #0]
    add     sp, sp, #FRAME_SIZE
    eret

// Kernel accesses that may fault by design. On a synchronous abort at a listed instruction the
// handler resumes at its fixup with x0 = ESR (never zero for an abort); success returns 0.

// uint64_t arch_probe_read_u64(uint64_t address, uint64_t* value)
    .global arch_probe_read_u64
arch_probe_read_u64:
10: ldr     x2, [x0]
    str     x2, [x1]
    mov     x0, #0
11: ret
    .pushsection fixup_table, "a"
    .quad   10b, 11b
    .popsection

// uint64_t arch_probe_write_u64(uint64_t address, uint64_t value)
    .global arch_probe_write_u64
arch_probe_write_u64:
20: str     x1, [x0]
    mov     x0, #0
21: ret
    .pushsection fixup_table, "a"
    .quad   20b, 21b
    .popsection

// Deliberate synchronous exceptions for the self-tests of the vector paths. Each returns the
// ESR of the exception it raised. SVC's preferred return address is the next instruction, so
// its fixup entry names that address.

    .global arch_probe_brk
arch_probe_brk:
30: brk     #0x7e5
    mov     x0, #0
31: ret
    .pushsection fixup_table, "a"
    .quad   30b, 31b
    .popsection

    .global arch_probe_udf
arch_probe_udf:
40: udf     #0
    mov     x0, #0
41: ret
    .pushsection fixup_table, "a"
    .quad   40b, 41b
    .popsection

    .global arch_probe_svc
arch_probe_svc:
    svc     #0x42
50: mov     x0, #0
51: ret
    .pushsection fixup_table, "a"
    .quad   50b, 51b
    .popsection
