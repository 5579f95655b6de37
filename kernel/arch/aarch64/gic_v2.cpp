// GICv2 driver: one CPU, all interrupts group 0 at one priority, level or edge as configured
// by firmware/QEMU. The acknowledge loop hands each interrupt to the generic dispatcher.
#include "arch/interrupt_controller.hpp"
#include "arch/registers.hpp"
#include "core/interrupts.hpp"

namespace tessera::arch {
namespace {

// Distributor registers.
constexpr uintptr_t kGicdCtlr = 0x000;
constexpr uintptr_t kGicdTyper = 0x004;
constexpr uintptr_t kGicdIsenabler = 0x100;
constexpr uintptr_t kGicdIcenabler = 0x180;
constexpr uintptr_t kGicdIcpendr = 0x280;
constexpr uintptr_t kGicdIpriorityr = 0x400;
constexpr uintptr_t kGicdItargetsr = 0x800;
constexpr uintptr_t kGicdSgir = 0xf00;
// CPU interface registers.
constexpr uintptr_t kGiccCtlr = 0x000;
constexpr uintptr_t kGiccPmr = 0x004;
constexpr uintptr_t kGiccBpr = 0x008;
constexpr uintptr_t kGiccIar = 0x00c;
constexpr uintptr_t kGiccEoir = 0x010;

constexpr uint8_t kDefaultPriority = 0xa0;
constexpr uint32_t kSgiTargetSelf = 2u << 24;

uintptr_t g_dist = 0;
uintptr_t g_cpu = 0;
uint32_t g_lines = 0;

void dist_write(uintptr_t reg, uint32_t value) {
    mmio_write<uint32_t>(g_dist + reg, value);
}
uint32_t dist_read(uintptr_t reg) {
    return mmio_read<uint32_t>(g_dist + reg);
}
void cpu_write(uintptr_t reg, uint32_t value) {
    mmio_write<uint32_t>(g_cpu + reg, value);
}
uint32_t cpu_read(uintptr_t reg) {
    return mmio_read<uint32_t>(g_cpu + reg);
}

}  // namespace

void interrupt_controller_init(VirtAddr distributor, VirtAddr cpu_interface) {
    g_dist = distributor.value();
    g_cpu = cpu_interface.value();
    dist_write(kGicdCtlr, 0);
    g_lines = 32 * ((dist_read(kGicdTyper) & 0x1f) + 1);
    if (g_lines > 1020) {
        g_lines = 1020;
    }
    for (uint32_t i = 0; i < g_lines; i += 32) {
        dist_write(kGicdIcenabler + i / 8, 0xffffffff);
        dist_write(kGicdIcpendr + i / 8, 0xffffffff);
    }
    for (uint32_t i = 0; i < g_lines; i += 4) {
        uint32_t p = kDefaultPriority;
        dist_write(kGicdIpriorityr + i, p | (p << 8) | (p << 16) | (p << 24));
    }
    for (uint32_t i = kFirstSpi; i < g_lines; i += 4) {
        dist_write(kGicdItargetsr + i, 0x01010101);  // every SPI to CPU 0
    }
    dist_write(kGicdCtlr, 1);
    cpu_write(kGiccPmr, 0xff);
    cpu_write(kGiccBpr, 0);
    cpu_write(kGiccCtlr, 1);
    dsb_sy();
}

uint32_t interrupt_line_count() {
    return g_lines;
}

void enable_interrupt_line(uint32_t irq) {
    if (irq < g_lines) {
        dist_write(kGicdIsenabler + uint64_t{irq / 32} * 4, 1u << (irq % 32));
    }
}

void disable_interrupt_line(uint32_t irq) {
    if (irq < g_lines) {
        dist_write(kGicdIcenabler + uint64_t{irq / 32} * 4, 1u << (irq % 32));
        dsb_sy();
    }
}

bool interrupt_line_enabled(uint32_t irq) {
    return irq < g_lines &&
           (dist_read(kGicdIsenabler + uint64_t{irq / 32} * 4) & (1u << (irq % 32))) != 0;
}

void send_sgi_to_self(uint32_t sgi) {
    dsb_ishst();
    dist_write(kGicdSgir, kSgiTargetSelf | (sgi & 0xf));
}

void handle_pending_interrupts() {
    for (;;) {
        uint32_t iar = cpu_read(kGiccIar);
        uint32_t irq = iar & 0x3ff;
        if (irq >= 1020) {
            return;  // spurious: nothing (more) pending
        }
        dispatch_interrupt(irq);
        cpu_write(kGiccEoir, iar);
    }
}

}  // namespace tessera::arch
