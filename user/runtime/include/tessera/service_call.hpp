// The service protocols (service/service_protocol.hpp) over real messages: words to and from
// registers and the IPC buffer, a client's call, and a server's reply or refusal. The only place
// a service message's words are moved by hand.
#pragma once

#include <cstdint>

#include "abi/capability_pointer.hpp"
#include "base/result.hpp"
#include "service/service_protocol.hpp"
#include "tessera/syscall.hpp"

namespace tessera::service {

// Words into a message about to be sent (registers and the calling thread's IPC buffer), with
// extra_caps capabilities already placed in the IPC buffer.
void to_message(const Words& words, sys::Message& m, unsigned extra_caps = 0);
// A received message's label and words (its length clamped to the IPC buffer).
void from_message(const sys::Message& m, Words& words);

// One request and its reply. With caps_received, the number of capabilities the reply carried
// (into the receive slot the caller set in its IPC buffer).
template <typename Req>
Result<typename Req::Reply, Refusal> call(abi::CapPtr endpoint, const Req& request,
                                          unsigned* caps_received = nullptr) {
    Words words;
    encode(request, words);
    sys::Message m;
    to_message(words, m);
    sys::call(endpoint, m);
    if (caps_received != nullptr) {
        *caps_received = static_cast<unsigned>(m.info.extra_caps());
    }
    from_message(m, words);
    return decode_reply<typename Req::Reply>(words);
}

// A server's successful reply (with extra_caps capabilities placed in the IPC buffer).
template <typename Reply>
void reply(sys::Message& m, const Reply& message, unsigned extra_caps = 0) {
    Words words;
    encode(message, words);
    to_message(words, m, extra_caps);
}

// A server's refusal: the code and, for people, a message (empty: the code's words).
void refuse(sys::Message& m, StatusCode status, StringView message = {});

// The request in a received message (whose label the server matched), or kBadRequest.
template <typename Req>
Result<Req, StatusCode> request(const sys::Message& m) {
    Words words;
    from_message(m, words);
    return decode<Req>(words);
}

}  // namespace tessera::service
