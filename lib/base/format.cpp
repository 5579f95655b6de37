// The single formatting loop behind format_to; see format.hpp for the spec syntax.
// Invariant: output is bounded by the sink; nothing here allocates or reads past fmt.
#include "base/format.hpp"

namespace tessera {
namespace {

struct Spec {
    bool left = false;
    bool alternate = false;
    bool zero_pad = false;
    unsigned width = 0;
    char type = 0;
};

// Parses the text between ':' and '}' of a spec; false if malformed.
bool parse_spec(StringView text, Spec& spec) {
    size_t i = 0;
    if (i < text.size() && text[i] == '<') {
        spec.left = true;
        ++i;
    }
    if (i < text.size() && text[i] == '#') {
        spec.alternate = true;
        ++i;
    }
    if (i < text.size() && text[i] == '0') {
        spec.zero_pad = true;
        ++i;
    }
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
        spec.width = spec.width * 10 + static_cast<unsigned>(text[i] - '0');
        if (spec.width > 64) {
            return false;
        }
        ++i;
    }
    if (i < text.size()) {
        char t = text[i++];
        if (t != 'd' && t != 'x' && t != 'X' && t != 'b' && t != 'c' && t != 's' && t != 'p') {
            return false;
        }
        spec.type = t;
    }
    return i == text.size();
}

void emit(FormatSink sink, const char* chars, size_t count) {
    if (count > 0) {
        sink.put(sink.context, chars, count);
    }
}

void pad(FormatSink sink, char fill, size_t count) {
    char run[16];
    for (char& c : run) {
        c = fill;
    }
    while (count > 0) {
        size_t n = count < sizeof(run) ? count : sizeof(run);
        emit(sink, run, n);
        count -= n;
    }
}

// Emits prefix + body padded to spec.width. Zero padding goes between prefix and body.
void emit_padded(FormatSink sink, const Spec& spec, StringView prefix, StringView body) {
    size_t length = prefix.size() + body.size();
    size_t padding = spec.width > length ? spec.width - length : 0;
    if (spec.left) {
        emit(sink, prefix.data(), prefix.size());
        emit(sink, body.data(), body.size());
        pad(sink, ' ', padding);
    } else if (spec.zero_pad) {
        emit(sink, prefix.data(), prefix.size());
        pad(sink, '0', padding);
        emit(sink, body.data(), body.size());
    } else {
        pad(sink, ' ', padding);
        emit(sink, prefix.data(), prefix.size());
        emit(sink, body.data(), body.size());
    }
}

void format_integer(FormatSink sink, const Spec& spec, uint64_t magnitude, bool negative) {
    unsigned base = 10;
    const char* digits = "0123456789abcdef";
    StringView prefix = negative ? "-" : "";
    switch (spec.type) {
        case 'x':
        case 'p':
            base = 16;
            if (spec.alternate) {
                prefix = negative ? "-0x" : "0x";
            }
            break;
        case 'X':
            base = 16;
            digits = "0123456789ABCDEF";
            if (spec.alternate) {
                prefix = negative ? "-0x" : "0x";
            }
            break;
        case 'b':
            base = 2;
            if (spec.alternate) {
                prefix = negative ? "-0b" : "0b";
            }
            break;
        default:
            break;
    }
    char buffer[64];
    size_t pos = sizeof(buffer);
    do {
        buffer[--pos] = digits[magnitude % base];
        magnitude /= base;
    } while (magnitude != 0);
    emit_padded(sink, spec, prefix, StringView(buffer + pos, sizeof(buffer) - pos));
}

void format_one(FormatSink sink, const Spec& given, const FormatArg& arg) {
    Spec spec = given;
    switch (arg.kind()) {
        case FormatArg::Kind::kUnsigned:
            if (spec.type == 'c') {
                char c = static_cast<char>(arg.as_unsigned());
                emit_padded(sink, spec, "", StringView(&c, 1));
                return;
            }
            format_integer(sink, spec, arg.as_unsigned(), false);
            return;
        case FormatArg::Kind::kSigned: {
            int64_t v = arg.as_signed();
            uint64_t magnitude = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
            format_integer(sink, spec, magnitude, v < 0);
            return;
        }
        case FormatArg::Kind::kBool:
            emit_padded(sink, spec, "", arg.as_unsigned() != 0 ? "true" : "false");
            return;
        case FormatArg::Kind::kChar: {
            if (spec.type != 0 && spec.type != 'c') {
                format_integer(sink, spec, arg.as_unsigned(), false);
                return;
            }
            char c = static_cast<char>(arg.as_unsigned());
            emit_padded(sink, spec, "", StringView(&c, 1));
            return;
        }
        case FormatArg::Kind::kString:
            emit_padded(sink, spec, "", arg.as_string());
            return;
        case FormatArg::Kind::kPointer:
            // Addresses default to 0x-prefixed, 16-digit hexadecimal.
            if (spec.type == 0) {
                spec.type = 'x';
                spec.alternate = true;
                spec.zero_pad = true;
                spec.width = spec.width == 0 ? 18 : spec.width;
            }
            format_integer(sink, spec, arg.as_unsigned(), false);
            return;
    }
}

}  // namespace

void vformat(FormatSink sink, StringView fmt, std::span<const FormatArg> args) {
    size_t next_arg = 0;
    size_t literal_start = 0;
    size_t i = 0;
    while (i < fmt.size()) {
        char c = fmt[i];
        if ((c == '{' || c == '}') && i + 1 < fmt.size() && fmt[i + 1] == c) {
            emit(sink, fmt.data() + literal_start, i - literal_start + 1);
            i += 2;
            literal_start = i;
            continue;
        }
        if (c != '{') {
            ++i;
            continue;
        }
        size_t close = fmt.find('}', i);
        if (close == SIZE_MAX) {
            break;  // unterminated: the rest is printed literally
        }
        StringView inside = fmt.substr(i + 1, close - i - 1);
        Spec spec;
        bool valid = inside.empty() || (inside[0] == ':' && parse_spec(inside.substr(1), spec));
        if (!valid) {
            ++i;
            continue;
        }
        emit(sink, fmt.data() + literal_start, i - literal_start);
        if (next_arg < args.size()) {
            format_one(sink, spec, args[next_arg]);
        } else {
            emit(sink, "{?}", 3);
        }
        ++next_arg;
        i = close + 1;
        literal_start = i;
    }
    emit(sink, fmt.data() + literal_start, fmt.size() - literal_start);
}

void BufferWriter::put(void* self, const char* chars, size_t count) {
    auto* writer = static_cast<BufferWriter*>(self);
    if (writer->capacity_ == 0) {
        writer->truncated_ = writer->truncated_ || count > 0;
        return;
    }
    for (size_t i = 0; i < count; ++i) {
        if (writer->length_ + 1 >= writer->capacity_) {
            writer->truncated_ = true;
            break;
        }
        writer->buffer_[writer->length_++] = chars[i];
    }
    writer->buffer_[writer->length_] = '\0';
}

}  // namespace tessera
