// The current thread and leaving the kernel: choose the next thread, switch its address space
// and FPU ownership, and return to user mode - or idle until an interrupt makes one runnable.
#pragma once

#include "core/scheduler.hpp"
#include "object/tcb.hpp"

namespace tessera {

namespace detail {
extern Scheduler g_scheduler;
}  // namespace detail

inline Scheduler& scheduler() {
    return detail::g_scheduler;
}
Tcb* current_thread();

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
