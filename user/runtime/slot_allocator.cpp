// Bitmap slot allocator: lowest free slot first, O(slots / 64).
#include "tessera/slot_allocator.hpp"

#include <bit>

namespace tessera {

void SlotAllocator::init(uint64_t first, uint64_t end) {
    for (uint64_t s = first; s < end && s < kMaxSlots; ++s) {
        free(s);
    }
}

uint64_t SlotAllocator::allocate() {
    for (uint64_t w = 0; w < kMaxSlots / 64; ++w) {
        if (bits_[w] != 0) {
            uint64_t bit = static_cast<uint64_t>(std::countr_zero(bits_[w]));
            bits_[w] &= ~(uint64_t{1} << bit);
            --free_count_;
            return w * 64 + bit;
        }
    }
    return 0;
}

void SlotAllocator::free(uint64_t slot) {
    if (slot == 0 || slot >= kMaxSlots || (bits_[slot / 64] & (uint64_t{1} << (slot % 64))) != 0) {
        return;
    }
    bits_[slot / 64] |= uint64_t{1} << (slot % 64);
    ++free_count_;
}

}  // namespace tessera
