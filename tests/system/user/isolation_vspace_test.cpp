// Isolation attacks on address spaces (docs/SECURITY.md, findings 2, 3 and 5): a page table has
// one mapping shared by its copies, keeps its level and is emptied when unmapped; a VSpace gets
// one ASID, and a thread only a VSpace whose ASID is live.
#include "abi/fault.hpp"
#include "isolation_support.hpp"
#include "tessera/debug_print.hpp"
#include "tessera/syscall.hpp"
#include "user_test.hpp"

namespace tessera::test {

using namespace isolation;
using abi::CapPtr;
using abi::Error;
using abi::ObjectType;

// Finding 2: an unmapped page table's copy could be mapped a second time, at another address or
// level (an L3 page descriptor reads as a table descriptor at L1).
USER_TEST(isolation, unmapped_page_table_cannot_be_copied) {
    uint64_t table = new_table();
    CHECK(table != 0);
    InvocationResult r = copy(new_slot(), table);
    CHECK(r.error == Error::kIllegalOperation);
}

USER_TEST(isolation, page_table_copy_keeps_the_one_mapping) {
    uint64_t vs = assigned_vspace();
    CHECK(vs != 0);
    uint64_t va = 0x40'0000'0000;
    uint64_t table = map_last_level_table(CapPtr(vs), va);
    CHECK(table != 0);
    uint64_t alias = new_slot();
    CHECK(copy(alias, table).ok());
    CHECK(is_mapped(alias));
    // The copy is the same mapping: it cannot be mapped again anywhere, at any level.
    CHECK(page_table_map(CapPtr(alias), CapPtr(vs), 0x80'0000'0000).error ==
          Error::kInvalidCapability);
    // Unmapping needs the last capability; deleting a copy leaves the table in place.
    CHECK(page_table_unmap(CapPtr(alias)).error == Error::kRevokeFirst);
    CHECK(page_table_unmap(CapPtr(table)).error == Error::kRevokeFirst);
    CHECK(cnode_delete(kRootCNode, alias, kRootDepth).ok());
    uint64_t frame = new_frame();
    CHECK(frame != 0);
    CHECK(frame_map(CapPtr(frame), CapPtr(vs), va, kRW, abi::MapAttributes::kCached).ok());
    CHECK(page_table_unmap(CapPtr(table)).ok());
}

// Finding 3: PageTableUnmap left the table's entries, so a remapped table brought back pages
// whose frames may since have been freed; and a table could be remapped at another level.
USER_TEST(isolation, page_table_unmap_clears_its_entries) {
    uint64_t va = kAttackBase;
    uint64_t table = map_last_level_table(kOwnVSpace, va);
    CHECK(table != 0);
    uint64_t frame = new_frame();
    CHECK(frame != 0);
    CHECK(frame_map(CapPtr(frame), kOwnVSpace, va, kRW, abi::MapAttributes::kCached).ok());
    *reinterpret_cast<volatile uint64_t*>(va) = 0x5ec7e7;
    CHECK(page_table_unmap(CapPtr(table)).ok());
    CHECK_EQ(translate(va).hardware, ~uint64_t{0});
    CHECK(page_table_map(CapPtr(table), kOwnVSpace, va).ok());
    CHECK_EQ(translate(va).hardware, ~uint64_t{0});
    CHECK_EQ(translate(va).walked, ~uint64_t{0});
    // The slot is empty again: another frame maps there.
    uint64_t other = new_frame();
    CHECK(other != 0);
    CHECK(frame_map(CapPtr(other), kOwnVSpace, va, kRW, abi::MapAttributes::kCached).ok());
    CHECK_EQ(*reinterpret_cast<volatile uint64_t*>(va), uint64_t{0});
    // The first frame's capability still names its old mapping; deleting it must not take
    // the new one.
    CHECK(cnode_delete(kRootCNode, frame, kRootDepth).ok());
    CHECK(translate(va).hardware != ~uint64_t{0});
    CHECK(cnode_delete(kRootCNode, other, kRootDepth).ok());
    CHECK(page_table_unmap(CapPtr(table)).ok());
}

USER_TEST(isolation, page_table_keeps_its_level) {
    uint64_t vs = assigned_vspace();
    CHECK(vs != 0);
    uint64_t va = 0x10'0000'0000;
    uint64_t table = map_last_level_table(CapPtr(vs), va);
    CHECK(table != 0);
    CHECK(page_table_unmap(CapPtr(table)).ok());
    // Far from va the first missing level is 1 (only the root is shared): refused there.
    InvocationResult r = page_table_map(CapPtr(table), CapPtr(vs), 0x7000'0000'0000);
    CHECK(r.error == Error::kIllegalOperation);
    // At its own level it maps again.
    CHECK(page_table_map(CapPtr(table), CapPtr(vs), va).ok());
}

// Finding 5: a VSpace capability copied before AsidPoolAssign could be given a second ASID.
USER_TEST(isolation, vspace_without_asid_cannot_be_copied) {
    uint64_t ut = new_untyped(12);
    uint64_t vs = ut == 0 ? 0 : make_objects(ut, ObjectType::kVSpace, 0);
    CHECK(vs != 0);
    CHECK(copy(new_slot(), vs).error == Error::kIllegalOperation);
    if (g_pool == 0) {
        g_pool = new_asid_pool();
    }
    CHECK(asid_pool_assign(CapPtr(g_pool), CapPtr(vs)).ok());
    uint64_t alias = new_slot();
    CHECK(copy(alias, vs).ok());
    CHECK(asid_pool_assign(CapPtr(g_pool), CapPtr(alias)).error == Error::kInvalidCapability);
}

// A badge is set once: minting a badged capability with another badge is refused.

// A VSpace whose ASID pool is gone keeps its ASID number but no live ASID: no thread is given
// it (nothing would keep its tables and the TLB in step), and DebugTranslate does not walk it.
USER_TEST(isolation, vspace_of_a_dead_pool_is_refused) {
    uint64_t pool = new_asid_pool();
    CHECK(pool != 0);
    uint64_t ut = new_untyped(14);
    uint64_t vs = ut == 0 ? 0 : make_objects(ut, ObjectType::kVSpace, 0);
    uint64_t tcb = ut == 0 ? 0 : make_objects(ut, ObjectType::kTcb, 0);
    CHECK(vs != 0 && tcb != 0);
    CHECK(asid_pool_assign(CapPtr(pool), CapPtr(vs)).ok());
    CHECK(tcb_configure(CapPtr(tcb), CapPtr(0), kRootCNode, 0, CapPtr(vs), 0, CapPtr(0)).ok());
    CHECK(cnode_delete(kRootCNode, pool, kRootDepth).ok());
    InvocationResult r =
        tcb_configure(CapPtr(tcb), CapPtr(0), kRootCNode, 0, CapPtr(vs), 0, CapPtr(0));
    CHECK(r.error == Error::kInvalidCapability);
    CHECK_EQ(r.detail[0], uint64_t{2});
    CHECK(cnode_delete(kRootCNode, tcb, kRootDepth).ok());
}

}  // namespace tessera::test
