// Text and words in service messages (see tessera/service_protocol.hpp).
#include "tessera/service_protocol.hpp"

#include "abi/ipc_buffer.hpp"
#include "tessera/invocation.hpp"

namespace tessera::service {

void set_word(sys::Message& m, unsigned i, uint64_t value) {
    if (i < abi::kMessageRegistersInCpu) {
        m.mr[i] = value;
    } else if (i < abi::kMaxMessageLength) {
        ipc_buffer()->msg[i] = value;
    }
}

uint64_t word(const sys::Message& m, unsigned i) {
    if (i < abi::kMessageRegistersInCpu) {
        return m.mr[i];
    }
    return i < abi::kMaxMessageLength ? ipc_buffer()->msg[i] : 0;
}

unsigned put_text(sys::Message& m, StringView text) {
    size_t n = text.size() < kMaxText ? text.size() : kMaxText;
    unsigned words = static_cast<unsigned>(n / 8 + 1);  // always room for the NUL
    for (unsigned w = 0; w < words; ++w) {
        uint64_t value = 0;
        for (unsigned b = 0; b < 8 && w * 8 + b < n; ++b) {
            value |= uint64_t{static_cast<uint8_t>(text[w * 8 + b])} << (8 * b);
        }
        set_word(m, kTextWord + w, value);
    }
    return kTextWord + words;
}

StringView get_text(const sys::Message& m, char (&buffer)[kMaxText + 1]) {
    unsigned length = m.info.length();
    size_t n = 0;
    for (unsigned w = kTextWord; w < length && w < kTextWord + kMaxTextWords; ++w) {
        uint64_t value = word(m, w);
        for (unsigned b = 0; b < 8 && n < kMaxText; ++b) {
            char c = static_cast<char>((value >> (8 * b)) & 0xff);
            if (c == '\0') {
                buffer[n] = '\0';
                return StringView(buffer, n);
            }
            buffer[n++] = c;
        }
    }
    buffer[n] = '\0';
    return StringView(buffer, n);
}

}  // namespace tessera::service
