// The scheduler: 256 priorities, round-robin within a priority, O(1) choice through a bitmap
// of non-empty ready queues. Every runnable thread, the current one included, is in its
// priority's queue; the current thread is the head of the highest non-empty queue. A thread
// that is in no queue has null queue links. The queue operations are inline: the IPC fastpath
// uses them and calls no function.
#pragma once

#include <cstdint>

#include "object/tcb.hpp"

namespace tessera {

constexpr uint32_t kTimesliceTicks = 5;

class Scheduler {
  public:
    // Appends t to its priority's queue (no-op if already queued).
    void enqueue(Tcb& t);
    void dequeue(Tcb& t);
    // Moves t to the back of its queue (Yield, timeslice expiry).
    void rotate(Tcb& t);
    // Puts `in` where `out` is in the ready queues (same priority, `out` queued, `in` not): a
    // direct switch between two threads without disturbing anyone else's position.
    void replace(Tcb& out, Tcb& in);
    // Highest-priority runnable thread, or nullptr (idle).
    [[nodiscard]] Tcb* choose() const;
    [[nodiscard]] bool queue_empty(unsigned priority) const;

    // Counts a timer tick against the current thread; true if it used up its timeslice and
    // was moved to the back of its queue.
    bool tick(Tcb* current);

  private:
    void set_bit(unsigned priority) { bitmap_[priority / 64] |= uint64_t{1} << (priority % 64); }
    void clear_bit(unsigned priority) {
        bitmap_[priority / 64] &= ~(uint64_t{1} << (priority % 64));
    }

    Tcb* heads_[kPriorityCount] = {};
    Tcb* tails_[kPriorityCount] = {};
    uint64_t bitmap_[kPriorityCount / 64] = {};
};

inline void Scheduler::enqueue(Tcb& t) {
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

inline void Scheduler::dequeue(Tcb& t) {
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

inline void Scheduler::replace(Tcb& out, Tcb& in) {
    unsigned p = out.priority;
    Tcb* prev = out.ready_prev;
    Tcb* next = out.ready_next;
    in.in_ready_queue = true;
    out.in_ready_queue = false;
    if (in.timeslice_ticks == 0) {
        in.timeslice_ticks = kTimesliceTicks;
    }
    if (prev == nullptr && next == nullptr) [[likely]] {
        // Alone at its priority (the common case of two threads passing messages): the
        // links of both stay null.
        heads_[p] = &in;
        tails_[p] = &in;
        return;
    }
    in.ready_prev = prev;
    in.ready_next = next;
    if (prev != nullptr) {
        prev->ready_next = &in;
    } else {
        heads_[p] = &in;
    }
    if (next != nullptr) {
        next->ready_prev = &in;
    } else {
        tails_[p] = &in;
    }
    out.ready_prev = nullptr;
    out.ready_next = nullptr;
}

}  // namespace tessera
