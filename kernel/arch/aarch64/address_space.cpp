// TTBR0 switching on AArch64. The first activation turns TTBR0 walks on (boot left them off).
#include "arch/address_space.hpp"

#include "arch/asm_constants.h"
#include "arch/registers.hpp"

namespace tessera::arch {
namespace {

bool g_user_walks_enabled = false;
uint64_t g_current_ttbr0 = 0;

}  // namespace

void activate_user_address_space(PhysAddr root, uint16_t asid) {
    uint64_t ttbr0 = root.value() | (uint64_t{asid} << 48);
    if (ttbr0 == g_current_ttbr0) {
        return;
    }
    TESSERA_WRITE_SYSREG(ttbr0_el1, ttbr0);
    if (!g_user_walks_enabled) {
        TESSERA_WRITE_SYSREG(tcr_el1, TESSERA_READ_SYSREG(tcr_el1) & ~uint64_t{TCR_EPD0});
        g_user_walks_enabled = true;
    }
    isb();
    g_current_ttbr0 = ttbr0;
}

void invalidate_user_page(uint16_t asid, VirtAddr va) {
    uint64_t operand = (uint64_t{asid} << 48) | ((va.value() >> 12) & 0xfff'ffff'ffff);
    asm volatile("dsb ishst; tlbi vae1is, %0; dsb ish; isb" ::"r"(operand) : "memory");
}

}  // namespace tessera::arch
