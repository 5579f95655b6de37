// Data and instruction cache maintenance by virtual address (kernel mappings), used when the
// kernel writes memory that is then seen through another mapping or executed.
#pragma once

#include <cstdint>

#include "base/address.hpp"

namespace tessera::arch {

// Clean and invalidate to the point of coherency: no alias (cached or not) sees stale data.
void clean_invalidate_to_coherency(VirtAddr start, uint64_t size);
// Make instructions written through the data side visible to instruction fetch.
void sync_instruction_cache(VirtAddr start, uint64_t size);
// Zeroes [start, start + size) quickly (DC ZVA, one cache block per instruction) when both
// are multiples of the block size and the CPU allows it; otherwise with ordinary stores.
void zero_memory(VirtAddr start, uint64_t size);
// Both: zeroes [start, start + size) and cleans it to the point of coherency, in one pass
// (each line zeroed and cleaned in turn) when the zeroing block is one cache line.
void zero_to_coherency(VirtAddr start, uint64_t size);

// Forget every TLB entry tagged with asid.
void invalidate_asid(uint16_t asid);

}  // namespace tessera::arch
