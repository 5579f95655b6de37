// The PD builder. Order: parse, plan and check the whole configuration (nothing allocated yet),
// take the budgets, make the objects, fill and map every page through the parent's scratch
// mapping, give the capabilities, write the startup record, configure and start the thread. Any
// failure releases what was taken, so a failed spawn or exec leaves nothing behind; destroying
// a PD is releasing its two budgets.
#include "tessera/pd_loader.hpp"

#include <bit>

#include "abi/bootinfo.hpp"
#include "abi/process.hpp"
#include "abi/startup.hpp"
#include "elf/load_plan.hpp"
#include "pd/startup_record_writer.hpp"
#include "tessera/invocation.hpp"
#include "tessera/vspace_manager.hpp"

extern "C" void* memcpy(void* dest, const void* src, size_t n);

namespace tessera {
namespace {

using abi::CapPtr;
using abi::ObjectType;
using pd::PageSize;
using pd::RegionSpec;
using pd::Sharing;

constexpr uint64_t kPage = pd::kSmallPage;
constexpr uint64_t kLargePage = pd::kLargePage;
constexpr uint64_t kDepth = 64;
constexpr unsigned kMaxRadix = 12;
constexpr uint64_t kMaxChildSlots = uint64_t{1} << kMaxRadix;
constexpr size_t kMaxGrants = 32;
constexpr size_t kMaxBulk = 4;
constexpr uint64_t kDefaultStack = uint64_t{64} * 1024;

// A set of child CNode slots (radix up to kMaxRadix).
class SlotSet {
  public:
    void add(uint64_t slot) { bits_[slot / 64] |= uint64_t{1} << (slot % 64); }
    [[nodiscard]] bool has(uint64_t slot) const {
        return (bits_[slot / 64] >> (slot % 64) & 1) != 0;
    }

  private:
    uint64_t bits_[kMaxChildSlots / 64] = {};
};

// The identity budget: the CNode, the TCB and a fault endpoint, as a power of two.
unsigned identity_bits(unsigned radix) {
    uint64_t bytes = (uint64_t{1} << (radix + abi::kSlotSizeBits)) +
                     (uint64_t{1} << abi::kTcbSizeBits) + (uint64_t{1} << abi::kEndpointSizeBits);
    return static_cast<unsigned>(64 - std::countl_zero(bytes - 1));
}

// What the creator's capability at slot is (CNodeIdentify on its own CNode: no debug call).
CapIdentity identify(const LoaderEnvironment& env, uint64_t slot) {
    return cnode_identify(env.cnode, slot, kDepth);
}

void mark(const LoaderEnvironment& env, SpawnPhase phase) {
    if (env.profile != nullptr) {
        env.profile->mark(phase);
    }
}

SpawnError kernel_failure(SpawnStep step, abi::Error error) {
    SpawnError e;
    e.step = step;
    e.kernel_error = error;
    return e;
}

SpawnError config_failure(ConfigError error, int index = -1) {
    SpawnError e;
    e.step = SpawnStep::kConfig;
    e.config_error = error;
    e.index = index;
    return e;
}

// The PD's own regions whose frames it is given (PdConfig::give_own_frames).
enum OwnKind : uint8_t { kOwnCode, kOwnData, kOwnStack, kOwnHeap, kOwnIpcBuffer, kOwnKinds };
struct OwnKindInfo {
    const char* name;
    abi::RegionKind kind;
    uint64_t rights;  // of the mapping; the capabilities get read, and write if it is writable
};
constexpr OwnKindInfo kOwnKindInfo[kOwnKinds] = {
    {"code", abi::RegionKind::kCode, abi::kMapRead | abi::kMapExecute},
    {"data", abi::RegionKind::kData, abi::kMapRead | abi::kMapWrite},
    {"stack", abi::RegionKind::kStack, abi::kMapRead | abi::kMapWrite},
    {"heap", abi::RegionKind::kHeap, abi::kMapRead | abi::kMapWrite},
    {"ipc-buffer", abi::RegionKind::kIpcBuffer, abi::kMapRead | abi::kMapWrite},
};

// One of them: pages from low, and the child slots their frames go to.
struct OwnSpan {
    uint64_t low = 0;
    uint64_t pages = 0;
    uint64_t child_slot = 0;

    [[nodiscard]] bool holds(uint64_t address) const {
        return address >= low && address - low < pages * pd::kSmallPage;
    }
};

// Everything decided before allocation: the load plan, the layout and where each granted
// capability goes in the child.
struct Plan {
    elf::LoadPlan load;
    pd::Layout layout;
    // The configuration's regions, those shared by kind resolved to the creator's frames.
    RegionSpec regions[pd::kMaxRegions];
    size_t region_count = 0;
    uint64_t region_frames_slot[pd::kMaxRegions] = {};  // child slots of given frames (0: none)
    OwnSpan own[kOwnKinds];                             // give_own_frames (pages 0: not given)
    uint64_t grant_slot[kMaxGrants] = {};
    abi::CapType grant_type[kMaxGrants] = {};
    uint64_t bulk_slot[kMaxBulk] = {};
    uint64_t bulk_count[kMaxBulk] = {};
    uint64_t first_free = abi::kPdSlotFirstFree;  // after every grant

