// Kernel object types user level can create by retyping untyped memory, with their sizes.
// Values and sizes are part of the ABI.
#pragma once

#include <cstdint>

namespace tessera::abi {

enum class ObjectType : uint64_t {
    kUntyped = 0,
    kTcb = 1,
    kEndpoint = 2,
    kNotification = 3,
    kCNode = 4,
    kFrame4K = 5,
    kFrame2M = 6,
    kPageTable = 7,  // an intermediate translation table (levels 1-3)
    kVSpace = 8,     // a top-level translation table (level 0)
    kCount,
};

// Kinds of capability (reported by CNodeIdentify; some are not retype-able objects).
enum class CapType : uint8_t {
    kNull = 0,
    kUntyped,
    kEndpoint,
    kNotification,
    kReply,
    kCNode,
    kTcb,
    kIrqControl,
    kIrqHandler,
    kFrame,
    kPageTable,
    kVSpace,
    kAsidControl,
    kAsidPool,
    kZombie,   // an object whose last capability went, while its own slots are emptied
    kDebug,    // halts the system, translates addresses (the root task's; it may pass it on)
    kConsole,  // writes to the kernel console
    kCount,
};

// log2 of an object's size in bytes. Untyped and CNode sizes are chosen by the caller
// (size_bits argument: bytes for untyped, slots for a CNode).
constexpr unsigned kTcbSizeBits = 11;
constexpr unsigned kEndpointSizeBits = 4;
constexpr unsigned kNotificationSizeBits = 5;
constexpr unsigned kSlotSizeBits = 5;  // one CNode slot (capability + derivation links)
constexpr unsigned kPageSizeBits = 12;
constexpr unsigned kLargePageSizeBits = 21;
constexpr unsigned kPageTableSizeBits = 12;
constexpr unsigned kVSpaceSizeBits = 12;
constexpr unsigned kMinUntypedSizeBits = 4;
constexpr unsigned kMaxUntypedSizeBits = 47;
constexpr unsigned kMinCNodeRadix = 1;
constexpr unsigned kMaxCNodeRadix = 24;

// log2 of the bytes one object of `type` takes (size_bits as the retype argument); the kernel
// checks the range, this only computes.
constexpr unsigned object_bytes_bits(ObjectType type, uint64_t size_bits) {
    switch (type) {
        case ObjectType::kUntyped:
            return static_cast<unsigned>(size_bits);
        case ObjectType::kTcb:
            return kTcbSizeBits;
        case ObjectType::kEndpoint:
            return kEndpointSizeBits;
        case ObjectType::kNotification:
            return kNotificationSizeBits;
        case ObjectType::kCNode:
            return static_cast<unsigned>(size_bits) + kSlotSizeBits;
        case ObjectType::kFrame4K:
            return kPageSizeBits;
        case ObjectType::kFrame2M:
            return kLargePageSizeBits;
        case ObjectType::kPageTable:
            return kPageTableSizeBits;
        case ObjectType::kVSpace:
        case ObjectType::kCount:
            break;
    }
    return kVSpaceSizeBits;
}

// Capability rights; a capability's rights can only ever be diminished.
enum Rights : uint64_t {
    kRightWrite = 1u << 0,       // send on an endpoint; write a frame
    kRightRead = 1u << 1,        // receive on an endpoint; read a frame
    kRightGrant = 1u << 2,       // transfer capabilities in a message
    kRightGrantReply = 1u << 3,  // let the receiver reply with capabilities
    kRightsAll = 0xf,
};

}  // namespace tessera::abi
