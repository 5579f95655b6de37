// Host tests for the build plan: every configuration refusal with the step, cause and index it
// reports, the child slot of every kind of grant, regions shared by kind, the PD's own frames,
// the budgets' sizes and the words each failure is reported with.
#include "pd/build_plan.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "abi/process.hpp"
#include "elf/elf_test_builder.hpp"

namespace tessera::pd {
namespace {

using abi::CapType;
using elf::test::ElfBuilder;

// The creator's CSpace as the plan sees it: a map of slot to capability type.
struct FakeCSpace {
    std::map<uint64_t, CapType> slots;

    static CapType type_of(const void* context, uint64_t slot) {
        const auto* self = static_cast<const FakeCSpace*>(context);
        auto it = self->slots.find(slot);
        return it == self->slots.end() ? CapType::kNull : it->second;
    }
    [[nodiscard]] CapTypeLookup lookup() const { return CapTypeLookup{&type_of, this}; }
};

// Two text pages and a data page whose .bss reaches into a second page.
std::vector<uint8_t> small_elf() {
    ElfBuilder b;
    b.load(0x400000, 0x2000, 0x2000, elf::kFlagExecute, 0x1000);
    b.load(0x402000, 0x100, 0x1800, elf::kFlagWrite, 0x3000);
    return b.build();
}

struct Planner {
    std::vector<uint8_t> elf = small_elf();
    FakeCSpace creator;
    std::vector<OwnRegion> own;

