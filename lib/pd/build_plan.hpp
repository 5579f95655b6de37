// The build plan of a protection domain: everything the PD builder decides before it allocates
// anything — the ELF's load plan, the address-space layout, the regions shared by kind resolved
// to the creator's frames, the child slot of every capability it will be given, the directory it
// will list, and the size of its two memory budgets. Pure: what it needs to know of the
// creator's capabilities (the type in each slot) is passed in, so it runs and is tested on the
// host. A plan that is made is a configuration the builder can carry out given enough memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "abi/invocation.hpp"
#include "abi/object_type.hpp"
#include "abi/process.hpp"
#include "base/result.hpp"
#include "elf/load_plan.hpp"
#include "pd/build_error.hpp"
#include "pd/pd_config.hpp"
#include "pd/pd_layout.hpp"

namespace tessera::pd {

constexpr unsigned kMaxCNodeRadix = 14;  // a creator of a thousand PDs needs 16,384 slots
constexpr uint64_t kMaxChildSlots = uint64_t{1} << kMaxCNodeRadix;
constexpr size_t kMaxGrants = 32;
constexpr size_t kMaxBulk = 4;
constexpr uint64_t kDefaultStack = uint64_t{64} * 1024;

// The image's bookkeeping CNode (in its creator's CSpace) holds every capability of the PD: its
// identity in the first slots (moved to the new image's CNode by exec), then the image's own.
enum IdentitySlot : uint64_t { kBookCNode, kBookTcb, kBookFaultEndpoint, kIdentitySlots };
constexpr unsigned kMinBookRadix = 7;  // 4 KiB: the frames after it stay page-aligned

// A set of child CNode slots (radix up to kMaxCNodeRadix).
class ChildSlotSet {
  public:
    void add(uint64_t slot) { bits_[slot / 64] |= uint64_t{1} << (slot % 64); }
    [[nodiscard]] bool has(uint64_t slot) const {
        return slot < kMaxChildSlots && (bits_[slot / 64] >> (slot % 64) & 1) != 0;
    }

  private:
    uint64_t bits_[kMaxChildSlots / 64] = {};
};

// The PD's own regions whose frames it is given (PdConfig::give_own_frames).
enum OwnKind : uint8_t { kOwnCode, kOwnData, kOwnStack, kOwnHeap, kOwnIpcBuffer, kOwnKinds };
struct OwnKindInfo {
    const char* name;
    abi::RegionKind kind;
    uint64_t rights;  // of the mapping; the capabilities get read, and write if it is writable
};
inline constexpr OwnKindInfo kOwnKindInfo[kOwnKinds] = {
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
        return address >= low && address - low < pages * kSmallPage;
    }
};

// What the plan asks of the creator's CSpace: the type of the capability in a slot of its root
// CNode (kNull when empty or out of range).
struct CapTypeLookup {
    abi::CapType (*type_of)(const void* context, uint64_t slot) = nullptr;
    const void* context = nullptr;

    abi::CapType operator()(uint64_t slot) const { return type_of(context, slot); }
};

struct BuildPlan {
    elf::LoadPlan load;
    Layout layout;
    // The configuration's regions, those shared by kind resolved to the creator's frames.
    RegionSpec regions[kMaxRegions];
    size_t region_count = 0;
    uint64_t region_frames_slot[kMaxRegions] = {};  // child slots of given frames (0: none)
    OwnSpan own[kOwnKinds];                         // give_own_frames (pages 0: not given)
    uint64_t grant_slot[kMaxGrants] = {};
    abi::CapType grant_type[kMaxGrants] = {};
    uint64_t bulk_slot[kMaxBulk] = {};
    uint64_t bulk_count[kMaxBulk] = {};
    ChildSlotSet declared;                        // slots the grants name explicitly (exec keeps)
    uint64_t first_free = abi::kPdSlotFirstFree;  // after every grant
    size_t listed = 0;                            // directory entries of the startup record
    // The image's bookkeeping CNode: the capabilities it holds and its radix.
    uint64_t book_caps = 0;
    unsigned book_radix = 0;
    // The two budgets' bytes: the identity (CNode, TCB, a fault endpoint) and the image (the
    // bookkeeping CNode and every frame and table of the address space).
    uint64_t identity_bytes = 0;
    uint64_t image_bytes = 0;

    [[nodiscard]] std::span<const RegionSpec> region_list() const {
        return std::span<const RegionSpec>(regions, region_count);
    }
};

// Checks `config` against the ELF image and the creator's capabilities and plans the PD, or
// says what is wrong. `own_regions` are what regions shared by kind alone resolve to.
Result<BuildPlan, SpawnError> make_build_plan(std::span<const uint8_t> elf, const PdConfig& config,
                                              std::span<const OwnRegion> own_regions,
                                              CapTypeLookup cap_type);

// The budgets' sizes in bytes (exposed for tests).
uint64_t identity_budget_bytes(unsigned radix, bool new_fault_endpoint);
uint64_t image_budget_bytes(const Layout& layout, unsigned book_radix);
// Capabilities the image's bookkeeping CNode holds for this plan, and the radix that fits them.
uint64_t book_caps_for(const BuildPlan& plan);
unsigned book_radix_for(uint64_t caps);

}  // namespace tessera::pd
