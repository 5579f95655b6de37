// kernel_main: the generic boot flow after boot.S has turned the MMU on. Reads the device tree,
// builds the physical memory map and the final kernel address space, starts the interrupt
// controller and the tick, prints the banner and hands over to the image's payload.
#include <initializer_list>

#include "arch/cpu.hpp"
#include "arch/exception.hpp"
#include "arch/interrupt_controller.hpp"
#include "arch/layout.hpp"
#include "arch/mmu.hpp"
#include "arch/pmu.hpp"
#include "arch/timer.hpp"
#include "base/bits.hpp"
#include "core/boot_state.hpp"
#include "core/clock.hpp"
#include "core/console.hpp"
#include "core/panic.hpp"
#include "core/version.hpp"
#include "object/vspace.hpp"
#include "platform/board_constants.h"
#include "platform/uart.hpp"

namespace tessera {
namespace {

BootState g_boot;

// The device tree stays where the boot loader put it; the first gigabyte of RAM is mapped by
// boot.S, and the final tables map all RAM, so its physmap alias is always readable.
fdt::DeviceTree locate_device_tree(uint64_t boot_register) {
    PhysAddr candidates[2] = {PhysAddr(boot_register), PhysAddr(DEFAULT_DTB_PHYS)};
    for (PhysAddr pa : candidates) {
        if (pa.value() == 0 || !pa.is_aligned(8)) {
            continue;
        }
        auto* header = arch::phys_to_ptr<const uint8_t>(pa);
        auto size =
            fdt::DeviceTree::peek_total_size(std::span<const uint8_t>(header, fdt::kHeaderSize));
        if (!size) {
            continue;
        }
        auto tree = fdt::DeviceTree::parse(std::span<const uint8_t>(header, size.value()));
        if (!tree) {
            panic("device tree at {} is malformed: {}", pa, fdt::to_string(tree.error()));
        }
        g_boot.device_tree = pa;
        g_boot.device_tree_size = size.value();
        return tree.value();
    }
    panic(
        "no device tree found (x0 = {:#x}, default {:#x}): boot with QEMU -M virt, or pass a DTB "
        "in x0",
        boot_register, static_cast<uint64_t>(DEFAULT_DTB_PHYS));
}

// A boot module placed by the boot loader (QEMU: -device loader) and named on the command line
// as initrd=ADDRESS,SIZE, for loaders that cannot edit /chosen.
std::optional<PhysRange> module_from_command_line(const CommandLine& command_line) {
    auto text = command_line.get("initrd");
    if (!text) {
        return std::nullopt;
    }
    size_t comma = text->find(',');
    uint64_t base = 0;
    uint64_t size = 0;
    if (comma == SIZE_MAX || !parse_u64(text->substr(0, comma), base) ||
        !parse_u64(text->substr(comma + 1), size) || !checked_add(base, size)) {
        kprintln("warning: ignoring malformed initrd=\"{}\" (expected initrd=ADDRESS,SIZE)", *text);
        return std::nullopt;
    }
    return PhysRange{PhysAddr(base), size};
}

void build_memory_map() {
    PhysicalMemoryMap& map = g_boot.memory;
    const platform::BoardInfo& board = g_boot.board;
    auto check = [](Result<void, MemoryMapError> r) {
        if (!r) {
            panic("memory map: {}", to_string(r.error()));
        }
    };
    check(map.set_ram(board.ram));
    PhysRange image = arch::kernel_image_range();
    check(map.reserve(Range{image.base.value(), image.end().value()}, RegionKind::kKernelImage));
    uint64_t dtb = g_boot.device_tree.value();
    check(map.reserve(Range{dtb, dtb + g_boot.device_tree_size}, RegionKind::kDeviceTree));
    for (const std::optional<PhysRange>& module : {board.initrd, g_boot.boot_module}) {
        if (module) {
            check(map.reserve(Range{module->base.value(), module->end().value()},
                              RegionKind::kBootModule));
        }
    }
    for (size_t i = 0; i < board.reservation_count; ++i) {
        const PhysRange& r = board.reservations[i];
        check(map.reserve(Range{r.base.value(), r.end().value()}, RegionKind::kFirmware));
    }
    check(map.finish(Range{image.base.value(), image.end().value()}));
}

void print_banner() {
    arch::CpuInfo cpu = arch::cpu_info();
    kprintln("");
    kprintln("Tessera {} - capability microkernel for AArch64", kVersion);
    kprintln("  cpu     {} {} r{}p{} (MIDR {:#010x}), entered at EL{}", cpu.implementer_name,
             cpu.part_name, cpu.variant, cpu.revision, cpu.midr, g_boot.entry_exception_level);
    kprint("  board   {}, ", g_boot.board.model);
    print_size(console::sink(), g_boot.board.ram.total());
    kprintln(" RAM");
    kprintln("  dtb     {} ({} bytes), bootargs \"{}\"", g_boot.device_tree,
             g_boot.device_tree_size, g_boot.command_line.text());
    kprintln("  devices PL011 at {}, GICv2 at {} / {}", g_boot.board.uart.base,
             g_boot.board.gic_distributor.base, g_boot.board.gic_cpu_interface.base);
    kprintln("  timer   IRQ {}, {} Hz tick from a {} Hz counter", g_boot.board.timer_irq_virtual,
             tick_hz(), arch::counter_frequency());
    kprint("  kernel  tables {} of {} boot pages; ", arch::kernel_table_pages_used(),
           arch::kernel_table_pages_total());
    if (g_boot.instructions_to_banner != 0) {
        kprintln("{} instructions from entry to banner", g_boot.instructions_to_banner);
    } else {
        kprintln("instruction count needs QEMU -icount");
    }
    kprintln("Physical memory map:");
    g_boot.memory.print(console::sink());
}

}  // namespace

const BootState& boot_state() {
    return g_boot;
}

}  // namespace tessera

