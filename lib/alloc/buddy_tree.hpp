// Buddy bookkeeping for splitting one power-of-two region into power-of-two blocks, with no heap.
// Node 0 is the whole region (order `top`); node n's halves are 2n+1 and 2n+2, one order
// smaller, down to order `min`. A block is free, allocated, or split into its two halves.
// The tree only decides; a Backend does the work, so the same logic drives untyped capabilities
// on the target and a fake on the host:
//   bool split(node, order)  make the two halves of node (order is node's own); false: failed
//   void merge(node)         undo split(node) (both halves are free and go away)
#pragma once

#include <cstddef>
#include <cstdint>

namespace tessera::alloc {

template <unsigned kMaxDepth>
class BuddyTree {
  public:
    static constexpr size_t kNodes = (size_t{2} << kMaxDepth) - 1;
    static constexpr size_t kNone = SIZE_MAX;

    // A region of 2^top bytes handed out in blocks of 2^min to 2^top (top - min <= kMaxDepth).
    bool init(unsigned top, unsigned min) {
        if (min > top || top - min > kMaxDepth) {
            return false;
        }
        top_ = top;
        min_ = min;
        for (auto& s : state_) {
            s = State::kAbsent;
        }
        state_[0] = State::kFree;
        free_bytes_ = uint64_t{1} << top;
        return true;
    }

    [[nodiscard]] unsigned order_of(size_t node) const { return top_ - depth_of(node); }
    [[nodiscard]] uint64_t free_bytes() const { return free_bytes_; }
    // True when nothing is allocated or split: the region is whole again.
    [[nodiscard]] bool whole() const { return state_[0] == State::kFree; }

    // A free block of exactly 2^order bytes (splitting larger ones), or kNone.
    template <typename Backend>
    size_t allocate(unsigned order, Backend& backend) {
        if (order < min_ || order > top_) {
            return kNone;
        }
        // The smallest free block that is large enough.
        size_t best = kNone;
        for (unsigned o = order; o <= top_ && best == kNone; ++o) {
            unsigned depth = top_ - o;
            for (size_t n = first_at(depth); n < first_at(depth + 1); ++n) {
                if (state_[n] == State::kFree) {
                    best = n;
                    break;
                }
            }
        }
        if (best == kNone) {
            return kNone;
        }
        while (order_of(best) > order) {
            if (!backend.split(best, order_of(best))) {
                return kNone;
            }
            state_[best] = State::kSplit;
            state_[2 * best + 1] = State::kFree;
            state_[2 * best + 2] = State::kFree;
            best = 2 * best + 1;
        }
        state_[best] = State::kAllocated;
        free_bytes_ -= uint64_t{1} << order;
        return best;
    }

    // Returns an allocated block, merging free buddies back up.
    template <typename Backend>
    void free(size_t node, Backend& backend) {
        if (node >= kNodes || state_[node] != State::kAllocated) {
            return;
        }
        state_[node] = State::kFree;
        free_bytes_ += uint64_t{1} << order_of(node);
        while (node != 0) {
            size_t parent = (node - 1) / 2;
            if (state_[2 * parent + 1] != State::kFree || state_[2 * parent + 2] != State::kFree) {
                break;
            }
            backend.merge(parent);
            state_[2 * parent + 1] = State::kAbsent;
            state_[2 * parent + 2] = State::kAbsent;
            state_[parent] = State::kFree;
            node = parent;
        }
    }

    [[nodiscard]] bool is_allocated(size_t node) const {
        return node < kNodes && state_[node] == State::kAllocated;
    }

  private:
    enum class State : uint8_t { kAbsent, kFree, kAllocated, kSplit };

    static constexpr size_t first_at(unsigned depth) { return (size_t{1} << depth) - 1; }
    static unsigned depth_of(size_t node) {
        unsigned d = 0;
        while (node >= first_at(d + 1)) {
            ++d;
        }
        return d;
    }

    unsigned top_ = 0;
    unsigned min_ = 0;
    uint64_t free_bytes_ = 0;
    State state_[kNodes] = {};
};

}  // namespace tessera::alloc
