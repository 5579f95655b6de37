// Host tests of RangeSet: merging, splitting, capacity limits, queries.
#include "base/range_set.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace tessera {
namespace {

template <size_t N>
std::vector<Range> ranges(const RangeSet<N>& s) {
    return std::vector<Range>(s.begin(), s.end());
}

TEST(RangeSet, AddMergesOverlappingAndAdjacent) {
    RangeSet<8> s;
    EXPECT_TRUE(s.add({10, 20}));
    EXPECT_TRUE(s.add({30, 40}));
    EXPECT_TRUE(s.add({20, 25}));  // adjacent to the first
    EXPECT_EQ(ranges(s), (std::vector<Range>{{10, 25}, {30, 40}}));
    EXPECT_TRUE(s.add({24, 31}));  // bridges both
    EXPECT_EQ(ranges(s), (std::vector<Range>{{10, 40}}));
    EXPECT_TRUE(s.add({0, 5}));
    EXPECT_TRUE(s.add({50, 60}));
    EXPECT_EQ(ranges(s), (std::vector<Range>{{0, 5}, {10, 40}, {50, 60}}));
    EXPECT_EQ(s.total(), 5u + 30u + 10u);
}

TEST(RangeSet, EmptyAndInvertedRanges) {
    RangeSet<2> s;
    EXPECT_TRUE(s.add({5, 5}));
    EXPECT_EQ(s.count(), 0u);
    EXPECT_FALSE(s.add({6, 5}));
    EXPECT_FALSE(s.remove({6, 5}));
}

TEST(RangeSet, RemoveSplitsAndTrims) {
    RangeSet<8> s;
    ASSERT_TRUE(s.add({0, 100}));
    EXPECT_TRUE(s.remove({40, 60}));
    EXPECT_EQ(ranges(s), (std::vector<Range>{{0, 40}, {60, 100}}));
    EXPECT_TRUE(s.remove({0, 10}));
    EXPECT_TRUE(s.remove({90, 200}));
    EXPECT_EQ(ranges(s), (std::vector<Range>{{10, 40}, {60, 90}}));
    EXPECT_TRUE(s.remove({5, 95}));  // swallows both
    EXPECT_EQ(s.count(), 0u);
}

TEST(RangeSet, RemoveAcrossSeveralRanges) {
    RangeSet<8> s;
    ASSERT_TRUE(s.add({0, 10}));
    ASSERT_TRUE(s.add({20, 30}));
    ASSERT_TRUE(s.add({40, 50}));
    EXPECT_TRUE(s.remove({5, 45}));
    EXPECT_EQ(ranges(s), (std::vector<Range>{{0, 5}, {45, 50}}));
}

TEST(RangeSet, CapacityIsEnforcedWithoutDamage) {
    RangeSet<2> s;
    ASSERT_TRUE(s.add({0, 10}));
    ASSERT_TRUE(s.add({20, 30}));
    EXPECT_FALSE(s.add({40, 50}));
    EXPECT_FALSE(s.remove({2, 4}));  // split would need a third slot
    EXPECT_EQ(ranges(s), (std::vector<Range>{{0, 10}, {20, 30}}));
    EXPECT_TRUE(s.add({5, 25}));  // merging needs no new slot
    EXPECT_EQ(ranges(s), (std::vector<Range>{{0, 30}}));
}

TEST(RangeSet, Queries) {
    RangeSet<4> s;
    ASSERT_TRUE(s.add({10, 20}));
    EXPECT_TRUE(s.contains({10, 20}));
    EXPECT_TRUE(s.contains({12, 13}));
    EXPECT_FALSE(s.contains({5, 12}));
    EXPECT_TRUE(s.intersects({19, 30}));
    EXPECT_FALSE(s.intersects({20, 30}));
    EXPECT_FALSE(s.intersects({0, 10}));
}

}  // namespace
}  // namespace tessera
