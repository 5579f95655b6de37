// The kernel's own address space on AArch64: the final TTBR1 tables (all RAM linearly mapped,
// the kernel image with per-section permissions, device windows), software and hardware walks.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "base/address.hpp"
#include "base/range_set.hpp"
#include "base/result.hpp"
#include "pagetable/translation_table.hpp"

namespace tessera::arch {

// Physical extent of the loaded kernel image (from linker symbols).
PhysRange kernel_image_range();

// Builds and switches to the final kernel tables; afterwards TTBR0 holds an empty table.
// ram: every RAM range; devices: MMIO ranges to map Device-nGnRnE at their physmap alias.
Result<void, aarch64::MapError> activate_kernel_address_space(std::span<const Range> ram,
                                                              std::span<const PhysRange> devices);

// Software walk of the active kernel tables.
aarch64::WalkResult kernel_walk(VirtAddr va);

// Hardware translation with AT S1E1R / AT S1E1W: the physical address, or nullopt on a fault.
std::optional<PhysAddr> hardware_translate_read(VirtAddr va);
std::optional<PhysAddr> hardware_translate_write(VirtAddr va);
// AT S1E0R: as EL0 would read va through the current user tables.
std::optional<PhysAddr> hardware_translate_user_read(VirtAddr va);

// Pages of boot-time table memory in use / available.
uint64_t kernel_table_pages_used();
uint64_t kernel_table_pages_total();

// Guard page below the boot stack: never mapped, so an overflow faults.
VirtAddr boot_stack_guard();

}  // namespace tessera::arch
