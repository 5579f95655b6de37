// Free slots of a CNode the program owns (its root CNode), tracked in a bitmap so slots emptied
// by deletes and revokes can be handed out again.
#pragma once

#include <cstdint>

namespace tessera {

class SlotAllocator {
  public:
    static constexpr uint64_t kMaxSlots = 4096;

    // Slots [first, end) start free.
    void init(uint64_t first, uint64_t end);
    // A free slot, or 0 when none is left.
    uint64_t allocate();
    // The first of `count` consecutive free slots (all taken), or 0 if there is no such run.
    uint64_t allocate_run(uint64_t count);
    void free(uint64_t slot);
    [[nodiscard]] uint64_t free_count() const { return free_count_; }

  private:
    uint64_t bits_[kMaxSlots / 64] = {};  // 1 = free
    uint64_t free_count_ = 0;
};

}  // namespace tessera
