// The kernel's embedded symbol table (generated at link time by tools/gen-ksyms) so panics and
// fault reports name functions without a host-side symboliser.
#pragma once

#include <cstdint>

namespace tessera {

struct Symbol {
    const char* name = nullptr;  // nullptr if the address is not inside a known function
    uint64_t address = 0;
    uint64_t offset = 0;
};

Symbol lookup_symbol(uint64_t address);
uint64_t symbol_count();

}  // namespace tessera
