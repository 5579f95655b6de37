// The kernel's virtual layout on AArch64: all of physical memory is mapped linearly at the bottom
// of the TTBR1 half; the kernel image runs from its alias there. Must match linker.ld.
#pragma once

#include <cstdint>

#include "base/address.hpp"

namespace tessera::arch {

// With T1SZ = 16 the TTBR1 half is [0xffff'0000'0000'0000, 2^64). L0 index 0 of that half maps
// physical 0 onwards, which lets the boot code share one L0 table between TTBR0 and TTBR1.
constexpr uint64_t kPhysMapBase = 0xffff'0000'0000'0000;
constexpr uint64_t kPhysMapSize = uint64_t{1} << 47;  // half of the TTBR1 space
constexpr unsigned kVirtualAddressBits = 48;

inline VirtAddr phys_to_virt(PhysAddr pa) {
    return VirtAddr(pa.value() + kPhysMapBase);
}
inline PhysAddr virt_to_phys(VirtAddr va) {
    return PhysAddr(va.value() - kPhysMapBase);
}
template <typename T>
inline T* phys_to_ptr(PhysAddr pa) {
    return reinterpret_cast<T*>(phys_to_virt(pa).value());
}

}  // namespace tessera::arch
