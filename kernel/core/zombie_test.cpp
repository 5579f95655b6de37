// Host tests of the zombie record's packing into a capability: every field round-trips at its
// extremes, and the memory a zombie claims is its whole object.
#include "core/zombie.hpp"

#include <gtest/gtest.h>

namespace tessera {
namespace {

TEST(Zombie, FieldsRoundTripAtTheirLimits) {
    Zombie z;
    z.object = PhysAddr(0xfff'ffff'f000);
    z.radix = abi::kMaxCNodeRadix;
    z.remaining = uint64_t{1} << abi::kMaxCNodeRadix;
    z.has_leftover = true;
    z.waiting = false;
    z.top = true;
    z.link = 0xffff'ffff'ffe0;  // the highest 32-byte-aligned slot below 2^48
    Capability c = zombie_capability(z);
    EXPECT_EQ(c.type(), CapType::kZombie);
    Zombie back = zombie_of(c);
    EXPECT_EQ(back.object, z.object);
    EXPECT_EQ(back.radix, z.radix);
    EXPECT_EQ(back.remaining, z.remaining);
    EXPECT_TRUE(back.has_leftover);
    EXPECT_FALSE(back.waiting);
    EXPECT_TRUE(back.top);
    EXPECT_FALSE(back.tcb);
    EXPECT_EQ(back.link, z.link);
    EXPECT_EQ(back.count(), uint64_t{1} << abi::kMaxCNodeRadix);
}

TEST(Zombie, EveryRemainingCountSurvives) {
    for (uint64_t remaining : {uint64_t{0}, uint64_t{1}, uint64_t{3}, (uint64_t{1} << 21) - 1,
                               uint64_t{1} << 21, (uint64_t{1} << 24) - 1}) {
        Zombie z;
        z.object = PhysAddr(0x4000'0000);
        z.radix = 24;
        z.remaining = remaining;
        z.waiting = true;
        z.link = 0x4100'0020;
        Zombie back = zombie_of(zombie_capability(z));
        EXPECT_EQ(back.remaining, remaining);
        EXPECT_EQ(back.link, z.link);
        EXPECT_TRUE(back.waiting);
        EXPECT_FALSE(back.top);
    }
}

TEST(Zombie, ClaimsItsWholeObjectForTheUntyped) {
    Zombie tcb;
    tcb.object = PhysAddr(0x4000'0800);
    tcb.tcb = true;
    tcb.remaining = kTcbOwnSlots;
    Capability t = zombie_capability(tcb);
    EXPECT_EQ(zombie_of(t).count(), kTcbOwnSlots);
    EXPECT_EQ(t.object_size(), uint64_t{1} << abi::kTcbSizeBits);
    Capability untyped = Capability::untyped(PhysAddr(0x4000'0000), 12, false, 0x1000);
    EXPECT_TRUE(same_region_as(untyped, t));   // the untyped still has a child: no reset
    EXPECT_FALSE(same_region_as(t, untyped));  // a zombie parents nothing
    EXPECT_FALSE(same_object_as(t, t));        // nor is it another capability's object

    Zombie cnode;
    cnode.object = PhysAddr(0x4000'0000);
    cnode.radix = 7;
    EXPECT_EQ(zombie_capability(cnode).object_size(), uint64_t{1} << (7 + abi::kSlotSizeBits));
}

}  // namespace
}  // namespace tessera
