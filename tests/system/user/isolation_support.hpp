// Shared by the isolation attack suites (isolation_*_test.cpp, docs/SECURITY.md): retype and
// copy in the root CNode, a VSpace with an ASID, page tables mapped level by level, the guest
// counter (which follows instructions under -icount), and this suite's free user addresses.
#pragma once

#include "user_test.hpp"

namespace tessera::test::isolation {

using abi::CapPtr;
using abi::Error;
using abi::ObjectType;
constexpr CapPtr kOwnVSpace{abi::kSlotInitThreadVSpace};
constexpr uint64_t kRW = abi::kMapRead | abi::kMapWrite;

// Free user addresses for this suite's own mappings (above the other suites' ranges).
constexpr uint64_t kAttackBase = 0x7e80'0000'0000;

inline InvocationResult retype(uint64_t ut, ObjectType type, uint64_t bits, uint64_t offset,
                               uint64_t count = 1) {
    return untyped_retype(CapPtr(ut), type, bits, kRootCNode, 0, 0, offset, count);
}

inline InvocationResult copy(uint64_t dest, uint64_t src, uint64_t rights = abi::kRightsAll) {
    return cnode_copy(kRootCNode, dest, kRootDepth, kRootCNode, src, kRootDepth, rights);
}

inline bool is_mapped(uint64_t slot) {
    return identify(CapPtr(slot)).data != 0;
}

inline uint64_t g_pool = 0;

// A VSpace with an ASID from this suite's pool (0 on failure).
inline uint64_t assigned_vspace() {
    if (g_pool == 0) {
        g_pool = new_asid_pool();
    }
    uint64_t ut = new_untyped(12);
    uint64_t vs = ut == 0 ? 0 : make_objects(ut, ObjectType::kVSpace, 0);
    if (vs == 0 || g_pool == 0 || !asid_pool_assign(CapPtr(g_pool), CapPtr(vs)).ok()) {
        return 0;
    }
    return vs;
}

inline uint64_t new_table() {
    uint64_t ut = new_untyped(12);
    return ut == 0 ? 0 : make_objects(ut, ObjectType::kPageTable, 0);
}

// Maps tables in vspace until the one for a 4 KiB page at va exists; returns the last-level
// table's slot (0 on failure or if every level was already present).
inline uint64_t map_last_level_table(CapPtr vspace, uint64_t va) {
    uint64_t last = 0;
    for (unsigned i = 0; i < 4; ++i) {
        uint64_t table = new_table();
        if (table == 0) {
            return 0;
        }
        InvocationResult r = page_table_map(CapPtr(table), vspace, va);
        if (r.error == Error::kDeleteFirst) {
            return last;
        }
        if (!r.ok()) {
            return 0;
        }
        last = table;
    }
    return 0;
}

// `count` fresh endpoints in consecutive root slots, and a copy of the first minted with badge
// in `fault_ep`: the fault endpoint of a test thread whose faults the case receives on the
// first. Returns the first endpoint's slot (0 on failure).
inline uint64_t endpoints_with_fault_cap(uint64_t count, uint64_t badge, uint64_t& fault_ep) {
    uint64_t ut = new_untyped(12);
    uint64_t eps = ut == 0 ? 0 : make_objects(ut, abi::ObjectType::kEndpoint, 0, count);
    fault_ep = new_slot();
    if (eps == 0 || !cnode_mint(kRootCNode, fault_ep, kRootDepth, kRootCNode, eps, kRootDepth,
                                abi::kRightsAll, badge)
                         .ok()) {
        return 0;
    }
    return eps;
}

// n radix-1 CNodes retyped from ut into slots 0..n-1 of the CNode hold (root slot).
inline bool small_cnodes_into(uint64_t ut, uint64_t hold, uint64_t n) {
    for (uint64_t at = 0; at < n; at += 256) {
        uint64_t batch = n - at < 256 ? n - at : 256;
        if (!untyped_retype(abi::CapPtr(ut), abi::ObjectType::kCNode, 1, kRootCNode, hold,
                            kRootDepth, at, batch)
                 .ok()) {
            return false;
        }
    }
    return true;
}

// The virtual count (62.5 MHz on QEMU virt; under -icount about 16 instructions a tick).
inline uint64_t virtual_count() {
    uint64_t v;
    asm volatile("isb; mrs %0, cntvct_el0" : "=r"(v));
    return v;
}

}  // namespace tessera::test::isolation
