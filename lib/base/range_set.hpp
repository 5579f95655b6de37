// RangeSet: a fixed-capacity, sorted set of disjoint half-open [base, end) ranges with add and
// remove. The kernel's physical memory map is built with it (RAM added, reservations removed).
// Invariant: ranges are sorted, non-empty, non-overlapping and non-adjacent (merged).
#pragma once

#include <cstddef>
#include <cstdint>

namespace tessera {

struct Range {
    uint64_t base = 0;
    uint64_t end = 0;  // exclusive

    [[nodiscard]] constexpr uint64_t size() const { return end - base; }
    constexpr bool operator==(const Range&) const = default;
};

template <size_t Capacity>
class RangeSet {
  public:
    [[nodiscard]] constexpr size_t count() const { return count_; }
    [[nodiscard]] constexpr const Range& operator[](size_t i) const { return ranges_[i]; }
    [[nodiscard]] constexpr const Range* begin() const { return ranges_; }
    [[nodiscard]] constexpr const Range* end() const { return ranges_ + count_; }

    [[nodiscard]] constexpr uint64_t total() const {
        uint64_t sum = 0;
        for (size_t i = 0; i < count_; ++i) {
            sum += ranges_[i].size();
        }
        return sum;
    }

    // Adds [base, end), merging with overlapping or adjacent ranges. False (set unchanged) if
    // the range is inverted or the set would exceed its capacity.
    constexpr bool add(Range r) {
        if (r.end < r.base) {
            return false;
        }
        if (r.end == r.base) {
            return true;
        }
        size_t first = 0;
        while (first < count_ && ranges_[first].end < r.base) {
            ++first;
        }
        size_t last = first;  // ranges [first, last) touch r
        while (last < count_ && ranges_[last].base <= r.end) {
            r.base = ranges_[last].base < r.base ? ranges_[last].base : r.base;
            r.end = ranges_[last].end > r.end ? ranges_[last].end : r.end;
            ++last;
        }
        size_t removed = last - first;
        if (removed == 0 && count_ == Capacity) {
            return false;
        }
        replace(first, removed, &r, 1);
        return true;
    }

    // Removes [base, end) from the set, splitting ranges as needed. False (set unchanged) if the
    // range is inverted or a split would exceed capacity.
    constexpr bool remove(Range r) {
        if (r.end < r.base) {
            return false;
        }
        Range pieces[2];
        for (size_t i = 0; i < count_; ++i) {
            Range cur = ranges_[i];
            if (cur.end <= r.base || cur.base >= r.end) {
                continue;
            }
            size_t n = 0;
            if (cur.base < r.base) {
                pieces[n++] = Range{cur.base, r.base};
            }
            if (cur.end > r.end) {
                pieces[n++] = Range{r.end, cur.end};
            }
            if (count_ - 1 + n > Capacity) {
                return false;
            }
            replace(i, 1, pieces, n);
            if (n == 0) {
                --i;  // re-examine the range that moved into slot i
            } else {
                i += n - 1;
            }
        }
        return true;
    }

    // True if [base, end) lies entirely inside one range of the set.
    [[nodiscard]] constexpr bool contains(Range r) const {
        for (size_t i = 0; i < count_; ++i) {
            if (ranges_[i].base <= r.base && r.end <= ranges_[i].end) {
                return true;
            }
        }
        return false;
    }

    // True if any byte of [base, end) is in the set.
    [[nodiscard]] constexpr bool intersects(Range r) const {
        for (size_t i = 0; i < count_; ++i) {
            if (ranges_[i].base < r.end && r.base < ranges_[i].end) {
                return true;
            }
        }
        return false;
    }

  private:
    // Replaces `remove_count` ranges at index `at` with `insert_count` new ones.
    constexpr void replace(size_t at, size_t remove_count, const Range* insert,
                           size_t insert_count) {
        size_t new_count = count_ - remove_count + insert_count;
        if (insert_count > remove_count) {
            for (size_t i = count_; i-- > at + remove_count;) {
                ranges_[i + insert_count - remove_count] = ranges_[i];
            }
        } else if (insert_count < remove_count) {
            for (size_t i = at + remove_count; i < count_; ++i) {
                ranges_[i - (remove_count - insert_count)] = ranges_[i];
            }
        }
        for (size_t i = 0; i < insert_count; ++i) {
            ranges_[at + i] = insert[i];
        }
        count_ = new_count;
    }

    Range ranges_[Capacity] = {};
    size_t count_ = 0;
};

}  // namespace tessera
