// The build plan (pd/build_plan.hpp): the configuration checked part by part, then the child's
// slots assigned — explicit slots first, then the other grants, bulk grants and given frames in
// order from the first free slot.
#include "pd/build_plan.hpp"

#include <bit>

#include "pd/startup_record_writer.hpp"

namespace tessera::pd {
namespace {

unsigned bits_for(uint64_t bytes) {
    return static_cast<unsigned>(64 - std::countl_zero(bytes - 1));
}

// Copies the configuration's regions, filling in those shared by kind alone from the creator's
// own regions.
Result<void, SpawnError> resolve_regions(const PdConfig& config,
                                         std::span<const OwnRegion> own_regions, BuildPlan& plan) {
    if (config.regions.size() > kMaxRegions) {
        return fail(SpawnError::layout(LayoutError::kTooManyRegions));
    }
    plan.region_count = config.regions.size();
    for (size_t i = 0; i < config.regions.size(); ++i) {
        const int index = static_cast<int>(i);
        RegionSpec r = config.regions[i];
        if (r.sharing == Sharing::kShared && r.frames == 0) {
            const OwnRegion* own = nullptr;
            for (const OwnRegion& o : own_regions) {
                if (o.kind == r.kind && o.frames != 0) {
                    own = &o;
                    break;
                }
            }
            if (own == nullptr) {
                return fail(SpawnError::config(ConfigError::kNoOwnRegion, index));
            }
            r.frames = own->frames;
            r.page_size = own->page_size;
            r.size = r.size == 0 ? own->size : r.size;
            if (r.size > own->size) {
                return fail(SpawnError::layout(LayoutError::kMisalignedSize, index));
            }
        }
        plan.regions[i] = r;
    }
    return {};
}

uint64_t stack_size_for(const PdConfig& config, const elf::LoadPlan& load) {
    if (config.stack_size != 0) {
        return config.stack_size;
    }
    if (load.stack_size != 0) {
        return (load.stack_size + kSmallPage - 1) & ~(kSmallPage - 1);
    }
    return kDefaultStack;
}

// The image's code (executable pages) and data (writable pages), each one run of pages, and the
// stack, heap and IPC buffer from the layout.
Result<void, SpawnError> plan_own_frames(BuildPlan& plan) {
    uint64_t high[2] = {};
    OwnSpan* spans[2] = {&plan.own[kOwnCode], &plan.own[kOwnData]};
    elf::for_each_page(plan.load, [&](const elf::PagePlan& page) {
        const bool kinds[2] = {elf::has(page.rights, elf::Rights::kExecute),
                               elf::has(page.rights, elf::Rights::kWrite)};
        for (size_t k = 0; k < 2; ++k) {
            if (kinds[k]) {
                spans[k]->low = spans[k]->pages == 0 ? page.address : spans[k]->low;
                ++spans[k]->pages;
                high[k] = page.address + kSmallPage;
            }
        }
    });
    for (size_t k = 0; k < 2; ++k) {
        if (spans[k]->pages != 0 && (high[k] - spans[k]->low) / kSmallPage != spans[k]->pages) {
            return fail(SpawnError::config(ConfigError::kOwnFramesSplit, static_cast<int>(k)));
        }
    }
    const Layout& l = plan.layout;
    plan.own[kOwnStack] = OwnSpan{l.stack_low, (l.stack_top - l.stack_low) / kSmallPage, 0};
    plan.own[kOwnHeap] = OwnSpan{l.heap_base, l.heap_size / kSmallPage, 0};
    plan.own[kOwnIpcBuffer] = OwnSpan{abi::kPdIpcBuffer, 1, 0};
    return {};
}

// Names, numbers, strings and the creator's capabilities the configuration names outside its
// grants: the fault endpoint and the frames of the regions.
Result<void, SpawnError> check_scalars(const PdConfig& config, const BuildPlan& plan,
                                       CapTypeLookup cap_type) {
    if (config.name.size() >= abi::kStartupNameLength) {
        return fail(SpawnError::config(ConfigError::kNameTooLong));
    }
    if (config.cnode_radix < abi::kPdMinCNodeRadix || config.cnode_radix > kMaxCNodeRadix ||
        config.max_priority > 255 || config.priority > 255) {
        return fail(SpawnError::config(ConfigError::kBadNumber));
    }
    if (!startup_strings_fit(config.arguments, config.environment)) {
        return fail(SpawnError::config(ConfigError::kArgumentsTooLong));
    }
    if (config.fault == FaultPolicy::kCreatorEndpoint &&
        cap_type(config.fault_endpoint) != abi::CapType::kEndpoint) {
        return fail(SpawnError::config(ConfigError::kNoFaultEndpoint));
    }
    for (size_t i = 0; i < plan.region_count; ++i) {
        const RegionSpec& r = plan.regions[i];
        if (r.frames == 0) {
            continue;
        }
        const uint64_t count = r.size / bytes_of(r.page_size);
        for (uint64_t f = 0; f < count; ++f) {
            if (cap_type(r.frames + f) != abi::CapType::kFrame) {
                return fail(SpawnError::config(ConfigError::kNotFrames, static_cast<int>(i)));
            }
        }
    }
    return {};
}

// Hands out the child's free slots in order, skipping those explicit grants took.
class ChildSlots {
  public:
    ChildSlots(uint64_t count, const ChildSlotSet& taken) : count_(count), taken_(taken) {}

