// Buddy bookkeeping for splitting one power-of-two region into power-of-two blocks, with no heap.
// Node 0 is the whole region (order `top`); node n's halves are 2n+1 and 2n+2, one order
// smaller, down to order `min`. A block is free, allocated, or split into its two halves.
// The tree only decides; a Backend does the work, so the same logic drives untyped capabilities
// on the target and a fake on the host:
//   bool split(node, order)  make the two halves of node (order is node's own); false: failed
//   void merge(node)         undo split(node) (both halves are free and go away)
//
// Free blocks of each order are on a list, so allocating and freeing take constant time
// whatever the tree holds. Freed buddies are merged lazily — when no free block is large enough,
// or on compact() — so a creator that makes and ends PDs all day reuses the same blocks without
// re-splitting (and, on the target, re-zeroing) their larger parents each time.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tessera::alloc {

template <unsigned kMaxDepth>
class BuddyTree {
  public:
    static constexpr size_t kNodes = (size_t{2} << kMaxDepth) - 1;
    static constexpr size_t kNone = SIZE_MAX;
    static_assert(kNodes < 0xffff, "links are 16 bits");

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
        for (auto& h : head_) {
            h = kEnd;
        }
        push(0);
        free_bytes_ = uint64_t{1} << top;
        return true;
    }

    [[nodiscard]] unsigned order_of(size_t node) const { return top_ - depth_of(node); }
    [[nodiscard]] uint64_t free_bytes() const { return free_bytes_; }
    // True when nothing is allocated or split: the region is whole again (after compact()).
    [[nodiscard]] bool whole() const { return state_[0] == State::kFree; }

    // A free block of exactly 2^order bytes (splitting larger ones, merging free buddies when
    // nothing is large enough), or kNone.
    template <typename Backend>
    size_t allocate(unsigned order, Backend& backend) {
        if (order < min_ || order > top_) {
            return kNone;
        }
        size_t best = smallest_free(order);
        if (best == kNone && compact(backend)) {
            best = smallest_free(order);
        }
        if (best == kNone) {
            return kNone;
        }
        unlink(best);
        while (order_of(best) > order) {
            if (!backend.split(best, order_of(best))) {
                push(best);
                return kNone;
            }
            state_[best] = State::kSplit;
            push(2 * best + 2);  // the right half stays free
            best = 2 * best + 1;
        }
        state_[best] = State::kAllocated;
        free_bytes_ -= uint64_t{1} << order;
        return best;
    }

    // Returns an allocated block (its buddy is merged with it later, when needed).
    template <typename Backend>
    void free(size_t node, Backend& /*backend*/) {
        if (node >= kNodes || state_[node] != State::kAllocated) {
            return;
        }
        push(node);
        free_bytes_ += uint64_t{1} << order_of(node);
    }

    // Merges every pair of free buddies, deepest first, so free blocks are as large as they can
    // be; true if anything was merged.
    template <typename Backend>
    bool compact(Backend& backend) {
        bool merged = false;
        const unsigned depth = top_ - min_;
        for (unsigned d = depth; d > 0; --d) {
            for (size_t left = first_at(d); left < first_at(d + 1); left += 2) {
                if (state_[left] != State::kFree || state_[left + 1] != State::kFree) {
                    continue;
                }
                const size_t parent = (left - 1) / 2;
                unlink(left);
                unlink(left + 1);
                backend.merge(parent);
                state_[left] = State::kAbsent;
                state_[left + 1] = State::kAbsent;
                push(parent);
                merged = true;
            }
        }
        return merged;
    }

    [[nodiscard]] bool is_allocated(size_t node) const {
        return node < kNodes && state_[node] == State::kAllocated;
    }

  private:
    enum class State : uint8_t { kAbsent, kFree, kAllocated, kSplit };
    static constexpr uint16_t kEnd = 0xffff;

    static constexpr size_t first_at(unsigned depth) { return (size_t{1} << depth) - 1; }
    static unsigned depth_of(size_t node) {
        return static_cast<unsigned>(63 - __builtin_clzll(static_cast<uint64_t>(node) + 1));
    }

    size_t smallest_free(unsigned order) const {
        for (unsigned o = order; o <= top_; ++o) {
            if (head_[o] != kEnd) {
                return head_[o];
            }
        }
        return kNone;
    }
    void push(size_t node) {
        const unsigned o = order_of(node);
        state_[node] = State::kFree;
        prev_[node] = kEnd;
        next_[node] = head_[o];
        if (head_[o] != kEnd) {
            prev_[head_[o]] = static_cast<uint16_t>(node);
        }
        head_[o] = static_cast<uint16_t>(node);
    }
    void unlink(size_t node) {
        const unsigned o = order_of(node);
        if (prev_[node] != kEnd) {
            next_[prev_[node]] = next_[node];
        } else {
            head_[o] = next_[node];
        }
        if (next_[node] != kEnd) {
            prev_[next_[node]] = prev_[node];
        }
    }

    unsigned top_ = 0;
    unsigned min_ = 0;
    uint64_t free_bytes_ = 0;
    State state_[kNodes] = {};
    uint16_t head_[64] = {};  // by order
    uint16_t next_[kNodes] = {};
    uint16_t prev_[kNodes] = {};
};

}  // namespace tessera::alloc
