// Address-space layout of a protection domain: the PD builder's configuration of regions checked
// and placed before anything is allocated. Pure arithmetic over the ELF load plan and the
// requested regions, so it is host-tested; the PD builder turns the result into frames and
// mappings.
//
// Fixed parts (abi/process.hpp): the image where the ELF says, the stack ending at kPdStackTop
// with an unmapped guard of kStackGuardSize below it, the startup record and the IPC buffer
// above it. Requested regions go at their address or, with address 0, at the first free range
// above the image (leaving an unmapped page on each side). The heap is such a region.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "abi/startup.hpp"
#include "base/result.hpp"
#include "base/string_view.hpp"
#include "elf/load_plan.hpp"

namespace tessera::pd {

using abi::RegionKind;

constexpr uint64_t kSmallPage = 4096;
constexpr uint64_t kLargePage = uint64_t{2} << 20;
constexpr uint64_t kStackGuardSize = uint64_t{64} * 1024;
constexpr size_t kMaxRegions = 12;  // requested regions (the startup record lists them too)

// How a region's memory relates to the creator's.
enum class Sharing : uint8_t {
    kShared,    // the creator's own pages (frames it holds): writes are seen by both
    kDisjoint,  // its own pages: fresh zeroed ones, or the given frames if any
    kDeepCopy,  // fresh pages holding a copy of the given frames' contents at build time
};

enum class PageSize : uint8_t { k4K, k2M };

constexpr uint64_t bytes_of(PageSize size) {
    return size == PageSize::k2M ? kLargePage : kSmallPage;
}

// Fields ordered widest first, so the struct packs without holes.
struct RegionSpec {
    StringView name;       // listed in the startup record (at most 23 characters)
    uint64_t address = 0;  // 0: the first free range
    uint64_t size = 0;     // bytes, a multiple of the page size
    uint64_t rights = 3;   // MapRights bits: read | write
    // First of size / page-size consecutive frame capabilities in the creator's root CNode
    // (required for kShared and kDeepCopy, optional for kDisjoint, 0: none). The PD builder
    // fills frames (and a size of 0) of a kShared region from the creator's own region of the
    // same kind when it names none: shared by kind alone.
    uint64_t frames = 0;
    RegionKind kind = RegionKind::kAnonymous;
    Sharing sharing = Sharing::kDisjoint;
    PageSize page_size = PageSize::k4K;
    bool device = false;  // device memory: mapped uncached (Device-nGnRnE), never executable
    // The child also gets capabilities to the region's frames (with the region's rights),
    // listed in its directory under the region's name: it can share the region with PDs it
    // creates by naming its kind alone.
    bool give_frames = false;
};

enum class LayoutError : uint8_t {
    kTooManyRegions,
    kEmptyRegion,
    kMisalignedSize,
    kMisalignedAddress,
    kAddressInNullPage,
    kAddressInKernelHalf,
    kWriteExecute,
    kNotReadable,
    kOverlap,
    kNeedsFrames,    // shared and deep-copied regions copy or map the creator's frames
    kReservedKind,   // code, data, stack, IPC buffer and startup regions are the builder's own
    kDeviceExecute,  // device memory can never be executable
    kNameTooLong,
    kBadStackSize,
    kNoFreeRange,
    kCount,
};

// One short line ("regions overlap", ...). Never null.
const char* to_string(LayoutError error);

// Which part was wrong: a requested region's index, or kBuiltIn for the fixed parts.
struct LayoutFailure {
    LayoutError error = LayoutError::kOverlap;
    int region = -1;
    static constexpr int kBuiltIn = -1;
};

struct LayoutRequest {
    const elf::LoadPlan* plan = nullptr;
    std::span<const RegionSpec> regions;
    uint64_t stack_size = uint64_t{64} * 1024;  // bytes, a multiple of 4 KiB
    uint64_t heap_size = 0;  // bytes (0: no heap), placed like an address-0 region
};

struct Layout {
    uint64_t image_low = 0;  // page-aligned extent of the ELF image
    uint64_t image_end = 0;
    uint64_t stack_low = 0;
    uint64_t stack_top = 0;
    uint64_t heap_base = 0;
    uint64_t heap_size = 0;
    uint64_t addresses[kMaxRegions] = {};  // where each requested region goes
    uint64_t small_frames = 0;  // fresh 4 KiB frames: image, stack, heap, startup, IPC, regions
    uint64_t large_frames = 0;  // fresh 2 MiB frames
    uint64_t tables = 0;        // the translation tables the VSpace needs (exactly)
};

Result<Layout, LayoutFailure> plan_layout(const LayoutRequest& request);

}  // namespace tessera::pd
