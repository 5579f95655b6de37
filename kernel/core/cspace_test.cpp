// Host tests of capability-space lookup: single and multi-level CNodes, guards, depths, and
// that every single-bit corruption of a valid address fails to resolve to the same slot.
#include "core/cspace.hpp"

#include <gtest/gtest.h>

#include "core/kernel_memory.hpp"

namespace tessera {
namespace {

using abi::CapPtr;
using abi::LookupFailure;

struct CSpace : ::testing::Test {
    // Root: radix 8, guard 0 of 56 bits, so it consumes all 64 bits in one level.
    alignas(8192) Cte root_slots[256];
    // Second level: radix 4, guard 0b101 of 3 bits.
    alignas(512) Cte leaf_slots[16];

    Capability root = Capability::cnode(physical_address_of(root_slots), 8, 56, 0);
    Capability two_level_root = Capability::cnode(physical_address_of(root_slots), 8, 0, 0);

    LookupFailure failure_of(const SysResult<Cte*>& r) {
        EXPECT_FALSE(r.ok());
        EXPECT_EQ(r.error().code, abi::Error::kFailedLookup);
        return static_cast<LookupFailure>(r.error().detail[0]);
    }
};

TEST_F(CSpace, SingleLevelResolvesEveryIndex) {
    for (uint64_t i = 0; i < 256; ++i) {
        auto r = lookup_slot_at_depth(root, CapPtr(i), 64);
        ASSERT_TRUE(r.ok());
        EXPECT_EQ(r.value(), &root_slots[i]);
    }
}

TEST_F(CSpace, EverySingleBitFlipFails) {
    DerivationTree::insert_original(root_slots[0x2a], Capability::tcb(PhysAddr(0x1000)));
    for (unsigned bit = 0; bit < 64; ++bit) {
        CapPtr flipped(0x2a ^ (uint64_t{1} << bit));
        auto r = lookup_slot(root, flipped);
        if (bit < 8) {
            // Low bits select another (empty) slot of the root.
            ASSERT_TRUE(r.ok());
            EXPECT_NE(r.value(), &root_slots[0x2a]);
            EXPECT_TRUE(r.value()->is_empty());
        } else {
            EXPECT_EQ(failure_of(r), LookupFailure::kGuardMismatch) << "bit " << bit;
        }
    }
}

TEST_F(CSpace, TwoLevelsWithGuard) {
    Capability leaf = Capability::cnode(physical_address_of(leaf_slots), 4, 3, 0b101);
    DerivationTree::insert_original(root_slots[7], leaf);
    // 8 bits index 7, then guard 101, then 4 bits index 9: 15 bits.
    uint64_t address = (uint64_t{7} << 7) | (0b101 << 4) | 9;
    auto r = lookup_slot_at_depth(two_level_root, CapPtr(address), 15);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.value(), &leaf_slots[9]);
    // The CNode slot itself, at depth 8.
    auto mid = lookup_slot_at_depth(two_level_root, CapPtr(7), 8);
    ASSERT_TRUE(mid.ok());
    EXPECT_EQ(mid.value(), &root_slots[7]);
    // Wrong guard.
    EXPECT_EQ(failure_of(lookup_slot_at_depth(two_level_root,
                                              CapPtr((uint64_t{7} << 7) | (0b100 << 4) | 9), 15)),
              LookupFailure::kGuardMismatch);
    // Depth that stops inside the second level.
    EXPECT_EQ(failure_of(lookup_slot_at_depth(two_level_root, CapPtr(address >> 2), 13)),
              LookupFailure::kDepthMismatch);
    // Depth that goes past a non-CNode slot.
    EXPECT_EQ(failure_of(lookup_slot_at_depth(two_level_root, CapPtr(3 << 4), 12)),
              LookupFailure::kDepthMismatch);
}

TEST_F(CSpace, BadRootAndDepth) {
    Capability not_cnode = Capability::tcb(PhysAddr(0x1000));
    EXPECT_EQ(failure_of(lookup_slot(not_cnode, CapPtr(0))), LookupFailure::kInvalidRoot);
    auto r = lookup_slot_at_depth(root, CapPtr(0), 0);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, abi::Error::kRangeError);
    EXPECT_FALSE(lookup_slot_at_depth(root, CapPtr(0), 65).ok());
    // Depth shorter than the root's guard + radix.
    EXPECT_EQ(failure_of(lookup_slot_at_depth(root, CapPtr(0), 32)), LookupFailure::kGuardMismatch);
}

TEST_F(CSpace, InvocationLookupStopsAtNonCNode) {
    DerivationTree::insert_original(root_slots[1], Capability::tcb(PhysAddr(0x1000)));
    auto r = lookup_slot(two_level_root, CapPtr((uint64_t{1} << 56) | 0x1234));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.value(), &root_slots[1]);
}

}  // namespace
}  // namespace tessera
