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
    kCNodeDeleteRange = 19,
    kCNodeIdentify = 20,
    kCNodeCopyRange = 21,  // count consecutive copies at once (a fork's mappings)
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
    // Virtual memory
    kAsidControlMakePool = 60,
    kAsidPoolAssign = 61,
    kPageTableMap = 62,
    kPageTableUnmap = 63,
    kFrameMap = 64,
    kFrameUnmap = 65,
    kFrameGetAddress = 66,
    kFrameCacheOp = 67,
    kVSpaceMapFrames = 68,
    kVSpaceUnmapFrames = 69,
    kVSpaceRemapFrames = 70,  // new rights for a run of mapped frames (copy-on-write)
    kFrameRemap = 71,         // new rights for one mapped frame
    kFrameCopy = 72,          // this frame's contents become another's (copy-on-write)
    // Debug and console capabilities
    kDebugHalt = 80,
    kDebugTranslate = 81,
    kConsoleWrite = 85,
};

// ConsoleWrite: word 0 the count, then the characters packed eight to a word (the first in
// the low byte); at most this many per call.
constexpr uint64_t kConsoleWriteMax = uint64_t{8} * 119;

// VSpaceMapFrames / VSpaceUnmapFrames act on at most this many frames, named by consecutive
// capability pointers; a mapped run must lie in one last-level table (the kernel walks once).
constexpr uint64_t kMaxFramesPerCall = 512;

// FrameCacheOp operations (word 0), applied to [offset, offset + size) of a mapped frame.
enum class CacheOp : uint64_t {
    kClean = 0,       // write dirty lines back to memory (point of coherency)
    kInvalidate = 1,  // discard lines (needs a writable capability)
    kCleanInvalidate = 2,
    kUnifyInstruction = 3,  // make written instructions visible to instruction fetch
};

// Frame mapping rights (FrameMap word 2) and attributes (word 3).
enum MapRights : uint64_t {
    kMapRead = 1u << 0,
    kMapWrite = 1u << 1,
    kMapExecute = 1u << 2,
};
enum class MapAttributes : uint64_t {
    kCached = 0,    // Normal write-back
    kUncached = 1,  // Normal non-cacheable
    kDevice = 2,    // Device-nGnRnE (the only choice for device frames)
};

constexpr unsigned kAsidPoolBits = 9;  // 512 ASIDs per pool
constexpr unsigned kAsidBits = 16;
constexpr uint64_t kUserAddressLimit = uint64_t{1} << 47;  // user VAs are below this

// Register order of TCB Read/Write/CopyRegisters: pc, sp, spsr, x0..x30, tpidr.
constexpr unsigned kUserRegisterCount = 35;
constexpr unsigned kRegisterIndexPc = 0;
constexpr unsigned kRegisterIndexSp = 1;
constexpr unsigned kRegisterIndexSpsr = 2;
constexpr unsigned kRegisterIndexX0 = 3;
constexpr unsigned kRegisterIndexTpidr = 34;

}  // namespace tessera::abi
