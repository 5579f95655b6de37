// Switching the user half (TTBR0) between address spaces. User mappings are non-global and
// tagged with the VSpace's ASID, so a switch needs no TLB invalidation.
#pragma once

#include <cstdint>

#include "base/address.hpp"

namespace tessera::arch {

void activate_user_address_space(PhysAddr root, uint16_t asid);

// Makes TLB entries of the user half consistent after a change to a live user table.
void invalidate_user_page(uint16_t asid, VirtAddr va);

}  // namespace tessera::arch
