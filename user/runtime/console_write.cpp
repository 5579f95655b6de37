// ConsoleWrite on the console capability (tessera/invocation.hpp), in a file of its own: every
// program prints, and this keeps the rest of the invocation wrappers out of programs that only
// print. The characters go eight to a word, the first words in registers, the rest in the IPC
// buffer, as any invocation's do.
#include "tessera/invocation.hpp"
#include "tessera/syscall.hpp"
#include "tessera/thread_block.hpp"

namespace tessera {

uint64_t console_write(abi::CapPtr console, const char* chars, uint64_t count) {
    uint64_t n = count < abi::kConsoleWriteMax ? count : abi::kConsoleWriteMax;
    auto* buffer = reinterpret_cast<const ThreadBlockHeader*>(thread_pointer())->ipc_buffer;
    if (buffer == nullptr) {
        return 0;
    }
    sys::Message m;
    const unsigned length = static_cast<unsigned>(1 + (n + 7) / 8);
    for (unsigned w = 0; w < length; ++w) {
        uint64_t word = 0;
        if (w == 0) {
            word = n;
        } else {
            const uint64_t first = uint64_t{w - 1} * 8;  // the word's first character
            for (uint64_t b = 0; b < 8 && first + b < n; ++b) {
                word |= uint64_t{static_cast<unsigned char>(chars[first + b])} << (8 * b);
            }
        }
        if (w < abi::kMessageRegistersInCpu) {
            m.mr[w] = word;
        } else {
            buffer->msg[w] = word;
        }
    }
    m.info =
        abi::MessageInfo(static_cast<uint64_t>(abi::InvocationLabel::kConsoleWrite), 0, 0, length);
    sys::call(console, m);
    return m.info.label() == 0 ? m.mr[0] : 0;
}

}  // namespace tessera
