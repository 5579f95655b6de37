// What the kernel needs to know about the board, read from the device tree at boot:
// RAM, the console UART, the interrupt controller, the timer and firmware reservations.
#pragma once

#include <cstdint>
#include <optional>

#include "base/address.hpp"
#include "base/range_set.hpp"
#include "base/result.hpp"
#include "base/string_view.hpp"
#include "fdt/fdt_reader.hpp"

namespace tessera::platform {

constexpr size_t kMaxRamRanges = 16;
constexpr size_t kMaxFirmwareReservations = 16;

struct BoardInfo {
    StringView model;  // /model or /compatible
    RangeSet<kMaxRamRanges> ram;
    PhysRange uart;
    uint32_t uart_irq = 0;
    PhysRange gic_distributor;
    PhysRange gic_cpu_interface;
    uint32_t timer_irq_virtual = 0;   // EL1 virtual timer PPI, as a GIC interrupt ID
    uint32_t timer_irq_physical = 0;  // EL1 non-secure physical timer PPI
    StringView bootargs;
    std::optional<PhysRange> initrd;                   // boot module handed over by the boot loader
    PhysRange reservations[kMaxFirmwareReservations];  // memreserve + /reserved-memory
    size_t reservation_count = 0;
};

enum class ProbeError : uint8_t {
    kNoMemory,       // no /memory node with a usable reg
    kTooManyRanges,  // more RAM ranges or reservations than the kernel tracks
    kNoUart,         // no PL011 found
    kNoInterruptController,
    kNoTimer,
    kBadProperty,  // a reg / interrupts property with the wrong shape
};

const char* to_string(ProbeError error);

// Fills BoardInfo from a validated device tree. Pure: no hardware access (host-tested).
Result<BoardInfo, ProbeError> probe_board(const fdt::DeviceTree& tree);

}  // namespace tessera::platform
