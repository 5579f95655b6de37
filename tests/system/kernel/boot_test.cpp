// Self-tests of what boot discovered: device tree, board, CPU, entry level and the physical
// memory map. Expected values come from the runner as boot arguments (expect.*), so the same
// image checks every QEMU configuration it is run under.
#include "arch/cpu.hpp"
#include "arch/layout.hpp"
#include "arch/mmu.hpp"
#include "core/boot_state.hpp"
#include "platform/board_constants.h"
#include "selftest.hpp"

namespace tessera {
namespace {

char lower(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool equal_ignoring_case(StringView a, StringView b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (size_t i = 0; i < a.size(); ++i) {
        if (lower(a[i]) != lower(b[i])) {
            return false;
        }
    }
    return true;
}

}  // namespace

SELFTEST(boot, device_tree_found) {
    const BootState& s = boot_state();
    CHECK(s.tree != nullptr);
    CHECK_EQ(s.device_tree.value(), uint64_t{DEFAULT_DTB_PHYS});
    CHECK(s.device_tree_size >= fdt::kHeaderSize);
    CHECK(s.tree->find_node("/chosen").has_value());
}

SELFTEST(boot, board_devices) {
    const platform::BoardInfo& b = boot_state().board;
    CHECK_EQ(b.uart.base.value(), uint64_t{0x09000000});
    CHECK_EQ(b.uart_irq, 33u);
    CHECK_EQ(b.gic_distributor.base.value(), uint64_t{0x08000000});
    CHECK_EQ(b.gic_cpu_interface.base.value(), uint64_t{0x08010000});
    CHECK_EQ(b.timer_irq_virtual, 27u);
    CHECK_EQ(b.timer_irq_physical, 30u);
}

SELFTEST(boot, ram_size_matches_machine) {
    auto expected_mib = boot_state().command_line.get_u64("expect.ram_mib");
    CHECK(expected_mib.has_value());
    CHECK_EQ(boot_state().board.ram.total(), *expected_mib * 1024 * 1024);
    CHECK_EQ(boot_state().board.ram[0].base, uint64_t{0x40000000});
}

SELFTEST(boot, entry_exception_level) {
    auto expected = boot_state().command_line.get_u64("expect.el");
    CHECK(expected.has_value());
    CHECK_EQ(uint64_t{boot_state().entry_exception_level}, *expected);
    uint64_t current_el;
    asm volatile("mrs %0, CurrentEL" : "=r"(current_el));
    CHECK_EQ(current_el >> 2, uint64_t{1});  // always runs at EL1 after boot
}

SELFTEST(boot, cpu_identified) {
    auto expected = boot_state().command_line.get("expect.cpu");
    CHECK(expected.has_value());
    arch::CpuInfo cpu = arch::cpu_info();
    if (*expected == StringView("max")) {
        CHECK(cpu.midr != 0);
    } else {
        if (!equal_ignoring_case(StringView(cpu.part_name), *expected)) {
            t.fail("cpu is {} (MIDR {:#x}), expected {}", cpu.part_name, cpu.midr, *expected);
        }
    }
}

SELFTEST(boot, memory_map_consistent) {
    const PhysicalMemoryMap& map = boot_state().memory;
    uint64_t reserved = 0;
    for (const Range& r : map.free()) {
        CHECK(map.ram().contains(r));
        CHECK(r.base % 4096 == 0 && r.end % 4096 == 0);
    }
    for (size_t i = 0; i < map.reservation_count(); ++i) {
        const Range& r = map.reservation(i).range;
        CHECK(!map.free().intersects(r));
        reserved += r.size();
    }
    // Reservations do not overlap each other on QEMU virt, so the books balance exactly.
    CHECK_EQ(map.free().total() + reserved, map.ram().total());
    PhysRange image = arch::kernel_image_range();
    CHECK(!map.free().intersects(Range{image.base.value(), image.end().value()}));
    uint64_t dtb = boot_state().device_tree.value();
    CHECK(!map.free().intersects(Range{dtb, dtb + boot_state().device_tree_size}));
}

SELFTEST(boot, command_line_parsed) {
    const CommandLine& c = boot_state().command_line;
    CHECK(c.has("exit"));
    CHECK(c.get("exit").value_or("") == StringView("semihosting"));
    CHECK(!c.has("no-such-argument"));
}

}  // namespace tessera

namespace tessera {

// With expect.module=SIZE the runner loaded a module (QEMU -device loader) and named it with
// initrd=ADDRESS,SIZE: it must be reserved and readable. Without, no module may be reserved.
SELFTEST(boot, boot_module_reserved) {
    const BootState& s = boot_state();
    size_t modules = 0;
    for (size_t i = 0; i < s.memory.reservation_count(); ++i) {
        modules += s.memory.reservation(i).kind == RegionKind::kBootModule ? 1 : 0;
    }
    auto expected_size = s.command_line.get_u64("expect.module");
    if (!expected_size) {
        CHECK_EQ(modules, size_t{0});
        CHECK(!s.boot_module.has_value());
        return;
    }
    CHECK(s.boot_module.has_value());
    CHECK_EQ(s.boot_module->size, *expected_size);
    CHECK_EQ(modules, size_t{1});
    Range r{s.boot_module->base.value(), s.boot_module->end().value()};
    CHECK(!s.memory.free().intersects(r));
    const char* bytes = arch::phys_to_ptr<const char>(s.boot_module->base);
    CHECK(StringView(bytes, 19) == StringView("TESSERA-TEST-MODULE"));
}

}  // namespace tessera
