// Host tests of ASID allocation against the CPU's ASID width: 16-bit CPUs use every pool,
// 8-bit CPUs only ASIDs 1-255 of the first; ASID 0 is never handed out.
#include "object/asid_allocation.hpp"

#include <gtest/gtest.h>

namespace tessera {
namespace {

struct FakePool {};

TEST(AsidAllocation, PoolEntriesSkipZeroAndTakenOnes) {
    uint64_t vspace[kAsidsPerPool] = {};
    EXPECT_EQ(asid_pool_free_index(vspace, 0, kAsidCount), 1u);  // ASID 0 is never given
    vspace[1] = 0x1000;
    EXPECT_EQ(asid_pool_free_index(vspace, 0, kAsidCount), 2u);
    EXPECT_EQ(asid_pool_free_index(vspace, 512, kAsidCount), 0u);  // other pools start at 0
}

TEST(AsidAllocation, SearchStartsWhereTheCallerKnowsAllIsTaken) {
    uint64_t vspace[kAsidsPerPool] = {};
    for (unsigned i = 1; i < 400; ++i) {
        vspace[i] = 0x1000;
    }
    EXPECT_EQ(asid_pool_free_index(vspace, 512, kAsidCount, 400), 400u);
    EXPECT_EQ(asid_pool_free_index(vspace, 0, kAsidCount, 0), 400u);  // the same, the long way
    vspace[7] = 0;
    EXPECT_EQ(asid_pool_free_index(vspace, 0, kAsidCount, 7), 7u);        // a freed entry lowers it
    EXPECT_EQ(asid_pool_free_index(vspace, 0, 256, 300), kAsidsPerPool);  // past the width
}

TEST(AsidAllocation, EightBitCpusStopAt255) {
    uint64_t vspace[kAsidsPerPool] = {};
    for (unsigned i = 1; i < 256; ++i) {
        vspace[i] = 0x1000;
    }
    EXPECT_EQ(asid_pool_free_index(vspace, 0, 256), kAsidsPerPool);  // full at the width
    EXPECT_EQ(asid_pool_free_index(vspace, 0, kAsidCount), 256u);    // a 16-bit CPU goes on
    uint64_t empty[kAsidsPerPool] = {};
    EXPECT_EQ(asid_pool_free_index(empty, 512, 256), kAsidsPerPool);  // wholly above it
}

TEST(AsidAllocation, NewPoolsOnlyWhereTheCpuCanTag) {
    FakePool boot;
    FakePool* pools[kAsidPoolCount] = {};
    pools[0] = &boot;
    EXPECT_EQ(asid_free_pool_base(pools, kAsidCount), 512u);
    EXPECT_EQ(asid_free_pool_base(pools, 256), 0u);  // 8-bit: the boot pool is all there is
    for (unsigned i = 1; i < kAsidPoolCount; ++i) {
        pools[i] = &boot;
    }
    EXPECT_EQ(asid_free_pool_base(pools, kAsidCount), 0u);
    pools[77] = nullptr;
    EXPECT_EQ(asid_free_pool_base(pools, kAsidCount), 77u * 512);
}

}  // namespace
}  // namespace tessera