using namespace tessera;

extern "C" [[noreturn]] void kernel_main(uint64_t dtb_register, uint64_t entry_el) {
    arch::install_exception_vectors();
    platform::uart_init(arch::phys_to_virt(PhysAddr(EARLY_UART_PHYS)));
    console::set_output(platform::uart_write);
    g_boot.entry_exception_level = static_cast<unsigned>(entry_el);

    static fdt::DeviceTree tree = locate_device_tree(dtb_register);
    g_boot.tree = &tree;

    auto board = platform::probe_board(tree);
    if (!board) {
        panic("device tree: {}", platform::to_string(board.error()));
    }
    g_boot.board = board.value();
    g_boot.command_line = CommandLine(g_boot.board.bootargs);
    g_boot.boot_module = module_from_command_line(g_boot.command_line);
    set_halt_via_semihosting(g_boot.command_line.get("exit").value_or("") ==
                             StringView("semihosting"));

    build_memory_map();

    PhysRange devices[] = {g_boot.board.uart, g_boot.board.gic_distributor,
                           g_boot.board.gic_cpu_interface};
    auto mapped = arch::activate_kernel_address_space(
        std::span<const Range>(g_boot.memory.ram().begin(), g_boot.memory.ram().count()), devices);
    if (!mapped) {
        panic("kernel address space: {}", aarch64::to_string(mapped.error()));
    }
    platform::uart_init(arch::phys_to_virt(g_boot.board.uart.base));

    arch::interrupt_controller_init(arch::phys_to_virt(g_boot.board.gic_distributor.base),
                                    arch::phys_to_virt(g_boot.board.gic_cpu_interface.base));
    uint64_t hz = g_boot.command_line.get_u64("tick_hz").value_or(kDefaultTickHz);
    if (hz > UINT32_MAX ||
        !clock_start(g_boot.board.timer_irq_virtual, static_cast<uint32_t>(hz))) {
        kprintln("warning: tick_hz={} is out of range, using {} Hz", hz, kDefaultTickHz);
        if (!clock_start(g_boot.board.timer_irq_virtual, kDefaultTickHz)) {
            panic("cannot start the timer on IRQ {}", g_boot.board.timer_irq_virtual);
        }
    }

    arch::init_el0_controls();
    if (g_boot.command_line.get_u64("asid_bits").value_or(16) == 8) {
        arch::use_8_bit_asids();
    }
    set_asid_limit(arch::asid_count());
    if (g_boot.command_line.has("pmu_user")) {
        arch::allow_user_counter_reads();  // benchmarks read the instruction counter at EL0
    }
    g_boot.instructions_to_banner = arch::instructions_retired();
    g_boot.counter_at_banner = arch::counter_now();
    print_banner();
    arch::enable_interrupts();
    run_boot_payload(g_boot);
}
