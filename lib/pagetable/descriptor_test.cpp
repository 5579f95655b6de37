// Host tests of descriptor encoding: every bit that matters for tables, blocks and pages, in
// the Arm ARM's positions (AP, UXN/PXN, SH, AttrIndx, AF, nG, table/block/page type).
#include "pagetable/descriptor.hpp"

#include <gtest/gtest.h>

namespace tessera::aarch64 {
namespace {

constexpr uint64_t bit(unsigned n) {
    return uint64_t{1} << n;
}

TEST(Descriptor, LevelGeometry) {
    EXPECT_EQ(level_size(0), uint64_t{512} << 30);
    EXPECT_EQ(level_size(1), uint64_t{1} << 30);
    EXPECT_EQ(level_size(2), uint64_t{2} << 20);
    EXPECT_EQ(level_size(3), uint64_t{4096});
    uint64_t va = 0xffff'0000'4020'3000;
    EXPECT_EQ(level_index(va, 0), 0u);
    EXPECT_EQ(level_index(va, 1), 1u);
    EXPECT_EQ(level_index(va, 2), 1u);
    EXPECT_EQ(level_index(va, 3), 3u);
    EXPECT_EQ(level_index(0x0000'ff80'0000'0000, 0), 511u);
    EXPECT_FALSE(leaf_allowed(0));
    EXPECT_TRUE(leaf_allowed(1) && leaf_allowed(2) && leaf_allowed(3));
}

TEST(Descriptor, TableEntry) {
    Descriptor d = Descriptor::table(PhysAddr(0x4123'4000));
    EXPECT_EQ(d.raw(), 0x4123'4000u | 3u);
    EXPECT_TRUE(d.is_valid());
    EXPECT_TRUE(d.is_table(0));
    EXPECT_TRUE(d.is_table(2));
    EXPECT_FALSE(d.is_table(3));  // at L3 the same bits mean "page"
    EXPECT_EQ(d.next_table(), PhysAddr(0x4123'4000));
    EXPECT_EQ(Descriptor::table(PhysAddr(0x1000), true).raw() & bit(59), bit(59));  // PXNTable
}

TEST(Descriptor, KernelTextPage) {
    LeafAttributes a{Permissions{false, false, true}, MemoryType::kNormal, true};
    Descriptor d = Descriptor::leaf(3, PhysAddr(0x4020'0000), a);
    uint64_t r = d.raw();
    EXPECT_EQ(r & 3, 3u);             // page
    EXPECT_EQ((r >> 2) & 7, 1u);      // AttrIndx: Normal
    EXPECT_EQ(r & bit(6), 0u);        // AP[1]=0: no EL0 access
    EXPECT_EQ(r & bit(7), bit(7));    // AP[2]=1: read-only
    EXPECT_EQ((r >> 8) & 3, 3u);      // inner shareable
    EXPECT_EQ(r & bit(10), bit(10));  // AF
    EXPECT_EQ(r & bit(11), 0u);       // global
    EXPECT_EQ(r & bit(53), 0u);       // EL1 may execute
    EXPECT_EQ(r & bit(54), bit(54));  // EL0 may not
    EXPECT_EQ(d.output_address(3), PhysAddr(0x4020'0000));
    EXPECT_EQ(d.attributes(), a);
}

TEST(Descriptor, KernelDataBlockIsNeverExecutable) {
    LeafAttributes a{Permissions{false, true, false}, MemoryType::kNormal, true};
    Descriptor d = Descriptor::leaf(2, PhysAddr(0x4060'0000), a);
    uint64_t r = d.raw();
    EXPECT_EQ(r & 3, 1u);  // block
    EXPECT_TRUE(d.is_leaf(2));
    EXPECT_FALSE(d.is_leaf(3));  // 0b01 is reserved at L3
    EXPECT_EQ(r & bit(7), 0u);   // writable
    EXPECT_EQ(r & (bit(53) | bit(54)), bit(53) | bit(54));
    EXPECT_EQ(d.output_address(2), PhysAddr(0x4060'0000));
}

TEST(Descriptor, BlockOutputIsAlignedToBlockSize) {
    LeafAttributes a{Permissions{false, true, false}, MemoryType::kNormal, true};
    EXPECT_EQ(Descriptor::leaf(1, PhysAddr(0x4012'3000), a).output_address(1),
              PhysAddr(0x4000'0000));
}

TEST(Descriptor, UserPages) {
    LeafAttributes code{Permissions{true, false, true}, MemoryType::kNormal, false};
    uint64_t r = Descriptor::leaf(3, PhysAddr(0x8000'0000), code).raw();
    EXPECT_EQ(r & (bit(6) | bit(7)), bit(6) | bit(7));  // EL0 read-only
    EXPECT_EQ(r & bit(53), bit(53));                    // kernel never executes user memory
    EXPECT_EQ(r & bit(54), 0u);                         // EL0 may execute
    EXPECT_EQ(r & bit(11), bit(11));                    // nG: per-ASID
    LeafAttributes data{Permissions{true, true, false}, MemoryType::kNormal, false};
    r = Descriptor::leaf(3, PhysAddr(0x8000'0000), data).raw();
    EXPECT_EQ(r & (bit(6) | bit(7)), bit(6));  // EL0 read-write
    EXPECT_EQ(r & (bit(53) | bit(54)), bit(53) | bit(54));
}

TEST(Descriptor, WriteAndExecuteIsNeverEncoded) {
    LeafAttributes wx{Permissions{true, true, true}, MemoryType::kNormal, false};
    Descriptor d = Descriptor::leaf(3, PhysAddr(0x1000), wx);
    EXPECT_EQ(d.raw() & (bit(53) | bit(54)), bit(53) | bit(54));
    EXPECT_FALSE(d.attributes().permissions.execute);
    LeafAttributes kwx{Permissions{false, true, true}, MemoryType::kNormal, true};
    EXPECT_EQ(Descriptor::leaf(3, PhysAddr(0x1000), kwx).raw() & bit(53), bit(53));
}

TEST(Descriptor, DeviceMemory) {
    LeafAttributes dev{Permissions{false, true, true}, MemoryType::kDevice, true};
    Descriptor d = Descriptor::leaf(3, PhysAddr(0x0900'0000), dev);
    EXPECT_EQ((d.raw() >> 2) & 7, 0u);                            // AttrIndx 0: Device-nGnRnE
    EXPECT_EQ((d.raw() >> 8) & 3, 2u);                            // outer shareable
    EXPECT_EQ(d.raw() & (bit(53) | bit(54)), bit(53) | bit(54));  // never executable
    EXPECT_EQ(d.shareability(), Shareability::kOuter);
    LeafAttributes nc{Permissions{false, true, false}, MemoryType::kNormalNonCacheable, true};
    EXPECT_EQ((Descriptor::leaf(3, PhysAddr(0), nc).raw() >> 2) & 7, 2u);
}

TEST(Descriptor, MairMatchesMemoryTypes) {
    EXPECT_EQ((kMairValue >> (8 * static_cast<unsigned>(MemoryType::kDevice))) & 0xff, 0x00u);
    EXPECT_EQ((kMairValue >> (8 * static_cast<unsigned>(MemoryType::kNormal))) & 0xff, 0xffu);
    EXPECT_EQ((kMairValue >> (8 * static_cast<unsigned>(MemoryType::kNormalNonCacheable))) & 0xff,
              0x44u);
    EXPECT_EQ((kMairValue >> (8 * static_cast<unsigned>(MemoryType::kDeviceGre))) & 0xff, 0x04u);
}

TEST(Descriptor, InvalidAndReservedEncodings) {
    EXPECT_FALSE(Descriptor::invalid().is_valid());
    EXPECT_FALSE(Descriptor(0x2).is_valid());
    EXPECT_FALSE(Descriptor(0x1).is_leaf(0));  // no blocks at level 0
    EXPECT_FALSE(Descriptor(0x1).is_table(1));
}

}  // namespace
}  // namespace tessera::aarch64
