// Host tests for the PD layout: every refusal with the region it names, placement of address-0
// regions around fixed ones with unmapped gaps, the stack guard, and the frame and table counts
// the PD builder sizes budgets with.
#include "pd/pd_layout.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "abi/invocation.hpp"
#include "abi/process.hpp"

namespace tessera::pd {
namespace {

constexpr uint64_t kR = abi::kMapRead;
constexpr uint64_t kRW = abi::kMapRead | abi::kMapWrite;
constexpr uint64_t kRX = abi::kMapRead | abi::kMapExecute;

// A small image at 4 MiB: two text pages, one data page with .bss spilling into a second.
elf::LoadPlan small_image() {
    elf::LoadPlan plan;
    plan.entry = 0x400000;
    plan.segments[0] = elf::Segment{0x400000, 0x2000, 0x1000,
                                    0x2000,   0x1000, elf::Rights::kRead | elf::Rights::kExecute};
    plan.segments[1] = elf::Segment{0x402000, 0x1800, 0x3000,
                                    0x100,    0x1000, elf::Rights::kRead | elf::Rights::kWrite};
    plan.segment_count = 2;
    plan.page_count = 4;
    return plan;
}

Result<Layout, LayoutFailure> layout_of(const std::vector<RegionSpec>& regions, uint64_t heap = 0,
                                        uint64_t stack = uint64_t{64} * 1024) {
    static elf::LoadPlan plan = small_image();
    LayoutRequest request;
    request.plan = &plan;
    request.regions = regions;
    request.heap_size = heap;
    request.stack_size = stack;
    return plan_layout(request);
}

RegionSpec region(uint64_t address, uint64_t size, uint64_t rights = kRW) {
    RegionSpec r;
    r.name = "r";
    r.address = address;
    r.size = size;
    r.rights = rights;
    return r;
}

LayoutFailure failure_of(const std::vector<RegionSpec>& regions, uint64_t heap = 0,
                         uint64_t stack = uint64_t{64} * 1024) {
    auto result = layout_of(regions, heap, stack);
    EXPECT_FALSE(result.ok());
    return result.ok() ? LayoutFailure{LayoutError::kCount, -2} : result.error();
}

TEST(PdLayout, FixedPartsAndCounts) {
    auto result = layout_of({}, 0x4000);
    ASSERT_TRUE(result.ok());
    const Layout& l = result.value();
    EXPECT_EQ(l.image_low, 0x400000u);
    EXPECT_EQ(l.image_end, 0x404000u);
    EXPECT_EQ(l.stack_top, abi::kPdStackTop);
    EXPECT_EQ(l.stack_low, abi::kPdStackTop - 0x10000);
    // The heap goes above the image with an unmapped page between.
    EXPECT_EQ(l.heap_base, 0x405000u);
    EXPECT_EQ(l.heap_size, 0x4000u);
    // 4 image pages + 16 stack + startup record + IPC buffer + 4 heap pages.
    EXPECT_EQ(l.small_frames, 4u + 16 + 2 + 4);
    EXPECT_EQ(l.large_frames, 0u);
    // One level-1 and one level-2 table for the first GiB, a level-3 table for the image and
    // heap's 2 MiB window and one for the stack's: exactly four.
    EXPECT_EQ(l.tables, 4u);
}

TEST(PdLayout, TablesAreCountedOncePerWindow) {
    // A region in the image's window adds nothing; one in another window of the first GiB adds
    // a level-3 table; one in the second GiB a level-2 and a level-3; 2 MiB pages need no
    // level-3 table.
    EXPECT_EQ(layout_of({region(0x500000, 0x1000)}).value().tables, 4u);
    EXPECT_EQ(layout_of({region(0x800000, 0x1000)}).value().tables, 5u);
    EXPECT_EQ(layout_of({region(0x4000'0000, 0x1000)}).value().tables, 6u);
    RegionSpec large = region(0x8000'0000, 0x400000);
    large.page_size = PageSize::k2M;
    EXPECT_EQ(layout_of({large}).value().tables, 5u);
    // A region across a 2 MiB boundary needs two level-3 tables.
    EXPECT_EQ(layout_of({region(0x9ff000, 0x2000)}).value().tables, 6u);
}

TEST(PdLayout, FixedRegionsKeepTheirAddressAndOthersFitAround) {
    std::vector<RegionSpec> regions = {region(0, 0x2000), region(0x406000, 0x1000),
                                       region(0, 0x1000)};
    auto result = layout_of(regions);
    ASSERT_TRUE(result.ok());
    const Layout& l = result.value();
    EXPECT_EQ(l.addresses[1], 0x406000u);
    // First fit above the image, a page gap either side of every placed range.
    EXPECT_EQ(l.addresses[0], 0x408000u);
    EXPECT_EQ(l.addresses[2], 0x40b000u);
    EXPECT_EQ(l.small_frames, 4u + 16 + 2 + 2 + 1 + 1);
}

TEST(PdLayout, LargePagesAreAlignedAndCountedApart) {
    RegionSpec big = region(0, 4 << 20);
    big.page_size = PageSize::k2M;
    auto result = layout_of({big});
    ASSERT_TRUE(result.ok());
    EXPECT_EQ(result.value().addresses[0] % kLargePage, 0u);
    EXPECT_GE(result.value().addresses[0], 0x600000u);
    EXPECT_EQ(result.value().large_frames, 2u);
    RegionSpec misaligned = big;
    misaligned.address = 0x1000'0000 + 0x1000;
    EXPECT_EQ(failure_of({misaligned}).error, LayoutError::kMisalignedAddress);
    misaligned.address = 0;
    misaligned.size = kLargePage + 0x1000;
    EXPECT_EQ(failure_of({misaligned}).error, LayoutError::kMisalignedSize);
}

TEST(PdLayout, SharedAndGivenFramesNeedNoFreshPages) {
    RegionSpec shared = region(0x1000'0000, 0x3000);
    shared.sharing = Sharing::kShared;
    shared.frames = 100;
    RegionSpec copy = region(0x2000'0000, 0x2000);
    copy.sharing = Sharing::kDeepCopy;
    copy.frames = 200;
    auto result = layout_of({shared, copy});
    ASSERT_TRUE(result.ok());
    EXPECT_EQ(result.value().small_frames, 4u + 16 + 2 + 2);  // only the deep copy's pages
}

TEST(PdLayout, RefusalsNameTheRegion) {
    RegionSpec ok = region(0x1000'0000, 0x1000);
    EXPECT_EQ(failure_of({ok, region(0x1000'0000, 0x1000)}).region, 1);
    EXPECT_EQ(failure_of({ok, region(0x1000'0000, 0x1000)}).error, LayoutError::kOverlap);
    EXPECT_EQ(failure_of({region(0x401000, 0x1000)}).error, LayoutError::kOverlap);  // the image
    EXPECT_EQ(failure_of({region(0x1000'0000, 0x1000, kRW | abi::kMapExecute)}).error,
              LayoutError::kWriteExecute);
    EXPECT_EQ(failure_of({region(0x1000'0000, 0x1000, abi::kMapWrite)}).error,
              LayoutError::kNotReadable);
    EXPECT_EQ(failure_of({region(0x1000'0000, 0)}).error, LayoutError::kEmptyRegion);
    EXPECT_EQ(failure_of({region(0x1000'0000, 0x1800)}).error, LayoutError::kMisalignedSize);
    EXPECT_EQ(failure_of({region(0x1000'0800, 0x1000)}).error, LayoutError::kMisalignedAddress);
    EXPECT_EQ(failure_of({region(elf::kUserTop - 0x1000, 0x2000)}).error,
              LayoutError::kAddressInKernelHalf);
    EXPECT_EQ(failure_of({region(~uint64_t{0} - 0xfff, 0x2000)}).error,
              LayoutError::kAddressInKernelHalf);  // would wrap
    RegionSpec named = ok;
    named.name = "a-name-of-twenty-four-ch";
    EXPECT_EQ(failure_of({named}).error, LayoutError::kNameTooLong);
    RegionSpec stack_kind = ok;
    stack_kind.kind = RegionKind::kStack;
    EXPECT_EQ(failure_of({stack_kind}).error, LayoutError::kReservedKind);
    RegionSpec startup_kind = ok;
    startup_kind.kind = RegionKind::kStartup;
    startup_kind.sharing = Sharing::kShared;
    startup_kind.frames = 5;
    EXPECT_EQ(failure_of({startup_kind}).error, LayoutError::kReservedKind);
    // A window onto the creator's stack is a shared region like any other.
    stack_kind.sharing = Sharing::kShared;
    stack_kind.frames = 5;
    EXPECT_TRUE(layout_of({stack_kind}).ok());
    RegionSpec shared = ok;
    shared.sharing = Sharing::kShared;
    EXPECT_EQ(failure_of({shared}).error, LayoutError::kNeedsFrames);
    RegionSpec device = ok;
    device.device = true;
    device.frames = 5;
    device.rights = kRX;
    EXPECT_EQ(failure_of({device}).error, LayoutError::kDeviceExecute);
    std::vector<RegionSpec> many(kMaxRegions + 1, region(0, 0x1000, kR));
    EXPECT_EQ(failure_of(many).error, LayoutError::kTooManyRegions);
    RegionSpec huge = region(0, elf::kUserTop - 0x10'0000);
    EXPECT_EQ(failure_of({huge}).error, LayoutError::kNoFreeRange);
}

TEST(PdLayout, StackGuardStaysUnmapped) {
    uint64_t low = abi::kPdStackTop - 0x10000;
    // Anything in the 64 KiB below the stack is refused; just below the guard is fine.
    EXPECT_EQ(failure_of({region(low - 0x1000, 0x1000)}).error, LayoutError::kOverlap);
    EXPECT_EQ(failure_of({region(low - kStackGuardSize, 0x1000)}).error, LayoutError::kOverlap);
    EXPECT_TRUE(layout_of({region(low - kStackGuardSize - 0x1000, 0x1000)}).ok());
    EXPECT_EQ(failure_of({region(abi::kPdStartupRecord, 0x1000)}).error, LayoutError::kOverlap);
    EXPECT_EQ(failure_of({region(abi::kPdIpcBuffer, 0x1000)}).error, LayoutError::kOverlap);
}

TEST(PdLayout, StackSizes) {
    EXPECT_EQ(failure_of({}, 0, 0).error, LayoutError::kBadStackSize);
    EXPECT_EQ(failure_of({}, 0, 0x1800).error, LayoutError::kBadStackSize);
    EXPECT_EQ(failure_of({}, 0, abi::kPdStackTop).error, LayoutError::kBadStackSize);
    auto one_page = layout_of({}, 0, 0x1000);
    ASSERT_TRUE(one_page.ok());
    EXPECT_EQ(one_page.value().stack_low, abi::kPdStackTop - 0x1000);
    // A region inside a large stack is refused.
    auto inside = failure_of({region(0x3000'0000, 0x1000)}, 0, 0x1000'0000);
    EXPECT_EQ(inside.error, LayoutError::kOverlap);
    EXPECT_EQ(inside.region, 0);
}

TEST(PdLayout, ErrorsHaveMessages) {
    for (unsigned e = 0; e < static_cast<unsigned>(LayoutError::kCount); ++e) {
        EXPECT_STRNE(to_string(static_cast<LayoutError>(e)), "unknown layout error");
    }
}

}  // namespace
}  // namespace tessera::pd
