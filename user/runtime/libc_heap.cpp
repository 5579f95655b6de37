// sbrk for the C library's malloc (see tessera/heap.hpp): the break moves only within the heap
// region; a request past either end fails with (void*)-1 and errno ENOMEM, leaving it as it was.
#include "tessera/heap.hpp"

#include <errno.h>
#include <stddef.h>

namespace tessera {
namespace {

uint64_t g_base = 0;
uint64_t g_end = 0;
uint64_t g_break = 0;  // base <= break <= end

}  // namespace

void set_heap_region(uint64_t base, uint64_t size) {
    g_base = base;
    g_end = size <= UINT64_MAX - base ? base + size : UINT64_MAX;
    g_break = base;
}

}  // namespace tessera

extern "C" void tessera_set_heap_region(uint64_t base, uint64_t size) {
    tessera::set_heap_region(base, size);
}

extern "C" void tessera_heap_region(uint64_t* base, uint64_t* size) {
    *base = tessera::g_base;
    *size = tessera::g_end - tessera::g_base;
}

extern "C" void* sbrk(ptrdiff_t increment) {
    using tessera::g_base, tessera::g_break, tessera::g_end;
    uint64_t old_break = g_break;
    bool fits = increment >= 0 ? static_cast<uint64_t>(increment) <= g_end - old_break
                               : static_cast<uint64_t>(-(increment + 1)) < old_break - g_base;
    if (!fits) {
        errno = ENOMEM;
        return reinterpret_cast<void*>(-1);
    }
    g_break = old_break + static_cast<uint64_t>(increment);
    return reinterpret_cast<void*>(old_break);
}
