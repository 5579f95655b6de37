// Cache and TLB maintenance on AArch64. Line sizes come from CTR_EL0 so the loops are right on
// any core; all operations are broadcast to the inner-shareable domain.
#include "arch/cache.hpp"

#include <cstddef>

#include "arch/registers.hpp"

extern "C" void* memset(void* dest, int value, size_t n);

namespace tessera::arch {
namespace {

uint64_t dcache_line() {
    return uint64_t{4} << ((TESSERA_READ_SYSREG(ctr_el0) >> 16) & 0xf);
}
uint64_t icache_line() {
    return uint64_t{4} << (TESSERA_READ_SYSREG(ctr_el0) & 0xf);
}

}  // namespace

void clean_invalidate_to_coherency(VirtAddr start, uint64_t size) {
    uint64_t line = dcache_line();
    uint64_t a = start.value() & ~(line - 1);
    const uint64_t end = start.value() + size;
    // Four lines per step where four whole lines remain: every new frame passes through here.
    for (; a + 4 * line <= end; a += 4 * line) {
        asm volatile(
            "dc civac, %0\n"
            "dc civac, %1\n"
            "dc civac, %2\n"
            "dc civac, %3" ::"r"(a),
            "r"(a + line), "r"(a + 2 * line), "r"(a + 3 * line)
            : "memory");
    }
    for (; a < end; a += line) {
        asm volatile("dc civac, %0" ::"r"(a) : "memory");
    }
    dsb_sy();
}

void sync_instruction_cache(VirtAddr start, uint64_t size) {
    uint64_t dline = dcache_line();
    for (uint64_t a = start.value() & ~(dline - 1); a < start.value() + size; a += dline) {
        asm volatile("dc cvau, %0" ::"r"(a) : "memory");
    }
    dsb_ish();
    uint64_t iline = icache_line();
    for (uint64_t a = start.value() & ~(iline - 1); a < start.value() + size; a += iline) {
        asm volatile("ic ivau, %0" ::"r"(a) : "memory");
    }
    dsb_ish();
    isb();
}

void zero_memory(VirtAddr start, uint64_t size) {
    uint64_t dczid = TESSERA_READ_SYSREG(dczid_el0);
    uint64_t block = uint64_t{4} << (dczid & 0xf);
    bool allowed = (dczid & (1u << 4)) == 0;  // DZP clear: DC ZVA permitted
    if (!allowed || start.value() % block != 0 || size % block != 0) {
        memset(reinterpret_cast<void*>(start.value()), 0, size);
        return;
    }
    uint64_t a = start.value();
    const uint64_t end = start.value() + size;
    for (; a + 4 * block <= end; a += 4 * block) {
        asm volatile(
            "dc zva, %0\n"
            "dc zva, %1\n"
            "dc zva, %2\n"
            "dc zva, %3" ::"r"(a),
            "r"(a + block), "r"(a + 2 * block), "r"(a + 3 * block)
            : "memory");
    }
    for (; a < end; a += block) {
        asm volatile("dc zva, %0" ::"r"(a) : "memory");
    }
}

void zero_to_coherency(VirtAddr start, uint64_t size) {
    uint64_t dczid = TESSERA_READ_SYSREG(dczid_el0);
    uint64_t block = uint64_t{4} << (dczid & 0xf);
    bool allowed = (dczid & (1u << 4)) == 0;
    uint64_t line = dcache_line();
    if (!allowed || block != line || start.value() % (4 * block) != 0 || size % (4 * block) != 0) {
        zero_memory(start, size);
        clean_invalidate_to_coherency(start, size);
        return;
    }
    for (uint64_t a = start.value(); a < start.value() + size; a += 4 * block) {
        asm volatile(
            "dc zva, %0\n"
            "dc civac, %0\n"
            "dc zva, %1\n"
            "dc civac, %1\n"
            "dc zva, %2\n"
            "dc civac, %2\n"
            "dc zva, %3\n"
            "dc civac, %3" ::"r"(a),
            "r"(a + block), "r"(a + 2 * block), "r"(a + 3 * block)
            : "memory");
    }
    dsb_sy();
}

void invalidate_asid(uint16_t asid) {
    asm volatile("dsb ishst; tlbi aside1is, %0; dsb ish; isb" ::"r"(uint64_t{asid} << 48)
                 : "memory");
}

}  // namespace tessera::arch
