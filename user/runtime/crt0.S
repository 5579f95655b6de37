// User program entry: the kernel starts a thread at _start with its stack pointer set, x0/x1
// holding its start-up arguments (the boot-info address for the root task; the startup record's
// address for a PD) and TPIDR_EL0 its IPC buffer. Clears .bss, builds the thread
// block (tessera_init_main_thread: TPIDR_EL0 then points at it), then calls
// tessera_start(x0, x1); a return from it ends the program with status 0 (tessera_exit).

    .section .text.start, "ax"
    .global _start
_start:
    mov     x19, x0
    mov     x20, x1
    adrp    x1, __bss_start
    add     x1, x1, :lo12:__bss_start
    adrp    x2, __bss_end
    add     x2, x2, :lo12:__bss_end
1:  cmp     x1, x2
    b.hs    2f
    strb    wzr, [x1], #1
    b       1b
2:  mov     x29, xzr
    mov     x30, xzr
    bl      tessera_init_main_thread
    mov     x0, x19
    mov     x1, x20
    bl      tessera_start
    mov     x0, xzr
    bl      tessera_exit
3:  b       3b
