// User address spaces: VSpace root tables, intermediate page tables and frames as capability
// objects, and the ASID table that names live VSpaces. A VSpace can run threads only once an
// ASID pool has assigned it an ASID; deleting it retires the ASID and flushes its TLB entries,
// so a reused ASID never sees stale translations.
#pragma once

#include <cstdint>

#include "core/derivation_tree.hpp"
#include "core/syscall_error.hpp"
#include "object/asid_allocation.hpp"

namespace tessera {

// An ASID pool object: the VSpace (physical address of its root table) for each of its ASIDs.
struct AsidPool {
    uint64_t vspace[kAsidsPerPool];
};
static_assert(sizeof(AsidPool) == 4096);

namespace detail {
extern AsidPool* g_asid_pools[kAsidPoolCount];
extern uint64_t g_vspace_epoch;
}  // namespace detail

// How many ASIDs the MMU distinguishes (256 or 65536), set once at boot from TCR_EL1.
void set_asid_limit(uint32_t limit);
uint32_t asid_limit();

// The VSpace epoch advances on every event that can make a thread's VSpace unusable: a VSpace
// capability leaving any slot (a thread's VSpace replaced by Configure or SetSpace, deleted or
// revoked; destroying a VSpace is its last capability leaving) and an ASID pool destroyed.
// A thread's address-space check that passed therefore stands while the epoch is unchanged.
// It starts at 1, so the epoch 0 of a new TCB's cache never matches.
inline uint64_t vspace_epoch() {
    return detail::g_vspace_epoch;
}
inline void advance_vspace_epoch() {
    ++detail::g_vspace_epoch;
}

// Installs pool as the pool for ASIDs [base, base + 512) (boot and ASID control).
void asid_pool_install(uint16_t base, AsidPool* pool);
// The VSpace root registered for asid, or a null address (on every thread switch: inline).
inline PhysAddr asid_lookup(uint16_t asid) {
    AsidPool* pool = detail::g_asid_pools[asid / kAsidsPerPool];
    return pool == nullptr ? PhysAddr() : PhysAddr(pool->vspace[asid % kAsidsPerPool]);
}
// Lowest usable pool base with no pool yet, or 0 when every usable one is in use.
uint16_t asid_free_pool_base();
// The first free, usable ASID of pool (based at base), or 0 if it is full.
uint16_t asid_pool_free_asid(const AsidPool& pool, uint16_t base);

// Destruction hooks called when the last capability goes (or, for frames and tables, when any
// mapped capability is deleted).
void vspace_destroyed(const Capability& vspace);
void asid_pool_destroyed(const Capability& pool);
void frame_capability_deleted(const Capability& frame);
// Clears the entry frame's capability says it mapped, if the live tables still hold it there;
// true if it did. The caller invalidates the TLB (batched unmaps do it once per call).
bool clear_frame_mapping(const Capability& frame);
void page_table_capability_deleted(const Capability& table);

}  // namespace tessera
