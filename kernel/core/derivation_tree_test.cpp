// Host tests of the capability derivation tree: insertion order, parenthood rules (untyped
// regions, badges), finality, move/swap/remove keeping the list consistent.
#include "core/derivation_tree.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace tessera {
namespace {

// Slots in a host array, with fake object addresses (16-byte aligned).
struct Slots : ::testing::Test {
    alignas(32) Cte slot[16];

    PhysAddr ep_object = PhysAddr(0x10000);
    PhysAddr untyped_base = PhysAddr(0x100000);

    // The list from slot i onwards, as slot indices.
    std::vector<int> chain(int from) {
        std::vector<int> out;
        for (const Cte* c = &slot[from]; c != nullptr; c = c->next()) {
            out.push_back(static_cast<int>(c - slot));
        }
        return out;
    }
    // prev/next agree everywhere.
    void expect_consistent() {
        for (const Cte& c : slot) {
            if (c.next() != nullptr) {
                EXPECT_EQ(c.next()->prev(), &c);
            }
            if (c.prev() != nullptr) {
                EXPECT_EQ(c.prev()->next(), &c);
            }
        }
    }
};

TEST_F(Slots, CopiesFollowTheirSourceAndAreNotParents) {
    Capability ep = Capability::endpoint(ep_object, 0, abi::kRightsAll);
    DerivationTree::insert_original(slot[0], ep);
    DerivationTree::insert_derived(slot[0], slot[1], ep);
    DerivationTree::insert_derived(slot[0], slot[2], ep);
    EXPECT_EQ(chain(0), (std::vector<int>{0, 2, 1}));
    EXPECT_TRUE(DerivationTree::is_parent_of(slot[0], slot[2]));
    EXPECT_FALSE(slot[2].revocable());  // a plain copy cannot have children
    EXPECT_FALSE(DerivationTree::is_parent_of(slot[2], slot[1]));
    EXPECT_FALSE(DerivationTree::is_final(slot[0]));
    expect_consistent();
}

TEST_F(Slots, BadgedMintsStartTheirOwnSubtrees) {
    Capability ep = Capability::endpoint(ep_object, 0, abi::kRightsAll);
    DerivationTree::insert_original(slot[0], ep);
    DerivationTree::insert_derived(slot[0], slot[1], ep.with_data(7));  // mint badge 7
    DerivationTree::insert_derived(slot[1], slot[2], ep.with_data(7));  // copy of badge 7
    DerivationTree::insert_derived(slot[0], slot[3], ep.with_data(9));  // mint badge 9
    EXPECT_EQ(chain(0), (std::vector<int>{0, 3, 1, 2}));
    EXPECT_TRUE(slot[1].revocable() && slot[1].first_badged());
    EXPECT_FALSE(slot[2].revocable());
    EXPECT_TRUE(DerivationTree::is_parent_of(slot[1], slot[2]));
    EXPECT_FALSE(DerivationTree::is_parent_of(slot[3], slot[1]));  // badge 9 does not own 7
    EXPECT_TRUE(DerivationTree::is_parent_of(slot[0], slot[1]));   // unbadged owns all
    EXPECT_EQ(DerivationTree::first_child(slot[3]), nullptr);
    EXPECT_EQ(DerivationTree::first_child(slot[1]), &slot[2]);
}

TEST_F(Slots, SameBadgeMintedTwiceIsTwoSubtrees) {
    Capability ep = Capability::endpoint(ep_object, 0, abi::kRightsAll);
    DerivationTree::insert_original(slot[0], ep);
    DerivationTree::insert_derived(slot[0], slot[1], ep.with_data(5));
    DerivationTree::insert_derived(slot[0], slot[2], ep.with_data(5));
    // 0 -> 2 -> 1: slot 2 must not claim slot 1, which is first-badged itself.
    EXPECT_FALSE(DerivationTree::is_parent_of(slot[2], slot[1]));
}

TEST_F(Slots, UntypedParentsEveryObjectInItsRegion) {
    Capability ut = Capability::untyped(untyped_base, 16, false, 0);
    DerivationTree::insert_original(slot[0], ut);
    Capability child_ut = Capability::untyped(untyped_base.offset(0x8000), 15, false, 0);
    Capability ep = Capability::endpoint(untyped_base.offset(0x10), 0, abi::kRightsAll);
    Capability outside = Capability::endpoint(PhysAddr(0x200000), 0, abi::kRightsAll);
    DerivationTree::insert_new_object(slot[0], slot[1], ep);
    DerivationTree::insert_new_object(slot[0], slot[2], child_ut);
    EXPECT_TRUE(DerivationTree::is_parent_of(slot[0], slot[1]));
    EXPECT_TRUE(DerivationTree::is_parent_of(slot[0], slot[2]));
    EXPECT_TRUE(DerivationTree::has_children(slot[0]));
    alignas(32) Cte lone;
    DerivationTree::insert_original(lone, outside);
    EXPECT_FALSE(DerivationTree::is_parent_of(slot[0], lone));
    // An untyped larger than its parent's region is not inside it.
    alignas(32) Cte big;
    DerivationTree::insert_original(big, Capability::untyped(untyped_base, 17, false, 0));
    EXPECT_FALSE(DerivationTree::is_parent_of(slot[0], big));
}

TEST_F(Slots, UntypedCopyMarksItsSourceFull) {
    Capability ut = Capability::untyped(untyped_base, 16, false, 0x40);
    DerivationTree::insert_original(slot[0], ut);
    DerivationTree::insert_derived(slot[0], slot[1], ut);
    // The copy keeps the watermark and is the source's child; the source has nothing left.
    EXPECT_EQ(slot[1].cap().untyped_free_index(), 0x40u);
    EXPECT_EQ(slot[0].cap().untyped_free_index(), uint64_t{1} << 16);
    EXPECT_TRUE(DerivationTree::is_parent_of(slot[0], slot[1]));
    EXPECT_TRUE(slot[1].revocable());
    // A smaller untyped inside the region (a retyped child) leaves its parent as it was.
    Capability child = Capability::untyped(untyped_base, 12, false, 0);
    DerivationTree::insert_derived(slot[1], slot[2], child);
    EXPECT_EQ(slot[1].cap().untyped_free_index(), 0x40u);
}

TEST_F(Slots, FinalityLooksAtNeighbours) {
    Capability ep = Capability::endpoint(ep_object, 0, abi::kRightsAll);
    Capability other = Capability::endpoint(ep_object.offset(0x100), 0, abi::kRightsAll);
    DerivationTree::insert_original(slot[0], ep);
    EXPECT_TRUE(DerivationTree::is_final(slot[0]));
    DerivationTree::insert_derived(slot[0], slot[1], ep);
    EXPECT_FALSE(DerivationTree::is_final(slot[1]));
    DerivationTree::remove(slot[0]);
    EXPECT_TRUE(slot[0].is_empty());
    EXPECT_TRUE(DerivationTree::is_final(slot[1]));
    DerivationTree::insert_derived(slot[1], slot[2], other);  // (not a real derivation)
    EXPECT_TRUE(DerivationTree::is_final(slot[1]));
    // Untyped: a cap to an object inside it is not "the same object".
    Capability ut = Capability::untyped(untyped_base, 12, false, 0);
    DerivationTree::insert_original(slot[5], ut);
    DerivationTree::insert_new_object(slot[5], slot[6], Capability::tcb(untyped_base));
    EXPECT_TRUE(DerivationTree::is_final(slot[5]));
    EXPECT_TRUE(DerivationTree::is_final(slot[6]));
    expect_consistent();
}

TEST_F(Slots, RemoveKeepsChildrenReachableAndPassesFirstBadged) {
    Capability ep = Capability::endpoint(ep_object, 0, abi::kRightsAll);
    DerivationTree::insert_original(slot[0], ep);
    DerivationTree::insert_derived(slot[0], slot[1], ep.with_data(3));
    DerivationTree::insert_derived(slot[1], slot[2], ep.with_data(3));
    DerivationTree::remove(slot[1]);
    EXPECT_EQ(chain(0), (std::vector<int>{0, 2}));
    EXPECT_TRUE(slot[2].first_badged());  // inherited: it now starts the badge-3 run
    EXPECT_TRUE(DerivationTree::is_parent_of(slot[0], slot[2]));
    expect_consistent();
}

TEST_F(Slots, MoveTakesOverThePosition) {
    Capability ep = Capability::endpoint(ep_object, 0, abi::kRightsAll);
    DerivationTree::insert_original(slot[0], ep);
    DerivationTree::insert_derived(slot[0], slot[1], ep.with_data(4));
    DerivationTree::insert_derived(slot[1], slot[2], ep.with_data(4));
    DerivationTree::move(slot[1], slot[9], ep.with_data(4));
    EXPECT_TRUE(slot[1].is_empty());
    EXPECT_EQ(chain(0), (std::vector<int>{0, 9, 2}));
    EXPECT_TRUE(slot[9].revocable() && slot[9].first_badged());
    EXPECT_TRUE(DerivationTree::is_parent_of(slot[9], slot[2]));
    expect_consistent();
}

TEST_F(Slots, SwapAdjacentAndDistantSlots) {
    Capability a = Capability::endpoint(ep_object, 0, abi::kRightsAll);
    Capability b = Capability::notification(PhysAddr(0x20000), 0, abi::kRightsAll);
    Capability c = Capability::tcb(PhysAddr(0x40000));
    DerivationTree::insert_original(slot[0], a);
    DerivationTree::insert_derived(slot[0], slot[1], a);                   // 0 -> 1
    DerivationTree::insert_derived(slot[1], slot[2], a);                   // 0 -> 1 -> 2
    DerivationTree::swap(slot[1], slot[1].cap(), slot[2], slot[2].cap());  // adjacent
    EXPECT_EQ(chain(0), (std::vector<int>{0, 2, 1}));
    expect_consistent();
    DerivationTree::insert_original(slot[5], b);
    DerivationTree::insert_derived(slot[5], slot[6], b);
    DerivationTree::insert_original(slot[8], c);
    DerivationTree::swap(slot[0], a, slot[6], b);  // distant, different lists
    EXPECT_EQ(slot[6].cap(), a);
    EXPECT_EQ(slot[0].cap(), b);
    EXPECT_EQ(chain(6), (std::vector<int>{6, 2, 1}));
    EXPECT_EQ(chain(5), (std::vector<int>{5, 0}));
    expect_consistent();
    DerivationTree::swap(slot[2], a, slot[6], a);  // 6 -> 2: adjacent the other way round
    EXPECT_EQ(chain(2), (std::vector<int>{2, 6, 1}));
    expect_consistent();
}

TEST(Capability, EncodingRoundTrips) {
    Capability ut = Capability::untyped(PhysAddr(0x4000'0000), 27, true, 0x1230);
    EXPECT_EQ(ut.type(), CapType::kUntyped);
    EXPECT_EQ(ut.object(), PhysAddr(0x4000'0000));
    EXPECT_EQ(ut.untyped_size_bits(), 27u);
    EXPECT_TRUE(ut.untyped_is_device());
    EXPECT_EQ(ut.untyped_free_index(), 0x1230u);
    EXPECT_EQ(ut.object_size(), uint64_t{1} << 27);
    Capability cn = Capability::cnode(PhysAddr(0xffff'ffff'f000), 12, 52, 0x5a5);
    EXPECT_EQ(cn.object(), PhysAddr(0xffff'ffff'f000));
    EXPECT_EQ(cn.cnode_radix(), 12u);
    EXPECT_EQ(cn.cnode_guard_size(), 52u);
    EXPECT_EQ(cn.cnode_guard(), 0x5a5u);
    Capability ep = Capability::endpoint(PhysAddr(0x10), ~uint64_t{0}, abi::kRightWrite);
    EXPECT_EQ(ep.badge(), ~uint64_t{0});
    EXPECT_TRUE(ep.has_rights(abi::kRightWrite));
    EXPECT_FALSE(ep.has_rights(abi::kRightWrite | abi::kRightRead));
    Capability masked = Capability::endpoint(PhysAddr(0x10), 0, abi::kRightsAll)
                            .with_rights_masked(abi::kRightRead | abi::kRightGrant);
    EXPECT_EQ(masked.rights(), abi::kRightRead | abi::kRightGrant);
    EXPECT_EQ(masked.with_rights_masked(abi::kRightsAll).rights(), masked.rights());
    EXPECT_TRUE(Capability::null().is_null());
    EXPECT_STREQ(to_string(CapType::kCNode), "cnode");
}

}  // namespace
}  // namespace tessera
