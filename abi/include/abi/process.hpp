// The start-up convention of a protection domain created at run time: what its registers hold
// when it first runs, how its CSpace is laid out, and the messages it sends its parent.
#pragma once

#include <cstdint>

namespace tessera::abi {

// At entry: x0 = address of its startup record (abi/startup.hpp: arguments, environment, where
// its capabilities and regions are), sp = top of its stack, TPIDR_EL0 = its IPC buffer. Its
// CSpace is one CNode of radix kPdCNodeRadix (or another from kPdMinCNodeRadix to 14, if its
// creator says so) with a guard filling the rest of the 64 bits, so slot n is CapPtr(n).
constexpr unsigned kPdCNodeRadix = 8;
constexpr unsigned kPdMinCNodeRadix = 6;       // 64 slots (a tiny PD); the guard is at most 58 bits
constexpr uint64_t kPdSlotParentEndpoint = 1;  // badged endpoint to its parent
constexpr uint64_t kPdSlotFaultEndpoint = 2;   // where its faults go (the parent, badged)
// Its own objects, when its creator gives them (configuration `self_caps`): with them a PD can
// map frames it receives, read its own registers, and build PDs itself. The CNode capability
// carries the PD's guard, so slots are addressed with depth 64.
constexpr uint64_t kPdSlotSelfCNode = 3;
constexpr uint64_t kPdSlotSelfVSpace = 4;
constexpr uint64_t kPdSlotSelfTcb = 5;
// The console and debug capabilities, when its creator gives them: the runtime prints through
// the first (printf, println) and, with the second, a PD may halt the system or translate.
constexpr uint64_t kPdSlotConsole = 6;
constexpr uint64_t kPdSlotDebug = 7;
constexpr uint64_t kPdSlotFirstFree = 8;  // slots below are reserved for the runtime

// Labels of messages a PD sends its parent on the parent endpoint.
enum class ProcessLabel : uint64_t {
    kExit = 0x0e417,  // word 0: exit status; the parent tears the PD down and never replies
};

// Where the PD's stack, startup record and IPC buffer are placed: at the top of the first
// gigabyte, under the same upper tables as a small image at 4 MiB, so a minimal PD needs four
// translation tables. The stack grows down from kPdStackTop; at least 64 KiB below its lowest
// page stay unmapped (its guard), and the image and every region must end below that.
constexpr uint64_t kPdIpcBuffer = 0x0000'0000'3fff'f000;
constexpr uint64_t kPdStartupRecord = 0x0000'0000'3fff'e000;
constexpr uint64_t kPdStackTop = 0x0000'0000'3fff'e000;

}  // namespace tessera::abi
