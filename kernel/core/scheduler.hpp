// The scheduler: 256 priorities, round-robin within a priority, O(1) choice through a bitmap
// of non-empty ready queues. Every runnable thread, the current one included, is in its
// priority's queue; the current thread is the head of the highest non-empty queue.
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
    // Puts `in` where `out` is in the ready queues (same priority, `in` not queued): a direct
    // switch between two threads without disturbing anyone else's position.
    void replace(Tcb& out, Tcb& in);
    // Highest-priority runnable thread, or nullptr (idle).
    [[nodiscard]] Tcb* choose() const;
    [[nodiscard]] bool queue_empty(unsigned priority) const;

    // Counts a timer tick against the current thread; true if it used up its timeslice and
    // was moved to the back of its queue.
    bool tick(Tcb* current);

  private:
    void set_bit(unsigned priority);
    void clear_bit(unsigned priority);

    Tcb* heads_[kPriorityCount] = {};
    Tcb* tails_[kPriorityCount] = {};
    uint64_t bitmap_[kPriorityCount / 64] = {};
};

}  // namespace tessera
