// VirtualRanges: which parts of an address space are in use, for a program managing its own
// VSpace. Ranges are reserved at a fixed address (what is already there: the image, the stack,
// the IPC buffer) or wherever a free one of the size and alignment is found, optionally with an
// unmapped guard below it that stays reserved too. Page-granular; no heap (a fixed number of
// free ranges).
#pragma once

#include <cstdint>

#include "base/range_set.hpp"

namespace tessera::vm {

constexpr uint64_t kPageSize = 4096;

class VirtualRanges {
  public:
    static constexpr size_t kMaxFreeRanges = 64;

    // Everything in [low, high) starts free (both page aligned, low < high).
    constexpr bool init(uint64_t low, uint64_t high) {
        free_ = RangeSet<kMaxFreeRanges>();
        if (low >= high || low % kPageSize != 0 || high % kPageSize != 0) {
            return false;
        }
        return free_.add(Range{low, high});
    }

    // Reserves [base, base + size): false if any of it is in use or outside the space, or the
    // free set cannot split further.
    constexpr bool reserve(uint64_t base, uint64_t size) {
        if (size == 0 || base % kPageSize != 0 || size % kPageSize != 0 || base + size < base) {
            return false;
        }
        const Range r{base, base + size};
        return free_.contains(r) && free_.remove(r);
    }

    // The lowest free range of `size` bytes aligned to `alignment` (a power of two, at least a
    // page) with `guard` free bytes below it, reserved with its guard; 0 if none fits.
    constexpr uint64_t reserve_any(uint64_t size, uint64_t alignment = kPageSize,
                                   uint64_t guard = 0) {
        if (size == 0 || size % kPageSize != 0 || guard % kPageSize != 0 || alignment < kPageSize ||
            (alignment & (alignment - 1)) != 0) {
            return 0;
        }
        for (const Range& r : free_) {
            if (r.size() < guard || r.base + guard < r.base) {
                continue;
            }
            const uint64_t lowest = r.base + guard;
            const uint64_t base = (lowest + alignment - 1) & ~(alignment - 1);
            if (base < lowest || base > r.end || r.end - base < size) {
                continue;
            }
            if (free_.remove(Range{base - guard, base + size})) {
                return base;
            }
            return 0;  // no room to split the free set
        }
        return 0;
    }

    // Returns [base - guard, base + size) to the free set.
    constexpr bool release(uint64_t base, uint64_t size, uint64_t guard = 0) {
        if (base < guard || base + size < base) {
            return false;
        }
        const Range r{base - guard, base + size};
        return !free_.intersects(r) && free_.add(r);
    }

    [[nodiscard]] constexpr bool is_free(uint64_t base, uint64_t size) const {
        return size == 0 || free_.contains(Range{base, base + size});
    }
    // True if every byte of [base, base + size) is reserved.
    [[nodiscard]] constexpr bool is_reserved(uint64_t base, uint64_t size) const {
        return base + size >= base && !free_.intersects(Range{base, base + size});
    }
    [[nodiscard]] constexpr uint64_t free_bytes() const { return free_.total(); }

  private:
    RangeSet<kMaxFreeRanges> free_;
};

}  // namespace tessera::vm
