// Layout checks and placement for a PD's address space (see pd_layout.hpp). Every sum is checked
// against the user address limit before it is formed, so hostile sizes cannot wrap.
#include "pd/pd_layout.hpp"

#include "abi/invocation.hpp"
#include "abi/process.hpp"

namespace tessera::pd {
namespace {

constexpr uint64_t kUserTop = elf::kUserTop;

struct Range {
    uint64_t low;
    uint64_t high;  // exclusive
    int owner;      // requested region index, or LayoutFailure::kBuiltIn
};

constexpr uint64_t round_down(uint64_t v, uint64_t align) {
    return v & ~(align - 1);
}

// Rounds up, or returns 0 if that would pass the user limit.
constexpr uint64_t round_up(uint64_t v, uint64_t align) {
    if (v > kUserTop - (align - 1)) {
        return 0;
    }
    return (v + align - 1) & ~(align - 1);
}

class Ranges {
  public:
    bool add(uint64_t low, uint64_t high, int owner) {
        if (count_ == kCapacity) {
            return false;
        }
        ranges_[count_++] = Range{low, high, owner};
        return true;
    }
    // The first range overlapping [low, high), if any.
    [[nodiscard]] const Range* overlapping(uint64_t low, uint64_t high) const {
        for (size_t i = 0; i < count_; ++i) {
            if (low < ranges_[i].high && ranges_[i].low < high) {
                return &ranges_[i];
            }
        }
        return nullptr;
    }

  private:
    static constexpr size_t kCapacity = elf::kMaxSegments + kMaxRegions + 8;
    Range ranges_[kCapacity] = {};
    size_t count_ = 0;
};

// The translation tables a set of mapped ranges needs, exactly: one level-3 table per 2 MiB
// window holding small pages, one level-2 per 1 GiB and one level-1 per 512 GiB window holding
// any page; windows shared by several ranges count once.
class TableCount {
  public:
    void add(uint64_t low, uint64_t high, uint64_t page) {
        if (count_ < kCapacity && high > low) {
            ranges_[count_++] = Mapped{low, high, page == kSmallPage};
        }
    }
    [[nodiscard]] uint64_t tables() const {
        return windows(39, false) + windows(30, false) + windows(21, true);
    }

  private:
    struct Mapped {
        uint64_t low;
        uint64_t high;
        bool small;
    };
    // Distinct windows of 2^shift bytes the ranges touch (only small-page ranges if asked).
    [[nodiscard]] uint64_t windows(unsigned shift, bool small_only) const {
        struct Span {
            uint64_t first;
            uint64_t last;
        };
        Span spans[kCapacity];
        size_t n = 0;
        for (size_t i = 0; i < count_; ++i) {
            if (small_only && !ranges_[i].small) {
                continue;
            }
            Span s{ranges_[i].low >> shift, (ranges_[i].high - 1) >> shift};
            size_t at = n++;
            for (; at > 0 && spans[at - 1].first > s.first; --at) {
                spans[at] = spans[at - 1];  // insertion sort: a few dozen ranges at most
            }
            spans[at] = s;
        }
        uint64_t total = 0;
        uint64_t covered = 0;  // windows below this one are counted
        for (size_t i = 0; i < n; ++i) {
            const uint64_t first = spans[i].first > covered ? spans[i].first : covered;
            if (spans[i].last + 1 > first) {
                total += spans[i].last + 1 - first;
                covered = spans[i].last + 1;
            }
        }
        return total;
    }

