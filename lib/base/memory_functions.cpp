// memcpy, memmove, memset and memcmp for freestanding code (kernel and user runtime): the
// compiler may emit calls to them for copies of large objects. Marked no_builtin so they are
// never turned into calls to themselves. Not built for the host, whose C library has them.
#include <cstddef>
#include <cstdint>

extern "C" {

__attribute__((no_builtin)) void* memcpy(void* dest, const void* src, size_t n) {
    auto* d = static_cast<unsigned char*>(dest);
    const auto* s = static_cast<const unsigned char*>(src);
    // Word copies whenever the destination is aligned: loads from a misaligned source are fine
    // on the Normal memory this is used for (copying ELF data out of a 4-byte aligned archive).
    while (n > 0 && reinterpret_cast<uintptr_t>(d) % 8 != 0) {
        *d++ = *s++;
        --n;
    }
    while (n >= 8) {
        uint64_t word;
        __builtin_memcpy(&word, s, 8);
        *reinterpret_cast<uint64_t*>(d) = word;
        d += 8;
        s += 8;
        n -= 8;
    }
    while (n-- > 0) {
        *d++ = *s++;
    }
    return dest;
}

__attribute__((no_builtin)) void* memmove(void* dest, const void* src, size_t n) {
    auto* d = static_cast<unsigned char*>(dest);
    const auto* s = static_cast<const unsigned char*>(src);
    if (d == s || n == 0) {
        return dest;
    }
    if (d < s || d >= s + n) {
        for (size_t i = 0; i < n; ++i) {
            d[i] = s[i];
        }
    } else {
        for (size_t i = n; i-- > 0;) {
            d[i] = s[i];
        }
    }
    return dest;
}

__attribute__((no_builtin)) void* memset(void* dest, int value, size_t n) {
    auto* d = static_cast<unsigned char*>(dest);
    auto byte = static_cast<unsigned char>(value);
    while (n > 0 && reinterpret_cast<uintptr_t>(d) % 8 != 0) {
        *d++ = byte;
        --n;
    }
    uint64_t pattern = byte * 0x0101010101010101ull;
    while (n >= 8) {
        *reinterpret_cast<uint64_t*>(d) = pattern;
        d += 8;
        n -= 8;
    }
    while (n-- > 0) {
        *d++ = byte;
    }
    return dest;
}

__attribute__((no_builtin)) int memcmp(const void* a, const void* b, size_t n) {
    const auto* x = static_cast<const unsigned char*>(a);
    const auto* y = static_cast<const unsigned char*>(b);
    for (size_t i = 0; i < n; ++i) {
        if (x[i] != y[i]) {
            return x[i] < y[i] ? -1 : 1;
        }
    }
    return 0;
}

}  // extern "C"
