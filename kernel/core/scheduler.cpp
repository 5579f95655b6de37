// Ready queues and the priority bitmap. Pure bookkeeping (host-testable): switching address
// spaces and returning to user mode happen in core/thread_switch.cpp.
#include "core/scheduler.hpp"

#include <bit>

namespace tessera {

bool Scheduler::queue_empty(unsigned priority) const {
    return heads_[priority] == nullptr;
}

void Scheduler::rotate(Tcb& t) {
    if (t.in_ready_queue && heads_[t.priority] == &t && tails_[t.priority] == &t) {
        t.timeslice_ticks = kTimesliceTicks;  // alone at its priority: nothing to rotate
        return;
    }
    if (t.in_ready_queue) {
        dequeue(t);
        t.timeslice_ticks = kTimesliceTicks;
        enqueue(t);
    }
}

Tcb* Scheduler::choose() const {
    for (unsigned word = kPriorityCount / 64; word-- > 0;) {
        if (bitmap_[word] != 0) {
            unsigned bit = 63 - static_cast<unsigned>(std::countl_zero(bitmap_[word]));
            return heads_[word * 64 + bit];
        }
    }
    return nullptr;
}

bool Scheduler::tick(Tcb* current) {
    if (current == nullptr || !current->in_ready_queue) {
        return false;
    }
    if (current->timeslice_ticks > 1) {
        --current->timeslice_ticks;
        return false;
    }
    rotate(*current);
    return true;
}

}  // namespace tessera
