// The IPC buffer: one page per thread (registered with its TCB) holding the message words that do
// not fit in registers, capability addresses for transfers, and where received caps should go.
#pragma once

#include <cstddef>
#include <cstdint>

#include "abi/capability_pointer.hpp"
#include "abi/syscall.hpp"

namespace tessera::abi {

struct IpcBuffer {
    MessageInfo tag;
    uint64_t msg[kMaxMessageLength];         // msg[0..3] travel in x2..x5; the kernel uses the rest
    uint64_t user_data;                      // free for the runtime (e.g. the thread's own pointer)
    uint64_t caps_or_badges[kMaxExtraCaps];  // extra caps sent / badges received
    CapPtr receive_cnode;                    // where a received capability is placed
    uint64_t receive_index;
    uint64_t receive_depth;
};

static_assert(offsetof(IpcBuffer, msg) == 8);
static_assert(offsetof(IpcBuffer, caps_or_badges) == 8 + 8 * kMaxMessageLength + 8);
static_assert(sizeof(IpcBuffer) <= 4096);

}  // namespace tessera::abi
