// Free slots of a CNode a program owns (its root CNode), tracked in a bitmap so slots emptied
// by deletes and revokes can be handed out again. Lowest free slot first; runs of consecutive
// slots for retypes that make many objects at once. Word-at-a-time scans: a full 16,384-slot
// CNode costs a few hundred steps at most, not one per slot.
#pragma once

#include <cstdint>

namespace tessera {

class SlotAllocator {
  public:
    static constexpr uint64_t kMaxSlots = 16384;  // a radix-14 CNode (the root task's)

    // Slots [first, end) start free (slot 0 never is: CapPtr 0 means "none").
    void init(uint64_t first, uint64_t end);
    // A free slot, or 0 when none is left.
    uint64_t allocate();
    // The first of `count` consecutive free slots (all taken), or 0 if there is no such run.
    uint64_t allocate_run(uint64_t count);
    void free(uint64_t slot);
    [[nodiscard]] uint64_t free_count() const { return free_count_; }
    [[nodiscard]] bool is_free(uint64_t slot) const {
        return slot < kMaxSlots && (bits_[slot / 64] >> (slot % 64) & 1) != 0;
    }

  private:
    static constexpr uint64_t kWords = kMaxSlots / 64;

    void take(uint64_t first, uint64_t count);

    uint64_t bits_[kWords] = {};  // 1 = free
    uint64_t free_count_ = 0;
    uint64_t lowest_word_ = kWords;  // no free slot lies in a word below this one
};

}  // namespace tessera
