// A PD's budget as buddy blocks, and where its objects go in them. A budget of n bytes is the
// largest powers of two that fit in n, at most three, the last rounded up to hold the rest, so
// what is reserved is at most 8/7 of what is used (or one block of the allocator's minimum more).
// Objects go largest first into the first block with room, as the kernel places them (each at its
// own alignment above the block's watermark), so the fill here mirrors the kernel's exactly. Pure
// arithmetic, host-tested.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tessera::pd {

constexpr size_t kMaxBudgetBlocks = 3;

struct BudgetBlocks {
    unsigned count = 0;
    unsigned bits[kMaxBudgetBlocks] = {};

    [[nodiscard]] uint64_t total() const {
        uint64_t t = 0;
        for (unsigned i = 0; i < count; ++i) {
            t += uint64_t{1} << bits[i];
        }
        return t;
    }
};

// The blocks for a budget of `bytes` (> 0), none smaller than 2^min_bits.
BudgetBlocks budget_blocks(uint64_t bytes, unsigned min_bits);

// The fill of a budget's blocks.
class BlockFill {
  public:
    struct Chunk {
        unsigned block = 0;
        uint64_t count = 0;
    };
    struct Placement {
        Chunk chunks[kMaxBudgetBlocks];
        unsigned chunk_count = 0;
    };

    explicit BlockFill(const BudgetBlocks& blocks);
    BlockFill() = default;

    // Where `count` objects of 2^size_bits bytes go (in block order, split across blocks when
    // one has no room for all); chunk_count 0 when they do not fit. The fill is updated.
    Placement place(unsigned size_bits, uint64_t count);
    // Bytes of the objects placed (without the gaps alignment left).
    [[nodiscard]] uint64_t objects() const { return objects_; }

  private:
    uint64_t size_[kMaxBudgetBlocks] = {};
    uint64_t used_[kMaxBudgetBlocks] = {};  // watermarks
    unsigned count_ = 0;
    uint64_t objects_ = 0;
};

}  // namespace tessera::pd