    [[nodiscard]] std::span<const RegionSpec> region_list() const {
        return std::span<const RegionSpec>(regions, region_count);
    }
};

// Copies the configuration's regions, filling in those shared by kind alone from the creator's
// own regions.
Result<void, SpawnError> resolve_regions(const LoaderEnvironment& env, const PdConfig& config,
                                         Plan& plan) {
    if (config.regions.size() > pd::kMaxRegions) {
        SpawnError e = config_failure(ConfigError::kLayout);
        e.layout_error = pd::LayoutError::kTooManyRegions;
        return fail(e);
    }
    plan.region_count = config.regions.size();
    for (size_t i = 0; i < config.regions.size(); ++i) {
        RegionSpec r = config.regions[i];
        if (r.sharing == Sharing::kShared && r.frames == 0) {
            const OwnRegion* own = nullptr;
            for (const OwnRegion& o : env.own_regions) {
                if (o.kind == r.kind && o.frames != 0) {
                    own = &o;
                    break;
                }
            }
            if (own == nullptr) {
                return fail(config_failure(ConfigError::kNoOwnRegion, static_cast<int>(i)));
            }
            r.frames = own->frames;
            r.page_size = own->page_size;
            r.size = r.size == 0 ? own->size : r.size;
            if (r.size > own->size) {
                SpawnError e = config_failure(ConfigError::kLayout, static_cast<int>(i));
                e.layout_error = pd::LayoutError::kMisalignedSize;
                return fail(e);
            }
        }
        plan.regions[i] = r;
    }
    return {};
}

uint64_t stack_size_for(const PdConfig& config, const elf::LoadPlan& plan) {
    if (config.stack_size != 0) {
        return config.stack_size;
    }
    if (plan.stack_size != 0) {
        return (plan.stack_size + kPage - 1) & ~(kPage - 1);
    }
    return kDefaultStack;
}

// The image's code (executable pages) and data (writable pages), each one run of pages, and the
// stack, heap and IPC buffer from the layout.
Result<void, SpawnError> plan_own_frames(Plan& plan) {
    uint64_t high[2] = {};
    OwnSpan* spans[2] = {&plan.own[kOwnCode], &plan.own[kOwnData]};
    elf::for_each_page(plan.load, [&](const elf::PagePlan& page) {
        const bool kinds[2] = {elf::has(page.rights, elf::Rights::kExecute),
                               elf::has(page.rights, elf::Rights::kWrite)};
        for (size_t k = 0; k < 2; ++k) {
            if (kinds[k]) {
                spans[k]->low = spans[k]->pages == 0 ? page.address : spans[k]->low;
                ++spans[k]->pages;
                high[k] = page.address + pd::kSmallPage;
            }
        }
    });
    for (size_t k = 0; k < 2; ++k) {
        if (spans[k]->pages != 0 && (high[k] - spans[k]->low) / pd::kSmallPage != spans[k]->pages) {
            return fail(config_failure(ConfigError::kOwnFramesSplit, static_cast<int>(k)));
        }
    }
    const pd::Layout& l = plan.layout;
    plan.own[kOwnStack] = OwnSpan{l.stack_low, (l.stack_top - l.stack_low) / pd::kSmallPage, 0};
    plan.own[kOwnHeap] = OwnSpan{l.heap_base, l.heap_size / pd::kSmallPage, 0};
    plan.own[kOwnIpcBuffer] = OwnSpan{abi::kPdIpcBuffer, 1, 0};
    return {};
}

Result<Plan, SpawnError> make_plan(const LoaderEnvironment& env, std::span<const uint8_t> elf,
                                   const PdConfig& config) {
    Plan plan;
    auto load = elf::make_load_plan(elf);
    if (!load) {
        SpawnError e;
        e.step = SpawnStep::kParse;
        e.elf_error = load.error();
        return fail(e);
    }
    plan.load = load.value();
    TRY(resolve_regions(env, config, plan));
    pd::LayoutRequest request;
    request.plan = &plan.load;
    request.regions = plan.region_list();
    request.stack_size = stack_size_for(config, plan.load);
    request.heap_size = config.heap_size;
    auto layout = pd::plan_layout(request);
    if (!layout) {
        SpawnError e = config_failure(ConfigError::kLayout, layout.error().region);
        e.layout_error = layout.error().error;
        return fail(e);
    }
    plan.layout = layout.value();
    if (config.give_own_frames) {
        TRY(plan_own_frames(plan));
    }

    if (config.name.size() >= abi::kStartupNameLength) {
        return fail(config_failure(ConfigError::kNameTooLong));
    }
    if (config.cnode_radix < abi::kPdCNodeRadix || config.cnode_radix > kMaxRadix ||
        config.max_priority > 255 || config.priority > 255) {
        return fail(config_failure(ConfigError::kBadNumber));
    }
    if (!pd::startup_strings_fit(config.arguments, config.environment)) {
        return fail(config_failure(ConfigError::kArgumentsTooLong));
    }
    if (config.fault == FaultPolicy::kCreatorEndpoint &&
        identify(env, config.fault_endpoint).type != abi::CapType::kEndpoint) {
        return fail(config_failure(ConfigError::kNoFaultEndpoint));
    }
    for (size_t i = 0; i < plan.region_count; ++i) {
        const RegionSpec& r = plan.regions[i];
        if (r.frames == 0) {
            continue;
        }
        uint64_t count = r.size / pd::bytes_of(r.page_size);
        for (uint64_t f = 0; f < count; ++f) {
            if (identify(env, r.frames + f).type != abi::CapType::kFrame) {
                return fail(config_failure(ConfigError::kNotFrames, static_cast<int>(i)));
            }
        }
    }

    // Capabilities: explicit slots first, then the rest in order from the first free slot.
    if (config.caps.size() > kMaxGrants || config.bulk.size() > kMaxBulk) {
        return fail(config_failure(ConfigError::kTooManyCaps));
    }
    const uint64_t child_slots = uint64_t{1} << config.cnode_radix;
    size_t listed = 3;  // parent, fault and self entries at most
    SlotSet taken;
    for (size_t i = 0; i < config.caps.size(); ++i) {
        const CapGrant& g = config.caps[i];
        int index = static_cast<int>(i);
        if (g.name.size() >= abi::kStartupNameLength) {
            return fail(config_failure(ConfigError::kNameTooLong, index));
        }
        plan.grant_type[i] = identify(env, g.source).type;
        if (g.source == 0 || plan.grant_type[i] == abi::CapType::kNull) {
            return fail(config_failure(ConfigError::kSourceSlotEmpty, index));
        }
        if (g.slot != 0) {
            if (g.slot < abi::kPdSlotFirstFree || g.slot >= child_slots) {
                return fail(config_failure(ConfigError::kChildSlotInvalid, index));
            }
            if (taken.has(g.slot)) {
                return fail(config_failure(ConfigError::kChildSlotTaken, index));
            }
            taken.add(g.slot);
            plan.grant_slot[i] = g.slot;
        }
        listed += g.name.empty() ? 0 : 1;
    }
    uint64_t next = abi::kPdSlotFirstFree;
    auto next_free = [&]() -> uint64_t {
        while (next < child_slots && taken.has(next)) {
            ++next;
        }
        return next < child_slots ? next++ : 0;
    };
    for (size_t i = 0; i < config.caps.size(); ++i) {
        if (plan.grant_slot[i] == 0) {
            plan.grant_slot[i] = next_free();
            if (plan.grant_slot[i] == 0) {
                return fail(config_failure(ConfigError::kTooManyCaps, static_cast<int>(i)));
            }
        }
    }
    for (size_t b = 0; b < config.bulk.size(); ++b) {
        const BulkGrant& g = config.bulk[b];
        if (g.name.size() >= abi::kStartupNameLength) {
            return fail(config_failure(ConfigError::kNameTooLong, static_cast<int>(b)));
        }
        // Bulk grants take a run of slots above every other grant.
        uint64_t first = 0;
        for (uint64_t s = g.first; s < g.end; ++s) {
            if (identify(env, s).type == g.type) {
                uint64_t slot = next_free();
                if (slot == 0) {
                    return fail(config_failure(ConfigError::kTooManyCaps, static_cast<int>(b)));
                }
                first = first == 0 ? slot : first;
                ++plan.bulk_count[b];
            }
        }
        plan.bulk_slot[b] = first;
        ++listed;
    }
    // Given frames take runs of slots above the single grants, like bulk grants (0: no room).
    auto claim_run = [&](uint64_t count) -> uint64_t {
        uint64_t first = 0;
        for (uint64_t p = 0; p < count; ++p) {
            uint64_t slot = next_free();
            if (slot == 0 || (p > 0 && slot != first + p)) {
                return 0;
            }
            first = p == 0 ? slot : first;
        }
        return first;
    };
    for (size_t i = 0; i < plan.region_count; ++i) {
        const RegionSpec& r = plan.regions[i];
        if (r.give_frames) {
            plan.region_frames_slot[i] = claim_run(r.size / pd::bytes_of(r.page_size));
            if (plan.region_frames_slot[i] == 0) {
                return fail(config_failure(ConfigError::kTooManyCaps, static_cast<int>(i)));
            }
            ++listed;
        }
    }
    for (OwnSpan& own : plan.own) {
        if (own.pages != 0) {
            own.child_slot = claim_run(own.pages);
            if (own.child_slot == 0) {
                return fail(config_failure(ConfigError::kTooManyCaps));
            }
            ++listed;
        }
    }
    if (listed > abi::kStartupMaxCaps) {
        return fail(config_failure(ConfigError::kTooManyCaps));
    }
    uint64_t highest = next;
    for (uint64_t s = next; s < child_slots; ++s) {
        highest = taken.has(s) ? s + 1 : highest;
    }
    plan.first_free = highest < child_slots ? highest : child_slots;
    return plan;
}

// Objects made from one budget; every capability lands in a recorded root slot.
class Carver {
  public:
    Carver(LoaderEnvironment& env, Budget& budget) : env_(env), budget_(budget) {}

    // A root slot recorded in this budget; `copies` marks a slot for a capability derived from
    // the creator's rather than from the budget.
    uint64_t slot(bool copies = false) {
        uint64_t s = env_.slots->allocate();
        if (s == 0) {
            return 0;
        }
        if (!record(s, s + 1, copies)) {
            env_.slots->free(s);
            return 0;
        }
        return s;
    }

    bool record(uint64_t start, uint64_t end, bool copies) {
        auto& ranges = budget_.slot_ranges;
        unsigned& n = budget_.slot_range_count;
        if (n > 0 && ranges[n - 1].end == start && ranges[n - 1].copies == copies) {
            ranges[n - 1].end = end;
        } else if (n < Budget::kMaxSlotRanges) {
            ranges[n++] = Budget::SlotRange{start, end, copies};
        } else {
            return false;
        }
        return true;
    }

    // Takes the budget itself, a block of the environment's untyped memory.
    Result<void, SpawnError> reserve(unsigned bits) {
        budget_.bits = bits;
        budget_.untyped = env_.memory->allocate(bits);
        if (budget_.untyped == 0) {
            return fail(kernel_failure(SpawnStep::kBudget, abi::Error::kNotEnoughMemory));
        }
        return {};
    }

