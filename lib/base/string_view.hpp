// StringView: a non-owning (pointer, length) string. The freestanding C++ library lacks
// std::string_view, and untrusted strings (device tree, archives) need explicit bounds anyway.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tessera {

class StringView {
  public:
    constexpr StringView() = default;
    constexpr StringView(const char* data, size_t size) : data_(data), size_(size) {}
    // From a NUL-terminated literal or trusted C string.
    constexpr StringView(const char* cstr) : data_(cstr), size_(length_of(cstr)) {}

    [[nodiscard]] constexpr const char* data() const { return data_; }
    [[nodiscard]] constexpr size_t size() const { return size_; }
    [[nodiscard]] constexpr bool empty() const { return size_ == 0; }
    constexpr char operator[](size_t i) const { return data_[i]; }
    [[nodiscard]] constexpr const char* begin() const { return data_; }
    [[nodiscard]] constexpr const char* end() const { return data_ + size_; }

    [[nodiscard]] constexpr StringView substr(size_t pos, size_t count = SIZE_MAX) const {
        if (pos > size_) {
            pos = size_;
        }
        size_t rest = size_ - pos;
        return StringView(data_ + pos, count < rest ? count : rest);
    }
    [[nodiscard]] constexpr bool starts_with(StringView prefix) const {
        return prefix.size_ <= size_ && substr(0, prefix.size_) == prefix;
    }
    // Index of the first c, or SIZE_MAX.
    [[nodiscard]] constexpr size_t find(char c, size_t from = 0) const {
        for (size_t i = from; i < size_; ++i) {
            if (data_[i] == c) {
                return i;
            }
        }
        return SIZE_MAX;
    }

    constexpr bool operator==(StringView other) const {
        if (size_ != other.size_) {
            return false;
        }
        for (size_t i = 0; i < size_; ++i) {
            if (data_[i] != other.data_[i]) {
                return false;
            }
        }
        return true;
    }

  private:
    static constexpr size_t length_of(const char* s) {
        size_t n = 0;
        while (s != nullptr && s[n] != '\0') {
            ++n;
        }
        return n;
    }

    const char* data_ = nullptr;
    size_t size_ = 0;
};

// Parses an unsigned decimal or 0x-prefixed hexadecimal number; false on junk or overflow.
constexpr bool parse_u64(StringView text, uint64_t& out) {
    if (text.empty()) {
        return false;
    }
    uint64_t base = 10;
    if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        base = 16;
        text = text.substr(2);
    }
    uint64_t value = 0;
    for (char c : text) {
        uint64_t digit = 0;
        if (c >= '0' && c <= '9') {
            digit = static_cast<uint64_t>(c - '0');
        } else if (base == 16 && c >= 'a' && c <= 'f') {
            digit = static_cast<uint64_t>(c - 'a') + 10;
        } else if (base == 16 && c >= 'A' && c <= 'F') {
            digit = static_cast<uint64_t>(c - 'A') + 10;
        } else {
            return false;
        }
        if (value > (UINT64_MAX - digit) / base) {
            return false;
        }
        value = value * base + digit;
    }
    out = value;
    return true;
}

}  // namespace tessera