    // The next free slot (0: none left).
    uint64_t next() {
        while (next_ < count_ && taken_.has(next_)) {
            ++next_;
        }
        return next_ < count_ ? next_++ : 0;
    }

    // `count` consecutive free slots; returns the first (0: no such run where the next one is).
    uint64_t run(uint64_t count) {
        uint64_t first = 0;
        for (uint64_t p = 0; p < count; ++p) {
            uint64_t slot = next();
            if (slot == 0 || (p > 0 && slot != first + p)) {
                return 0;
            }
            first = p == 0 ? slot : first;
        }
        return first;
    }

    // The first slot above every one handed out or taken.
    [[nodiscard]] uint64_t first_unused() const {
        uint64_t highest = next_;
        for (uint64_t s = next_; s < count_; ++s) {
            highest = taken_.has(s) ? s + 1 : highest;
        }
        return highest < count_ ? highest : count_;
    }

  private:
    uint64_t count_;
    const ChildSlotSet& taken_;
    uint64_t next_ = abi::kPdSlotFirstFree;
};

// Every capability's child slot: explicit slots first, then the rest in order.
Result<void, SpawnError> place_grants(const PdConfig& config, CapTypeLookup cap_type,
                                      BuildPlan& plan) {
    if (config.caps.size() > kMaxGrants || config.bulk.size() > kMaxBulk) {
        return fail(SpawnError::config(ConfigError::kTooManyCaps));
    }
    const uint64_t child_slots = uint64_t{1} << config.cnode_radix;
    size_t listed = 3;  // parent, fault and self entries at most
    for (size_t i = 0; i < config.caps.size(); ++i) {
        const CapGrant& g = config.caps[i];
        const int index = static_cast<int>(i);
        if (g.name.size() >= abi::kStartupNameLength) {
            return fail(SpawnError::config(ConfigError::kNameTooLong, index));
        }
        plan.grant_type[i] = g.source == 0 ? abi::CapType::kNull : cap_type(g.source);
        if (plan.grant_type[i] == abi::CapType::kNull) {
            return fail(SpawnError::config(ConfigError::kSourceSlotEmpty, index));
        }
        if (g.slot != 0) {
            if (g.slot < abi::kPdSlotFirstFree || g.slot >= child_slots) {
                return fail(SpawnError::config(ConfigError::kChildSlotInvalid, index));
            }
            if (plan.declared.has(g.slot)) {
                return fail(SpawnError::config(ConfigError::kChildSlotTaken, index));
            }
            plan.declared.add(g.slot);
            plan.grant_slot[i] = g.slot;
        }
        listed += g.name.empty() ? 0 : 1;
    }
    ChildSlots slots(child_slots, plan.declared);
    for (size_t i = 0; i < config.caps.size(); ++i) {
        if (plan.grant_slot[i] == 0) {
            plan.grant_slot[i] = slots.next();
            if (plan.grant_slot[i] == 0) {
                return fail(SpawnError::config(ConfigError::kTooManyCaps, static_cast<int>(i)));
            }
        }
    }
    for (size_t b = 0; b < config.bulk.size(); ++b) {
        const BulkGrant& g = config.bulk[b];
        const int index = static_cast<int>(b);
        if (g.name.size() >= abi::kStartupNameLength) {
            return fail(SpawnError::config(ConfigError::kNameTooLong, index));
        }
        // A run of slots above every other grant.
        uint64_t first = 0;
        for (uint64_t s = g.first; s < g.end; ++s) {
            if (cap_type(s) == g.type) {
                const uint64_t slot = slots.next();
                if (slot == 0) {
                    return fail(SpawnError::config(ConfigError::kTooManyCaps, index));
                }
                first = first == 0 ? slot : first;
                ++plan.bulk_count[b];
            }
        }
        plan.bulk_slot[b] = first;
        ++listed;
    }
    // Given frames take runs of slots above the single grants, like bulk grants.
    for (size_t i = 0; i < plan.region_count; ++i) {
        const RegionSpec& r = plan.regions[i];
        if (r.give_frames) {
            plan.region_frames_slot[i] = slots.run(r.size / bytes_of(r.page_size));
            if (plan.region_frames_slot[i] == 0) {
                return fail(SpawnError::config(ConfigError::kTooManyCaps, static_cast<int>(i)));
            }
            ++listed;
        }
    }
    for (OwnSpan& own : plan.own) {
        if (own.pages != 0) {
            own.child_slot = slots.run(own.pages);
            if (own.child_slot == 0) {
                return fail(SpawnError::config(ConfigError::kTooManyCaps));
            }
            ++listed;
        }
    }
    if (listed > abi::kStartupMaxCaps) {
        return fail(SpawnError::config(ConfigError::kTooManyCaps));
    }
    plan.listed = listed;
    plan.first_free = slots.first_unused();
    return {};
}

}  // namespace

uint64_t identity_budget_bytes(unsigned radix, bool new_fault_endpoint) {
    return (uint64_t{1} << (radix + abi::kSlotSizeBits)) + (uint64_t{1} << abi::kTcbSizeBits) +
           (new_fault_endpoint ? uint64_t{1} << abi::kEndpointSizeBits : 0);
}

uint64_t image_budget_bytes(const Layout& layout, unsigned book_radix) {
    // The extra page is the VSpace (its root table).
    return layout.large_frames * kLargePage +
           (layout.small_frames + layout.tables + 1) * kSmallPage +
           (uint64_t{1} << (book_radix + abi::kSlotSizeBits));
}

uint64_t book_caps_for(const BuildPlan& plan) {
    const Layout& l = plan.layout;
    uint64_t caps = kIdentitySlots + 1 + l.small_frames + l.large_frames + l.tables;
    for (size_t i = 0; i < plan.region_count; ++i) {
        const RegionSpec& r = plan.regions[i];
        const uint64_t pages = r.size / bytes_of(r.page_size);
        const bool copied =
            r.sharing == Sharing::kShared || (r.sharing == Sharing::kDisjoint && r.frames != 0);
        caps += (copied ? pages : 0) + (r.give_frames ? pages : 0);
    }
    for (const OwnSpan& own : plan.own) {
        caps += own.pages;  // copies of the PD's own frames, moved into it
    }
    return caps;
}

unsigned book_radix_for(uint64_t caps) {
    const unsigned radix = bits_for(caps < 2 ? 2 : caps);
    return radix < kMinBookRadix ? kMinBookRadix : radix;
}

Result<BuildPlan, SpawnError> make_build_plan(std::span<const uint8_t> elf, const PdConfig& config,
                                              std::span<const OwnRegion> own_regions,
                                              CapTypeLookup cap_type) {
    BuildPlan plan;
    auto load = elf::make_load_plan(elf);
    if (!load) {
        return fail(SpawnError::parse(load.error()));
    }
    plan.load = load.value();
    TRY(resolve_regions(config, own_regions, plan));
    LayoutRequest request;
    request.plan = &plan.load;
    request.regions = plan.region_list();
    request.stack_size = stack_size_for(config, plan.load);
    request.heap_size = config.heap_size;
    auto layout = plan_layout(request);
    if (!layout) {
        return fail(SpawnError::layout(layout.error().error, layout.error().region));
    }
    plan.layout = layout.value();
    if (config.give_own_frames) {
        TRY(plan_own_frames(plan));
    }
    TRY(check_scalars(config, plan, cap_type));
    TRY(place_grants(config, cap_type, plan));
    plan.book_caps = book_caps_for(plan);
    plan.book_radix = book_radix_for(plan.book_caps);
    plan.identity_bytes =
        identity_budget_bytes(config.cnode_radix, config.fault == FaultPolicy::kNewEndpoint);
    plan.image_bytes = image_budget_bytes(plan.layout, plan.book_radix);
    return plan;
}

}  // namespace tessera::pd