    // `count` objects in consecutive slots with one retype; returns the first slot.
    Result<uint64_t, SpawnError> make_many(ObjectType type, uint64_t size_bits, uint64_t count,
                                           SpawnStep step) {
        uint64_t first = env_.slots->allocate_run(count);
        if (first == 0) {
            return fail(kernel_failure(step, abi::Error::kNotEnoughMemory));
        }
        return retype_into(type, size_bits, first, count, step);
    }

    struct Run {
        uint64_t first;
        uint64_t count;
    };
    // Up to `most` objects of a fixed-size type with one retype: as many as the longest run of
    // free slots up to `most` allows.
    Result<Run, SpawnError> make_run(ObjectType type, uint64_t most, SpawnStep step) {
        uint64_t count = most;
        uint64_t first = env_.slots->allocate_run(count);
        while (first == 0 && count > 1) {
            count /= 2;
            first = env_.slots->allocate_run(count);
        }
        if (first == 0) {
            return fail(kernel_failure(step, abi::Error::kNotEnoughMemory));
        }
        return Run{TRY(retype_into(type, 0, first, count, step)), count};
    }

    // Retypes count objects into the allocated slots first.. (recorded, or freed on failure).
    Result<uint64_t, SpawnError> retype_into(ObjectType type, uint64_t size_bits, uint64_t first,
                                             uint64_t count, SpawnStep step) {
        if (!record(first, first + count, false)) {
            for (uint64_t s = first; s < first + count; ++s) {
                env_.slots->free(s);
            }
            return fail(kernel_failure(step, abi::Error::kNotEnoughMemory));
        }
        InvocationResult r = untyped_retype(CapPtr(budget_.untyped), type, size_bits, env_.cnode, 0,
                                            0, first, count);
        if (!r.ok()) {
            return fail(kernel_failure(step, r.error));
        }
        return first;
    }

    Result<uint64_t, SpawnError> make(ObjectType type, uint64_t size_bits, SpawnStep step) {
        return make_many(type, size_bits, 1, step);
    }

    // A copy of the creator's capability at source, in a recorded slot.
    Result<uint64_t, SpawnError> copy(uint64_t source, SpawnStep step) {
        uint64_t s = slot(true);
        if (s == 0) {
            return fail(kernel_failure(step, abi::Error::kNotEnoughMemory));
        }
        InvocationResult r =
            cnode_copy(env_.cnode, s, kDepth, env_.cnode, source, kDepth, abi::kRightsAll);
        if (!r.ok()) {
            return fail(kernel_failure(step, r.error));
        }
        return s;
    }

  private:
    LoaderEnvironment& env_;
    Budget& budget_;
};

void release(LoaderEnvironment& env, Budget& budget) {
    // Copies first: a shared frame is unmapped from the VSpace before the VSpace goes.
    for (unsigned i = 0; i < budget.slot_range_count; ++i) {
        if (budget.slot_ranges[i].copies) {
            for (uint64_t s = budget.slot_ranges[i].start; s < budget.slot_ranges[i].end; ++s) {
                (void)cnode_delete(env.cnode, s, kDepth);
            }
        }
    }
    env.memory->free(budget.untyped);  // revokes every object of the budget
    for (unsigned i = 0; i < budget.slot_range_count; ++i) {
        for (uint64_t s = budget.slot_ranges[i].start; s < budget.slot_ranges[i].end; ++s) {
            env.slots->free(s);
        }
    }
    budget = Budget{};
}

uint64_t map_rights(elf::Rights r) {
    uint64_t rights = abi::kMapRead;
    if (elf::has(r, elf::Rights::kWrite)) {
        rights |= abi::kMapWrite;
    }
    if (elf::has(r, elf::Rights::kExecute)) {
        rights |= abi::kMapExecute;
    }
    return rights;
}

// Bytes an image needs from its budget, as a power of two. Large frames come first in the
// budget, so it is aligned for them.
unsigned image_bits_for(const pd::Layout& layout) {
    uint64_t bytes =
        layout.large_frames * kLargePage + (layout.small_frames + layout.tables + 1) * kPage;
    return static_cast<unsigned>(64 - std::countl_zero(bytes - 1));
}

// A new image: VSpace (with ASID), the ELF's pages, stack, heap, regions, startup record and IPC
// buffer, all from one budget.
struct Image {
    uint64_t vspace = 0;
    uint64_t ipc_frame = 0;
    uint64_t pages = 0;
    uint64_t tables = 0;
    // Copies of frames the child is given: count from creator slot `from` to child slot `to`.
    struct GivenRun {
        uint64_t from;
        uint64_t to;
        uint64_t count;
    };
    GivenRun given[pd::kMaxRegions + kOwnKinds] = {};
    size_t given_count = 0;
    uint64_t own_given[kOwnKinds] = {};  // where the copies of the PD's own frames go
};

class ImageBuilder {
  public:
    ImageBuilder(LoaderEnvironment& env, Carver& carver, const Plan& plan, const PdConfig& config)
        : env_(env), carver_(carver), plan_(plan), config_(config) {}

    Result<Image, SpawnError> build(std::span<const uint8_t> elf) {
        const pd::Layout& layout = plan_.layout;
        // Large frames first: the budget's start is aligned for them.
        if (layout.large_frames > 0) {
            next_large_ = TRY(carver_.make_many(ObjectType::kFrame2M, 0, layout.large_frames,
                                                SpawnStep::kRegions));
        }
        image_.vspace = TRY(carver_.make(ObjectType::kVSpace, 0, SpawnStep::kObjects));
        small_left_ = layout.small_frames;
        TRY(refill());
        InvocationResult a = asid_pool_assign(env_.asid_pool, CapPtr(image_.vspace));
        if (!a.ok()) {
            return fail(kernel_failure(SpawnStep::kObjects, a.error));
        }
        mark(env_, SpawnPhase::kImageObjects);
        TRY(reserve_own_frames());
        TRY(load_elf(elf));
        mark(env_, SpawnPhase::kImagePages);
        TRY(fresh_pages(layout.stack_low, (layout.stack_top - layout.stack_low) / kPage));
        TRY(fresh_pages(layout.heap_base, layout.heap_size / kPage));
        for (size_t i = 0; i < plan_.region_count; ++i) {
            TRY(region(plan_.regions[i], layout.addresses[i], i));
        }
        mark(env_, SpawnPhase::kRegions);
        TRY(startup_record());
        image_.ipc_frame = TRY(next_small(SpawnStep::kRegions));
        TRY(map(image_.ipc_frame, abi::kPdIpcBuffer, abi::kMapRead | abi::kMapWrite,
                abi::MapAttributes::kCached, SpawnStep::kRegions));
        TRY(give_own(image_.ipc_frame, 1, abi::kPdIpcBuffer));
        ++image_.pages;
        mark(env_, SpawnPhase::kStartupRecord);
        return image_;
    }

  private:
    uint64_t scratch_small(unsigned n) const { return env_.scratch_address + n * kPage; }
    uint64_t scratch_large(unsigned n) const { return env_.scratch_address + (n + 1) * kLargePage; }

    // Pages to the end of the last-level table holding va: a run of 4 KiB pages mapped with
    // one call stays inside one table.
    static uint64_t pages_left_in_table(uint64_t va) {
        return (kLargePage - (va & (kLargePage - 1))) / kPage;
    }

    // Creator slots for copies of the PD's own frames (give_own_frames), recorded so whatever
    // is not moved to the child goes with the image.
    Result<void, SpawnError> reserve_own_frames() {
        for (size_t k = 0; k < kOwnKinds; ++k) {
            if (plan_.own[k].pages != 0) {
                image_.own_given[k] =
                    TRY(reserve_given(plan_.own[k].pages, plan_.own[k].child_slot));
            }
        }
        return {};
    }

    // A run of creator slots for copies of `pages` frames that go to child slots from `to`,
    // recorded in the budget so whatever is not moved to the child goes with the image.
    Result<uint64_t, SpawnError> reserve_given(uint64_t pages, uint64_t to) {
        uint64_t run = env_.slots->allocate_run(pages);
        if (run == 0 || !carver_.record(run, run + pages, true)) {
            for (uint64_t s = run; run != 0 && s < run + pages; ++s) {
                env_.slots->free(s);
            }
            return fail(kernel_failure(SpawnStep::kRegions, abi::Error::kNotEnoughMemory));
        }
        image_.given[image_.given_count++] = Image::GivenRun{run, to, pages};
        return run;
    }

