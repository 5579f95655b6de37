// Host tests of untyped retype planning: sizes per type, alignment, watermark, reuse after all
// children are gone, device restrictions, fan-out and out-of-memory errors.
#include "object/untyped.hpp"

#include <gtest/gtest.h>

namespace tessera {
namespace {

using abi::ObjectType;

uint64_t t(ObjectType type) {
    return static_cast<uint64_t>(type);
}

const Capability kUntyped = Capability::untyped(PhysAddr(0x4000'0000), 16, false, 0);  // 64 KiB

TEST(Retype, SizesPerType) {
    EXPECT_EQ(object_size_bits(ObjectType::kTcb, 0).value(), abi::kTcbSizeBits);
    EXPECT_EQ(object_size_bits(ObjectType::kEndpoint, 99).value(), 4u);  // size arg ignored
    EXPECT_EQ(object_size_bits(ObjectType::kCNode, 4).value(), 4u + abi::kSlotSizeBits);
    EXPECT_EQ(object_size_bits(ObjectType::kFrame2M, 0).value(), 21u);
    EXPECT_EQ(object_size_bits(ObjectType::kUntyped, 12).value(), 12u);
    EXPECT_EQ(object_size_bits(ObjectType::kUntyped, 3).error().code, abi::Error::kRangeError);
    EXPECT_EQ(object_size_bits(ObjectType::kCNode, 0).error().code, abi::Error::kRangeError);
    EXPECT_EQ(object_size_bits(ObjectType::kCNode, 25).error().detail[1], 24u);
}

TEST(Retype, PacksObjectsAtTheWatermark) {
    auto plan = plan_retype(kUntyped, false, t(ObjectType::kEndpoint), 0, 10);
    ASSERT_TRUE(plan.ok());
    EXPECT_EQ(plan.value().first_offset, 0u);
    EXPECT_EQ(plan.value().new_free_index, 160u);
    // A TCB after 160 bytes of endpoints is aligned up to 2 KiB.
    Capability used = kUntyped.with_free_index(160);
    auto tcb = plan_retype(used, true, t(ObjectType::kTcb), 0, 1);
    ASSERT_TRUE(tcb.ok());
    EXPECT_EQ(tcb.value().first_offset, 2048u);
    EXPECT_EQ(tcb.value().new_free_index, 4096u);
}

TEST(Retype, WatermarkRestartsWithoutChildren) {
    Capability used = kUntyped.with_free_index(0x10000);  // full
    EXPECT_EQ(plan_retype(used, true, t(ObjectType::kEndpoint), 0, 1).error().code,
              abi::Error::kNotEnoughMemory);
    auto reused = plan_retype(used, false, t(ObjectType::kFrame4K), 0, 16);
    ASSERT_TRUE(reused.ok());
    EXPECT_EQ(reused.value().first_offset, 0u);
    EXPECT_EQ(reused.value().new_free_index, 0x10000u);
}

TEST(Retype, NotEnoughMemory) {
    EXPECT_TRUE(plan_retype(kUntyped, false, t(ObjectType::kFrame4K), 0, 16).ok());
    auto r = plan_retype(kUntyped, false, t(ObjectType::kFrame4K), 0, 17);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, abi::Error::kNotEnoughMemory);
    // Too large for the untyped at all is a range error on the size.
    auto big = plan_retype(kUntyped, false, t(ObjectType::kFrame2M), 0, 1);
    EXPECT_EQ(big.error().code, abi::Error::kRangeError);
    EXPECT_EQ(big.error().detail[1], 16u);
}

TEST(Retype, FanOutAndTypeChecks) {
    EXPECT_EQ(plan_retype(kUntyped, false, t(ObjectType::kEndpoint), 0, 0).error().code,
              abi::Error::kRangeError);
    EXPECT_EQ(plan_retype(kUntyped, false, t(ObjectType::kEndpoint), 0, 257).error().detail[1],
              kMaxRetypeObjects);
    auto bad = plan_retype(kUntyped, false, 99, 0, 1);
    EXPECT_EQ(bad.error().code, abi::Error::kInvalidArgument);
    EXPECT_EQ(bad.error().detail[0], kRetypeArgType);
}

TEST(Retype, DeviceUntypedOnlyMakesFrames) {
    Capability device = Capability::untyped(PhysAddr(0x0900'0000), 16, true, 0);
    EXPECT_TRUE(plan_retype(device, false, t(ObjectType::kFrame4K), 0, 1).ok());
    EXPECT_TRUE(plan_retype(device, false, t(ObjectType::kUntyped), 12, 1).ok());
    for (ObjectType type : {ObjectType::kTcb, ObjectType::kEndpoint, ObjectType::kNotification,
                            ObjectType::kCNode, ObjectType::kPageTable, ObjectType::kVSpace}) {
        auto r = plan_retype(device, false, t(type), 4, 1);
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.error().code, abi::Error::kInvalidArgument);
    }
}

TEST(Retype, AlignmentUsesPhysicalAddress) {
    // An untyped whose base is only 4 KiB aligned: a 64 KiB child untyped must skip ahead.
    Capability odd = Capability::untyped(PhysAddr(0x4000'1000), 17, false, 0);
    auto r = plan_retype(odd, false, t(ObjectType::kUntyped), 16, 1);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.value().first_offset, 0xf000u);
}

TEST(Reset, StepsDownInChunksEndingOnTheLastStart) {
    EXPECT_EQ(reset_chunk_start(1), 0u);
    EXPECT_EQ(reset_chunk_start(kResetChunk), 0u);
    EXPECT_EQ(reset_chunk_start(kResetChunk + 1), kResetChunk);
    EXPECT_EQ(reset_chunk_start(3 * kResetChunk), 2 * kResetChunk);
    // From any watermark the steps reach 0, each strictly lower and at most one chunk long.
    for (uint64_t index :
         {uint64_t{1}, uint64_t{4096}, kResetChunk - 16, 5 * kResetChunk + 48, uint64_t{1} << 30}) {
        uint64_t steps = 0;
        while (index > 0) {
            uint64_t start = reset_chunk_start(index);
            ASSERT_LT(start, index);
            ASSERT_LE(index - start, kResetChunk);
            EXPECT_EQ(start % kResetChunk, 0u);
            index = start;
            ++steps;
        }
        EXPECT_GT(steps, 0u);
    }
}

}  // namespace
}  // namespace tessera
