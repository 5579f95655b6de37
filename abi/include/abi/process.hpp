// The start-up convention of a protection domain created at run time: what its registers hold
// when it first runs, how its CSpace is laid out, and the messages it sends its parent.
#pragma once

#include <cstdint>

namespace tessera::abi {

// At entry: x0 = slot of the parent endpoint in the PD's CSpace, x1 = the argument word given
// to spawn, sp = top of its stack, TPIDR_EL0 = its IPC buffer. Its CSpace is one CNode of
// radix kPdCNodeRadix with a guard filling the rest of the 64 bits, so slot n is CapPtr(n).
constexpr unsigned kPdCNodeRadix = 8;
constexpr uint64_t kPdSlotParentEndpoint = 1;  // badged endpoint to its parent
constexpr uint64_t kPdSlotFaultEndpoint = 2;   // where its faults go (the parent, badged)
constexpr uint64_t kPdSlotFirstFree = 8;       // slots below are reserved for the runtime

// Labels of messages a PD sends its parent on the parent endpoint.
enum class ProcessLabel : uint64_t {
    kExit = 0x0e417,  // word 0: exit status; the parent tears the PD down and never replies
};

// Where the PD's stack and IPC buffer are placed: at the top of the first gigabyte, in the same
// 2 MiB region and under the same upper tables as a small image at 4 MiB, so a minimal PD needs
// four translation tables. The stack grows down from kPdStackTop (an unmapped page below its
// lowest page guards it); the image must end below the stack's guard page.
constexpr uint64_t kPdIpcBuffer = 0x0000'0000'3fff'f000;
constexpr uint64_t kPdStackTop = 0x0000'0000'3fff'e000;

}  // namespace tessera::abi
