// memcpy, memmove, memset and memcmp for freestanding code (kernel and user runtime): the
// compiler may emit calls to them for copies of large objects. Marked no_builtin so they are
// never turned into calls to themselves. Not linked into host programs, whose C library has
// them; the host unit test compiles this file with TESSERA_MEMORY_FUNCTION renaming each.
//
// The PD builder copies ELF images through memcpy page by page, so its bulk loop moves 64 bytes
// per iteration (eight independent loads, then eight stores: paired loads and stores on
// AArch64). Loads may be misaligned: this is used on Normal memory only (ELF data sits 4-byte
// aligned in the boot archive).
#include <cstddef>
#include <cstdint>

#ifndef TESSERA_MEMORY_FUNCTION
#define TESSERA_MEMORY_FUNCTION(name) name
#endif

namespace {

inline uint64_t load64(const unsigned char* p) {
    uint64_t word;
    __builtin_memcpy(&word, p, 8);
    return word;
}

inline void store64(unsigned char* p, uint64_t word) {
    __builtin_memcpy(p, &word, 8);
}

}  // namespace

extern "C" {

__attribute__((no_builtin)) void* TESSERA_MEMORY_FUNCTION(memcpy)(void* dest, const void* src,
                                                                  size_t n) {
    auto* d = static_cast<unsigned char*>(dest);
    const auto* s = static_cast<const unsigned char*>(src);
    if (n >= 64) {
        while (reinterpret_cast<uintptr_t>(d) % 16 != 0) {
            *d++ = *s++;
            --n;
        }
        while (n >= 64) {
            uint64_t w0 = load64(s);
            uint64_t w1 = load64(s + 8);
            uint64_t w2 = load64(s + 16);
            uint64_t w3 = load64(s + 24);
            uint64_t w4 = load64(s + 32);
            uint64_t w5 = load64(s + 40);
            uint64_t w6 = load64(s + 48);
            uint64_t w7 = load64(s + 56);
            store64(d, w0);
            store64(d + 8, w1);
            store64(d + 16, w2);
            store64(d + 24, w3);
            store64(d + 32, w4);
            store64(d + 40, w5);
            store64(d + 48, w6);
            store64(d + 56, w7);
            d += 64;
            s += 64;
            n -= 64;
        }
    }
    while (n >= 8) {
        store64(d, load64(s));
        d += 8;
        s += 8;
        n -= 8;
    }
    while (n > 0) {
        *d++ = *s++;
        --n;
    }
    return dest;
}

__attribute__((no_builtin)) void* TESSERA_MEMORY_FUNCTION(memmove)(void* dest, const void* src,
                                                                   size_t n) {
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

__attribute__((no_builtin)) void* TESSERA_MEMORY_FUNCTION(memset)(void* dest, int value, size_t n) {
    auto* d = static_cast<unsigned char*>(dest);
    auto byte = static_cast<unsigned char>(value);
    while (n > 0 && reinterpret_cast<uintptr_t>(d) % 16 != 0) {
        *d++ = byte;
        --n;
    }
    uint64_t pattern = byte * 0x0101010101010101ull;
    while (n >= 64) {
        for (unsigned i = 0; i < 64; i += 8) {
            store64(d + i, pattern);
        }
        d += 64;
        n -= 64;
    }
    while (n >= 8) {
        store64(d, pattern);
        d += 8;
        n -= 8;
    }
    while (n > 0) {
        *d++ = byte;
        --n;
    }
    return dest;
}

__attribute__((no_builtin)) int TESSERA_MEMORY_FUNCTION(memcmp)(const void* a, const void* b,
                                                                size_t n) {
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
