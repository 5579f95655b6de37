// Host tests of the physical memory map: rounding, clipping to RAM, overlapping reservations,
// multiple RAM banks, error cases and the printed listing.
#include "core/memory_map.hpp"

#include <gtest/gtest.h>

#include "base/bits.hpp"

#include <string>
#include <vector>

namespace tessera {
namespace {

std::vector<Range> free_ranges(const PhysicalMemoryMap& m) {
    return std::vector<Range>(m.free().begin(), m.free().end());
}

RangeSet<4> ram(std::initializer_list<Range> banks) {
    RangeSet<4> s;
    for (Range r : banks) {
        EXPECT_TRUE(s.add(r));
    }
    return s;
}

TEST(MemoryMap, ReservationsAreCarvedOutAndRounded) {
    PhysicalMemoryMap m;
    ASSERT_TRUE(m.set_ram(ram({{0x4000'0000, 0x4800'0000}})).ok());
    ASSERT_TRUE(m.reserve({0x4000'0000, 0x4010'0000}, RegionKind::kDeviceTree).ok());
    ASSERT_TRUE(m.reserve({0x4020'0000, 0x4024'4123}, RegionKind::kKernelImage).ok());
    EXPECT_EQ(free_ranges(m),
              (std::vector<Range>{{0x4010'0000, 0x4020'0000}, {0x4024'5000, 0x4800'0000}}));
    ASSERT_TRUE(m.finish({0x4020'0000, 0x4024'5000}).ok());
    EXPECT_EQ(m.reservation_count(), 2u);
    EXPECT_EQ(m.free().total() + 0x10'0000 + 0x4'5000, m.ram().total());
}

TEST(MemoryMap, RamIsRoundedInwards) {
    PhysicalMemoryMap m;
    ASSERT_TRUE(m.set_ram(ram({{0x4000'0123, 0x4000'5fff}})).ok());
    EXPECT_EQ(free_ranges(m), (std::vector<Range>{{0x4000'1000, 0x4000'5000}}));
}

TEST(MemoryMap, ReservationsOutsideRamAreIgnoredAndClipped) {
    PhysicalMemoryMap m;
    ASSERT_TRUE(m.set_ram(ram({{0x4000'0000, 0x4100'0000}, {0x8000'0000, 0x8100'0000}})).ok());
    ASSERT_TRUE(m.reserve({0x1000, 0x2000}, RegionKind::kFirmware).ok());
    EXPECT_EQ(m.reservation_count(), 0u);
    // One reservation spanning the gap between banks becomes two clipped regions.
    ASSERT_TRUE(m.reserve({0x40ff'f000, 0x8000'1000}, RegionKind::kBootModule).ok());
    EXPECT_EQ(m.reservation_count(), 2u);
    EXPECT_EQ(m.reservation(0).range, (Range{0x40ff'f000, 0x4100'0000}));
    EXPECT_EQ(m.reservation(1).range, (Range{0x8000'0000, 0x8000'1000}));
    EXPECT_EQ(free_ranges(m),
              (std::vector<Range>{{0x4000'0000, 0x40ff'f000}, {0x8000'1000, 0x8100'0000}}));
}

TEST(MemoryMap, OverlappingReservations) {
    PhysicalMemoryMap m;
    ASSERT_TRUE(m.set_ram(ram({{0, 0x10'0000}})).ok());
    ASSERT_TRUE(m.reserve({0x1000, 0x5000}, RegionKind::kFirmware).ok());
    ASSERT_TRUE(m.reserve({0x3000, 0x8000}, RegionKind::kBootModule).ok());
    EXPECT_EQ(free_ranges(m), (std::vector<Range>{{0, 0x1000}, {0x8000, 0x10'0000}}));
}

TEST(MemoryMap, Errors) {
    PhysicalMemoryMap m;
    ASSERT_TRUE(m.set_ram(ram({{0x4000'0000, 0x4001'0000}})).ok());
    EXPECT_EQ(m.finish({0x1000, 0x2000}).error(), MemoryMapError::kKernelOutsideRam);
    ASSERT_TRUE(m.reserve({0x4000'0000, 0x4001'0000}, RegionKind::kKernelImage).ok());
    EXPECT_EQ(m.finish({0x4000'0000, 0x4001'0000}).error(), MemoryMapError::kNoFreeMemory);
    EXPECT_STREQ(to_string(MemoryMapError::kNoFreeMemory),
                 "no free memory left after reservations");
}

TEST(MemoryMap, TooManyFragments) {
    PhysicalMemoryMap m;
    ASSERT_TRUE(m.set_ram(ram({{0, 0x1000'0000}})).ok());
    Result<void, MemoryMapError> last;
    for (uint64_t i = 0; i < 200 && last.ok(); ++i) {
        last = m.reserve({i * 0x10'0000, i * 0x10'0000 + 0x1000}, RegionKind::kFirmware);
    }
    ASSERT_FALSE(last.ok());
    EXPECT_EQ(last.error(), MemoryMapError::kTooManyRegions);
}

TEST(MemoryMap, PrintsRegionsInAddressOrder) {
    PhysicalMemoryMap m;
    ASSERT_TRUE(m.set_ram(ram({{0x4000'0000, 0x4800'0000}})).ok());
    ASSERT_TRUE(m.reserve({0x4020'0000, 0x4024'0000}, RegionKind::kKernelImage).ok());
    ASSERT_TRUE(m.reserve({0x4000'0000, 0x4010'0000}, RegionKind::kDeviceTree).ok());
    char text[1024];
    BufferWriter w(text, sizeof(text));
    m.print(w.sink());
    EXPECT_EQ(std::string(text),
              "  [0x0040000000 - 0x0040100000)        1 MiB  device tree\n"
              "  [0x0040100000 - 0x0040200000)        1 MiB  free (untyped)\n"
              "  [0x0040200000 - 0x0040240000)      256 KiB  kernel image\n"
              "  [0x0040240000 - 0x0048000000)    125.7 MiB  free (untyped)\n"
              "  126.7 MiB free of 128 MiB RAM in 2 free ranges\n");
}

TEST(MemoryMap, PrintSize) {
    auto text = [](uint64_t bytes) {
        char buffer[32];
        BufferWriter w(buffer, sizeof(buffer));
        print_size(w.sink(), bytes);
        return std::string(buffer);
    };
    EXPECT_EQ(text(0), "0 B");
    EXPECT_EQ(text(100), "100 B");
    EXPECT_EQ(text(4096), "4 KiB");
    EXPECT_EQ(text(1536), "1.5 KiB");
    EXPECT_EQ(text(2 * kGiB), "2 GiB");
    EXPECT_EQ(text(kGiB + 512 * kMiB), "1.5 GiB");
}

}  // namespace
}  // namespace tessera
