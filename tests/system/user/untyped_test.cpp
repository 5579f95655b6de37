// Untyped retype from user level: every object type, every argument's error, the watermark,
// reuse after revoke and device untypeds.
#include "user_test.hpp"

namespace tessera::test {
namespace {

using abi::CapType;
using abi::Error;
using abi::ObjectType;

InvocationResult retype(uint64_t ut, ObjectType type, uint64_t bits, uint64_t offset,
                        uint64_t count) {
    return untyped_retype(abi::CapPtr(ut), type, bits, kRootCNode, 0, 0, offset, count);
}

}  // namespace

USER_TEST(retype, every_object_type) {
    uint64_t ut = new_untyped(23);  // room for a 2 MiB frame after the small objects
    CHECK(ut != 0);
    struct {
        ObjectType type;
        uint64_t bits;
        CapType cap;
    } cases[] = {
        {ObjectType::kUntyped, 12, CapType::kUntyped},
        {ObjectType::kTcb, 0, CapType::kTcb},
        {ObjectType::kEndpoint, 0, CapType::kEndpoint},
        {ObjectType::kNotification, 0, CapType::kNotification},
        {ObjectType::kCNode, 3, CapType::kCNode},
        {ObjectType::kFrame4K, 0, CapType::kFrame},
        {ObjectType::kFrame2M, 0, CapType::kFrame},
        {ObjectType::kPageTable, 0, CapType::kPageTable},
        {ObjectType::kVSpace, 0, CapType::kVSpace},
    };
    for (const auto& c : cases) {
        uint64_t slot = make_objects(ut, c.type, c.bits);
        if (slot == 0 || identify(abi::CapPtr(slot)).type != c.cap) {
            t.fail("object type {} not created", static_cast<uint64_t>(c.type));
            return;
        }
    }
}

USER_TEST(retype, invalid_type_names_argument) {
    uint64_t ut = new_untyped(12);
    InvocationResult r = retype(ut, static_cast<ObjectType>(99), 0, new_slot(), 1);
    CHECK(r.error == Error::kInvalidArgument);
    CHECK_EQ(r.detail[0], uint64_t{0});
}

USER_TEST(retype, size_out_of_range) {
    uint64_t ut = new_untyped(12);
    InvocationResult r = retype(ut, ObjectType::kUntyped, 3, new_slot(), 1);
    CHECK(r.error == Error::kRangeError);
    CHECK_EQ(r.detail[0], uint64_t{abi::kMinUntypedSizeBits});
    r = retype(ut, ObjectType::kCNode, 25, new_slot(), 1);
    CHECK(r.error == Error::kRangeError);
    CHECK_EQ(r.detail[1], uint64_t{abi::kMaxCNodeRadix});
}

USER_TEST(retype, object_larger_than_untyped) {
    uint64_t ut = new_untyped(12);
    InvocationResult r = retype(ut, ObjectType::kFrame2M, 0, new_slot(), 1);
    CHECK(r.error == Error::kRangeError);
}

USER_TEST(retype, fan_out_limit) {
    uint64_t ut = new_untyped(16);
    InvocationResult r = retype(ut, ObjectType::kEndpoint, 0, 3000, 257);
    CHECK(r.error == Error::kRangeError);
    CHECK_EQ(r.detail[1], uint64_t{256});
    r = retype(ut, ObjectType::kEndpoint, 0, 3000, 0);
    CHECK(r.error == Error::kRangeError);
}

USER_TEST(retype, destination_range_checked) {
    uint64_t ut = new_untyped(12);
    InvocationResult r =
        retype(ut, ObjectType::kEndpoint, 0, uint64_t{1} << abi::kRootCNodeRadix, 1);
    CHECK(r.error == Error::kRangeError);
    r = retype(ut, ObjectType::kEndpoint, 0, (uint64_t{1} << abi::kRootCNodeRadix) - 1, 2);
    CHECK(r.error == Error::kRangeError);
}

USER_TEST(retype, occupied_destination_is_delete_first) {
    uint64_t ut = new_untyped(12);
    uint64_t slot = make_objects(ut, ObjectType::kEndpoint, 0);
    InvocationResult r = retype(ut, ObjectType::kEndpoint, 0, slot, 1);
    CHECK(r.error == Error::kDeleteFirst);
    CHECK_EQ(r.detail[0], slot);
}

USER_TEST(retype, not_enough_memory) {
    uint64_t ut = new_untyped(14);  // 16 KiB: four frames
    CHECK(make_objects(ut, ObjectType::kFrame4K, 0, 3) != 0);
    InvocationResult r = retype(ut, ObjectType::kFrame4K, 0, new_slot(), 2);
    CHECK(r.error == Error::kNotEnoughMemory);
    CHECK(make_objects(ut, ObjectType::kFrame4K, 0, 1) != 0);
    r = retype(ut, ObjectType::kEndpoint, 0, new_slot(), 1);
    CHECK(r.error == Error::kNotEnoughMemory);
}

USER_TEST(retype, reuse_after_revoke) {
    uint64_t ut = new_untyped(14);
    CHECK(make_objects(ut, ObjectType::kFrame4K, 0, 4) != 0);
    CHECK(retype(ut, ObjectType::kFrame4K, 0, new_slot(), 1).error == Error::kNotEnoughMemory);
    CHECK(cnode_revoke(kRootCNode, ut, kRootDepth).ok());
    CHECK(make_objects(ut, ObjectType::kFrame4K, 0, 4) != 0);
}

USER_TEST(retype, truncated_message) {
    uint64_t ut = new_untyped(12);
    const uint64_t args[] = {static_cast<uint64_t>(ObjectType::kEndpoint), 0, 0};
    InvocationResult r = invoke(abi::CapPtr(ut), abi::InvocationLabel::kUntypedRetype, args);
    CHECK(r.error == Error::kTruncatedMessage);
}

USER_TEST(retype, root_must_be_a_cnode) {
    uint64_t ut = new_untyped(12);
    uint64_t ep = make_objects(ut, ObjectType::kEndpoint, 0);
    InvocationResult r =
        untyped_retype(abi::CapPtr(ut), ObjectType::kEndpoint, 0, abi::CapPtr(ep), 0, 0, 10, 1);
    CHECK(r.error == Error::kInvalidCapability);
    CHECK_EQ(r.detail[0], uint64_t{1});
}

USER_TEST(retype, copy_of_untyped_with_children_refused) {
    uint64_t ut = new_untyped(12);
    CHECK(make_objects(ut, ObjectType::kEndpoint, 0) != 0);
    InvocationResult r =
        cnode_copy(kRootCNode, new_slot(), kRootDepth, kRootCNode, ut, kRootDepth, abi::kRightsAll);
    CHECK(r.error == Error::kRevokeFirst);
}

USER_TEST(retype, device_untyped_only_makes_frames) {
    const abi::BootInfo* info = env().info;
    uint64_t device = 0;
    for (uint64_t i = 0; i < info->untyped_count; ++i) {
        if (info->untyped_list[i].is_device != 0 && info->untyped_list[i].size_bits >= 12) {
            device = info->untyped.start + i;
            break;
        }
    }
    CHECK(device != 0);
    InvocationResult r = retype(device, ObjectType::kTcb, 0, new_slot(), 1);
    CHECK(r.error == Error::kInvalidArgument);
    r = retype(device, ObjectType::kCNode, 4, new_slot(), 1);
    CHECK(r.error == Error::kInvalidArgument);
    uint64_t frame = make_objects(device, ObjectType::kFrame4K, 0);
    CHECK(frame != 0);
    CHECK(identify(abi::CapPtr(frame)).type == CapType::kFrame);
    CHECK(cnode_revoke(kRootCNode, device, kRootDepth).ok());
}

USER_TEST(invocation, unknown_label_is_illegal_operation) {
    uint64_t ut = new_untyped(12);
    CHECK(invoke(abi::CapPtr(ut), abi::InvocationLabel::kCNodeCopy, {}).error ==
          Error::kIllegalOperation);
    CHECK(invoke(kRootCNode, abi::InvocationLabel::kUntypedRetype, {}).error ==
          Error::kIllegalOperation);
}

USER_TEST(tcb, unconfigured_thread_cannot_resume) {
    uint64_t ut = new_untyped(12);
    uint64_t tcb = make_objects(ut, ObjectType::kTcb, 0);
    CHECK(tcb != 0);
    CHECK(tcb_resume(abi::CapPtr(tcb)).error == Error::kIllegalOperation);
    CHECK(tcb_suspend(abi::CapPtr(tcb)).ok());
    CHECK(cnode_delete(kRootCNode, tcb, kRootDepth).ok());
}

}  // namespace tessera::test

