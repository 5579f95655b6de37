// memcpy, memmove, memset and memcmp for freestanding code (kernel and user runtime): the
// compiler may emit calls to them for copies of large objects. Marked no_builtin so they are
// never turned into calls to themselves. Not linked into host programs, whose C library has
// them; the host unit test compiles this file with TESSERA_MEMORY_FUNCTION renaming each.
//
// The PD builder copies ELF images through memcpy, so its bulk loop moves 128 bytes per
// iteration (sixteen independent loads, then sixteen stores: paired loads and stores on
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

// Bytes bytes: every load before any store, so the compiler pairs them (ldp/stp, of SIMD
// registers where the code may use them).
template <unsigned Bytes>
inline void copy_block(unsigned char* d, const unsigned char* s) {
    uint64_t w[Bytes / 8];
    for (size_t i = 0; i < Bytes / 8; ++i) {
        w[i] = load64(s + 8 * i);
    }
    for (size_t i = 0; i < Bytes / 8; ++i) {
        store64(d + 8 * i, w[i]);
    }
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
        while (n >= 128) {
            copy_block<128>(d, s);
            d += 128;
            s += 128;
            n -= 128;
        }
        if (n >= 64) {
            copy_block<64>(d, s);
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
