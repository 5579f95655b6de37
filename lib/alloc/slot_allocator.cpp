// Bitmap slot allocator: lowest free slot first, scanning a word (64 slots) per step.
#include "alloc/slot_allocator.hpp"

#include <bit>

namespace tessera {

void SlotAllocator::init(uint64_t first, uint64_t end) {
    for (uint64_t s = first; s < end && s < kMaxSlots; ++s) {
        free(s);
    }
}

uint64_t SlotAllocator::allocate() {
    for (uint64_t w = lowest_word_; w < kWords; ++w) {
        if (bits_[w] != 0) {
            lowest_word_ = w;
            uint64_t bit = static_cast<uint64_t>(std::countr_zero(bits_[w]));
            bits_[w] &= ~(uint64_t{1} << bit);
            --free_count_;
            return w * 64 + bit;
        }
    }
    lowest_word_ = kWords;
    return 0;
}

uint64_t SlotAllocator::allocate_run(uint64_t count) {
    if (count == 0 || count > free_count_) {
        return 0;
    }
    uint64_t run_start = 0;
    uint64_t run = 0;
    for (uint64_t w = lowest_word_; w < kWords; ++w) {
        const uint64_t word = bits_[w];
        if (word == ~uint64_t{0}) {
            run_start = run == 0 ? w * 64 : run_start;
            run += 64;
        } else if (word == 0) {
            run = 0;
            continue;
        } else {
            // Alternating stretches of free (1) and used (0) slots within the word.
            unsigned bit = 0;
            while (bit < 64) {
                const uint64_t rest = word >> bit;
                if ((rest & 1) != 0) {
                    // Zeros shifted in from the top end the count at the word's end.
                    auto ones = static_cast<unsigned>(std::countr_one(rest));
                    run_start = run == 0 ? w * 64 + bit : run_start;
                    run += ones;
                    bit += ones;
                    if (run >= count) {
                        break;
                    }
                } else {
                    run = 0;
                    bit = rest == 0 ? 64 : bit + static_cast<unsigned>(std::countr_zero(rest));
                }
            }
        }
        if (run >= count) {
            take(run_start, count);
            return run_start;
        }
    }
    return 0;
}

void SlotAllocator::take(uint64_t first, uint64_t count) {
    for (uint64_t s = first; s < first + count;) {
        const uint64_t bit = s % 64;
        const uint64_t n = 64 - bit < first + count - s ? 64 - bit : first + count - s;
        const uint64_t mask = n == 64 ? ~uint64_t{0} : ((uint64_t{1} << n) - 1) << bit;
        bits_[s / 64] &= ~mask;
        s += n;
    }
    free_count_ -= count;
}

void SlotAllocator::free(uint64_t slot) {
    if (slot == 0 || slot >= kMaxSlots || is_free(slot)) {
        return;
    }
    bits_[slot / 64] |= uint64_t{1} << (slot % 64);
    ++free_count_;
    lowest_word_ = slot / 64 < lowest_word_ ? slot / 64 : lowest_word_;
}

}  // namespace tessera
