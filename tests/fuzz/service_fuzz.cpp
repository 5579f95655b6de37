// libFuzzer target for the service protocols' codec: any message a PD can send (a label, a
// length and words) either decodes as each request and reply or is refused, never read past
// its words; what decodes re-encodes to a message that decodes to the same fields, and every
// text is NUL-free and within its limit.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "service/service_protocol.hpp"

namespace {

using namespace tessera::service;

void check(bool condition) {
    if (!condition) {
        __builtin_trap();
    }
}

// Compares two messages of one type field by field.
struct Collector {
    uint64_t values[kMaxWords] = {};
    unsigned count = 0;
    void operator()(uint64_t v) { values[count++] = v; }
    template <typename E>
    requires std::is_enum_v<E>
    void operator()(E v) { values[count++] = static_cast<uint64_t>(v); }
    void operator()(const Text& t) {
        check(t.size() <= kMaxText);
        for (size_t i = 0; i < t.size(); ++i) {
            check(t.view()[i] != '\0');
            values[count % kMaxWords] ^= uint64_t{static_cast<uint8_t>(t.view()[i])} << (i % 56);
        }
        values[count++ % kMaxWords] ^= t.size();
    }
};

template <typename M>
void round_trip(const Words& words) {
    auto decoded = decode<M>(words);
    if (!decoded) {
        check(decoded.error() == StatusCode::kBadRequest);
        return;
    }
    Words again;
    encode(decoded.value(), again);
    check(again.length <= kMaxWords);
    auto twice = decode<M>(again);
    check(twice.ok());
    Collector a;
    Collector b;
    decoded.value().fields(a);
    twice.value().fields(b);
    check(a.count == b.count && std::memcmp(a.values, b.values, sizeof(a.values)) == 0);
}

template <typename Reply>
void reply(const Words& words) {
    auto r = decode_reply<Reply>(words);
    if (!r) {
        check(r.error().status < StatusCode::kCount);
        check(r.error().message.size() <= kMaxText);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 9) {
        return 0;
    }
    Words words;
    std::memcpy(&words.label, data, 8);
    words.length = data[8];  // may exceed the words given, or the buffer: decoding must cope
    const size_t given = (size - 9) / 8 < kMaxWords ? (size - 9) / 8 : kMaxWords;
    std::memcpy(words.word, data + 9, given * 8);
    round_trip<StoreList>(words);
    round_trip<StoreListReply>(words);
    round_trip<StoreFind>(words);
    round_trip<StoreFindReply>(words);
    round_trip<StoreFrame>(words);
    round_trip<StoreFrameReply>(words);
    round_trip<Spawn>(words);
    round_trip<SpawnReply>(words);
    round_trip<Wait>(words);
    round_trip<WaitReply>(words);
    round_trip<Kill>(words);
    round_trip<KillReply>(words);
    round_trip<Exec>(words);
    round_trip<ExecReply>(words);
    round_trip<List>(words);
    round_trip<ListReply>(words);
    round_trip<Memory>(words);
    round_trip<KillAll>(words);
    round_trip<KillAllReply>(words);
    round_trip<MemoryReply>(words);
    round_trip<ExecSelf>(words);
    round_trip<Greet>(words);
    round_trip<GreetReply>(words);
    round_trip<Fork>(words);
    round_trip<ForkReply>(words);
    reply<ListReply>(words);
    reply<KillReply>(words);
    reply<SpawnReply>(words);
    return 0;
}
