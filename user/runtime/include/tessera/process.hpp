// Life of a protection domain created at run time, from the inside: its parent endpoint (from
// x0 at entry, see abi/process.hpp) and exiting.
#pragma once

#include <cstdint>

namespace tessera {

void set_parent_endpoint(uint64_t slot);
[[noreturn]] void pd_exit(uint64_t status);

}  // namespace tessera
