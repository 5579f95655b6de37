// TLB maintenance for user address spaces on AArch64 (switching them is inline in
// arch/address_space.hpp).
#include "arch/address_space.hpp"

namespace tessera::arch {

void invalidate_user_page(uint16_t asid, VirtAddr va) {
    uint64_t operand = (uint64_t{asid} << 48) | ((va.value() >> 12) & 0xfff'ffff'ffff);
    asm volatile("dsb ishst; tlbi vae1is, %0; dsb ish; isb" ::"r"(operand) : "memory");
}

}  // namespace tessera::arch
