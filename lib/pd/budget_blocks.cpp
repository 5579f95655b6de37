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
    uint64_t rest = bytes == 0 ? 1 : bytes;
    while (rest != 0) {
        unsigned bits = 0;
        if (b.count + 1 == kMaxBudgetBlocks || rest <= minimum) {
            bits = ceil_log2(rest);  // the last block holds whatever is left
            rest = 0;
        } else {
            bits = floor_log2(rest);
            rest -= uint64_t{1} << bits;
        }
        b.bits[b.count++] = bits < min_bits ? min_bits : bits;
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