    // Copies the frames first .. first + count - 1, mapped from address on, into the slots of
    // the own regions that hold them.
    Result<void, SpawnError> give_own(uint64_t first, uint64_t count, uint64_t address) {
        if (!config_.give_own_frames) {
            return {};
        }
        for (uint64_t i = 0; i < count; ++i) {
            const uint64_t at = address + i * kPage;
            for (size_t k = 0; k < kOwnKinds; ++k) {
                const OwnSpan& own = plan_.own[k];
                if (!own.holds(at)) {
                    continue;
                }
                const uint64_t rights = (kOwnKindInfo[k].rights & abi::kMapWrite) != 0
                                            ? abi::kRightRead | abi::kRightWrite
                                            : abi::kRightRead;
                InvocationResult c =
                    cnode_copy(env_.cnode, image_.own_given[k] + (at - own.low) / kPage, kDepth,
                               env_.cnode, first + i, kDepth, rights);
                if (!c.ok()) {
                    return fail(kernel_failure(SpawnStep::kRegions, c.error));
                }
            }
        }
        return {};
    }

    // A run of the ELF's pages: consecutive pages with the same rights, all filled from the
    // file or all zero, inside one last-level table and on consecutive frames.
    struct PageRun {
        uint64_t first_frame;
        uint64_t address;
        uint64_t count;
        uint64_t rights;
        bool filled;
    };
    static constexpr size_t kMaxGroupRuns = 16;
    static constexpr uint64_t kLongZeroRun = 16;  // pages: not worth a place in the scratch window

    // Runs are gathered into groups on one batch of frames. A group's filled runs are mapped
    // into the scratch window together, filled, and unmapped with one call each way; every run
    // then goes into the new VSpace with one call.
    Result<void, SpawnError> load_elf(std::span<const uint8_t> elf) {
        constexpr SpawnStep kStep = SpawnStep::kImage;
        PageRun group[kMaxGroupRuns];
        size_t runs = 0;
        elf::PagePlan page;
        elf::PagePlan after;
        bool more = elf::next_page(plan_.load, 0, page);
        while (more) {
            const uint64_t start = page.address;
            const uint64_t rights = map_rights(page.rights);
            const bool filled = !page.all_zero();
            if (runs > 0 && (runs == kMaxGroupRuns || next_small_ == end_small_)) {
                TRY(flush_group(elf, group, runs));  // a new batch is not contiguous with it
                runs = 0;
            }
            uint64_t limit = TRY(frames_in_batch(kStep));
            uint64_t in_table = pages_left_in_table(start);
            limit = limit < in_table ? limit : in_table;
            // Whole stretches of one segment at a time; a page-by-page walk elsewhere.
            uint64_t count = 0;
            for (;;) {
                uint64_t stretch = (elf::uniform_run_end(plan_.load, page) - page.address) / kPage;
                count += stretch < limit - count ? stretch : limit - count;
                more = elf::next_page(plan_.load, start + count * kPage, after);
                if (!more || count == limit || after.address != start + count * kPage ||
                    map_rights(after.rights) != rights || after.all_zero() == filled) {
                    break;
                }
                page = after;
            }
            group[runs++] = PageRun{take_frames(count), start, count, rights, filled};
            if (!filled && count >= kLongZeroRun) {
                TRY(flush_group(elf, group, runs));  // later filled runs get their own window
                runs = 0;
            }
            page = after;
        }
        return flush_group(elf, group, runs);
    }

    Result<void, SpawnError> flush_group(std::span<const uint8_t> elf, const PageRun* group,
                                         size_t runs) {
        constexpr SpawnStep kStep = SpawnStep::kImage;
        uint64_t low = 0;
        uint64_t high = 0;
        for (size_t i = 0; i < runs; ++i) {
            if (group[i].filled) {
                low = low == 0 ? group[i].first_frame : low;
                high = group[i].first_frame + group[i].count;
            }
        }
        if (high != 0) {
            const uint64_t window = scratch_small(0);
            InvocationResult r =
                vspace_map_frames(env_.vspace, CapPtr(low), high - low, window,
                                  abi::kMapRead | abi::kMapWrite, abi::MapAttributes::kCached);
            if (!r.ok()) {
                return fail(kernel_failure(kStep, r.error));
            }
            for (size_t i = 0; i < runs; ++i) {
                if (group[i].filled) {
                    fill_run(elf, group[i], window + (group[i].first_frame - low) * kPage);
                }
            }
            (void)vspace_unmap_frames(env_.vspace, CapPtr(low), high - low);
        }
        for (size_t i = 0; i < runs; ++i) {
            const PageRun& run = group[i];
            TRY(map_run(run.first_frame, run.count, run.address, run.rights,
                        abi::MapAttributes::kCached, kStep));
            TRY(give_own(run.first_frame, run.count, run.address));
            image_.pages += run.count;
        }
        return {};
    }

    // Copies the file's bytes into a run's frames, mapped at dest (they arrive zeroed, so only
    // the copy ranges are written).
    void fill_run(std::span<const uint8_t> elf, const PageRun& run, uint64_t window) {
        elf::PagePlan page;
        const uint64_t end = run.address + run.count * kPage;
        for (uint64_t at = run.address; at < end;) {
            (void)elf::next_page(plan_.load, at, page);  // the run's page at `at`
            auto* dest = reinterpret_cast<uint8_t*>(window + (at - run.address));
            uint64_t stretch_end = elf::uniform_run_end(plan_.load, page);
            stretch_end = stretch_end < end ? stretch_end : end;
            if (stretch_end > at + kPage) {
                // Whole file pages from consecutive file bytes: one copy.
                memcpy(dest, elf.data() + page.copies[0].file_offset, stretch_end - at);
            } else {
                for (const elf::CopyRange& c : page.copy_ranges()) {
                    memcpy(dest + c.page_offset, elf.data() + c.file_offset, c.length);
                }
                stretch_end = at + kPage;
            }
            at = stretch_end;
        }
        if ((run.rights & abi::kMapExecute) != 0) {
            // Code must reach instruction fetch before the child runs it.
            for (uint64_t i = 0; i < run.count; ++i) {
                (void)frame_cache_op(CapPtr(run.first_frame + i), abi::CacheOp::kUnifyInstruction,
                                     0, kPage);
            }
        }
    }

    // `pages` fresh zeroed read-write pages from va up, in runs.
    Result<void, SpawnError> fresh_pages(uint64_t va, uint64_t pages) {
        constexpr SpawnStep kStep = SpawnStep::kRegions;
        while (pages > 0) {
            uint64_t count = TRY(frames_in_batch(kStep));
            uint64_t in_table = pages_left_in_table(va);
            count = count < in_table ? count : in_table;
            count = count < pages ? count : pages;
            uint64_t first = take_frames(count);
            TRY(map_run(first, count, va, abi::kMapRead | abi::kMapWrite,
                        abi::MapAttributes::kCached, kStep));
            TRY(give_own(first, count, va));
            image_.pages += count;
            va += count * kPage;
            pages -= count;
        }
        return {};
    }

    Result<void, SpawnError> region(const RegionSpec& r, uint64_t address, size_t index) {
        constexpr SpawnStep kStep = SpawnStep::kRegions;
        uint64_t page = pd::bytes_of(r.page_size);
        bool large = r.page_size == PageSize::k2M;
        auto attributes = r.device ? abi::MapAttributes::kDevice : abi::MapAttributes::kCached;
        // Copies of the region's frames, moved into the child's CSpace with its other caps.
        const uint64_t given =
            r.give_frames ? TRY(reserve_given(r.size / page, plan_.region_frames_slot[index])) : 0;
        const uint64_t given_rights =
            abi::kRightRead | ((r.rights & abi::kMapWrite) != 0 ? abi::kRightWrite : 0);
        for (uint64_t off = 0, i = 0; off < r.size; off += page, ++i) {
            uint64_t frame = 0;
            if (r.sharing == Sharing::kShared ||
                (r.sharing == Sharing::kDisjoint && r.frames != 0)) {
                frame = TRY(carver_.copy(r.frames + i, kStep));  // the creator's own page
            } else {
                frame = large ? next_large_++ : TRY(next_small(kStep));
                if (r.sharing == Sharing::kDeepCopy) {
                    TRY(copy_contents(frame, r.frames + i, r.rights, large));
                }
            }
            TRY(map(frame, address + off, r.rights, attributes, kStep, large));
            ++image_.pages;
            if (given != 0) {
                InvocationResult c = cnode_copy(env_.cnode, given + i, kDepth, env_.cnode, frame,
                                                kDepth, given_rights);
                if (!c.ok()) {
                    return fail(kernel_failure(kStep, c.error));
                }
            }
        }
        return {};
    }

