// Invocation labels: the label of the message sent (with Call) to a capability selects the
// operation. Arguments are documented per label in docs/ABI.md.
#pragma once

#include <cstdint>

namespace tessera::abi {

enum class InvocationLabel : uint64_t {
    kInvalid = 0,
    // Untyped
    kUntypedRetype = 1,
    // CNode
    kCNodeRevoke = 10,
    kCNodeDelete = 11,
    kCNodeCancelBadgedSends = 12,
    kCNodeCopy = 13,
    kCNodeMint = 14,
    kCNodeMove = 15,
    kCNodeMutate = 16,
    kCNodeRotate = 17,
    kCNodeSaveCaller = 18,
    // TCB
    kTcbSuspend = 30,
    kTcbResume = 31,
};

}  // namespace tessera::abi
