// CPU identification (MIDR_EL1 decoding) and halting on AArch64.
// The part table names the cores Tessera is tested on; anything else prints its raw fields.
#include "arch/cpu.hpp"

#include "arch/registers.hpp"
#include "base/bits.hpp"

namespace tessera::arch {
namespace {

struct PartName {
    uint8_t implementer;
    uint16_t part;
    const char* name;
};

constexpr PartName kParts[] = {
    {0x41, 0xd03, "Cortex-A53"},
    {0x41, 0xd04, "Cortex-A35"},
    {0x41, 0xd05, "Cortex-A55"},
    {0x41, 0xd07, "Cortex-A57"},
    {0x41, 0xd08, "Cortex-A72"},
    {0x41, 0xd09, "Cortex-A73"},
    {0x41, 0xd0b, "Cortex-A76"},
    {0x41, 0xd0c, "Neoverse-N1"},
    {0x41, 0xd40, "Neoverse-V1"},
    {0x41, 0xd49, "Neoverse-N2"},
    {0x41, 0xd0f, "QEMU max (Arm reference)"},
    {0x00, 0x051, "QEMU max"},
};

const char* implementer_name(uint8_t implementer) {
    switch (implementer) {
        case 0x41:
            return "Arm";
        case 0x42:
            return "Broadcom";
        case 0x51:
            return "Qualcomm";
        case 0x61:
            return "Apple";
        case 0x00:
            return "software";
        default:
            return "unknown";
    }
}

constexpr uint64_t kCntkctlEl0Vcten = 1u << 1;
constexpr uint64_t kMdscrTdcc = 1u << 12;
constexpr uint64_t kTcrAs = uint64_t{1} << 36;

}  // namespace

void init_el0_controls() {
    asm volatile(
        "msr cntkctl_el1, %0\n"
        "msr mdscr_el1, %1\n"
        "msr pmuserenr_el0, xzr\n"
        "isb" ::"r"(kCntkctlEl0Vcten),
        "r"(kMdscrTdcc)
        : "memory");
}

uint32_t asid_count() {
    return (TESSERA_READ_SYSREG(tcr_el1) & kTcrAs) != 0 ? 1u << 16 : 1u << 8;
}

void use_8_bit_asids() {
    uint64_t tcr = TESSERA_READ_SYSREG(tcr_el1) & ~kTcrAs;
    asm volatile("msr tcr_el1, %0; isb; tlbi vmalle1; dsb nsh; isb" ::"r"(tcr) : "memory");
}

CpuInfo cpu_info() {
    uint64_t midr = TESSERA_READ_SYSREG(midr_el1);
    CpuInfo info;
    info.midr = static_cast<uint32_t>(midr);
    info.implementer = static_cast<uint8_t>(bit_field(midr, 24, 8));
    info.variant = static_cast<uint8_t>(bit_field(midr, 20, 4));
    info.part = static_cast<uint16_t>(bit_field(midr, 4, 12));
    info.revision = static_cast<uint8_t>(bit_field(midr, 0, 4));
    info.implementer_name = implementer_name(info.implementer);
    info.part_name = "unknown";
    for (const PartName& p : kParts) {
        if (p.implementer == info.implementer && p.part == info.part) {
            info.part_name = p.name;
        }
    }
    return info;
}

void halt_forever() {
    disable_interrupts();
    for (;;) {
        asm volatile("wfi");
    }
}

}  // namespace tessera::arch
