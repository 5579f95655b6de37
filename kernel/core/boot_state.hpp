// What boot learned and set up, handed to the boot payload (the interactive system, the
// self-test runner or a benchmark) once the kernel is up.
#pragma once

#include <cstdint>
#include <optional>

#include "base/address.hpp"
#include "base/command_line.hpp"
#include "core/memory_map.hpp"
#include "fdt/fdt_reader.hpp"
#include "platform/board.hpp"

namespace tessera {

struct BootState {
    unsigned entry_exception_level = 0;  // EL the kernel was entered at (1 or 2)
    PhysAddr device_tree;                // physical address of the DTB
    uint32_t device_tree_size = 0;
    fdt::DeviceTree* tree = nullptr;
    platform::BoardInfo board;
    PhysicalMemoryMap memory;
    CommandLine command_line;
    std::optional<PhysRange> boot_module;  // from initrd=ADDRESS,SIZE on the command line
    uint64_t instructions_to_banner = 0;   // PMU count from the first instruction to the banner
    uint64_t counter_at_banner = 0;        // generic-timer count at the banner (time since reset)
};

// Valid after kernel_main reaches the payload.
const BootState& boot_state();

// Implemented by each kernel image's payload; runs with interrupts enabled and never returns.
[[noreturn]] void run_boot_payload(BootState& state);

}  // namespace tessera
