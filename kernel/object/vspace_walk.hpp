// Walking a user VSpace's tables without allocating: the entry for an address at a given level,
// or the level at which the walk found no table.
#pragma once

#include <cstdint>

#include "base/address.hpp"
#include "core/kernel_memory.hpp"
#include "pagetable/descriptor.hpp"

namespace tessera {

struct VSpaceEntry {
    uint64_t* entry = nullptr;   // the entry at the requested level, if reached
    unsigned missing_level = 0;  // else: the level whose table is missing (1..3)
    bool blocked = false;        // a block (large page) sits above the requested level
};

inline VSpaceEntry vspace_entry(PhysAddr root, uint64_t va, unsigned level) {
    PhysAddr table = root;
    for (unsigned l = 0; l < level; ++l) {
        uint64_t* e = object_at<uint64_t>(table) + aarch64::level_index(va, l);
        aarch64::Descriptor d(*e);
        if (!d.is_valid()) {
            return VSpaceEntry{nullptr, l + 1, false};
        }
        if (!d.is_table(l)) {
            return VSpaceEntry{nullptr, 0, true};
        }
        table = d.next_table();
    }
    return VSpaceEntry{object_at<uint64_t>(table) + aarch64::level_index(va, level), 0, false};
}

}  // namespace tessera
