// A 4-level AArch64 translation table builder and software walker, generic over how table
// memory is reached (the kernel's physical map, or host arrays in tests).
// Invariant: map() never replaces a valid entry; on failure, tables allocated so far stay
// (empty or partially filled), which only matters for boot-time tables that are never freed.
#pragma once

#include <cstdint>

#include "base/address.hpp"
#include "base/result.hpp"
#include "pagetable/descriptor.hpp"

namespace tessera::aarch64 {

enum class MapError : uint8_t {
    kMisaligned,     // va, pa or size not 4 KiB aligned
    kBadRange,       // size zero or the range wraps
    kAlreadyMapped,  // some page in the range already has a mapping
    kNoTableMemory,  // the table allocator ran out
};

constexpr const char* to_string(MapError e) {
    switch (e) {
        case MapError::kMisaligned:
            return "address or size not page aligned";
        case MapError::kBadRange:
            return "empty or wrapping range";
        case MapError::kAlreadyMapped:
            return "range already mapped";
        case MapError::kNoTableMemory:
            return "out of translation-table memory";
    }
    return "unknown map error";
}

// Result of a software walk.
struct WalkResult {
    bool mapped = false;
    unsigned level = 0;  // level of the leaf, or the level where the walk stopped
    PhysAddr output;     // translated address of the queried VA (if mapped)
    Descriptor leaf;     // the leaf descriptor (if mapped)
};

// TableMemory must provide:
//   uint64_t* table(PhysAddr)             - a pointer through which the table can be accessed
//   Result<PhysAddr, MapError> allocate() - a zeroed, 4 KiB-aligned table
template <typename TableMemory>
class TranslationTable {
  public:
    TranslationTable(PhysAddr root, TableMemory& memory) : root_(root), memory_(memory) {}

    [[nodiscard]] PhysAddr root() const { return root_; }

    // Maps [va, va + size) to [pa, pa + size) using the largest blocks alignment permits,
    // unless allow_blocks is false (then only 4 KiB pages). Only bits [47:0] of va index.
    Result<void, MapError> map(VirtAddr va, PhysAddr pa, uint64_t size, LeafAttributes attrs,
                               bool allow_blocks = true) {
        if (!va.is_aligned(kPageSize) || !pa.is_aligned(kPageSize) || size % kPageSize != 0) {
            return fail(MapError::kMisaligned);
        }
        if (size == 0 || va.value() + size < va.value() || pa.value() + size < pa.value()) {
            return fail(MapError::kBadRange);
        }
        // Check first so a failed map leaves no new leaves behind.
        for (uint64_t off = 0; off < size;) {
            uint64_t v = va.value() + off;
            WalkResult w = walk(VirtAddr(v));
            if (w.mapped) {
                return fail(MapError::kAlreadyMapped);
            }
            // Nothing is mapped up to the end of the region the missing entry would cover.
            off += level_size(w.level) - (v & (level_size(w.level) - 1));
        }
        uint64_t off = 0;
        while (off < size) {
            uint64_t v = va.value() + off;
            uint64_t p = pa.value() + off;
            uint64_t remaining = size - off;
            unsigned level = 3;
            if (allow_blocks) {
                for (unsigned l = 1; l < 3; ++l) {
                    uint64_t bsize = level_size(l);
                    if (v % bsize == 0 && p % bsize == 0 && remaining >= bsize &&
                        range_empty(VirtAddr(v), bsize)) {
                        level = l;
                        break;
                    }
                }
            }
            uint64_t* entry = TRY(entry_for(VirtAddr(v), level));
            *entry = Descriptor::leaf(level, PhysAddr(p), attrs).raw();
            off += level_size(level);
        }
        return {};
    }

    // Software walk of va; mirrors what the MMU does for a stage-1 lookup.
    [[nodiscard]] WalkResult walk(VirtAddr va) const {
        PhysAddr table = root_;
        for (unsigned level = 0; level < kLevels; ++level) {
            Descriptor d(memory_.table(table)[level_index(va.value(), level)]);
            if (!d.is_valid()) {
                return WalkResult{false, level, PhysAddr(), Descriptor()};
            }
            if (d.is_leaf(level)) {
                uint64_t offset = va.value() & (level_size(level) - 1);
                return WalkResult{true, level, d.output_address(level).offset(offset), d};
            }
            if (!d.is_table(level)) {
                return WalkResult{false, level, PhysAddr(), Descriptor()};  // reserved encoding
            }
            table = d.next_table();
        }
        return WalkResult{false, kLevels - 1, PhysAddr(), Descriptor()};
    }

  private:
    // True if nothing at all is mapped in [va, va + size) (size a block size).
    bool range_empty(VirtAddr va, uint64_t size) const {
        PhysAddr table = root_;
        for (unsigned level = 0; level < kLevels; ++level) {
            Descriptor d(memory_.table(table)[level_index(va.value(), level)]);
            if (!d.is_valid()) {
                return true;
            }
            if (level_size(level) <= size) {
                return false;  // an entry (table or leaf) already covers this block's slot
            }
            if (!d.is_table(level)) {
                return false;
            }
            table = d.next_table();
        }
        return false;
    }

    // The entry for va at `level`, creating intermediate tables on demand.
    Result<uint64_t*, MapError> entry_for(VirtAddr va, unsigned level) {
        PhysAddr table = root_;
        for (unsigned l = 0; l < level; ++l) {
            uint64_t* slot = &memory_.table(table)[level_index(va.value(), l)];
            Descriptor d(*slot);
            if (!d.is_valid()) {
                PhysAddr next = TRY(memory_.allocate());
                *slot = Descriptor::table(next).raw();
                d = Descriptor(*slot);
            }
            table = d.next_table();
        }
        return &memory_.table(table)[level_index(va.value(), level)];
    }

    PhysAddr root_;
    TableMemory& memory_;
};

}  // namespace tessera::aarch64
