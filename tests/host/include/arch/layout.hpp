// Host stand-in for the kernel's arch/layout.hpp: "physical" addresses are host pointers, so
// kernel logic that names objects by physical address runs unchanged in host tests.
#pragma once

#include <cstdint>

#include "base/address.hpp"

namespace tessera::arch {

inline VirtAddr phys_to_virt(PhysAddr pa) {
    return VirtAddr(pa.value());
}
inline PhysAddr virt_to_phys(VirtAddr va) {
    return PhysAddr(va.value());
}
template <typename T>
inline T* phys_to_ptr(PhysAddr pa) {
    return reinterpret_cast<T*>(pa.value());
}

}  // namespace tessera::arch
