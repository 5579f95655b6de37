// The heap of the C library's malloc: a region of the program's address space (for example a
// .bss array, or memory its parent mapped) that sbrk hands out from the bottom up, never
// beyond either end. Without a region every allocation fails.
#pragma once

#include <cstdint>

#include "tessera/runtime.h"  // the same for C: tessera_set_heap_region, tessera_heap_region

namespace tessera {

// Sets the heap to [base, base + size); call it before the first allocation.
void set_heap_region(uint64_t base, uint64_t size);

}  // namespace tessera
