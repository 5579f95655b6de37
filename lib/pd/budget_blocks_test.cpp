// Host tests for budget blocks: the reservation is at most 4/3 of what is asked, or one minimum
// block more, and the fill places objects as the kernel would, splitting a batch across
// blocks, refusing what does not fit without changing anything.
#include "pd/budget_blocks.hpp"

#include <gtest/gtest.h>

namespace tessera::pd {
namespace {

TEST(BudgetBlocks, AtMostFourThirdsOfTheBudget) {
    for (uint64_t bytes = 4096; bytes < (uint64_t{64} << 20); bytes = bytes * 9 / 8 + 4096) {
        const BudgetBlocks b = budget_blocks(bytes, 12);
        ASSERT_GE(b.count, 1u);
        EXPECT_GE(b.total(), bytes) << bytes;
        // 8/7 at most, or one minimum block more than asked (the rest rounded up).
        EXPECT_TRUE(b.total() * 7 <= bytes * 8 || b.total() <= bytes + 4096) << bytes;
        for (unsigned i = 1; i < b.count; ++i) {
            EXPECT_GE(b.bits[i - 1], b.bits[i]) << "largest first";
        }
    }
    EXPECT_EQ(budget_blocks(uint64_t{1} << 16, 12).count, 1u);  // a power of two: one block
    const BudgetBlocks small = budget_blocks(100, 14);          // below the minimum
    EXPECT_EQ(small.count, 1u);
    EXPECT_EQ(small.bits[0], 14u);
    const BudgetBlocks minimum = budget_blocks((uint64_t{1} << 16) + 10, 14);
    EXPECT_EQ(minimum.count, 2u);
    EXPECT_EQ(minimum.bits[1], 14u);  // the rest rounded up to the minimum block
    const BudgetBlocks three = budget_blocks(uint64_t{52} * 1024, 12);  // 32 + 16 + 4 KiB
    EXPECT_EQ(three.count, 3u);
    EXPECT_EQ(three.total(), 52u * 1024);
}

TEST(BudgetBlocks, FillMirrorsTheKernelsPlacement) {
    BudgetBlocks b;
    b.count = 2;
    b.bits[0] = 16;  // 64 KiB
    b.bits[1] = 14;  // 16 KiB
    BlockFill fill(b);
    auto cnode = fill.place(13, 1);  // 8 KiB
    ASSERT_EQ(cnode.chunk_count, 1u);
    EXPECT_EQ(cnode.chunks[0].block, 0u);
    auto frames = fill.place(12, 16);  // 64 KiB: 14 fit in the first block, 2 in the second
    ASSERT_EQ(frames.chunk_count, 2u);
    EXPECT_EQ(frames.chunks[0].count, 14u);
    EXPECT_EQ(frames.chunks[1].block, 1u);
    EXPECT_EQ(frames.chunks[1].count, 2u);
    auto tcb = fill.place(11, 1);  // 2 KiB after 8 KiB in the second block
    ASSERT_EQ(tcb.chunk_count, 1u);
    EXPECT_EQ(tcb.chunks[0].block, 1u);
    EXPECT_EQ(fill.objects(), (uint64_t{1} << 16) + 8192 + 2048);
    // 6 KiB left in the second block, but a page goes at 12 KiB: room for one, not two.
    EXPECT_EQ(fill.place(12, 2).chunk_count, 0u);  // refused, nothing changed
    EXPECT_EQ(fill.objects(), (uint64_t{1} << 16) + 8192 + 2048);
    auto one = fill.place(12, 1);
    ASSERT_EQ(one.chunk_count, 1u);
    EXPECT_EQ(one.chunks[0].block, 1u);
    EXPECT_EQ(fill.place(4, 1).chunk_count, 0u);  // full
    EXPECT_EQ(fill.objects(), (uint64_t{1} << 16) + 8192 + 2048 + 4096);
}

}  // namespace
}  // namespace tessera::pd
