// Which ASIDs may be handed out: pools of 512 cover the 16-bit ASID space, but a CPU with 8-bit
// ASIDs (TCR_EL1.AS clear) tags translations with the low 8 bits only, so an ASID at or above its
// limit would alias another address space's TLB entries. Pure arithmetic, host-tested.
// Invariant: nothing here yields ASID 0 (no VSpace has it) or an ASID >= the limit.
#pragma once

#include <cstdint>

namespace tessera {

constexpr unsigned kAsidCount = 1u << 16;
constexpr unsigned kAsidsPerPool = 512;
constexpr unsigned kAsidPoolCount = kAsidCount / kAsidsPerPool;

// The index of the first entry from `from` of a pool at base that is free (0) and names a
// usable ASID, or kAsidsPerPool if there is none. Callers keep `from` at or below the first free
// entry (every entry below it in use), so a pool's search does not grow with its occupancy.
inline unsigned asid_pool_free_index(const uint64_t (&vspace)[kAsidsPerPool], uint32_t base,
                                     uint32_t limit, unsigned from = 0) {
    for (unsigned i = from; i < kAsidsPerPool; ++i) {
        uint32_t asid = base + i;
        if (asid >= limit) {
            break;
        }
        if (asid != 0 && vspace[i] == 0) {
            return i;
        }
    }
    return kAsidsPerPool;
}

// The lowest pool base (never 0: the boot pool's) with no pool installed whose first ASID is
// usable, or 0 if there is none.
template <typename Pool>
uint32_t asid_free_pool_base(Pool* const (&pools)[kAsidPoolCount], uint32_t limit) {
    for (unsigned i = 1; i < kAsidPoolCount; ++i) {
        uint32_t base = i * kAsidsPerPool;
        if (base >= limit) {
            return 0;
        }
        if (pools[i] == nullptr) {
            return base;
        }
    }
    return 0;
}

}  // namespace tessera
