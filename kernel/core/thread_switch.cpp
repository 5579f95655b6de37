// Thread activation. The kernel runs on one stack and keeps no per-thread kernel state: every
// path out of the kernel ends here, in the idle loop or in arch_return_to_user.
#include "core/thread_switch.hpp"

#include "arch/address_space.hpp"
#include "arch/cpu.hpp"
#include "arch/registers.hpp"
#include "core/console.hpp"
#include "core/ipc.hpp"
#include "core/kernel_memory.hpp"
#include "object/vspace.hpp"

namespace tessera {

namespace detail {
Scheduler g_scheduler;
}  // namespace detail

namespace {

using detail::g_scheduler;

Tcb* g_current = nullptr;
Tcb* g_fpu_owner = nullptr;

bool g_fpu_trapping = true;  // CPACR_EL1.FPEN as last written (reset value traps)

void set_fpu_trap(bool trap) {
    if (trap == g_fpu_trapping) {
        return;
    }
    // CPACR_EL1.FPEN: 0b11 lets EL0/EL1 use SIMD/FP, 0b00 traps it (EC 0x07).
    uint64_t cpacr = TESSERA_READ_SYSREG(cpacr_el1) & ~(uint64_t{3} << 20);
    TESSERA_WRITE_SYSREG(cpacr_el1, cpacr | (trap ? 0 : uint64_t{3} << 20));
    arch::isb();
    g_fpu_trapping = trap;
}

bool has_live_vspace(const Tcb& t) {
    const Capability& vspace = t.vspace_root.cap();
    return vspace.type() == CapType::kVSpace && vspace.vspace_asid() != 0 &&
           asid_lookup(vspace.vspace_asid()) == vspace.object();
}

}  // namespace

void switch_to(Tcb& t) {
    if (!has_live_vspace(t)) {
        schedule_and_run();  // suspends it with a report
    }
    g_current = &t;
    const Capability& vspace = t.vspace_root.cap();
    arch::activate_user_address_space(vspace.object(), vspace.vspace_asid());
    set_fpu_trap(g_fpu_owner != &t);
    arch_return_to_user(&t.context);
}

Tcb* current_thread() {
    return g_current;
}

void schedule_and_run() {
    for (;;) {
        Tcb* next = g_scheduler.choose();
        if (next != nullptr && !has_live_vspace(*next)) {
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
        g_current = nullptr;
        arch::enable_interrupts();
        arch::wait_for_interrupt();
        arch::disable_interrupts();
    }
}

void resume_or_schedule(Tcb& t) {
    // Its VSpace may have been replaced by its own system call: activate (a no-op when equal).
    if (g_current == &t && g_scheduler.choose() == &t && has_live_vspace(t)) {
        const Capability& vspace = t.vspace_root.cap();
        arch::activate_user_address_space(vspace.object(), vspace.vspace_asid());
        arch_return_to_user(&t.context);
    }
    schedule_and_run();
}

void scheduler_tick() {
    g_scheduler.tick(g_current);
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
    if (g_fpu_owner == &t) {
        g_fpu_owner = nullptr;
    }
    if (g_current == &t) {
        g_current = nullptr;
    }
}

void switch_fpu_owner(Tcb& t) {
    set_fpu_trap(false);
    if (g_fpu_owner != nullptr && g_fpu_owner != &t) {
        arch_fpu_save(&g_fpu_owner->fpu);
    }
    if (g_fpu_owner != &t) {
        arch_fpu_restore(&t.fpu);
    }
    g_fpu_owner = &t;
}

}  // namespace tessera