    // Copies the contents of the creator's frame at source into frame (both of one size).
    Result<void, SpawnError> copy_contents(uint64_t frame, uint64_t source, uint64_t rights,
                                           bool large) {
        constexpr SpawnStep kStep = SpawnStep::kRegions;
        uint64_t size = large ? kLargePage : kPage;
        uint64_t temp = env_.slots->allocate();
        if (temp == 0) {
            return fail(kernel_failure(kStep, abi::Error::kNotEnoughMemory));
        }
        auto copied = [&]() -> Result<void, SpawnError> {
            InvocationResult c =
                cnode_copy(env_.cnode, temp, kDepth, env_.cnode, source, kDepth, abi::kRightRead);
            if (!c.ok()) {
                return fail(kernel_failure(kStep, c.error));
            }
            uint8_t* from = TRY(map_scratch(temp, large ? scratch_large(1) : scratch_small(1),
                                            kStep, abi::kMapRead));
            auto to = map_scratch(frame, large ? scratch_large(0) : scratch_small(0), kStep);
            if (!to) {
                (void)frame_unmap(CapPtr(temp));
                return fail(to.error());
            }
            memcpy(to.value(), from, size);
            (void)frame_unmap(CapPtr(temp));
            TRY(unmap_scratch(frame, rights, size));
            return {};
        }();
        (void)cnode_delete(env_.cnode, temp, kDepth);
        env_.slots->free(temp);
        return copied;
    }

    Result<void, SpawnError> startup_record() {
        constexpr SpawnStep kStep = SpawnStep::kRegions;
        const pd::Layout& layout = plan_.layout;
        uint64_t frame = TRY(next_small(kStep));
        uint8_t* page = TRY(map_scratch(frame, scratch_small(0), kStep));
        pd::StartupRecordWriter w(page, abi::kPdStartupRecord);
        abi::StartupRecord& r = w.record();
        r.parent_endpoint = config_.parent_endpoint != 0 ? abi::kPdSlotParentEndpoint : 0;
        r.fault_endpoint = config_.fault != FaultPolicy::kReport ? abi::kPdSlotFaultEndpoint : 0;
        r.cnode_radix = config_.cnode_radix;
        r.first_free_slot = plan_.first_free;
        r.stack_low = layout.stack_low;
        r.stack_top = layout.stack_top;
        r.heap_base = layout.heap_base;
        r.heap_size = layout.heap_size;
        r.ipc_buffer = abi::kPdIpcBuffer;
        auto type = [](abi::CapType t) { return static_cast<uint32_t>(t); };
        if (r.parent_endpoint != 0) {
            (void)w.add_cap("parent", abi::kPdSlotParentEndpoint, 1, type(abi::CapType::kEndpoint),
                            config_.badge);
        }
        if (config_.self_caps) {
            (void)w.add_cap("self-cnode", abi::kPdSlotSelfCNode, 1, type(abi::CapType::kCNode), 0);
            (void)w.add_cap("self-vspace", abi::kPdSlotSelfVSpace, 1, type(abi::CapType::kVSpace),
                            0);
            (void)w.add_cap("self-tcb", abi::kPdSlotSelfTcb, 1, type(abi::CapType::kTcb), 0);
        }
        for (size_t i = 0; i < config_.caps.size(); ++i) {
            const CapGrant& g = config_.caps[i];
            if (!g.name.empty()) {
                (void)w.add_cap(g.name, plan_.grant_slot[i], 1, type(plan_.grant_type[i]), g.badge);
            }
        }
        for (size_t b = 0; b < config_.bulk.size(); ++b) {
            const BulkGrant& g = config_.bulk[b];
            (void)w.add_cap(g.name, plan_.bulk_slot[b], static_cast<uint32_t>(plan_.bulk_count[b]),
                            type(g.type), 0);
        }
        (void)w.add_region("stack", layout.stack_low, layout.stack_top - layout.stack_low,
                           abi::RegionKind::kStack, abi::kMapRead | abi::kMapWrite);
        if (layout.heap_size != 0) {
            (void)w.add_region("heap", layout.heap_base, layout.heap_size, abi::RegionKind::kHeap,
                               abi::kMapRead | abi::kMapWrite);
        }
        for (size_t k = 0; k < kOwnKinds; ++k) {
            const OwnSpan& own = plan_.own[k];
            if (own.pages == 0) {
                continue;
            }
            (void)w.add_cap(kOwnKindInfo[k].name, own.child_slot, static_cast<uint32_t>(own.pages),
                            type(abi::CapType::kFrame), 0);
            if (k != kOwnStack && k != kOwnHeap) {  // listed below in any case
                (void)w.add_region(kOwnKindInfo[k].name, own.low, own.pages * kPage,
                                   kOwnKindInfo[k].kind,
                                   static_cast<uint32_t>(kOwnKindInfo[k].rights));
            }
        }
        for (size_t i = 0; i < plan_.region_count; ++i) {
            const RegionSpec& g = plan_.regions[i];
            if (g.give_frames) {
                (void)w.add_cap(g.name, plan_.region_frames_slot[i],
                                static_cast<uint32_t>(g.size / pd::bytes_of(g.page_size)),
                                type(abi::CapType::kFrame), 0);
            }
        }
        for (size_t i = 0; i < plan_.region_count; ++i) {
            const RegionSpec& s = plan_.regions[i];
            (void)w.add_region(s.name, layout.addresses[i], s.size, s.kind,
                               static_cast<uint32_t>(s.rights));
        }
        (void)w.set_strings(config_.arguments, config_.environment);  // checked by make_plan
        TRY(unmap_scratch(frame, abi::kMapRead | abi::kMapWrite, kPage));
        TRY(map(frame, abi::kPdStartupRecord, abi::kMapRead | abi::kMapWrite,
                abi::MapAttributes::kCached, kStep));
        ++image_.pages;
        return {};
    }

    Result<uint8_t*, SpawnError> map_scratch(uint64_t frame, uint64_t va, SpawnStep step,
                                             uint64_t rights = abi::kMapRead | abi::kMapWrite) {
        InvocationResult r =
            frame_map(CapPtr(frame), env_.vspace, va, rights, abi::MapAttributes::kCached);
        if (!r.ok()) {
            return fail(kernel_failure(step, r.error));
        }
        return reinterpret_cast<uint8_t*>(va);
    }

    // Unmaps a filled frame from the scratch range; code must reach instruction fetch.
    Result<void, SpawnError> unmap_scratch(uint64_t frame, uint64_t rights, uint64_t size) {
        if ((rights & abi::kMapExecute) != 0) {
            (void)frame_cache_op(CapPtr(frame), abi::CacheOp::kUnifyInstruction, 0, size);
        }
        (void)frame_unmap(CapPtr(frame));
        return {};
    }

    // Maps frame into the new VSpace at va, making tables as the kernel asks for them.
    Result<void, SpawnError> map(uint64_t frame, uint64_t va, uint64_t rights,
                                 abi::MapAttributes attributes, SpawnStep step,
                                 bool large = false) {
        return map_run(frame, 1, va, rights, attributes, step, large);
    }

    // Maps the frames first .. first + count - 1 into the new VSpace from va, with the page
    // tables made from the image budget as the kernel asks for them.
    Result<void, SpawnError> map_run(uint64_t first, uint64_t count, uint64_t va, uint64_t rights,
                                     abi::MapAttributes attributes, SpawnStep step,
                                     bool large = false) {
        table_step_ = step;
        table_error_ = abi::Error::kOk;
        InvocationResult r =
            map_frames(CapPtr(image_.vspace), CapPtr(first), count, va, rights, attributes, large,
                       TableSource{&ImageBuilder::make_tables, this}, &image_.tables);
        if (!r.ok()) {
            return fail(
                kernel_failure(step, table_error_ != abi::Error::kOk ? table_error_ : r.error));
        }
        return {};
    }

