// Type-safe text formatting for freestanding code: format_to(out, "{} at {:#x}", name, addr).
// Spec: {[:[<][#][0][width][type]]} with type d (default), x, X, b, c, s. Arguments are erased
// into FormatArg so the formatting loop itself is one non-template function.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include "base/address.hpp"
#include "base/string_view.hpp"

namespace tessera {

// Where formatted characters go. A plain function pointer keeps this usable before any
// object is constructed (early boot) and on the host.
struct FormatSink {
    void (*put)(void* context, const char* chars, size_t count) = nullptr;
    void* context = nullptr;
};

class FormatArg {
  public:
    enum class Kind : uint8_t { kUnsigned, kSigned, kBool, kChar, kString, kPointer };

    template <typename T>
    requires(std::is_integral_v<T>&& std::is_unsigned_v<T> &&
             !std::is_same_v<T, bool>) constexpr FormatArg(T v)
        : kind_(Kind::kUnsigned), u_(v) {}
    template <typename T>
    requires(std::is_integral_v<T>&& std::is_signed_v<T> &&
             !std::is_same_v<T, char>) constexpr FormatArg(T v)
        : kind_(Kind::kSigned), i_(v) {}
    template <typename T>
    requires std::is_enum_v<T>
    constexpr FormatArg(T v) : FormatArg(static_cast<std::underlying_type_t<T>>(v)) {}
    constexpr FormatArg(bool v) : kind_(Kind::kBool), u_(v ? 1 : 0) {}
    constexpr FormatArg(char v) : kind_(Kind::kChar), u_(static_cast<unsigned char>(v)) {}
    constexpr FormatArg(StringView v) : kind_(Kind::kString), s_(v) {}
    constexpr FormatArg(const char* v) : kind_(Kind::kString), s_(v != nullptr ? v : "(null)") {}
    constexpr FormatArg(char* v) : FormatArg(static_cast<const char*>(v)) {}
    FormatArg(const void* v) : kind_(Kind::kPointer), u_(reinterpret_cast<uintptr_t>(v)) {}
    template <typename Tag>
    constexpr FormatArg(Address<Tag> a) : kind_(Kind::kPointer), u_(a.value()) {}

    [[nodiscard]] constexpr Kind kind() const { return kind_; }
    [[nodiscard]] constexpr uint64_t as_unsigned() const { return u_; }
    [[nodiscard]] constexpr int64_t as_signed() const { return i_; }
    [[nodiscard]] constexpr StringView as_string() const { return s_; }

  private:
    Kind kind_;
    union {
        uint64_t u_;
        int64_t i_;
        StringView s_;
    };
};

// Formats fmt with args into sink. Unknown or malformed specs are printed literally, and
// missing arguments print as "{?}", so a bad format string is visible but never crashes.
void vformat(FormatSink sink, StringView fmt, std::span<const FormatArg> args);

template <typename... Args>
void format_to(FormatSink sink, StringView fmt, const Args&... args) {
    const FormatArg erased[sizeof...(Args) + 1] = {FormatArg(args)..., FormatArg(0u)};
    vformat(sink, fmt, std::span<const FormatArg>(erased, sizeof...(Args)));
}

// Formats into a fixed buffer, always NUL-terminated, truncating what does not fit.
class BufferWriter {
  public:
    BufferWriter(char* buffer, size_t capacity) : buffer_(buffer), capacity_(capacity) {
        if (capacity_ > 0) {
            buffer_[0] = '\0';
        }
    }
    [[nodiscard]] FormatSink sink() { return FormatSink{&BufferWriter::put, this}; }
    [[nodiscard]] StringView view() const { return StringView(buffer_, length_); }
    [[nodiscard]] size_t length() const { return length_; }
    [[nodiscard]] bool truncated() const { return truncated_; }

    template <typename... Args>
    void print(StringView fmt, const Args&... args) {
        format_to(sink(), fmt, args...);
    }

  private:
    static void put(void* self, const char* chars, size_t count);

    char* buffer_;
    size_t capacity_;
    size_t length_ = 0;
    bool truncated_ = false;
};

}  // namespace tessera
