// Text, names and the failure reply of the service protocols (service/service_protocol.hpp).
#include "service/service_protocol.hpp"

namespace tessera::service {

void Text::set(StringView text) {
    length_ = text.size() < kMaxText ? text.size() : kMaxText;
    for (size_t i = 0; i < length_; ++i) {
        chars_[i] = text[i];
    }
    chars_[length_] = '\0';
}

void Writer::operator()(const Text& text) {
    const StringView v = text.view();
    const size_t words = v.size() / 8 + 1;  // always room for the NUL
    for (size_t w = 0; w < words; ++w) {
        uint64_t value = 0;
        for (size_t b = 0; b < 8 && w * 8 + b < v.size(); ++b) {
            value |= uint64_t{static_cast<uint8_t>(v[w * 8 + b])} << (8 * b);
        }
        put(value);
    }
}

void Reader::operator()(Text& text) {
    text.length_ = 0;
    text.chars_[0] = '\0';
    for (unsigned w = 0; w < kMaxTextWords; ++w) {
        const uint64_t value = get();
        if (!ok_) {
            return;  // ran past the message without a NUL
        }
        for (unsigned b = 0; b < 8; ++b) {
            const char c = static_cast<char>((value >> (8 * b)) & 0xff);
            if (c == '\0') {
                text.chars_[text.length_] = '\0';
                return;
            }
            text.chars_[text.length_++] = c;
        }
    }
    ok_ = false;  // kMaxTextWords words and no NUL: longer than any text
    text.length_ = 0;
    text.chars_[0] = '\0';
}

void encode_failure(StatusCode status, StringView message, Words& words) {
    Writer w(words);
    w(Text(message.empty() ? StringView(to_string(status)) : message));
    words.length = w.length();
    words.label = static_cast<uint64_t>(status);
}

const char* to_string(StatusCode status) {
    switch (status) {
        case StatusCode::kOk:
            return "ok";
        case StatusCode::kBadRequest:
            return "bad request";
        case StatusCode::kNoSuchImage:
            return "no such image";
        case StatusCode::kNoSuchPd:
            return "no such PD";
        case StatusCode::kEndOfList:
            return "end of the list";
        case StatusCode::kRefused:
            return "refused";
        case StatusCode::kNoMemory:
            return "not enough memory";
        case StatusCode::kTooManyPds:
            return "too many PDs";
        case StatusCode::kTooManyServices:
            return "too many services";
        case StatusCode::kAlreadyWaitedFor:
            return "another client waits for it";
        case StatusCode::kNoSlot:
            return "no slot for the reply";
        case StatusCode::kNameTaken:
            return "a service of that name runs already";
        case StatusCode::kCount:
            break;
    }
    return "unknown status";
}

const char* to_string(PdState state) {
    switch (state) {
        case PdState::kRunning:
            return "running";
        case PdState::kServing:
            return "serving";
        case PdState::kWaitedFor:
            return "waited-for";
        case PdState::kEnded:
            return "ended";
        case PdState::kCount:
            break;
    }
    return "unknown";
}

const char* to_string(Ending ending) {
    switch (ending) {
        case Ending::kExited:
            return "exited";
        case Ending::kCrashed:
            return "crashed";
        case Ending::kKilled:
            return "killed";
        case Ending::kCount:
            break;
    }
    return "unknown";
}

}  // namespace tessera::service
