// Switching the user half (TTBR0) between address spaces. User mappings are non-global and
// tagged with the VSpace's ASID, so a switch needs no TLB invalidation. Generic code holds the
// value to load as an opaque "user root" and writes it only when it changes.
#pragma once

#include <cstdint>

#include "base/address.hpp"

namespace tessera::arch {

// The user root of a VSpace: its level-0 table and ASID as TTBR0_EL1 takes them. Never 0.
constexpr uint64_t user_root(PhysAddr table, uint16_t asid) {
    return table.value() | (uint64_t{asid} << 48);
}

// Loads a user root. Boot leaves an empty read-only table under ASID 0 in TTBR0, so walks of
// the user half are always enabled and this is one register write.
inline void load_user_root(uint64_t root) {
    asm volatile("msr ttbr0_el1, %0; isb" ::"r"(root) : "memory");
}

// Makes TLB entries of the user half consistent after a change to a live user table.
void invalidate_user_page(uint16_t asid, VirtAddr va);

// The same for many pages with one pair of barriers: begin after the table writes, one
// invalidation per page, then end before the change may be relied on.
inline void begin_user_invalidation() {
    asm volatile("dsb ishst" ::: "memory");
}
inline void invalidate_user_page_unordered(uint16_t asid, VirtAddr va) {
    uint64_t operand = (uint64_t{asid} << 48) | ((va.value() >> 12) & 0xfff'ffff'ffff);
    asm volatile("tlbi vae1is, %0" ::"r"(operand) : "memory");
}
inline void end_user_invalidation() {
    asm volatile("dsb ish; isb" ::: "memory");
}

}  // namespace tessera::arch
