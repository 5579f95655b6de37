// Lookup in the generated symbol table: a sorted array of function start addresses, parallel
// name offsets, and a string blob. A function's extent ends where the next symbol starts.
#include "core/symbols.hpp"

extern "C" {
// Provided by the generated ksyms.S (empty in the first link pass).
extern const uint64_t __ksyms_count;
extern const uint64_t __ksyms_addresses[];
extern const uint32_t __ksyms_name_offsets[];
extern const char __ksyms_names[];
extern const char __text_start[];
extern const char __text_end[];
}

namespace tessera {

uint64_t symbol_count() {
    return __ksyms_count;
}

Symbol lookup_symbol(uint64_t address) {
    uint64_t text_start = reinterpret_cast<uint64_t>(__text_start);
    uint64_t text_end = reinterpret_cast<uint64_t>(__text_end);
    uint64_t count = __ksyms_count;
    if (count == 0 || address < text_start || address >= text_end ||
        address < __ksyms_addresses[0]) {
        return {};
    }
    // Last entry with start <= address.
    uint64_t lo = 0;
    uint64_t hi = count;
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (__ksyms_addresses[mid] <= address) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    uint64_t start = __ksyms_addresses[lo];
    return Symbol{__ksyms_names + __ksyms_name_offsets[lo], start, address - start};
}

}  // namespace tessera
