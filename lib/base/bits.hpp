// Bit and alignment arithmetic with overflow checks, shared by kernel, user runtime and host tools.
// Every function is total: overflow is reported, never wrapped silently.
#pragma once

#include <cstdint>
#include <optional>

namespace tessera {

constexpr bool is_power_of_two(uint64_t x) {
    return x != 0 && (x & (x - 1)) == 0;
}

constexpr uint64_t align_down(uint64_t x, uint64_t alignment) {
    return x & ~(alignment - 1);
}

// nullopt when rounding up would pass 2^64.
constexpr std::optional<uint64_t> align_up(uint64_t x, uint64_t alignment) {
    uint64_t mask = alignment - 1;
    if (x > UINT64_MAX - mask) {
        return std::nullopt;
    }
    return (x + mask) & ~mask;
}

constexpr bool is_aligned(uint64_t x, uint64_t alignment) {
    return (x & (alignment - 1)) == 0;
}

constexpr std::optional<uint64_t> checked_add(uint64_t a, uint64_t b) {
    uint64_t sum = 0;
    if (__builtin_add_overflow(a, b, &sum)) {
        return std::nullopt;
    }
    return sum;
}

constexpr std::optional<uint64_t> checked_mul(uint64_t a, uint64_t b) {
    uint64_t product = 0;
    if (__builtin_mul_overflow(a, b, &product)) {
        return std::nullopt;
    }
    return product;
}

// Extracts bits [lsb, lsb + width) of value.
constexpr uint64_t bit_field(uint64_t value, unsigned lsb, unsigned width) {
    return width >= 64 ? value >> lsb : (value >> lsb) & ((uint64_t{1} << width) - 1);
}

constexpr uint64_t kKiB = 1024;
constexpr uint64_t kMiB = 1024 * kKiB;
constexpr uint64_t kGiB = 1024 * kMiB;

}  // namespace tessera
