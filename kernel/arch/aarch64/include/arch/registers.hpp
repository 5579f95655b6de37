// System-register access and barriers for AArch64. Only code under kernel/arch/aarch64 uses this
// header; generic kernel code goes through the arch/*.hpp interfaces instead.
#pragma once

#include <cstdint>

#define TESSERA_READ_SYSREG(name)                             \
    ({                                                        \
        uint64_t _sysreg_value;                               \
        asm volatile("mrs %0, " #name : "=r"(_sysreg_value)); \
        _sysreg_value;                                        \
    })

#define TESSERA_WRITE_SYSREG(name, value) \
    asm volatile("msr " #name ", %0" ::"r"(static_cast<uint64_t>(value)) : "memory")

namespace tessera::arch {

inline void isb() {
    asm volatile("isb" ::: "memory");
}
inline void dsb_sy() {
    asm volatile("dsb sy" ::: "memory");
}
inline void dsb_ish() {
    asm volatile("dsb ish" ::: "memory");
}
inline void dsb_ishst() {
    asm volatile("dsb ishst" ::: "memory");
}

template <typename T>
inline T mmio_read(uintptr_t address) {
    return *reinterpret_cast<volatile T*>(address);
}
template <typename T>
inline void mmio_write(uintptr_t address, T value) {
    *reinterpret_cast<volatile T*>(address) = value;
}

}  // namespace tessera::arch
