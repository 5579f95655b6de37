// Service messages over registers and the IPC buffer (tessera/service_call.hpp).
#include "tessera/service_call.hpp"

#include "abi/ipc_buffer.hpp"
#include "tessera/invocation.hpp"

namespace tessera::service {

void to_message(const Words& words, sys::Message& m, unsigned extra_caps) {
    const unsigned length = words.length < kMaxWords ? words.length : kMaxWords;
    for (unsigned i = 0; i < length; ++i) {
        if (i < abi::kMessageRegistersInCpu) {
            m.mr[i] = words.word[i];
        } else {
            ipc_buffer()->msg[i] = words.word[i];
        }
    }
    m.info = abi::MessageInfo(words.label, 0, extra_caps, length);
}

void from_message(const sys::Message& m, Words& words) {
    words.label = m.info.label();
    const uint64_t length = m.info.length();
    words.length = static_cast<unsigned>(length < kMaxWords ? length : kMaxWords);
    for (unsigned i = 0; i < words.length; ++i) {
        words.word[i] = i < abi::kMessageRegistersInCpu ? m.mr[i] : ipc_buffer()->msg[i];
    }
}

void refuse(sys::Message& m, StatusCode status, StringView message) {
    Words words;
    encode_failure(status, message, words);
    to_message(words, m);
}

}  // namespace tessera::service
