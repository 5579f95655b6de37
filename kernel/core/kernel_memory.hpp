// Reaching kernel objects from the physical addresses capabilities hold. On AArch64 this is the
// kernel's physical map; host tests supply an identity arch/layout.hpp.
#pragma once

#include "arch/layout.hpp"
#include "base/address.hpp"

namespace tessera {

template <typename T>
T* object_at(PhysAddr pa) {
    return arch::phys_to_ptr<T>(pa);
}

inline PhysAddr physical_address_of(const void* object) {
    return arch::virt_to_phys(VirtAddr(reinterpret_cast<uint64_t>(object)));
}

}  // namespace tessera
