// Ready queues and the priority bitmap. Pure bookkeeping (host-testable): switching address
// spaces and returning to user mode happen in core/thread_switch.cpp.
#include "core/scheduler.hpp"

#include <bit>

namespace tessera {

void Scheduler::set_bit(unsigned priority) {
    bitmap_[priority / 64] |= uint64_t{1} << (priority % 64);
}

void Scheduler::clear_bit(unsigned priority) {
    bitmap_[priority / 64] &= ~(uint64_t{1} << (priority % 64));
}

bool Scheduler::queue_empty(unsigned priority) const {
    return heads_[priority] == nullptr;
}

void Scheduler::enqueue(Tcb& t) {
    if (t.in_ready_queue) {
        return;
    }
    unsigned p = t.priority;
    t.ready_prev = tails_[p];
    t.ready_next = nullptr;
    if (tails_[p] != nullptr) {
        tails_[p]->ready_next = &t;
    } else {
        heads_[p] = &t;
    }
    tails_[p] = &t;
    t.in_ready_queue = true;
    if (t.timeslice_ticks == 0) {
        t.timeslice_ticks = kTimesliceTicks;
    }
    set_bit(p);
}

void Scheduler::dequeue(Tcb& t) {
    if (!t.in_ready_queue) {
        return;
    }
    unsigned p = t.priority;
    if (t.ready_prev != nullptr) {
        t.ready_prev->ready_next = t.ready_next;
    } else {
        heads_[p] = t.ready_next;
    }
    if (t.ready_next != nullptr) {
        t.ready_next->ready_prev = t.ready_prev;
    } else {
        tails_[p] = t.ready_prev;
    }
    t.ready_prev = nullptr;
    t.ready_next = nullptr;
    t.in_ready_queue = false;
    if (heads_[p] == nullptr) {
        clear_bit(p);
    }
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

void Scheduler::replace(Tcb& out, Tcb& in) {
    unsigned p = out.priority;
    in.ready_prev = out.ready_prev;
    in.ready_next = out.ready_next;
    if (in.ready_prev != nullptr) {
        in.ready_prev->ready_next = &in;
    } else {
        heads_[p] = &in;
    }
    if (in.ready_next != nullptr) {
        in.ready_next->ready_prev = &in;
    } else {
        tails_[p] = &in;
    }
    in.in_ready_queue = true;
    if (in.timeslice_ticks == 0) {
        in.timeslice_ticks = kTimesliceTicks;
    }
    out.ready_prev = nullptr;
    out.ready_next = nullptr;
    out.in_ready_queue = false;
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
