// The current thread and leaving the kernel: choose the next thread, switch its address space
// and FPU ownership, and return to user mode - or idle until an interrupt makes one runnable.
#pragma once

#include "arch/address_space.hpp"
#include "arch/cpu.hpp"
#include "core/scheduler.hpp"
#include "object/tcb.hpp"
#include "object/vspace.hpp"

namespace tessera {

// What the CPU holds for user mode. A switch compares against it so the system registers are
// written only when they change.
struct CpuState {
    Tcb* current = nullptr;
    Tcb* fpu_owner = nullptr;  // whose SIMD/FP registers are in the CPU
    uint64_t user_root = 0;    // the address space loaded (0: the empty one boot leaves)
    bool fpu_enabled = false;  // SIMD/FP usable without a trap (boot makes it trap)
};

namespace detail {
extern Scheduler g_scheduler;
extern CpuState g_cpu;
}  // namespace detail

inline Scheduler& scheduler() {
    return detail::g_scheduler;
}
inline Tcb* current_thread() {
    return detail::g_cpu.current;
}

// The user root of t's VSpace if its last check still stands, else 0 (then only
// user_root_of can tell).
inline uint64_t cached_user_root(const Tcb& t) {
    return t.user_root_epoch == vspace_epoch() ? t.user_root : 0;
}
// The user root t may run on, or 0 if its VSpace capability was removed or its ASID retired.
// A check that passes is cached in t until the VSpace epoch moves; a failed one never is.
uint64_t user_root_of(Tcb& t);

// Makes t the current thread on user root `root` (its checked address space): loads the root
// and sets SIMD/FP access (open only to its owner) where they differ from what the CPU has.
// Call-free, for the fastpath as much as for the general exit.
inline void make_current(Tcb& t, uint64_t root) {
    CpuState& cpu = detail::g_cpu;
    cpu.current = &t;
    if (root != cpu.user_root) {
        arch::load_user_root(root);
        cpu.user_root = root;
    }
    bool fpu = cpu.fpu_owner == &t;
    if (fpu != cpu.fpu_enabled) {
        arch::set_fpu_access(fpu);
        cpu.fpu_enabled = fpu;
    }
}

// Never returns: runs the highest-priority runnable thread, idling (WFI) while there is none.
[[noreturn]] void schedule_and_run();
// Leaving the kernel after handling t's system call or exception: if t is still the thread
// to run, return to it directly (its address space and FPU state are already in place).
[[noreturn]] void resume_or_schedule(Tcb& t);

// Runs t now (it must be the highest-priority runnable thread); never returns.
[[noreturn]] void switch_to(Tcb& t);

// Timer tick: round-robin accounting for the current thread.
void scheduler_tick();

// Makes t runnable / not runnable, keeping the ready queues in step with its state.
void make_runnable(Tcb& t);
void suspend(Tcb& t);

// The thread's last capability is gone: it stops and nothing refers to it any more.
void thread_destroyed(Tcb& t);

// First use of the FPU by the current thread: hands the registers over to it.
void switch_fpu_owner(Tcb& t);

}  // namespace tessera