    static uint64_t make_tables(void* context, uint64_t count) {
        auto* self = static_cast<ImageBuilder*>(context);
        auto tables = self->carver_.make_many(ObjectType::kPageTable, 0, count, self->table_step_);
        if (!tables) {
            self->table_error_ = tables.error().kernel_error;
            return 0;
        }
        return tables.value();
    }

    // Frames left in the current batch of consecutive frames (a new batch when it is empty).
    Result<uint64_t, SpawnError> frames_in_batch(SpawnStep step) {
        if (next_small_ == end_small_) {
            TRY(refill());
            if (next_small_ == end_small_) {
                return fail(kernel_failure(step, abi::Error::kNotEnoughMemory));
            }
        }
        return end_small_ - next_small_;
    }

    // The next count frames of the batch (count <= frames_in_batch()).
    uint64_t take_frames(uint64_t count) {
        uint64_t first = next_small_;
        next_small_ += count;
        return first;
    }

    Result<void, SpawnError> refill() {
        constexpr uint64_t kBatch = 256;  // the kernel's fan-out limit per retype
        uint64_t n = small_left_ < kBatch ? small_left_ : kBatch;
        if (n == 0) {
            return {};
        }
        // A shorter batch where the creator's CSpace has no run of free slots that long.
        auto [first, count] = TRY(carver_.make_run(ObjectType::kFrame4K, n, SpawnStep::kImage));
        next_small_ = first;
        end_small_ = first + count;
        small_left_ -= count;
        return {};
    }

    Result<uint64_t, SpawnError> next_small(SpawnStep step) {
        if (next_small_ == end_small_) {
            TRY(refill());
            if (next_small_ == end_small_) {
                return fail(kernel_failure(step, abi::Error::kNotEnoughMemory));
            }
        }
        return next_small_++;
    }

