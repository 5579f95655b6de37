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

uint64_t SlotAllocator::allocate_run(uint64_t count) {
    auto is_free = [&](uint64_t s) { return (bits_[s / 64] & (uint64_t{1} << (s % 64))) != 0; };
    uint64_t run = 0;
    for (uint64_t s = 1; s < kMaxSlots && count > 0; ++s) {
        if (s % 64 == 0 && bits_[s / 64] == 0) {
            run = 0;  // a whole word in use: skip it
            s += 63;
            continue;
        }
        run = is_free(s) ? run + 1 : 0;
        if (run == count) {
            uint64_t first = s + 1 - count;
            for (uint64_t t = first; t <= s; ++t) {
                bits_[t / 64] &= ~(uint64_t{1} << (t % 64));
            }
            free_count_ -= count;
            return first;
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
