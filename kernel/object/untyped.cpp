// Retype planning: validates the object type, size and count against the untyped, and finds
// where the objects go. Pure arithmetic with overflow checks; performing the retype (zeroing,
// constructing objects, inserting capabilities) happens only after this succeeded.
#include "object/untyped.hpp"

#include "base/bits.hpp"

namespace tessera {

SysResult<unsigned> object_size_bits(abi::ObjectType type, uint64_t user_size_bits) {
    switch (type) {
        case abi::ObjectType::kUntyped:
            if (user_size_bits < abi::kMinUntypedSizeBits ||
                user_size_bits > abi::kMaxUntypedSizeBits) {
                return fail(
                    SyscallError::range(abi::kMinUntypedSizeBits, abi::kMaxUntypedSizeBits));
            }
            return static_cast<unsigned>(user_size_bits);
        case abi::ObjectType::kCNode:
            if (user_size_bits < abi::kMinCNodeRadix || user_size_bits > abi::kMaxCNodeRadix) {
                return fail(SyscallError::range(abi::kMinCNodeRadix, abi::kMaxCNodeRadix));
            }
            return static_cast<unsigned>(user_size_bits) + abi::kSlotSizeBits;
        case abi::ObjectType::kTcb:
            return abi::kTcbSizeBits;
        case abi::ObjectType::kEndpoint:
            return abi::kEndpointSizeBits;
        case abi::ObjectType::kNotification:
            return abi::kNotificationSizeBits;
        case abi::ObjectType::kFrame4K:
            return abi::kPageSizeBits;
        case abi::ObjectType::kFrame2M:
            return abi::kLargePageSizeBits;
        case abi::ObjectType::kPageTable:
            return abi::kPageTableSizeBits;
        case abi::ObjectType::kVSpace:
            return abi::kVSpaceSizeBits;
        case abi::ObjectType::kCount:
            break;
    }
    return fail(SyscallError::invalid_argument(kRetypeArgType));
}

SysResult<RetypePlan> plan_retype(const Capability& untyped, bool has_children, uint64_t type,
                                  uint64_t user_size_bits, uint64_t count) {
    if (type >= static_cast<uint64_t>(abi::ObjectType::kCount)) {
        return fail(SyscallError::invalid_argument(kRetypeArgType));
    }
    auto object_type = static_cast<abi::ObjectType>(type);
    // Device memory may hold only frames (and smaller device untypeds): kernel objects in it
    // would be reachable by DMA and need not be RAM at all.
    if (untyped.untyped_is_device() && object_type != abi::ObjectType::kUntyped &&
        object_type != abi::ObjectType::kFrame4K && object_type != abi::ObjectType::kFrame2M) {
        return fail(SyscallError::invalid_argument(kRetypeArgType));
    }
    unsigned bits = TRY(object_size_bits(object_type, user_size_bits));
    if (count < 1 || count > kMaxRetypeObjects) {
        return fail(SyscallError::range(1, kMaxRetypeObjects));
    }
    unsigned untyped_bits = untyped.untyped_size_bits();
    if (bits > untyped_bits) {
        return fail(SyscallError::range(0, untyped_bits));  // one object cannot fit at all
    }
    uint64_t untyped_size = uint64_t{1} << untyped_bits;
    uint64_t base = untyped.object().value();
    uint64_t free_index = has_children ? untyped.untyped_free_index() : 0;
    // Objects are aligned to their size in physical memory, not just within the untyped.
    auto first_address = align_up(base + free_index, uint64_t{1} << bits);
    auto total = checked_mul(count, uint64_t{1} << bits);
    if (!first_address || !total) {
        return fail(SyscallError::of(abi::Error::kNotEnoughMemory));
    }
    uint64_t first_offset = *first_address - base;
    if (first_offset > untyped_size || *total > untyped_size - first_offset) {
        return fail(SyscallError::make(abi::Error::kNotEnoughMemory, untyped_size - free_index));
    }
    RetypePlan plan;
    plan.type = object_type;
    plan.object_size_bits = bits;
    plan.user_size_bits = static_cast<unsigned>(user_size_bits);
    plan.count = count;
    plan.first_offset = first_offset;
    plan.new_free_index = first_offset + *total;
    return plan;
}

}  // namespace tessera