    LoaderEnvironment& env_;
    Carver& carver_;
    const Plan& plan_;
    const PdConfig& config_;
    Image image_;
    uint64_t small_left_ = 0;
    uint64_t next_small_ = 0;
    uint64_t end_small_ = 0;
    uint64_t next_large_ = 0;
    SpawnStep table_step_ = SpawnStep::kImage;  // for errors while making tables
    abi::Error table_error_ = abi::Error::kOk;
};

Result<Image, SpawnError> build_image(LoaderEnvironment& env, Budget& budget, const Plan& plan,
                                      std::span<const uint8_t> elf, const PdConfig& config) {
    Carver carver(env, budget);
    TRY(carver.reserve(image_bits_for(plan.layout)));
    ImageBuilder builder(env, carver, plan, config);
    return builder.build(elf);
}

// Points the thread at its (new) image and starts it.
Result<void, SpawnError> start_thread(const PdHandle& pd) {
    uint64_t guard_bits = 64 - pd.radix;  // single-level CSpace: slot n is CapPtr(n)
    InvocationResult c =
        tcb_configure(CapPtr(pd.tcb), CapPtr(pd.fault_slot), CapPtr(pd.cnode), guard_bits,
                      CapPtr(pd.vspace), abi::kPdIpcBuffer, CapPtr(pd.ipc_frame));
    if (!c.ok()) {
        return fail(kernel_failure(SpawnStep::kThread, c.error));
    }
    uint64_t regs[abi::kUserRegisterCount] = {};
    regs[abi::kRegisterIndexPc] = pd.entry;
    regs[abi::kRegisterIndexSp] = pd.layout.stack_top;
    regs[abi::kRegisterIndexX0] = abi::kPdStartupRecord;
    regs[abi::kRegisterIndexTpidr] = abi::kPdIpcBuffer;
    InvocationResult w = tcb_write_registers(CapPtr(pd.tcb), true, regs, abi::kUserRegisterCount);
    if (!w.ok()) {
        return fail(kernel_failure(SpawnStep::kThread, w.error));
    }
    return {};
}

Result<void, SpawnError> give(const LoaderEnvironment& env, const PdHandle& pd, uint64_t slot,
                              uint64_t src, uint64_t rights, uint64_t badge) {
    InvocationResult m =
        badge != 0
            ? cnode_mint(CapPtr(pd.cnode), slot, pd.radix, env.cnode, src, kDepth, rights, badge)
            : cnode_copy(CapPtr(pd.cnode), slot, pd.radix, env.cnode, src, kDepth, rights);
    if (!m.ok()) {
        return fail(kernel_failure(SpawnStep::kCapabilities, m.error));
    }
    return {};
}

// The configured capabilities a PD gets, made first in the creator's own slots (for exec, while
// the PD still runs its old image): every copy or mint that could be refused happens here, so
// what follows is only moves into empty (or kept) slots.
struct Staged {
    struct One {
        uint64_t from = 0;  // creator slot holding the staged copy
        uint64_t to = 0;    // child slot
    };
    static constexpr size_t kMaxOnes = kMaxGrants + 5;
    One ones[kMaxOnes];
    size_t count = 0;
    struct Run {
        uint64_t from = 0;
        uint64_t to = 0;
        uint64_t count = 0;
    };
    Run runs[kMaxBulk];
    size_t run_count = 0;
    // A new PD: nothing of it runs yet, so copies go straight into its slots (no moves later;
    // a failed spawn destroys the PD with them).
    bool direct = false;
    CapPtr child;
    unsigned child_radix = 0;
};

// Deletes every staged copy and frees its slot (a failed exec, or one a kept slot made moot).
void unstage(const LoaderEnvironment& env, Staged& staged) {
    for (size_t i = 0; i < staged.count; ++i) {
        (void)cnode_delete(env.cnode, staged.ones[i].from, kDepth);
        env.slots->free(staged.ones[i].from);
    }
    for (size_t r = 0; r < staged.run_count; ++r) {
        for (uint64_t k = 0; k < staged.runs[r].count; ++k) {
            (void)cnode_delete(env.cnode, staged.runs[r].from + k, kDepth);
            env.slots->free(staged.runs[r].from + k);
        }
    }
    staged = Staged{};
}

Result<void, SpawnError> stage_one(const LoaderEnvironment& env, Staged& staged, uint64_t to,
                                   CapPtr src_root, uint64_t src, uint64_t rights, uint64_t data,
                                   bool mint) {
    if (staged.direct) {
        InvocationResult r =
            mint ? cnode_mint(staged.child, to, staged.child_radix, src_root, src, kDepth, rights,
                              data)
                 : cnode_copy(staged.child, to, staged.child_radix, src_root, src, kDepth, rights);
        if (!r.ok()) {
            return fail(kernel_failure(SpawnStep::kCapabilities, r.error));
        }
        return {};
    }
    uint64_t from = env.slots->allocate();
    if (from == 0 || staged.count == Staged::kMaxOnes) {
        if (from != 0) {
            env.slots->free(from);
        }
        return fail(kernel_failure(SpawnStep::kCapabilities, abi::Error::kNotEnoughMemory));
    }
    InvocationResult r =
        mint ? cnode_mint(env.cnode, from, kDepth, src_root, src, kDepth, rights, data)
             : cnode_copy(env.cnode, from, kDepth, src_root, src, kDepth, rights);
    if (!r.ok()) {
        env.slots->free(from);
        return fail(kernel_failure(SpawnStep::kCapabilities, r.error));
    }
    staged.ones[staged.count++] = Staged::One{from, to};
    return {};
}

// Everything the configuration copies or mints into the child, staged (or, for a new PD, put
// straight in); moves are not: they happen in place_staged, from slots the plan checked.
Result<void, SpawnError> stage_caps(const LoaderEnvironment& env, const PdHandle& pd,
                                    const Plan& plan, const Image& image, const PdConfig& config,
                                    Staged& staged) {
    auto attempt = [&]() -> Result<void, SpawnError> {
        if (config.self_caps) {
            TRY(stage_one(env, staged, abi::kPdSlotSelfCNode, env.cnode, pd.cnode, abi::kRightsAll,
                          64 - pd.radix, true));
            TRY(stage_one(env, staged, abi::kPdSlotSelfVSpace, env.cnode, image.vspace,
                          abi::kRightsAll, 0, false));
            TRY(stage_one(env, staged, abi::kPdSlotSelfTcb, env.cnode, pd.tcb, abi::kRightsAll, 0,
                          false));
        }
        if (config.console && env.console.value() != 0) {
            TRY(stage_one(env, staged, abi::kPdSlotConsole, env.cnode, env.console.value(),
                          abi::kRightsAll, 0, false));
        }
        if (config.debug && env.debug.value() != 0) {
            TRY(stage_one(env, staged, abi::kPdSlotDebug, env.cnode, env.debug.value(),
                          abi::kRightsAll, 0, false));
        }
        for (size_t i = 0; i < config.caps.size(); ++i) {
            const CapGrant& g = config.caps[i];
            if (!g.move) {
                TRY(stage_one(env, staged, plan.grant_slot[i], env.cnode, g.source, g.rights,
                              g.badge, g.badge != 0));
            }
        }
        for (size_t b = 0; b < config.bulk.size(); ++b) {
            const BulkGrant& g = config.bulk[b];
            const uint64_t wanted = plan.bulk_count[b];
            Staged::Run run;
            run.to = plan.bulk_slot[b];
            if (!staged.direct && wanted != 0) {
                run.from = env.slots->allocate_run(wanted);
                if (run.from == 0) {
                    return fail(
                        kernel_failure(SpawnStep::kCapabilities, abi::Error::kNotEnoughMemory));
                }
            }
            Staged::Run& recorded = staged.runs[staged.run_count];
            if (!staged.direct) {
                recorded = run;
                ++staged.run_count;
            }
            for (uint64_t s = g.first; s < g.end && run.count < wanted; ++s) {
                if (identify(env, s).type != g.type) {
                    continue;
                }
                InvocationResult r =
                    staged.direct ? cnode_copy(staged.child, run.to + run.count, staged.child_radix,
                                               env.cnode, s, kDepth, g.rights)
                                  : cnode_copy(env.cnode, run.from + run.count, kDepth, env.cnode,
                                               s, kDepth, g.rights);
                if (!r.ok()) {
                    return fail(kernel_failure(SpawnStep::kCapabilities, r.error));
                }
                ++run.count;
                recorded.count = staged.direct ? 0 : run.count;
            }
            for (uint64_t k = run.count; !staged.direct && k < wanted; ++k) {
                env.slots->free(run.from + k);  // fewer than planned: nothing else changed
            }
        }
        return {};
    }();
    if (!attempt) {
        unstage(env, staged);
    }
    return attempt;
}

// Moves the staged copies into the child, then the move grants and the given frames. A slot
// already occupied is one exec keeps (its declared channels): the staged copy goes and the slot
// keeps what it has. Any other refusal is the first error returned, after every move was tried
// (exec is past its point of no return by then; spawn fails).
Result<void, SpawnError> place_staged(const LoaderEnvironment& env, const PdHandle& pd,
                                      const Plan& plan, const Image& image, const PdConfig& config,
                                      Staged& staged) {
    abi::Error first = abi::Error::kOk;
    auto note = [&first](const InvocationResult& r) {
        if (!r.ok() && r.error != abi::Error::kDeleteFirst && first == abi::Error::kOk) {
            first = r.error;
        }
        return r.ok();
    };
    auto place = [&](uint64_t from, uint64_t to) {
        if (!note(cnode_move(CapPtr(pd.cnode), to, pd.radix, env.cnode, from, kDepth))) {
            (void)cnode_delete(env.cnode, from, kDepth);
        }
        env.slots->free(from);
    };
    for (size_t i = 0; i < staged.count; ++i) {
        place(staged.ones[i].from, staged.ones[i].to);
    }
    for (size_t r = 0; r < staged.run_count; ++r) {
        for (uint64_t k = 0; k < staged.runs[r].count; ++k) {
            place(staged.runs[r].from + k, staged.runs[r].to + k);
        }
    }
    staged = Staged{};
    for (size_t i = 0; i < config.caps.size(); ++i) {
        if (config.caps[i].move) {
            (void)note(cnode_move(CapPtr(pd.cnode), plan.grant_slot[i], pd.radix, env.cnode,
                                  config.caps[i].source, kDepth));
        }
    }
    for (size_t g = 0; g < image.given_count; ++g) {
        const Image::GivenRun& run = image.given[g];
        for (uint64_t p = 0; p < run.count; ++p) {
            (void)note(cnode_move(CapPtr(pd.cnode), run.to + p, pd.radix, env.cnode, run.from + p,
                                  kDepth));
        }
    }
    if (first != abi::Error::kOk) {
        return fail(kernel_failure(SpawnStep::kCapabilities, first));
    }
    return {};
}

void install_image(PdHandle& pd, const Plan& plan, const Image& image) {
    pd.vspace = image.vspace;
    pd.ipc_frame = image.ipc_frame;
    pd.pages = image.pages;
    pd.tables = image.tables;
    pd.entry = plan.load.entry;
    pd.layout = plan.layout;
}

void set_name(const PdHandle& pd, StringView text) {
    uint64_t name[3] = {};
    for (size_t i = 0; i < text.size() && i < 23; ++i) {
        name[i / 8] |= uint64_t{static_cast<uint8_t>(text[i])} << (8 * (i % 8));
    }
    (void)invoke(CapPtr(pd.tcb), abi::InvocationLabel::kTcbSetName, name);
}

}  // namespace

const char* to_string(SpawnStep step) {
    switch (step) {
        case SpawnStep::kParse:
            return "parsing the ELF image";
        case SpawnStep::kConfig:
            return "checking the configuration";
        case SpawnStep::kBudget:
            return "reserving the PD's memory budget";
        case SpawnStep::kObjects:
            return "creating the TCB, CNode and VSpace";
        case SpawnStep::kImage:
            return "loading the image";
        case SpawnStep::kRegions:
            return "creating the stack, heap, regions and IPC buffer";
        case SpawnStep::kCapabilities:
            return "giving the PD its capabilities";
        case SpawnStep::kThread:
            return "starting the thread";
    }
    return "unknown step";
}

const char* to_string(SpawnPhase phase) {
    switch (phase) {
        case SpawnPhase::kPlan:
            return "parse ELF, plan layout, check grants";
        case SpawnPhase::kIdentity:
            return "identity: budget, CNode, TCB";
        case SpawnPhase::kImageObjects:
            return "image budget, VSpace, ASID, frames";
        case SpawnPhase::kImagePages:
            return "ELF pages: fill and map";
        case SpawnPhase::kRegions:
            return "stack, heap and regions";
        case SpawnPhase::kStartupRecord:
            return "startup record and IPC buffer";
        case SpawnPhase::kCapabilities:
            return "capabilities";
        case SpawnPhase::kThread:
            return "configure and start the thread";
        case SpawnPhase::kReclaim:
            return "reclaim the old image (exec)";
        case SpawnPhase::kCount:
            break;
    }
    return "unknown phase";
}

const char* to_string(ConfigError error) {
    switch (error) {
        case ConfigError::kNone:
            return "no error";
        case ConfigError::kLayout:
            return "bad region layout";
        case ConfigError::kSourceSlotEmpty:
            return "a granted capability's slot is empty";
        case ConfigError::kChildSlotInvalid:
            return "a grant's slot is reserved or outside the PD's CNode";
        case ConfigError::kChildSlotTaken:
            return "two grants name the same slot";
        case ConfigError::kTooManyCaps:
            return "too many capabilities for the PD's CNode or directory";
        case ConfigError::kNameTooLong:
            return "name longer than 23 characters";
        case ConfigError::kArgumentsTooLong:
            return "arguments and environment do not fit the startup record";
        case ConfigError::kNotFrames:
            return "a region's frames are not frame capabilities";
        case ConfigError::kNoFaultEndpoint:
            return "fault endpoint is not an endpoint";
        case ConfigError::kBadNumber:
            return "CNode radix (8 to 12) or priority (0 to 255) out of range";
        case ConfigError::kNoOwnRegion:
            return "no region of the creator's has that kind to share";
        case ConfigError::kOwnFramesSplit:
            return "the image's code or data is not one run of pages";
    }
    return "unknown configuration error";
}

const char* detail(const SpawnError& error) {
    switch (error.step) {
        case SpawnStep::kParse:
            return elf::to_string(error.elf_error);
        case SpawnStep::kConfig:
            return error.config_error == ConfigError::kLayout ? pd::to_string(error.layout_error)
                                                              : to_string(error.config_error);
        default:
            return abi::error_name(error.kernel_error);
    }
}

Result<void, SpawnError> loader_init(LoaderEnvironment& env) {
    // Tables under the scratch range, made from one block kept for the parent's lifetime: one
    // walk to the small-page window; the large windows need only the level-2 table.
    uint64_t block = env.memory->allocate(abi::kPageTableSizeBits + 2);
    if (block == 0) {
        return fail(kernel_failure(SpawnStep::kBudget, abi::Error::kNotEnoughMemory));
    }
    for (unsigned i = 0; i < 4; ++i) {
        uint64_t s = env.slots->allocate();
        InvocationResult r =
            untyped_retype(CapPtr(block), ObjectType::kPageTable, 0, env.cnode, 0, 0, s, 1);
        if (!r.ok()) {
            return fail(kernel_failure(SpawnStep::kBudget, r.error));
        }
        r = page_table_map(CapPtr(s), env.vspace, env.scratch_address);
        if (r.error == abi::Error::kDeleteFirst) {
            (void)cnode_delete(env.cnode, s, kDepth);
            env.slots->free(s);
            return {};
        }
        if (!r.ok()) {
            return fail(kernel_failure(SpawnStep::kBudget, r.error));
        }
    }
    return {};
}

Result<void, SpawnError> check_config(const LoaderEnvironment& env, std::span<const uint8_t> elf,
                                      const PdConfig& config) {
    TRY(make_plan(env, elf, config));
    return {};
}

Result<PdHandle, SpawnError> spawn_pd(LoaderEnvironment& env, std::span<const uint8_t> elf,
                                      const PdConfig& config) {
    if (env.profile != nullptr) {
        env.profile->start();
    }
    const Plan plan = TRY(make_plan(env, elf, config));
    mark(env, SpawnPhase::kPlan);
    PdHandle pd;
    auto attempt = [&]() -> Result<void, SpawnError> {
        Carver identity(env, pd.identity);
        pd.radix = config.cnode_radix;
        TRY(identity.reserve(identity_bits(config.cnode_radix)));
        pd.cnode = TRY(identity.make(ObjectType::kCNode, config.cnode_radix, SpawnStep::kObjects));
        pd.tcb = TRY(identity.make(ObjectType::kTcb, 0, SpawnStep::kObjects));
        mark(env, SpawnPhase::kIdentity);
        Image image = TRY(build_image(env, pd.image, plan, elf, config));
        install_image(pd, plan, image);
        if (config.parent_endpoint != 0) {
            TRY(give(env, pd, abi::kPdSlotParentEndpoint, config.parent_endpoint,
                     abi::kRightWrite | abi::kRightGrantReply, config.badge));
        }
        if (config.fault == FaultPolicy::kNewEndpoint) {
            pd.fault_endpoint = TRY(identity.make(ObjectType::kEndpoint, 0, SpawnStep::kObjects));
        }
        if (config.fault != FaultPolicy::kReport) {
            uint64_t ep = config.fault == FaultPolicy::kNewEndpoint ? pd.fault_endpoint
                                                                    : config.fault_endpoint;
            TRY(give(env, pd, abi::kPdSlotFaultEndpoint, ep,
                     abi::kRightWrite | abi::kRightGrantReply, config.fault_badge));
            pd.fault_slot = abi::kPdSlotFaultEndpoint;
        }
        Staged staged;
        staged.direct = true;
        staged.child = CapPtr(pd.cnode);
        staged.child_radix = pd.radix;
        TRY(stage_caps(env, pd, plan, image, config, staged));
        TRY(place_staged(env, pd, plan, image, config, staged));
        mark(env, SpawnPhase::kCapabilities);
        InvocationResult p =
            tcb_set_priority(CapPtr(pd.tcb), env.tcb, config.priority, config.max_priority);
        if (!p.ok()) {
            return fail(kernel_failure(SpawnStep::kThread, p.error));
        }
        set_name(pd, config.name);
        TRY(start_thread(pd));
        mark(env, SpawnPhase::kThread);
        return {};
    };
    Result<void, SpawnError> built = attempt();
    if (!built) {
        destroy_pd(env, pd);  // everything made so far came from the two budgets
        return fail(built.error());
    }
    return pd;
}

Result<void, SpawnError> exec_pd(LoaderEnvironment& env, PdHandle& pd, std::span<const uint8_t> elf,
                                 const PdConfig& config) {
    if (env.profile != nullptr) {
        env.profile->start();
    }
    const Plan plan = TRY(make_plan(env, elf, config));
    mark(env, SpawnPhase::kPlan);
    // Build the new image whole while the old one is untouched.
    Budget fresh;
    auto image = build_image(env, fresh, plan, elf, config);
    if (!image) {
        release(env, fresh);
        return fail(image.error());
    }
    // Every capability it will get, staged: a refused copy or mint fails the exec here, with
    // the PD untouched.
    Staged staged;
    auto stage = stage_caps(env, pd, plan, image.value(), config, staged);
    if (!stage) {
        release(env, fresh);
        return fail(stage.error());
    }
    // Commit: stop the thread (cancelling whatever it was doing), prune the CSpace to what the
    // configuration declares, install the new image and the staged capabilities, restart.
    (void)tcb_suspend(CapPtr(pd.tcb));
    SlotSet declared;
    for (size_t i = 0; i < config.caps.size(); ++i) {
        if (config.caps[i].slot != 0) {
            declared.add(config.caps[i].slot);
        }
    }
    // One DeleteRange per run of undeclared slots.
    const uint64_t slots = uint64_t{1} << pd.radix;
    for (uint64_t s = abi::kPdSlotSelfCNode; s < slots;) {
        uint64_t end = s;
        while (end < slots && !declared.has(end)) {
            ++end;
        }
        if (end > s) {
            (void)cnode_delete_range(CapPtr(pd.cnode), s, pd.radix, end - s);
        }
        s = end + 1;
    }
    Budget old = pd.image;
    const uint64_t old_vspace = pd.vspace;
    pd.image = fresh;
    install_image(pd, plan, image.value());
    mark(env, SpawnPhase::kIdentity);  // suspending and pruning the CSpace
    // Past the point of no return: a refusal here (a bug of the builder) leaves it suspended.
    auto placed = place_staged(env, pd, plan, image.value(), config, staged);
    mark(env, SpawnPhase::kCapabilities);
    set_name(pd, config.name);
    // Its own objects, built above: starting the thread fails only on a bug of the builder.
    auto started = placed ? start_thread(pd) : Result<void, SpawnError>(fail(placed.error()));
    mark(env, SpawnPhase::kThread);
    (void)cnode_delete(env.cnode, old_vspace, kDepth);  // the ASID first: one TLB flush
    release(env, old);  // the old address space and every page of it
    mark(env, SpawnPhase::kReclaim);
    if (!started) {
        (void)tcb_suspend(CapPtr(pd.tcb));
        return fail(started.error());
    }
    return {};
}

void destroy_pd(LoaderEnvironment& env, PdHandle& pd) {
    // Stopped first, so it cannot fault on pages as they go; the VSpace goes before its pages
    // (retiring the ASID flushes its TLB entries at once, so no page needs its own flush).
    if (pd.tcb != 0) {
        (void)tcb_suspend(CapPtr(pd.tcb));
    }
    if (pd.vspace != 0) {
        (void)cnode_delete(env.cnode, pd.vspace, kDepth);
    }
    release(env, pd.image);
    release(env, pd.identity);
    pd = PdHandle{};
}

uint64_t pd_memory(const PdHandle& pd) {
    auto bytes = [](const Budget& b) { return b.untyped != 0 ? uint64_t{1} << b.bits : 0; };
    return bytes(pd.identity) + bytes(pd.image);
}

}  // namespace tessera
