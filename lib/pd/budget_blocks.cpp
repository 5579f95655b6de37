// Budget blocks and their fill (pd/budget_blocks.hpp).
#include "pd/budget_blocks.hpp"

#include <bit>

namespace tessera::pd {
namespace {

unsigned floor_log2(uint64_t n) {
    return static_cast<unsigned>(63 - std::countl_zero(n));
}
unsigned ceil_log2(uint64_t n) {
    return n <= 1 ? 0 : floor_log2(n - 1) + 1;
}

}  // namespace

BudgetBlocks budget_blocks(uint64_t bytes, unsigned min_bits) {
    BudgetBlocks b;
    const uint64_t minimum = uint64_t{1} << min_bits;
    if (bytes <= minimum) {
        b.count = 1;
        b.bits[0] = min_bits;
        return b;
    }
    const unsigned high = floor_log2(bytes);
    const uint64_t rest = bytes - (uint64_t{1} << high);
    b.bits[b.count++] = high;
    if (rest != 0) {
        const unsigned low = ceil_log2(rest);
        b.bits[b.count++] = low < min_bits ? min_bits : low;
    }
    return b;
}

BlockFill::BlockFill(const BudgetBlocks& blocks) : count_(blocks.count) {
    for (unsigned i = 0; i < count_; ++i) {
        size_[i] = uint64_t{1} << blocks.bits[i];
    }
}

BlockFill::Placement BlockFill::place(unsigned size_bits, uint64_t count) {
    Placement p;
    const uint64_t size = uint64_t{1} << size_bits;
    uint64_t left = count;
    uint64_t trial[kMaxBudgetBlocks];
    for (unsigned i = 0; i < count_; ++i) {
        trial[i] = used_[i];
    }
    for (unsigned i = 0; i < count_ && left > 0; ++i) {
        const uint64_t at = (trial[i] + size - 1) & ~(size - 1);
        if (at >= size_[i]) {
            continue;
        }
        const uint64_t room = (size_[i] - at) / size;
        const uint64_t here = room < left ? room : left;
        if (here == 0) {
            continue;
        }
        trial[i] = at + here * size;
        p.chunks[p.chunk_count++] = Chunk{i, here};
        left -= here;
    }
    if (left != 0) {
        return Placement{};  // nothing changes
    }
    for (unsigned i = 0; i < count_; ++i) {
        used_[i] = trial[i];
    }
    objects_ += count * size;
    return p;
}

}  // namespace tessera::pd
