// Error codes returned by system calls and object invocations: the one place internal kernel
// errors become numbers user code sees. Values are part of the ABI and never change meaning.
#pragma once

#include <cstdint>

namespace tessera::abi {

enum class Error : uint64_t {
    kOk = 0,
    kInvalidArgument = 1,    // an argument is out of its domain; detail: argument index
    kInvalidCapability = 2,  // the capability has the wrong type or lacks rights; detail: index
    kIllegalOperation = 3,   // the operation is not allowed on this object in its state
    kRangeError = 4,         // a numeric argument is outside [min, max]; detail: index, min, max
    kAlignmentError = 5,     // an address or size is misaligned; detail: index
    kFailedLookup = 6,       // a capability address did not resolve; detail: lookup failure
    kTruncatedMessage = 7,   // the message has fewer words or caps than the operation needs
    kDeleteFirst = 8,        // the destination slot (or mapping) is occupied
    kRevokeFirst = 9,        // the object still has derived children
    kNotEnoughMemory = 10,   // the untyped has too little free space left
    kCancelled = 11,         // the IPC was aborted (endpoint or partner deleted)
    kCount,
};

// Short, stable names ("InvalidArgument") for messages and test output.
constexpr const char* error_name(Error e) {
    switch (e) {
        case Error::kOk:
            return "Ok";
        case Error::kInvalidArgument:
            return "InvalidArgument";
        case Error::kInvalidCapability:
            return "InvalidCapability";
        case Error::kIllegalOperation:
            return "IllegalOperation";
        case Error::kRangeError:
            return "RangeError";
        case Error::kAlignmentError:
            return "AlignmentError";
        case Error::kFailedLookup:
            return "FailedLookup";
        case Error::kTruncatedMessage:
            return "TruncatedMessage";
        case Error::kDeleteFirst:
            return "DeleteFirst";
        case Error::kRevokeFirst:
            return "RevokeFirst";
        case Error::kNotEnoughMemory:
            return "NotEnoughMemory";
        case Error::kCancelled:
            return "Cancelled";
        case Error::kCount:
            break;
    }
    return "UnknownError";
}

// Why a capability lookup failed (reported with kFailedLookup).
enum class LookupFailure : uint64_t {
    kNone = 0,
    kInvalidRoot = 1,        // the CSpace root is not a CNode
    kMissingCapability = 2,  // the slot reached is empty (or not a CNode mid-path)
    kDepthMismatch = 3,      // the depth does not end exactly at a slot
    kGuardMismatch = 4,      // the address bits do not match a CNode's guard
};

}  // namespace tessera::abi
