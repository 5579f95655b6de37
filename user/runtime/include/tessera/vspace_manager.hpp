// Managing a VSpace from user level: which ranges are in use (lib/vm/virtual_ranges), finding
// free ones, and mapping runs of frames with the page tables made as the kernel reports them
// missing. map_frames() is the mapping step alone, for VSpaces whose layout is planned
// elsewhere (the PD builder's new address spaces).
#pragma once

#include <cstdint>

#include "abi/capability_pointer.hpp"
#include "abi/invocation.hpp"
#include "alloc/slot_allocator.hpp"
#include "tessera/invocation.hpp"
#include "vm/virtual_ranges.hpp"

namespace tessera {

// Where page tables come from: make(context, count) makes `count` page tables in consecutive
// slots of the caller's CNode and returns the first (0 if it cannot).
struct TableSource {
    uint64_t (*make)(void* context, uint64_t count) = nullptr;
    void* context = nullptr;
};

// The common source: tables retyped from `untyped` into runs of `slots` in `cnode` (a root
// task's pool). It must outlive the TableSource made from it.
struct UntypedTables {
    abi::CapPtr cnode;
    abi::CapPtr untyped;
    SlotAllocator* slots = nullptr;
};
TableSource tables_from(UntypedTables& source);

// Maps the frames at first .. first + count - 1 (4 KiB, or 2 MiB if large) from va on, any
// number of them: split where a run would cross a last-level table, at most
// abi::kMaxFramesPerCall per call. When the kernel reports a missing table every level below
// it is missing too, so they are made with one call to `tables` and mapped in turn;
// *tables_made counts them. Stops at the first error (frames before it stay mapped).
InvocationResult map_frames(abi::CapPtr vspace, abi::CapPtr first, uint64_t count, uint64_t va,
                            uint64_t rights, abi::MapAttributes attributes, bool large,
                            const TableSource& tables, uint64_t* tables_made = nullptr);

// Unmaps those of the frames first .. first + count - 1 that are mapped in vspace.
InvocationResult unmap_frames(abi::CapPtr vspace, abi::CapPtr first, uint64_t count);

class VSpaceManager {
  public:
    // Manages [low, high) of vspace (page aligned): everything there starts free.
    bool init(abi::CapPtr vspace, const TableSource& tables, uint64_t low, uint64_t high);

    // Claims [base, base + size) (false if any of it is in use or outside the managed part).
    bool reserve(uint64_t base, uint64_t size) { return ranges_.reserve(base, size); }
    // The lowest free range of size bytes at alignment, with `guard` unmapped bytes below it
    // (reserved too); 0 if none is left.
    uint64_t reserve_any(uint64_t size, uint64_t alignment = vm::kPageSize, uint64_t guard = 0) {
        return ranges_.reserve_any(size, alignment, guard);
    }
    bool release(uint64_t base, uint64_t size, uint64_t guard = 0) {
        return ranges_.release(base, size, guard);
    }

    // Maps a run of frames into a range reserved here (InvalidArgument on word 2 if any of it
    // is free: map into what you reserved).
    InvocationResult map(abi::CapPtr first, uint64_t count, uint64_t va, uint64_t rights,
                         abi::MapAttributes attributes = abi::MapAttributes::kCached,
                         bool large = false);
    // Reserves a range for count frames and maps them there; its address, or 0 (nothing kept).
    uint64_t map_anywhere(abi::CapPtr first, uint64_t count, uint64_t rights,
                          abi::MapAttributes attributes = abi::MapAttributes::kCached,
                          bool large = false);
    InvocationResult unmap(abi::CapPtr first, uint64_t count) {
        return unmap_frames(vspace_, first, count);
    }

    [[nodiscard]] uint64_t tables_made() const { return tables_made_; }
    [[nodiscard]] uint64_t free_bytes() const { return ranges_.free_bytes(); }

  private:
    abi::CapPtr vspace_;
    TableSource tables_;
    vm::VirtualRanges ranges_;
    uint64_t tables_made_ = 0;
};

}  // namespace tessera