namespace tessera::test {
namespace {

// Maps `count` 2 MiB frames from `first` at va in the test program's own VSpace.
volatile uint64_t* map_large(uint64_t first, uint64_t count, uint64_t va) {
    for (uint64_t i = 0; i < count; ++i) {
        for (;;) {
            InvocationResult r = frame_map(
                abi::CapPtr(first + i), abi::CapPtr(abi::kSlotInitThreadVSpace), va + i * (2 << 20),
                abi::kMapRead | abi::kMapWrite, abi::MapAttributes::kCached);
            if (r.ok()) {
                break;
            }
            uint64_t table = make_objects(new_untyped(12), ObjectType::kPageTable, 0);
            if (r.error != abi::Error::kFailedLookup || table == 0 ||
                !page_table_map(abi::CapPtr(table), abi::CapPtr(abi::kSlotInitThreadVSpace),
                                va + i * (2 << 20))
                     .ok()) {
                return nullptr;
            }
        }
    }
    return reinterpret_cast<volatile uint64_t*>(va);
}

}  // namespace

// Retyping megabytes zeroes them in chunks with a preemption point between chunks (the
// fast-tick configuration lands timer interrupts inside it, so the call restarts and resumes
// from where zeroing stopped). Whatever the interruptions, memory that held data comes back
// zero.
USER_TEST(retype, large_retype_zeroes_reused_memory) {
    constexpr uint64_t kVa = 0x7b00'0000'0000;
    constexpr uint64_t kWords = 2 * (2 << 20) / 8;
    uint64_t ut = shared_pool();  // left without children at the end
    CHECK(ut != 0);
    uint64_t frames = make_objects(ut, ObjectType::kFrame2M, 0, 2);
    CHECK(frames != 0);
    volatile uint64_t* words = map_large(frames, 2, kVa);
    CHECK(words != nullptr);
    for (uint64_t i = 0; i < kWords; ++i) {
        words[i] = i ^ 0x5a5a'5a5a'5a5a'5a5a;
    }
    CHECK(cnode_revoke(kRootCNode, ut, kRootDepth).ok());  // frames gone, memory reusable
    uint64_t again = make_objects(ut, ObjectType::kFrame2M, 0, 2);
    CHECK(again != 0);
    words = map_large(again, 2, kVa);
    CHECK(words != nullptr);
    uint64_t nonzero = 0;
    for (uint64_t i = 0; i < kWords; ++i) {
        nonzero += words[i] != 0 ? 1 : 0;
    }
    CHECK_EQ(nonzero, uint64_t{0});
    CHECK(cnode_revoke(kRootCNode, ut, kRootDepth).ok());
}

}  // namespace tessera::test
