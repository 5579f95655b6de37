// Self-tests of the kernel address space: the software walker agrees with the MMU (AT S1E1R /
// S1E1W + PAR_EL1), each image section has the permissions it should, the stack guard is
// unmapped, devices are Device memory, TTBR0 walks are off and WXN is on.
#include "arch/mmu.hpp"
#include "arch/asm_constants.h"
#include "arch/exception.hpp"
#include "arch/layout.hpp"
#include "arch/registers.hpp"
#include "core/boot_state.hpp"
#include "object/vspace.hpp"
#include "selftest.hpp"

extern "C" {
extern char __text_start[];
extern char __rodata_start[];
extern char __data_start[];
extern char __boot_stack_top[];
}

namespace tessera {
namespace {

uint64_t g_some_data = 0x1234;

VirtAddr va_of(const void* p) {
    return VirtAddr(reinterpret_cast<uint64_t>(p));
}

uint32_t fault_status(uint64_t esr) {
    return static_cast<uint32_t>(esr & 0x3f);
}

// Compares the software walk with the hardware for va; false and a failure on disagreement.
bool agrees(test::TestContext& t, VirtAddr va) {
    aarch64::WalkResult walk = arch::kernel_walk(va);
    std::optional<PhysAddr> hw = arch::hardware_translate_read(va);
    if (walk.mapped != hw.has_value()) {
        t.fail("{}: walker says {}, AT S1E1R says {}", va, walk.mapped ? "mapped" : "unmapped",
               hw ? "mapped" : "fault");
        return false;
    }
    if (walk.mapped && walk.output != *hw) {
        t.fail("{}: walker gives {}, AT S1E1R gives {}", va, walk.output, *hw);
        return false;
    }
    bool writable = walk.mapped && walk.leaf.attributes().permissions.write;
    if (writable != arch::hardware_translate_write(va).has_value()) {
        t.fail("{}: walker writable={}, AT S1E1W disagrees", va, writable);
        return false;
    }
    return true;
}

}  // namespace

SELFTEST(mmu, walker_matches_hardware) {
    const BootState& s = boot_state();
    const Range& ram = s.memory.ram()[0];
    VirtAddr samples[] = {
        va_of(__text_start),
        va_of(reinterpret_cast<const void*>(&agrees)),
        va_of(__rodata_start),
        va_of(__data_start),
        va_of(&g_some_data),
        va_of(__boot_stack_top - 8),
        arch::boot_stack_guard(),
        arch::phys_to_virt(PhysAddr(ram.base)),
        arch::phys_to_virt(PhysAddr(ram.end - 8)),
        arch::phys_to_virt(PhysAddr(ram.end)),  // just past RAM: unmapped
        arch::phys_to_virt(PhysAddr(ram.base + ram.size() / 2 + 123)),
        arch::phys_to_virt(s.board.uart.base),
        arch::phys_to_virt(s.board.gic_distributor.base),
        arch::phys_to_virt(s.board.gic_cpu_interface.base.offset(0x1000)),
        arch::phys_to_virt(PhysAddr(0x0a000000)),           // virtio MMIO: never mapped
        VirtAddr(arch::kPhysMapBase + arch::kPhysMapSize),  // above the physical map
        VirtAddr(0xffff'ffff'ffff'f000),
        VirtAddr(0x4020'0000),  // the old identity map: TTBR0 is off
        VirtAddr(0x1000),
    };
    for (VirtAddr va : samples) {
        if (!agrees(t, va)) {
            return;
        }
    }
    // Every 2 MiB of RAM, plus one address inside each block.
    for (uint64_t pa = ram.base; pa < ram.end; pa += uint64_t{2} * 1024 * 1024) {
        if (!agrees(t, arch::phys_to_virt(PhysAddr(pa))) ||
            !agrees(t, arch::phys_to_virt(PhysAddr(pa + 0x12345)))) {
            return;
        }
    }
}

SELFTEST(mmu, text_is_read_only_and_executable) {
    aarch64::WalkResult w = arch::kernel_walk(va_of(__text_start));
    CHECK(w.mapped);
    CHECK(!w.leaf.attributes().permissions.write);
    CHECK(w.leaf.attributes().permissions.execute);
    auto r = arch::probe_write_u64(va_of(__text_start), 0);
    CHECK(!r.ok());
    CHECK_EQ(arch::exception_class(r.error().esr), arch::kEcDataAbortSame);
    CHECK_EQ(fault_status(r.error().esr) & 0x3c, 0x0cu);  // permission fault, any level
}

SELFTEST(mmu, rodata_is_read_only_and_never_executable) {
    aarch64::WalkResult w = arch::kernel_walk(va_of(__rodata_start));
    CHECK(w.mapped);
    CHECK(!w.leaf.attributes().permissions.write);
    CHECK(!w.leaf.attributes().permissions.execute);
    auto r = arch::probe_write_u64(va_of(__rodata_start), 0);
    CHECK(!r.ok());
    CHECK_EQ(r.error().far, va_of(__rodata_start).value());
}

SELFTEST(mmu, data_and_ram_are_never_executable) {
    aarch64::WalkResult w = arch::kernel_walk(va_of(&g_some_data));
    CHECK(w.mapped && w.leaf.attributes().permissions.write);
    CHECK(!w.leaf.attributes().permissions.execute);
    const Range& ram = boot_state().memory.free()[boot_state().memory.free().count() - 1];
    w = arch::kernel_walk(arch::phys_to_virt(PhysAddr(ram.base)));
    CHECK(w.mapped && !w.leaf.attributes().permissions.execute);
    CHECK(w.leaf.attributes().type == aarch64::MemoryType::kNormal);
    CHECK(w.leaf.shareability() == aarch64::Shareability::kInner);
}

SELFTEST(mmu, stack_guard_page_faults) {
    auto r = arch::probe_read_u64(arch::boot_stack_guard());
    CHECK(!r.ok());
    CHECK_EQ(arch::exception_class(r.error().esr), arch::kEcDataAbortSame);
    CHECK_EQ(fault_status(r.error().esr) & 0x3c, 0x04u);  // translation fault
    CHECK_EQ(r.error().far, arch::boot_stack_guard().value());
}

SELFTEST(mmu, devices_are_device_memory) {
    aarch64::WalkResult w = arch::kernel_walk(arch::phys_to_virt(boot_state().board.uart.base));
    CHECK(w.mapped);
    CHECK(w.leaf.attributes().type == aarch64::MemoryType::kDevice);
    CHECK(!w.leaf.attributes().permissions.execute);
    CHECK_EQ(w.level, 3u);  // page-granular: neighbours of a device are not mapped
}

SELFTEST(mmu, wxn_on_and_user_half_empty) {
    CHECK((TESSERA_READ_SYSREG(sctlr_el1) & SCTLR_WXN) != 0);
    // User-half walks stay enabled, on an empty table under ASID 0 until a thread runs.
    CHECK((TESSERA_READ_SYSREG(tcr_el1) & TCR_EPD0) == 0);
    uint64_t ttbr0 = TESSERA_READ_SYSREG(ttbr0_el1);
    CHECK_EQ(ttbr0 >> 48, uint64_t{0});
    aarch64::WalkResult table = arch::kernel_walk(arch::phys_to_virt(PhysAddr(ttbr0)));
    CHECK(table.mapped && !table.leaf.attributes().permissions.write);
    const auto* entries = arch::phys_to_ptr<const uint64_t>(PhysAddr(ttbr0));
    for (unsigned i = 0; i < aarch64::kEntriesPerTable; ++i) {
        CHECK_EQ(entries[i], uint64_t{0});
    }
    CHECK_EQ(TESSERA_READ_SYSREG(mair_el1), aarch64::kMairValue);
    auto r = arch::probe_read_u64(VirtAddr(0x4020'0000));
    CHECK(!r.ok());
}

SELFTEST(mmu, kernel_tables_fit_pool) {
    CHECK(arch::kernel_table_pages_used() > 0);
    CHECK(arch::kernel_table_pages_used() < arch::kernel_table_pages_total());
}

}  // namespace tessera

namespace tessera {

// The ASID width the kernel hands out matches what the MMU tags with (TCR_EL1.AS); boot with
// asid_bits=8 runs the 8-bit handling on a CPU with 16, where no pool beyond the boot pool and
// no ASID above 255 may be issued.
SELFTEST(mmu, asids_never_exceed_the_tcr_width) {
    bool as16 = (TESSERA_READ_SYSREG(tcr_el1) & (uint64_t{1} << 36)) != 0;
    CHECK_EQ(asid_limit(), as16 ? 1u << 16 : 1u << 8);
    bool forced8 = boot_state().command_line.get_u64("asid_bits").value_or(16) == 8;
    CHECK(!(forced8 && as16));
    if (!as16) {
        CHECK_EQ(asid_free_pool_base(), 0);
        AsidPool pool{};
        CHECK_EQ(asid_pool_free_asid(pool, 0), 1);
        for (unsigned i = 1; i < 256; ++i) {
            pool.vspace[i] = 0x1000;
        }
        CHECK_EQ(asid_pool_free_asid(pool, 0), 0);  // 256 and up would alias
    }
}

}  // namespace tessera