    static constexpr size_t kCapacity = elf::kMaxSegments + kMaxRegions + 4;
    Mapped ranges_[kCapacity] = {};
    size_t count_ = 0;
};

Result<void, LayoutFailure> check_spec(const RegionSpec& r, int index) {
    auto failure = [index](LayoutError e) { return fail(LayoutFailure{e, index}); };
    uint64_t page = bytes_of(r.page_size);
    if (r.name.size() >= abi::kStartupNameLength) {
        return failure(LayoutError::kNameTooLong);
    }
    // The builder makes the PD's own code, data, stack and IPC buffer; a configured region of
    // those kinds can only be a window onto the creator's (shared).
    bool builders_kind = r.kind == RegionKind::kCode || r.kind == RegionKind::kData ||
                         r.kind == RegionKind::kStack || r.kind == RegionKind::kIpcBuffer;
    if (r.kind >= RegionKind::kCount || r.kind == RegionKind::kStartup ||
        (builders_kind && r.sharing != Sharing::kShared)) {
        return failure(LayoutError::kReservedKind);
    }
    if (r.size == 0) {
        return failure(LayoutError::kEmptyRegion);
    }
    if (r.size % page != 0 || r.size > kUserTop) {
        return failure(LayoutError::kMisalignedSize);
    }
    if (r.address % page != 0) {
        return failure(LayoutError::kMisalignedAddress);
    }
    if (r.address != 0 && r.address < elf::kUserBase) {
        return failure(LayoutError::kAddressInNullPage);
    }
    if (r.address > kUserTop - r.size) {
        return failure(LayoutError::kAddressInKernelHalf);
    }
    if ((r.rights & abi::kMapRead) == 0) {
        return failure(LayoutError::kNotReadable);
    }
    if ((r.rights & abi::kMapWrite) != 0 && (r.rights & abi::kMapExecute) != 0) {
        return failure(LayoutError::kWriteExecute);
    }
    if (r.device && (r.rights & abi::kMapExecute) != 0) {
        return failure(LayoutError::kDeviceExecute);
    }
    if (r.frames == 0 &&
        (r.sharing == Sharing::kShared || r.sharing == Sharing::kDeepCopy || r.device)) {
        return failure(LayoutError::kNeedsFrames);
    }
    return {};
}

}  // namespace

const char* to_string(LayoutError error) {
    switch (error) {
        case LayoutError::kTooManyRegions:
            return "too many regions";
        case LayoutError::kEmptyRegion:
            return "region of size 0";
        case LayoutError::kMisalignedSize:
            return "region size not a multiple of its page size";
        case LayoutError::kMisalignedAddress:
            return "region address not aligned to its page size";
        case LayoutError::kAddressInNullPage:
            return "region in the null page";
        case LayoutError::kAddressInKernelHalf:
            return "region reaches the kernel half";
        case LayoutError::kWriteExecute:
            return "region both writable and executable";
        case LayoutError::kNotReadable:
            return "region not readable";
        case LayoutError::kOverlap:
            return "region overlaps another region, the image or the stack guard";
        case LayoutError::kNeedsFrames:
            return "shared, deep-copied and device regions need the creator's frames";
        case LayoutError::kReservedKind:
            return "code, data, stack and IPC buffer regions are made by the builder (or shared), "
                   "startup ones always";
        case LayoutError::kDeviceExecute:
            return "device region executable";
        case LayoutError::kNameTooLong:
            return "region name longer than 23 characters";
        case LayoutError::kBadStackSize:
            return "stack size 0, not a multiple of 4 KiB, or too large";
        case LayoutError::kNoFreeRange:
            return "no free address range large enough";
        case LayoutError::kCount:
            break;
    }
    return "unknown layout error";
}

Result<Layout, LayoutFailure> plan_layout(const LayoutRequest& request) {
    constexpr int kBuiltIn = LayoutFailure::kBuiltIn;
    Layout layout;
    Ranges taken;
    TableCount mapped;
    const elf::LoadPlan& plan = *request.plan;
    if (request.regions.size() > kMaxRegions) {
        return fail(LayoutFailure{LayoutError::kTooManyRegions, kBuiltIn});
    }

    // The image, as the ELF placed it (the load plan already refused W+X and overlaps).
    layout.image_low = kUserTop;
    for (const elf::Segment& s : plan.segment_list()) {
        uint64_t low = round_down(s.vaddr, kSmallPage);
        uint64_t high = round_up(s.end(), kSmallPage);
        layout.image_low = low < layout.image_low ? low : layout.image_low;
        layout.image_end = high > layout.image_end ? high : layout.image_end;
        (void)taken.add(low, high, kBuiltIn);
        mapped.add(low, high, kSmallPage);
    }
    if (plan.segment_count == 0) {
        layout.image_low = layout.image_end = abi::kPdStackTop;  // nothing to place above
    }
    layout.small_frames = plan.page_count;

    // Stack, its guard, the startup record and the IPC buffer.
    uint64_t stack = request.stack_size;
    if (stack == 0 || stack % kSmallPage != 0 || stack > abi::kPdStackTop / 2) {
        return fail(LayoutFailure{LayoutError::kBadStackSize, kBuiltIn});
    }
    layout.stack_top = abi::kPdStackTop;
    layout.stack_low = abi::kPdStackTop - stack;
    uint64_t guard_low = layout.stack_low - kStackGuardSize;
    if (taken.overlapping(guard_low, abi::kPdIpcBuffer + kSmallPage) != nullptr) {
        return fail(LayoutFailure{LayoutError::kOverlap, kBuiltIn});
    }
    (void)taken.add(guard_low, abi::kPdIpcBuffer + kSmallPage, kBuiltIn);
    layout.small_frames += stack / kSmallPage + 2;
    mapped.add(layout.stack_low, abi::kPdIpcBuffer + kSmallPage, kSmallPage);

    // Requested regions at fixed addresses first, so address-0 ones fit around them.
    for (size_t i = 0; i < request.regions.size(); ++i) {
        const RegionSpec& r = request.regions[i];
        int index = static_cast<int>(i);
        TRY(check_spec(r, index));
        if (r.address == 0) {
            continue;
        }
        if (taken.overlapping(r.address, r.address + r.size) != nullptr) {
            return fail(LayoutFailure{LayoutError::kOverlap, index});
        }
        (void)taken.add(r.address, r.address + r.size, index);
        layout.addresses[i] = r.address;
    }

    // First fit above the image, an unmapped page either side of each placed range.
    auto place = [&](uint64_t size, uint64_t page, int owner) -> Result<uint64_t, LayoutFailure> {
        uint64_t at = round_up(layout.image_end + kSmallPage, page);
        while (at != 0 && at <= kUserTop - size - kSmallPage) {
            const Range* r = taken.overlapping(at - kSmallPage, at + size + kSmallPage);
            if (r == nullptr) {
                (void)taken.add(at, at + size, owner);
                return at;
            }
            at = r->high > kUserTop - kSmallPage ? 0 : round_up(r->high + kSmallPage, page);
        }
        return fail(LayoutFailure{LayoutError::kNoFreeRange, owner});
    };
    for (size_t i = 0; i < request.regions.size(); ++i) {
        const RegionSpec& r = request.regions[i];
        uint64_t page = bytes_of(r.page_size);
        if (r.address == 0) {
            layout.addresses[i] = TRY(place(r.size, page, static_cast<int>(i)));
        }
        mapped.add(layout.addresses[i], layout.addresses[i] + r.size, page);
        if (r.sharing == Sharing::kShared || (r.sharing == Sharing::kDisjoint && r.frames != 0)) {
            continue;  // the creator's frames, not new ones
        }
        (r.page_size == PageSize::k2M ? layout.large_frames : layout.small_frames) += r.size / page;
    }
    if (request.heap_size != 0) {
        if (request.heap_size % kSmallPage != 0 || request.heap_size > kUserTop / 2) {
            return fail(LayoutFailure{LayoutError::kMisalignedSize, kBuiltIn});
        }
        layout.heap_size = request.heap_size;
        layout.heap_base = TRY(place(request.heap_size, kSmallPage, kBuiltIn));
        layout.small_frames += request.heap_size / kSmallPage;
        mapped.add(layout.heap_base, layout.heap_base + layout.heap_size, kSmallPage);
    }
    layout.tables = mapped.tables();
    return layout;
}

}  // namespace tessera::pd
