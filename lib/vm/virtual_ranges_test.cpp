// VirtualRanges: fixed reservations, first-fit with alignment and guards, release and reuse,
// and every refusal (overlap, outside the space, misalignment, exhaustion).
#include "vm/virtual_ranges.hpp"

#include <gtest/gtest.h>

namespace tessera::vm {
namespace {

constexpr uint64_t kLow = 0x1000;
constexpr uint64_t kHigh = 0x8000'0000;

TEST(VirtualRanges, FixedReservationsRefuseOverlapsAndOutsiders) {
    VirtualRanges v;
    ASSERT_TRUE(v.init(kLow, kHigh));
    EXPECT_TRUE(v.reserve(0x40'0000, 0x10000));
    EXPECT_FALSE(v.reserve(0x40'f000, 0x2000));  // overlaps the end
    EXPECT_FALSE(v.reserve(0x3f'f000, 0x2000));  // overlaps the start
    EXPECT_FALSE(v.reserve(0, 0x1000));          // below the space
    EXPECT_FALSE(v.reserve(kHigh - 0x1000, 0x2000));
    EXPECT_FALSE(v.reserve(0x50'0800, 0x1000));  // not page aligned
    EXPECT_FALSE(v.reserve(0x50'0000, 0));
    EXPECT_FALSE(v.reserve(~uint64_t{0} & ~uint64_t{0xfff}, 0x2000));  // wraps
    EXPECT_EQ(v.free_bytes(), kHigh - kLow - 0x10000);
    EXPECT_FALSE(v.is_free(0x40'8000, 0x1000));
    EXPECT_TRUE(v.is_free(0x41'0000, 0x1000));
    EXPECT_TRUE(v.is_reserved(0x40'0000, 0x10000));
    EXPECT_FALSE(v.is_reserved(0x40'0000, 0x11000));  // one page past it is free
}

TEST(VirtualRanges, FirstFitWithAlignmentAndGuard) {
    VirtualRanges v;
    ASSERT_TRUE(v.init(kLow, kHigh));
    ASSERT_TRUE(v.reserve(kLow, 0x3f'f000));  // [0x1000, 0x400000) in use
    EXPECT_EQ(v.reserve_any(0x3000), 0x40'0000u);
    EXPECT_EQ(v.reserve_any(0x1000, 0x20'0000), 0x60'0000u);  // 2 MiB aligned
    // A 64 KiB guard below: the guard lies in the gap after 0x403000, the range above it.
    EXPECT_EQ(v.reserve_any(0x2000, 0x1000, 0x10000), 0x41'3000u);
    EXPECT_FALSE(v.is_free(0x40'3000, 0x10000));  // the guard stays reserved
    // The gap [0x415000, 0x600000) is used before anything above the 2 MiB page.
    EXPECT_EQ(v.reserve_any(0x1000), 0x41'5000u);
    EXPECT_TRUE(v.release(0x41'3000, 0x2000, 0x10000));
    EXPECT_EQ(v.reserve_any(0x12000), 0x40'3000u);    // guard and range came back
    EXPECT_FALSE(v.release(0x7000'0000, 0x1000));     // free already
    EXPECT_FALSE(v.release(0x5f'f000, 0x2000));       // partly free
    EXPECT_FALSE(v.release(0x1000, 0x1000, 0x2000));  // the guard would start below 0
}

TEST(VirtualRanges, BadRequestsAndExhaustion) {
    VirtualRanges v;
    EXPECT_FALSE(v.init(0x2000, 0x1000));
    EXPECT_FALSE(v.init(0x1800, 0x4000));
    ASSERT_TRUE(v.init(0x1000, 0x5000));  // four pages
    EXPECT_EQ(v.reserve_any(0), 0u);
    EXPECT_EQ(v.reserve_any(0x800), 0u);
    EXPECT_EQ(v.reserve_any(0x1000, 0x3000), 0u);  // alignment not a power of two
    EXPECT_EQ(v.reserve_any(0x1000, 0x1000, 0x800), 0u);
    EXPECT_EQ(v.reserve_any(0x5000), 0u);  // larger than the space
    EXPECT_EQ(v.reserve_any(0x2000, 0x1000, 0x1000), 0x2000u);
    EXPECT_EQ(v.reserve_any(0x1000), 0x4000u);
    EXPECT_EQ(v.reserve_any(0x1000), 0u);
    EXPECT_EQ(v.free_bytes(), 0u);
    EXPECT_TRUE(v.release(0x4000, 0x1000));
    EXPECT_FALSE(v.release(0x4000, 0x1000));  // twice
    EXPECT_EQ(v.reserve_any(0x1000), 0x4000u);
}

TEST(VirtualRanges, FragmentationStopsAtCapacityWithoutDamage) {
    VirtualRanges v;
    ASSERT_TRUE(v.init(0x1000, 0x1000 + 1000 * 0x2000));
    // Reserving every other page splits the free set until it is full.
    unsigned reserved = 0;
    for (uint64_t page = 0x1000; page < 0x1000 + 1000 * 0x2000; page += 0x2000) {
        if (!v.reserve(page, 0x1000)) {
            break;
        }
        ++reserved;
    }
    EXPECT_GE(reserved, VirtualRanges::kMaxFreeRanges - 1);
    EXPECT_LT(reserved, 1000u);
    const uint64_t free_before = v.free_bytes();
    EXPECT_EQ(free_before, uint64_t{1000} * 0x2000 - reserved * uint64_t{0x1000});
}

}  // namespace
}  // namespace tessera::vm