    Result<BuildPlan, SpawnError> plan(const PdConfig& config) const {
        return make_build_plan(elf, config, own, creator.lookup());
    }
    SpawnError refusal(const PdConfig& config) const {
        auto p = plan(config);
        EXPECT_FALSE(p.ok());
        return p.ok() ? SpawnError{} : p.error();
    }
};

void expect_config_error(const SpawnError& e, ConfigError error, int index = -1) {
    EXPECT_EQ(e.step, SpawnStep::kConfig);
    EXPECT_EQ(e.config_error, error) << to_string(e.config_error);
    EXPECT_EQ(e.index, index);
}

TEST(BuildPlan, MinimalConfigurationPlansBudgetsThatHoldEverything) {
    Planner p;
    PdConfig config;
    auto plan = p.plan(config);
    ASSERT_TRUE(plan.ok()) << detail(plan.error());
    const BuildPlan& b = plan.value();
    EXPECT_EQ(b.load.entry, 0x400000u);
    EXPECT_EQ(b.first_free, abi::kPdSlotFirstFree);
    // No fault endpoint is made for it (the policy is kReport).
    const uint64_t identity =
        (uint64_t{1} << (8 + abi::kSlotSizeBits)) + (uint64_t{1} << abi::kTcbSizeBits);
    EXPECT_EQ(b.identity_bytes, identity);
    EXPECT_EQ(b.book_caps, kIdentitySlots + 1 + b.layout.small_frames + b.layout.tables);
    EXPECT_EQ(b.book_radix, kMinBookRadix);
    const uint64_t image = (b.layout.small_frames + b.layout.tables + 1) * kSmallPage +
                           (uint64_t{1} << (kMinBookRadix + abi::kSlotSizeBits));
    EXPECT_EQ(b.image_bytes, image);
    // Image (4 pages), stack (16), heap (16), startup record and IPC buffer.
    EXPECT_EQ(b.layout.small_frames, 4u + 16 + 16 + 2);
}

TEST(BuildPlan, LargeFramesAreCountedInTheImageBudget) {
    Layout layout;
    layout.large_frames = 2;
    layout.small_frames = 3;
    layout.tables = 4;
    // Two large frames, the frames, tables and VSpace, and the bookkeeping CNode's page.
    EXPECT_EQ(image_budget_bytes(layout, 7), (uint64_t{4} << 20) + 9 * kSmallPage);
    layout.large_frames = 0;
    EXPECT_EQ(image_budget_bytes(layout, 7), 9 * kSmallPage);
    EXPECT_EQ(image_budget_bytes(layout, 9), 8 * kSmallPage + uint64_t{16} * 1024);
    EXPECT_EQ(book_radix_for(1), kMinBookRadix);
    EXPECT_EQ(book_radix_for(128), 7u);
    EXPECT_EQ(book_radix_for(129), 8u);
    EXPECT_EQ(book_radix_for(2100), 12u);
}

TEST(BuildPlan, MalformedImageIsAParseError) {
    Planner p;
    p.elf.assign(16, 0);
    const SpawnError e = p.refusal(PdConfig{});
    EXPECT_EQ(e.step, SpawnStep::kParse);
    EXPECT_EQ(e.elf_error, elf::ElfError::kTruncatedHeader);
    EXPECT_STREQ(detail(e), elf::to_string(elf::ElfError::kTruncatedHeader));
}

TEST(BuildPlan, NumbersAndNamesOutOfRangeAreRefused) {
    Planner p;
    PdConfig config;
    config.name = "a-name-of-twenty-four-ch";  // 24 characters: one too many
    expect_config_error(p.refusal(config), ConfigError::kNameTooLong);
    config.name = "a-name-of-twenty-three-";
    EXPECT_TRUE(p.plan(config).ok());
    for (unsigned radix : {5u, 15u, 64u}) {
        config.cnode_radix = radix;
        expect_config_error(p.refusal(config), ConfigError::kBadNumber);
    }
    config.cnode_radix = 14;
    EXPECT_TRUE(p.plan(config).ok());
    config.cnode_radix = abi::kPdMinCNodeRadix;  // a tiny PD: 64 slots
    EXPECT_TRUE(p.plan(config).ok());
    config.priority = 256;
    expect_config_error(p.refusal(config), ConfigError::kBadNumber);
    config.priority = 255;
    config.max_priority = 256;
    expect_config_error(p.refusal(config), ConfigError::kBadNumber);
}

TEST(BuildPlan, ArgumentsThatDoNotFitAreRefused) {
    Planner p;
    std::string long_word(3000, 'x');
    std::vector<StringView> arguments = {StringView("prog"),
                                         StringView(long_word.data(), long_word.size())};
    PdConfig config;
    config.arguments = arguments;
    expect_config_error(p.refusal(config), ConfigError::kArgumentsTooLong);
}

TEST(BuildPlan, FaultEndpointMustBeAnEndpoint) {
    Planner p;
    p.creator.slots[40] = CapType::kNotification;
    p.creator.slots[41] = CapType::kEndpoint;
    PdConfig config;
    config.fault = FaultPolicy::kCreatorEndpoint;
    config.fault_endpoint = 40;
    expect_config_error(p.refusal(config), ConfigError::kNoFaultEndpoint);
    config.fault_endpoint = 99;  // empty
    expect_config_error(p.refusal(config), ConfigError::kNoFaultEndpoint);
    config.fault_endpoint = 41;
    EXPECT_TRUE(p.plan(config).ok());
}

TEST(BuildPlan, GrantsOfEmptyOrReservedOrTakenSlotsAreRefusedWithTheirIndex) {
    Planner p;
    p.creator.slots[50] = CapType::kEndpoint;
    p.creator.slots[51] = CapType::kNotification;
    PdConfig config;
    std::vector<CapGrant> caps(2);
    caps[0].source = 50;
    caps[1].source = 52;  // empty
    config.caps = caps;
    expect_config_error(p.refusal(config), ConfigError::kSourceSlotEmpty, 1);
    caps[1].source = 0;  // slot 0 is never a capability
    expect_config_error(p.refusal(config), ConfigError::kSourceSlotEmpty, 1);
    caps[1].source = 51;
    for (uint64_t reserved : {abi::kPdSlotParentEndpoint, abi::kPdSlotSelfTcb, abi::kPdSlotDebug}) {
        caps[1].slot = reserved;
        expect_config_error(p.refusal(config), ConfigError::kChildSlotInvalid, 1);
    }
    caps[1].slot = 256;  // past a radix-8 CNode
    expect_config_error(p.refusal(config), ConfigError::kChildSlotInvalid, 1);
    caps[0].slot = 20;
    caps[1].slot = 20;
    expect_config_error(p.refusal(config), ConfigError::kChildSlotTaken, 1);
    caps[0].name = "a-name-of-twenty-four-ch";
    expect_config_error(p.refusal(config), ConfigError::kNameTooLong, 0);
}

TEST(BuildPlan, ExplicitSlotsFirstThenTheRestInOrder) {
    Planner p;
    for (uint64_t s = 100; s < 110; ++s) {
        p.creator.slots[s] = CapType::kEndpoint;
    }
    std::vector<CapGrant> caps(4);
    for (size_t i = 0; i < caps.size(); ++i) {
        caps[i].source = 100 + i;
    }
    caps[1].slot = abi::kPdSlotFirstFree;      // explicit: taken before the others are placed
    caps[3].slot = abi::kPdSlotFirstFree + 5;  // explicit, above the free ones
    PdConfig config;
    config.caps = caps;
    auto plan = p.plan(config);
    ASSERT_TRUE(plan.ok()) << detail(plan.error());
    const BuildPlan& b = plan.value();
    EXPECT_EQ(b.grant_slot[0], abi::kPdSlotFirstFree + 1);
    EXPECT_EQ(b.grant_slot[1], abi::kPdSlotFirstFree);
    EXPECT_EQ(b.grant_slot[2], abi::kPdSlotFirstFree + 2);
    EXPECT_EQ(b.grant_slot[3], abi::kPdSlotFirstFree + 5);
    EXPECT_EQ(b.grant_type[2], CapType::kEndpoint);
    EXPECT_TRUE(b.declared.has(abi::kPdSlotFirstFree));
    EXPECT_TRUE(b.declared.has(abi::kPdSlotFirstFree + 5));
    EXPECT_FALSE(b.declared.has(abi::kPdSlotFirstFree + 1));
    EXPECT_EQ(b.first_free, abi::kPdSlotFirstFree + 6);  // above the highest declared slot
}

TEST(BuildPlan, BulkGrantsTakeTheCapabilitiesOfTheirTypeInOneRun) {
    Planner p;
    p.creator.slots[60] = CapType::kEndpoint;
    for (uint64_t s = 200; s < 220; ++s) {
        p.creator.slots[s] = s % 3 == 0 ? CapType::kFrame : CapType::kUntyped;
    }
    std::vector<CapGrant> caps(1);
    caps[0].source = 60;
    std::vector<BulkGrant> bulk(2);
    bulk[0].name = "untyped";
    bulk[0].type = CapType::kUntyped;
    bulk[0].first = 200;
    bulk[0].end = 220;
    bulk[1].name = "none";
    bulk[1].type = CapType::kIrqHandler;
    bulk[1].first = 200;
    bulk[1].end = 220;
    PdConfig config;
    config.caps = caps;
    config.bulk = bulk;
    auto plan = p.plan(config);
    ASSERT_TRUE(plan.ok()) << detail(plan.error());
    const BuildPlan& b = plan.value();
    uint64_t untyped = 0;
    for (uint64_t s = 200; s < 220; ++s) {
        untyped += s % 3 == 0 ? 0 : 1;
    }
    EXPECT_EQ(b.bulk_count[0], untyped);
    EXPECT_EQ(b.bulk_slot[0], abi::kPdSlotFirstFree + 1);
    EXPECT_EQ(b.bulk_count[1], 0u);
    EXPECT_EQ(b.first_free, abi::kPdSlotFirstFree + 1 + untyped);
}

TEST(BuildPlan, GrantsBeyondTheCNodeOrTheDirectoryAreRefused) {
    Planner p;
    for (uint64_t s = 300; s < 600; ++s) {
        p.creator.slots[s] = CapType::kFrame;
    }
    std::vector<BulkGrant> bulk(1);
    bulk[0].name = "frames";
    bulk[0].first = 300;
    bulk[0].end = 600;  // 300 frames: more than a radix-8 CNode holds
    PdConfig config;
    config.bulk = bulk;
    expect_config_error(p.refusal(config), ConfigError::kTooManyCaps, 0);
    config.cnode_radix = 9;
    EXPECT_TRUE(p.plan(config).ok());

    std::vector<CapGrant> caps(pd::kMaxGrants + 1);
    for (CapGrant& c : caps) {
        c.source = 300;
    }
    PdConfig many;
    many.caps = caps;
    expect_config_error(p.refusal(many), ConfigError::kTooManyCaps);

    // More named entries than the startup record's directory lists.
    std::vector<CapGrant> named(abi::kStartupMaxCaps);
    for (CapGrant& c : named) {
        c.source = 300;
        c.name = "x";
    }
    PdConfig listed;
    listed.caps = named;
    expect_config_error(p.refusal(listed), ConfigError::kTooManyCaps);
    named.resize(abi::kStartupMaxCaps - 3);  // with the parent, fault and self entries
    listed.caps = named;
    EXPECT_TRUE(p.plan(listed).ok());
}

TEST(BuildPlan, SharedByKindResolvesToTheCreatorsRegion) {
    Planner p;
    for (uint64_t s = 400; s < 404; ++s) {
        p.creator.slots[s] = CapType::kFrame;
    }
    OwnRegion heap;
    heap.name = "heap";
    heap.kind = abi::RegionKind::kHeap;
    heap.size = 4 * kSmallPage;
    heap.frames = 400;
    std::vector<RegionSpec> regions(1);
    regions[0].name = "shared-heap";
    regions[0].kind = abi::RegionKind::kHeap;
    regions[0].sharing = Sharing::kShared;
    PdConfig config;
    config.regions = regions;
    expect_config_error(p.refusal(config), ConfigError::kNoOwnRegion, 0);
    p.own.push_back(heap);
    auto plan = p.plan(config);
    ASSERT_TRUE(plan.ok()) << detail(plan.error());
    EXPECT_EQ(plan.value().regions[0].frames, 400u);
    EXPECT_EQ(plan.value().regions[0].size, 4 * kSmallPage);
    regions[0].size = 5 * kSmallPage;  // more than the creator's region
    const SpawnError e = p.refusal(config);
    EXPECT_EQ(e.config_error, ConfigError::kLayout);
    EXPECT_EQ(e.layout_error, LayoutError::kMisalignedSize);
    EXPECT_EQ(e.index, 0);
}

TEST(BuildPlan, RegionFramesMustBeFrameCapabilities) {
    Planner p;
    p.creator.slots[500] = CapType::kFrame;
    p.creator.slots[501] = CapType::kUntyped;  // not a frame: e.g. a retyped-over slot
    std::vector<RegionSpec> regions(1);
    regions[0].name = "r";
    regions[0].size = 2 * kSmallPage;
    regions[0].frames = 500;
    PdConfig config;
    config.regions = regions;
    expect_config_error(p.refusal(config), ConfigError::kNotFrames, 0);
    p.creator.slots[501] = CapType::kFrame;
    EXPECT_TRUE(p.plan(config).ok());
}

TEST(BuildPlan, GivenFramesTakeRunsOfSlotsAboveTheGrants) {
    Planner p;
    p.creator.slots[70] = CapType::kEndpoint;
    std::vector<CapGrant> caps(1);
    caps[0].source = 70;
    std::vector<RegionSpec> regions(1);
    regions[0].name = "given";
    regions[0].size = 3 * kSmallPage;
    regions[0].give_frames = true;
    PdConfig config;
    config.caps = caps;
    config.regions = regions;
    config.give_own_frames = true;
    auto plan = p.plan(config);
    ASSERT_TRUE(plan.ok()) << detail(plan.error());
    const BuildPlan& b = plan.value();
    EXPECT_EQ(b.region_frames_slot[0], abi::kPdSlotFirstFree + 1);
    // Own frames: code (2 pages), data (2), stack (16), heap (16), IPC buffer (1), in order.
    EXPECT_EQ(b.own[kOwnCode].low, 0x400000u);
    EXPECT_EQ(b.own[kOwnCode].pages, 2u);
    EXPECT_EQ(b.own[kOwnData].low, 0x402000u);
    EXPECT_EQ(b.own[kOwnData].pages, 2u);
    EXPECT_EQ(b.own[kOwnStack].pages, 16u);
    EXPECT_EQ(b.own[kOwnHeap].pages, 16u);
    EXPECT_EQ(b.own[kOwnIpcBuffer].low, abi::kPdIpcBuffer);
    uint64_t next = abi::kPdSlotFirstFree + 1 + 3;
    for (size_t k = 0; k < kOwnKinds; ++k) {
        EXPECT_EQ(b.own[k].child_slot, next) << kOwnKindInfo[k].name;
        next += b.own[k].pages;
    }
    EXPECT_EQ(b.first_free, next);
    // The bookkeeping CNode holds the copies given to the child too.
    const uint64_t own_pages = next - (abi::kPdSlotFirstFree + 1 + 3);
    EXPECT_EQ(b.book_caps,
              kIdentitySlots + 1 + b.layout.small_frames + b.layout.tables + 3 + own_pages);
}

TEST(BuildPlan, OwnFramesNeedOneRunOfCodeAndOfData) {
    Planner p;
    ElfBuilder b;
    b.load(0x400000, 0x1000, 0x1000, elf::kFlagExecute, 0x1000);
    b.load(0x402000, 0x1000, 0x1000, elf::kFlagWrite, 0x2000);
    b.load(0x404000, 0x1000, 0x1000, elf::kFlagExecute, 0x3000);  // code split by data
    p.elf = b.build();
    PdConfig config;
    EXPECT_TRUE(p.plan(config).ok());
    config.give_own_frames = true;
    expect_config_error(p.refusal(config), ConfigError::kOwnFramesSplit, 0);
}

TEST(BuildPlan, EveryFailureHasWords) {
    for (auto step : {SpawnStep::kParse, SpawnStep::kConfig, SpawnStep::kBudget,
                      SpawnStep::kObjects, SpawnStep::kImage, SpawnStep::kRegions,
                      SpawnStep::kCapabilities, SpawnStep::kThread, SpawnStep::kCopy}) {
        EXPECT_STRNE(to_string(step), "unknown step");
    }
    for (int e = static_cast<int>(ConfigError::kNone);
         e <= static_cast<int>(ConfigError::kLedgerFull); ++e) {
        EXPECT_STRNE(to_string(static_cast<ConfigError>(e)), "unknown configuration error");
    }
    EXPECT_STREQ(detail(SpawnError::kernel(SpawnStep::kImage, abi::Error::kNotEnoughMemory)),
                 abi::error_name(abi::Error::kNotEnoughMemory));
    EXPECT_STREQ(detail(SpawnError::layout(LayoutError::kOverlap, 2)),
                 to_string(LayoutError::kOverlap));
    EXPECT_STREQ(detail(SpawnError::config(ConfigError::kChildSlotTaken)),
                 "two grants name the same slot");
}

}  // namespace
}  // namespace tessera::pd
