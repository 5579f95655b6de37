// Final kernel address space on AArch64. Tables come from a fixed boot pool inside the image
// (no allocator exists yet); the switch from the boot tables runs from the identity map so the
// TTBR1 change never happens under the feet of the code doing it.
#include "arch/mmu.hpp"

#include "arch/address_space.hpp"
#include "arch/asm_constants.h"
#include "arch/layout.hpp"
#include "arch/registers.hpp"
#include "base/bits.hpp"

extern "C" {
extern char __kernel_start[];
extern char __text_start[];
extern char __text_end[];
extern char __rodata_start[];
extern char __rodata_end[];
extern char __data_start[];
extern char __kernel_end[];
extern char __boot_stack_guard[];
extern char __boot_stack_bottom[];
// In .text.boot, executed through its identity-mapped physical address.
void arch_switch_ttbr1(uint64_t ttbr1);
}

namespace tessera::arch {
namespace {

using aarch64::LeafAttributes;
using aarch64::MapError;
using aarch64::MemoryType;
using aarch64::Permissions;

constexpr uint64_t kPoolPages = 32;

alignas(4096) uint64_t g_pool[kPoolPages][aarch64::kEntriesPerTable];
uint64_t g_pool_used = 0;

class BootTableMemory {
  public:
    uint64_t* table(PhysAddr pa) { return phys_to_ptr<uint64_t>(pa); }
    Result<PhysAddr, MapError> allocate() {
        if (g_pool_used == kPoolPages) {
            return fail(MapError::kNoTableMemory);
        }
        uint64_t* page = g_pool[g_pool_used++];
        return virt_to_phys(VirtAddr(reinterpret_cast<uint64_t>(page)));
    }
};

// TTBR0's table while no thread's address space is loaded: every entry invalid, and read-only
// like the rest of .rodata, so nothing can ever map through it.
alignas(4096) const uint64_t g_empty_user_table[aarch64::kEntriesPerTable] = {};

BootTableMemory g_memory;
PhysAddr g_root;
bool g_active = false;

PhysAddr phys_of(const char* symbol) {
    return virt_to_phys(VirtAddr(reinterpret_cast<uint64_t>(symbol)));
}

constexpr LeafAttributes kKernelText{Permissions{false, false, true}, MemoryType::kNormal, true};
constexpr LeafAttributes kKernelReadOnly{Permissions{false, false, false}, MemoryType::kNormal,
                                         true};
constexpr LeafAttributes kKernelData{Permissions{false, true, false}, MemoryType::kNormal, true};
constexpr LeafAttributes kDevice{Permissions{false, true, false}, MemoryType::kDevice, true};

Result<void, MapError> map_linear(aarch64::TranslationTable<BootTableMemory>& table, PhysAddr base,
                                  PhysAddr end, LeafAttributes attrs, bool allow_blocks = true) {
    if (end <= base) {
        return {};
    }
    return table.map(phys_to_virt(base), base, end.value() - base.value(), attrs, allow_blocks);
}

}  // namespace

PhysRange kernel_image_range() {
    PhysAddr start = phys_of(__kernel_start);
    return PhysRange{start, phys_of(__kernel_end).value() - start.value()};
}

VirtAddr boot_stack_guard() {
    return VirtAddr(reinterpret_cast<uint64_t>(__boot_stack_guard));
}

Result<void, MapError> activate_kernel_address_space(std::span<const Range> ram,
                                                     std::span<const PhysRange> devices) {
    PhysAddr root = TRY(g_memory.allocate());
    aarch64::TranslationTable<BootTableMemory> table(root, g_memory);

    PhysRange image = kernel_image_range();
    // The image, section by section; the stack guard page stays unmapped.
    TRY(map_linear(table, phys_of(__kernel_start), phys_of(__text_end), kKernelText, false));
    TRY(map_linear(table, phys_of(__rodata_start), phys_of(__rodata_end), kKernelReadOnly, false));
    TRY(map_linear(table, phys_of(__data_start), phys_of(__boot_stack_guard), kKernelData, false));
    TRY(map_linear(table, phys_of(__boot_stack_bottom), image.end(), kKernelData, false));
    // All other RAM, read-write and never executable.
    for (const Range& r : ram) {
        PhysAddr base(r.base);
        PhysAddr end(r.end);
        if (image.base >= base && image.base < end) {
            TRY(map_linear(table, base, image.base, kKernelData));
            TRY(map_linear(table, image.end(), end, kKernelData));
        } else {
            TRY(map_linear(table, base, end, kKernelData));
        }
    }
    for (const PhysRange& d : devices) {
        PhysAddr base = d.base.align_down(aarch64::kPageSize);
        auto end = align_up(d.end().value(), aarch64::kPageSize);
        if (!end) {
            return fail(MapError::kBadRange);
        }
        // Devices may share a page (several UARTs in one 4 KiB frame): skip what is mapped.
        for (PhysAddr page = base; page.value() < *end; page = page.offset(aarch64::kPageSize)) {
            if (!table.walk(phys_to_virt(page)).mapped) {
                TRY(map_linear(table, page, page.offset(aarch64::kPageSize), kDevice, false));
            }
        }
    }

    dsb_ishst();
    // Call the switch through its identity mapping (TTBR0 still holds the boot tables).
    auto switch_fn = reinterpret_cast<void (*)(uint64_t)>(
        phys_of(reinterpret_cast<const char*>(&arch_switch_ttbr1)).value());
    switch_fn(root.value());
    g_root = root;
    g_active = true;

    // The identity map is no longer needed. TTBR0 walks stay enabled on an empty table under
    // ASID 0 (no VSpace has it): the user half faults until a thread's address space is
    // loaded, and loading one is a single TTBR0 write.
    TESSERA_WRITE_SYSREG(ttbr0_el1,
                         user_root(phys_of(reinterpret_cast<const char*>(g_empty_user_table)), 0));
    // From now on no mapping is both writable and executable; make the hardware enforce it.
    TESSERA_WRITE_SYSREG(sctlr_el1, TESSERA_READ_SYSREG(sctlr_el1) | SCTLR_WXN);
    isb();
    asm volatile("tlbi vmalle1; dsb nsh; isb" ::: "memory");
    return {};
}

aarch64::WalkResult kernel_walk(VirtAddr va) {
    // Only the TTBR1 half is translated by these tables; the user half belongs to threads'
    // VSpaces and non-canonical addresses always fault.
    if (!g_active || (va.value() >> kVirtualAddressBits) != 0xffff) {
        return {};
    }
    aarch64::TranslationTable<BootTableMemory> table(g_root, g_memory);
    return table.walk(va);
}

namespace {

// The address an AT instruction produced in PAR_EL1, or nullopt if it reported a fault.
std::optional<PhysAddr> par_result(uint64_t par, VirtAddr va) {
    if ((par & 1) != 0) {
        return std::nullopt;
    }
    return PhysAddr((par & 0x0000'ffff'ffff'f000) | (va.value() & 0xfff));
}

}  // namespace

#define TESSERA_AT(op, va)                                 \
    ({                                                     \
        uint64_t _par;                                     \
        asm volatile("at " op ", %1; isb; mrs %0, par_el1" \
                     : "=r"(_par)                          \
                     : "r"((va).value())                   \
                     : "memory");                          \
        _par;                                              \
    })

std::optional<PhysAddr> hardware_translate_read(VirtAddr va) {
    return par_result(TESSERA_AT("s1e1r", va), va);
}

std::optional<PhysAddr> hardware_translate_write(VirtAddr va) {
    return par_result(TESSERA_AT("s1e1w", va), va);
}

std::optional<PhysAddr> hardware_translate_user_read(VirtAddr va) {
    return par_result(TESSERA_AT("s1e0r", va), va);
}

uint64_t kernel_table_pages_used() {
    return g_pool_used;
}
uint64_t kernel_table_pages_total() {
    return kPoolPages;
}

}  // namespace tessera::arch
