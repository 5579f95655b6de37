// A fault message as a handler receives it (a Call on its endpoint), decoded with the one
// decoder in abi/fault.hpp: the first four words come in registers, the fifth in the IPC buffer.
#pragma once

#include "abi/fault.hpp"
#include "tessera/invocation.hpp"
#include "tessera/syscall.hpp"

namespace tessera {

inline abi::FaultMessage received_fault(const sys::Message& m) {
    const abi::IpcBuffer* buffer = ipc_buffer();
    uint64_t words[5] = {m.mr[0], m.mr[1], m.mr[2], m.mr[3],
                         buffer != nullptr ? buffer->msg[4] : 0};
    unsigned length = m.info.length() < 5 ? m.info.length() : 5;
    return abi::decode_fault(m.info.label(), words, length);
}

}  // namespace tessera
