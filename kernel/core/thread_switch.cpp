// Thread activation. The kernel runs on one stack and keeps no per-thread kernel state: every
// path out of the kernel ends here, in the idle loop or in arch_return_to_user - except the
// fast exits of Yield (which changes nothing) and of the IPC fastpath (which switches with
// make_current, as switch_to does).
#include "core/thread_switch.hpp"

#include "core/console.hpp"
#include "core/ipc.hpp"
#include "core/kernel_memory.hpp"
#include "object/vspace.hpp"

namespace tessera {

namespace detail {
Scheduler g_scheduler;
CpuState g_cpu;
}  // namespace detail

namespace {

using detail::g_cpu;
using detail::g_scheduler;

}  // namespace

uint64_t user_root_of(Tcb& t) {
    if (uint64_t root = cached_user_root(t); root != 0) {
        return root;
    }
    const Capability& vspace = t.vspace_root.cap();
    if (vspace.type() != CapType::kVSpace || vspace.vspace_asid() == 0 ||
        asid_lookup(vspace.vspace_asid()) != vspace.object()) {
        return 0;
    }
    t.user_root = arch::user_root(vspace.object(), vspace.vspace_asid());
    t.user_root_epoch = vspace_epoch();
    return t.user_root;
}

void switch_to(Tcb& t) {
    uint64_t root = user_root_of(t);
    if (root == 0) {
        schedule_and_run();  // suspends it with a report
    }
    make_current(t, root);
    arch_return_to_user(&t.context);
}

void schedule_and_run() {
    for (;;) {
        Tcb* next = g_scheduler.choose();
        if (next != nullptr && user_root_of(*next) == 0) {
            // Its VSpace capability was removed or its ASID retired (pool deleted): it can
            // never run on tables or an ASID that are not its own.
            kprintln("thread \"{}\" has no usable address space; suspended", next->name);
            suspend(*next);
            continue;
        }
        if (next != nullptr) {
            switch_to(*next);
        }
        // Idle: wait for an interrupt; its handler may make a thread runnable.
        g_cpu.current = nullptr;
        arch::enable_interrupts();
        arch::wait_for_interrupt();
        arch::disable_interrupts();
    }
}

void resume_or_schedule(Tcb& t) {
    // Its VSpace may have been replaced by its own system call: make_current loads the new
    // one (and does nothing when it is unchanged).
    if (g_cpu.current == &t && g_scheduler.choose() == &t) {
        if (uint64_t root = user_root_of(t); root != 0) {
            make_current(t, root);
            arch_return_to_user(&t.context);
        }
    }
    schedule_and_run();
}

void scheduler_tick() {
    g_scheduler.tick(g_cpu.current);
}

void make_runnable(Tcb& t) {
    t.state = ThreadState::kRunning;
    g_scheduler.enqueue(t);
}

void suspend(Tcb& t) {
    cancel_ipc(t);
    t.state = ThreadState::kInactive;
    g_scheduler.dequeue(t);
}

void thread_destroyed(Tcb& t) {
    suspend(t);
    unbind_notification(t);
    if (t.reply_to != nullptr) {  // its caller now waits for a reply that cannot come
        t.reply_to->reply_from = nullptr;
        t.reply_to = nullptr;
    }
    if (g_cpu.fpu_owner == &t) {
        g_cpu.fpu_owner = nullptr;
    }
    if (g_cpu.current == &t) {
        g_cpu.current = nullptr;
    }
}

void switch_fpu_owner(Tcb& t) {
    if (!g_cpu.fpu_enabled) {
        arch::set_fpu_access(true);  // the kernel's save and restore use the registers too
        g_cpu.fpu_enabled = true;
    }
    if (g_cpu.fpu_owner != nullptr && g_cpu.fpu_owner != &t) {
        arch_fpu_save(&g_cpu.fpu_owner->fpu);
    }
    if (g_cpu.fpu_owner != &t) {
        arch_fpu_restore(&t.fpu);
    }
    g_cpu.fpu_owner = &t;
}

}  // namespace tessera
