// The physical memory map built at boot: RAM minus everything already in use (kernel image,
// device tree, boot modules, firmware reservations). What remains free becomes untyped memory.
// Pure logic with no hardware access, so host tests link it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/format.hpp"
#include "base/range_set.hpp"
#include "base/result.hpp"

namespace tessera {

enum class RegionKind : uint8_t {
    kFree,  // future untyped memory
    kKernelImage,
    kDeviceTree,
    kBootModule,
    kFirmware,  // memreserve / reserved-memory
    kRootTask,  // the root task's initial objects, made by the kernel at boot
};

const char* to_string(RegionKind kind);

struct MemoryRegion {
    Range range;
    RegionKind kind = RegionKind::kFree;
};

enum class MemoryMapError : uint8_t {
    kTooManyRegions,    // more fragments than the fixed-size map can hold
    kNoFreeMemory,      // reservations cover all RAM
    kKernelOutsideRam,  // the kernel image is not inside RAM (bad device tree or load address)
};

const char* to_string(MemoryMapError error);

class PhysicalMemoryMap {
  public:
    static constexpr size_t kMaxRanges = 64;
    static constexpr size_t kMaxReservations = 32;
    static constexpr uint64_t kPageSize = 4096;

    // Starts the map from the board's RAM, rounded inwards to whole pages.
    template <size_t N>
    Result<void, MemoryMapError> set_ram(const RangeSet<N>& ram);
    // Marks [range) as in use by `kind`, rounded outwards to whole pages. Parts outside RAM are
    // ignored (a DTB or module outside RAM reserves nothing).
    Result<void, MemoryMapError> reserve(Range range, RegionKind kind);
    // Final checks once every reservation is in.
    Result<void, MemoryMapError> finish(Range kernel_image) const;

    [[nodiscard]] const RangeSet<kMaxRanges>& ram() const { return ram_; }
    [[nodiscard]] const RangeSet<kMaxRanges>& free() const { return free_; }
    [[nodiscard]] size_t reservation_count() const { return reservation_count_; }
    [[nodiscard]] const MemoryRegion& reservation(size_t i) const { return reservations_[i]; }

    // Every region (free and reserved) in address order; a byte reserved twice is listed under
    // its first reservation.
    void print(FormatSink sink) const;

  private:
    RangeSet<kMaxRanges> ram_;
    RangeSet<kMaxRanges> free_;
    MemoryRegion reservations_[kMaxReservations];
    size_t reservation_count_ = 0;
};

template <size_t N>
Result<void, MemoryMapError> PhysicalMemoryMap::set_ram(const RangeSet<N>& ram) {
    for (const Range& r : ram) {
        uint64_t base = (r.base + kPageSize - 1) & ~(kPageSize - 1);
        uint64_t end = r.end & ~(kPageSize - 1);
        if (base < end && (!ram_.add(Range{base, end}) || !free_.add(Range{base, end}))) {
            return fail(MemoryMapError::kTooManyRegions);
        }
    }
    return {};
}

// Prints a byte count as "12 MiB", "768 KiB" or "100 B" (largest exact unit).
void print_size(FormatSink sink, uint64_t bytes);

}  // namespace tessera
