// CommandLine: read-only view of a space-separated "key=value flag" boot argument string
// (the device tree's /chosen/bootargs). Lookups never allocate and never read past the text.
#pragma once

#include <cstdint>
#include <optional>

#include "base/string_view.hpp"

namespace tessera {

class CommandLine {
  public:
    constexpr CommandLine() = default;
    constexpr explicit CommandLine(StringView text) : text_(text) {}

    [[nodiscard]] constexpr StringView text() const { return text_; }

    // Value of the last "key=value" token (last wins, as on Linux); nullopt if absent.
    // A bare "key" yields an empty value.
    [[nodiscard]] constexpr std::optional<StringView> get(StringView key) const {
        std::optional<StringView> found;
        size_t i = 0;
        while (i < text_.size()) {
            while (i < text_.size() && is_space(text_[i])) {
                ++i;
            }
            size_t start = i;
            while (i < text_.size() && !is_space(text_[i])) {
                ++i;
            }
            StringView token = text_.substr(start, i - start);
            if (token.empty()) {
                continue;
            }
            size_t eq = token.find('=');
            StringView name = eq == SIZE_MAX ? token : token.substr(0, eq);
            if (name == key) {
                found = eq == SIZE_MAX ? StringView("", 0) : token.substr(eq + 1);
            }
        }
        return found;
    }

    [[nodiscard]] constexpr bool has(StringView key) const { return get(key).has_value(); }

    // Numeric value of key (decimal or 0x hex); nullopt if absent or not a number.
    [[nodiscard]] constexpr std::optional<uint64_t> get_u64(StringView key) const {
        auto value = get(key);
        uint64_t n = 0;
        if (!value || !parse_u64(*value, n)) {
            return std::nullopt;
        }
        return n;
    }

  private:
    static constexpr bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n'; }

    StringView text_;
};

}  // namespace tessera
