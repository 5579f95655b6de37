// Reads BoardInfo out of the device tree. Devices are looked up by compatible string, the
// console first through /chosen/stdout-path. Assumes devices sit on buses whose "ranges" are
// identity mappings, as on QEMU virt; a non-identity bus would need translation here.
#include "fdt/fdt_reader.hpp"
#include "platform/board.hpp"

namespace tessera::platform {
namespace {

using fdt::DeviceTree;
using fdt::Node;

constexpr const char* kGicCompatibles[] = {"arm,cortex-a15-gic", "arm,gic-400",
                                           "arm,cortex-a9-gic"};
constexpr uint32_t kGicSpi = 0;
constexpr uint32_t kGicPpi = 1;

// Converts a GIC interrupt specifier (type, number, flags) at cell index*3 into an interrupt ID.
Result<uint32_t, ProbeError> gic_interrupt(const fdt::Property& interrupts, size_t index) {
    auto type = interrupts.cell(index * 3);
    auto number = interrupts.cell(index * 3 + 1);
    if (!type || !number) {
        return fail(ProbeError::kBadProperty);
    }
    if (type.value() == kGicSpi && number.value() < 988) {
        return number.value() + 32;
    }
    if (type.value() == kGicPpi && number.value() < 16) {
        return number.value() + 16;
    }
    return fail(ProbeError::kBadProperty);
}

Result<PhysRange, ProbeError> reg_range(const DeviceTree& tree, Node node, size_t index) {
    auto reg = tree.reg(node, index);
    if (!reg) {
        return fail(ProbeError::kBadProperty);
    }
    return PhysRange{PhysAddr(reg.value().address), reg.value().size};
}

bool is_pl011(const DeviceTree& tree, Node node) {
    auto compatible = tree.property(node, "compatible");
    return compatible && compatible->contains_string("arm,pl011");
}

std::optional<Node> find_console(const DeviceTree& tree) {
    if (auto chosen = tree.find_node("/chosen")) {
        if (auto stdout_path = tree.property(*chosen, "stdout-path")) {
            if (auto path = stdout_path->as_string()) {
                StringView p = path.value();
                size_t colon = p.find(':');  // "path:options"
                if (colon != SIZE_MAX) {
                    p = p.substr(0, colon);
                }
                if (auto node = tree.find_node(p); node && is_pl011(tree, *node)) {
                    return node;
                }
            }
        }
    }
    return tree.find_compatible("arm,pl011");
}

Result<uint64_t, ProbeError> read_address_property(const fdt::Property& p) {
    if (p.value.size() == 4) {
        return uint64_t{p.cell(0).value()};
    }
    if (p.value.size() == 8) {
        return (uint64_t{p.cell(0).value()} << 32) | p.cell(1).value();
    }
    return fail(ProbeError::kBadProperty);
}

Result<void, ProbeError> probe_memory(const DeviceTree& tree, BoardInfo& info) {
    bool bad = false;
    tree.for_each_child(tree.root(), [&](Node node) {
        auto type = tree.property(node, "device_type");
        if (!type || !type->contains_string("memory")) {
            return;
        }
        auto count = tree.reg_count(node);
        if (!count) {
            bad = true;
            return;
        }
        for (size_t i = 0; i < count.value(); ++i) {
            auto reg = tree.reg(node, i);
            if (!reg || reg.value().address + reg.value().size < reg.value().address) {
                bad = true;
                return;
            }
            if (!info.ram.add(Range{reg.value().address, reg.value().address + reg.value().size})) {
                bad = true;
                return;
            }
        }
    });
    if (bad) {
        return fail(ProbeError::kBadProperty);
    }
    if (info.ram.count() == 0 || info.ram.total() == 0) {
        return fail(ProbeError::kNoMemory);
    }
    return {};
}

Result<void, ProbeError> add_reservation(BoardInfo& info, uint64_t address, uint64_t size) {
    if (size == 0) {
        return {};
    }
    if (info.reservation_count == kMaxFirmwareReservations) {
        return fail(ProbeError::kTooManyRanges);
    }
    info.reservations[info.reservation_count++] = PhysRange{PhysAddr(address), size};
    return {};
}

Result<void, ProbeError> probe_reservations(const DeviceTree& tree, BoardInfo& info) {
    bool full = false;
    tree.for_each_reservation([&](fdt::MemoryReservation r) {
        if (!add_reservation(info, r.address, r.size)) {
            full = true;
        }
    });
    if (auto reserved = tree.find_node("/reserved-memory")) {
        bool bad = false;
        tree.for_each_child(*reserved, [&](Node child) {
            auto count = tree.reg_count(child);
            if (!count) {
                return;  // dynamically placed reservations (size/alignment only) carry no reg
            }
            for (size_t i = 0; i < count.value(); ++i) {
                auto reg = tree.reg(child, i);
                if (!reg) {
                    bad = true;
                } else if (!add_reservation(info, reg.value().address, reg.value().size)) {
                    full = true;
                }
            }
        });
        if (bad) {
            return fail(ProbeError::kBadProperty);
        }
    }
    if (full) {
        return fail(ProbeError::kTooManyRanges);
    }
    return {};
}

Result<void, ProbeError> probe_chosen(const DeviceTree& tree, BoardInfo& info) {
    auto chosen = tree.find_node("/chosen");
    if (!chosen) {
        return {};
    }
    if (auto bootargs = tree.property(*chosen, "bootargs")) {
        if (auto text = bootargs->as_string()) {
            info.bootargs = text.value();
        }
    }
    auto start = tree.property(*chosen, "linux,initrd-start");
    auto end = tree.property(*chosen, "linux,initrd-end");
    if (start && end) {
        uint64_t s = TRY(read_address_property(*start));
        uint64_t e = TRY(read_address_property(*end));
        if (e < s) {
            return fail(ProbeError::kBadProperty);
        }
        info.initrd = PhysRange{PhysAddr(s), e - s};
    }
    return {};
}

}  // namespace

const char* to_string(ProbeError error) {
    switch (error) {
        case ProbeError::kNoMemory:
            return "no memory node";
        case ProbeError::kTooManyRanges:
            return "too many memory ranges or reservations";
        case ProbeError::kNoUart:
            return "no PL011 UART";
        case ProbeError::kNoInterruptController:
            return "no GICv2 interrupt controller";
        case ProbeError::kNoTimer:
            return "no arm,armv8-timer node";
        case ProbeError::kBadProperty:
            return "malformed reg or interrupts property";
    }
    return "unknown probe error";
}

Result<BoardInfo, ProbeError> probe_board(const DeviceTree& tree) {
    BoardInfo info;
    if (auto model = tree.property(tree.root(), "model"); model && model->as_string()) {
        info.model = model->as_string().value();
    } else if (auto compatible = tree.property(tree.root(), "compatible");
               compatible && compatible->as_string()) {
        info.model = compatible->as_string().value();
    }

    TRY(probe_memory(tree, info));
    TRY(probe_reservations(tree, info));
    TRY(probe_chosen(tree, info));

    auto uart = find_console(tree);
    if (!uart) {
        return fail(ProbeError::kNoUart);
    }
    info.uart = TRY(reg_range(tree, *uart, 0));
    if (auto interrupts = tree.property(*uart, "interrupts")) {
        info.uart_irq = TRY(gic_interrupt(*interrupts, 0));
    }

    std::optional<Node> gic;
    for (const char* compatible : kGicCompatibles) {
        gic = tree.find_compatible(compatible);
        if (gic) {
            break;
        }
    }
    if (!gic) {
        return fail(ProbeError::kNoInterruptController);
    }
    info.gic_distributor = TRY(reg_range(tree, *gic, 0));
    info.gic_cpu_interface = TRY(reg_range(tree, *gic, 1));

    auto timer = tree.find_compatible("arm,armv8-timer");
    if (!timer) {
        return fail(ProbeError::kNoTimer);
    }
    auto interrupts = tree.property(*timer, "interrupts");
    if (!interrupts) {
        return fail(ProbeError::kNoTimer);
    }
    // Order fixed by the binding: secure physical, non-secure physical, virtual, hypervisor.
    info.timer_irq_physical = TRY(gic_interrupt(*interrupts, 1));
    info.timer_irq_virtual = TRY(gic_interrupt(*interrupts, 2));
    return info;
}

}  // namespace tessera::platform
