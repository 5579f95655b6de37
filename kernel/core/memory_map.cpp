// Building and printing the physical memory map. Reservations are clipped to RAM and rounded to
// pages; the free set is RAM minus every reservation, so free memory never overlaps a use.
#include "core/memory_map.hpp"

#include "base/bits.hpp"

namespace tessera {

const char* to_string(RegionKind kind) {
    switch (kind) {
        case RegionKind::kFree:
            return "free (untyped)";
        case RegionKind::kKernelImage:
            return "kernel image";
        case RegionKind::kDeviceTree:
            return "device tree";
        case RegionKind::kBootModule:
            return "boot module";
        case RegionKind::kFirmware:
            return "firmware reserved";
        case RegionKind::kRootTask:
            return "root task objects";
    }
    return "unknown";
}

const char* to_string(MemoryMapError error) {
    switch (error) {
        case MemoryMapError::kTooManyRegions:
            return "too many memory regions";
        case MemoryMapError::kNoFreeMemory:
            return "no free memory left after reservations";
        case MemoryMapError::kKernelOutsideRam:
            return "kernel image lies outside RAM";
    }
    return "unknown memory map error";
}

Result<void, MemoryMapError> PhysicalMemoryMap::reserve(Range range, RegionKind kind) {
    if (range.end <= range.base) {
        return {};
    }
    uint64_t base = align_down(range.base, kPageSize);
    uint64_t end = align_up(range.end, kPageSize).value_or(UINT64_MAX & ~(kPageSize - 1));
    for (const Range& r : ram_) {
        uint64_t lo = base > r.base ? base : r.base;
        uint64_t hi = end < r.end ? end : r.end;
        if (lo >= hi) {
            continue;
        }
        if (reservation_count_ == kMaxReservations || !free_.remove(Range{lo, hi})) {
            return fail(MemoryMapError::kTooManyRegions);
        }
        reservations_[reservation_count_++] = MemoryRegion{Range{lo, hi}, kind};
    }
    return {};
}

Result<void, MemoryMapError> PhysicalMemoryMap::finish(Range kernel_image) const {
    if (!ram_.contains(kernel_image)) {
        return fail(MemoryMapError::kKernelOutsideRam);
    }
    if (free_.total() == 0) {
        return fail(MemoryMapError::kNoFreeMemory);
    }
    return {};
}

void print_size(FormatSink sink, uint64_t bytes) {
    // Exact when the size is a whole number of units, else one (truncated) decimal.
    struct Unit {
        uint64_t size;
        const char* name;
    };
    constexpr Unit kUnits[] = {{kGiB, "GiB"}, {kMiB, "MiB"}, {kKiB, "KiB"}};
    for (const Unit& unit : kUnits) {
        if (bytes >= unit.size) {
            uint64_t whole = bytes / unit.size;
            uint64_t tenths = (bytes % unit.size) * 10 / unit.size;
            if (bytes % unit.size == 0) {
                format_to(sink, "{} {}", whole, unit.name);
            } else {
                format_to(sink, "{}.{} {}", whole, tenths, unit.name);
            }
            return;
        }
    }
    format_to(sink, "{} B", bytes);
}

void PhysicalMemoryMap::print(FormatSink sink) const {
    // Walk addresses upwards, each time printing the region that starts lowest.
    uint64_t cursor = 0;
    for (;;) {
        const Range* best = nullptr;
        RegionKind kind = RegionKind::kFree;
        for (const Range& r : free_) {
            if (r.end > cursor && (best == nullptr || r.base < best->base)) {
                best = &r;
                kind = RegionKind::kFree;
            }
        }
        for (size_t i = 0; i < reservation_count_; ++i) {
            const Range& r = reservations_[i].range;
            if (r.end > cursor && (best == nullptr || r.base < best->base)) {
                best = &r;
                kind = reservations_[i].kind;
            }
        }
        if (best == nullptr) {
            break;
        }
        uint64_t base = best->base > cursor ? best->base : cursor;
        char size_text[24];
        BufferWriter size_writer(size_text, sizeof(size_text));
        print_size(size_writer.sink(), best->end - base);
        format_to(sink, "  [{:#012x} - {:#012x})  {:11}  {}\n", base, best->end, size_writer.view(),
                  to_string(kind));
        cursor = best->end;
    }
    char total_text[24];
    BufferWriter total_writer(total_text, sizeof(total_text));
    print_size(total_writer.sink(), free_.total());
    char ram_text[24];
    BufferWriter ram_writer(ram_text, sizeof(ram_text));
    print_size(ram_writer.sink(), ram_.total());
    format_to(sink, "  {} free of {} RAM in {} free ranges\n", total_writer.view(),
              ram_writer.view(), free_.count());
}

}  // namespace tessera
