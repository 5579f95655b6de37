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
    kTcbConfigure = 32,
    kTcbSetPriority = 33,
    kTcbReadRegisters = 34,
    kTcbWriteRegisters = 35,
    kTcbCopyRegisters = 36,
    kTcbSetSpace = 37,
    kTcbSetIpcBuffer = 38,
    kTcbSetTlsBase = 39,
    kTcbSetName = 40,
    kTcbBindNotification = 41,
    kTcbUnbindNotification = 42,
    // IRQ control and handlers
    kIrqControlGet = 50,
    kIrqHandlerAck = 51,
    kIrqHandlerSetNotification = 52,
    kIrqHandlerClear = 53,
};

// Register order of TCB Read/Write/CopyRegisters: pc, sp, spsr, x0..x30, tpidr.
constexpr unsigned kUserRegisterCount = 35;
constexpr unsigned kRegisterIndexPc = 0;
constexpr unsigned kRegisterIndexSp = 1;
constexpr unsigned kRegisterIndexSpsr = 2;
constexpr unsigned kRegisterIndexX0 = 3;
constexpr unsigned kRegisterIndexTpidr = 34;

}  // namespace tessera::abi
