// The ASID table and the destruction side of virtual memory objects: unmapping a frame or
// table checks the live tables still hold what the capability says before clearing anything,
// so a stale capability (its VSpace gone, or the ASID reused) can never unmap someone else's page.
#include "object/vspace.hpp"

#include "arch/address_space.hpp"
#include "arch/cache.hpp"
#include "core/kernel_memory.hpp"
#include "object/vspace_walk.hpp"

namespace tessera {
namespace detail {
AsidPool* g_asid_pools[kAsidPoolCount];
uint64_t g_vspace_epoch = 1;
}  // namespace detail

namespace {

using detail::g_asid_pools;

uint32_t g_asid_limit = kAsidCount;
// Per pool: every entry below it is in use (assignment starts there; a freed entry lowers it).
uint16_t g_asid_hint[kAsidPoolCount];

}  // namespace

void set_asid_limit(uint32_t limit) {
    g_asid_limit = limit < kAsidCount ? limit : kAsidCount;
}

uint32_t asid_limit() {
    return g_asid_limit;
}

void asid_pool_install(uint16_t base, AsidPool* pool) {
    g_asid_pools[base / kAsidsPerPool] = pool;
    g_asid_hint[base / kAsidsPerPool] = 0;
}

uint16_t asid_free_pool_base() {
    return static_cast<uint16_t>(tessera::asid_free_pool_base(g_asid_pools, g_asid_limit));
}

uint16_t asid_pool_free_asid(const AsidPool& pool, uint16_t base) {
    uint16_t& hint = g_asid_hint[base / kAsidsPerPool];
    unsigned i = asid_pool_free_index(pool.vspace, base, g_asid_limit, hint);
    if (i == kAsidsPerPool) {
        return 0;
    }
    hint = static_cast<uint16_t>(i + 1);  // the caller assigns it
    return static_cast<uint16_t>(base + i);
}

void vspace_destroyed(const Capability& vspace) {
    // The VSpace epoch already advanced: its last capability has left its slot.
    uint16_t asid = vspace.vspace_asid();
    if (asid == 0 || asid_lookup(asid) != vspace.object()) {
        return;
    }
    g_asid_pools[asid / kAsidsPerPool]->vspace[asid % kAsidsPerPool] = 0;
    uint16_t& hint = g_asid_hint[asid / kAsidsPerPool];
    hint = asid % kAsidsPerPool < hint ? asid % kAsidsPerPool : hint;
    arch::invalidate_asid(asid);
}

void asid_pool_destroyed(const Capability& pool) {
    advance_vspace_epoch();  // threads on its ASIDs must be checked again
    uint16_t base = pool.asid_base();
    AsidPool* p = g_asid_pools[base / kAsidsPerPool];
    if (p == nullptr || physical_address_of(p) != pool.object()) {
        return;
    }
    for (unsigned i = 0; i < kAsidsPerPool; ++i) {
        if (p->vspace[i] != 0) {
            arch::invalidate_asid(static_cast<uint16_t>(base + i));
        }
    }
    g_asid_pools[base / kAsidsPerPool] = nullptr;
}

bool clear_frame_mapping(const Capability& frame) {
    if (!frame.is_mapped()) {
        return false;
    }
    PhysAddr root = asid_lookup(frame.mapped_asid());
    if (root.value() == 0) {
        return false;
    }
    unsigned level = frame.frame_is_large() ? 2 : 3;
    auto entry = vspace_entry(root, frame.mapped_address(), level);
    if (entry.entry == nullptr) {
        return false;
    }
    aarch64::Descriptor d(*entry.entry);
    if (!d.is_leaf(level) || d.output_address(level) != frame.object()) {
        return false;
    }
    *entry.entry = 0;
    return true;
}

void frame_capability_deleted(const Capability& frame) {
    if (clear_frame_mapping(frame)) {
        arch::invalidate_user_page(frame.mapped_asid(), VirtAddr(frame.mapped_address()));
    }
}

void page_table_capability_deleted(const Capability& table) {
    if (!table.is_mapped() || table.table_level() == 0) {
        return;
    }
    PhysAddr root = asid_lookup(table.mapped_asid());
    if (root.value() == 0) {
        return;
    }
    unsigned parent_level = table.table_level() - 1;
    auto entry = vspace_entry(root, table.mapped_address(), parent_level);
    if (entry.entry != nullptr) {
        aarch64::Descriptor d(*entry.entry);
        if (d.is_table(parent_level) && d.next_table() == table.object()) {
            *entry.entry = 0;
            arch::invalidate_asid(table.mapped_asid());  // everything below it goes at once
        }
    }
}

}  // namespace tessera
