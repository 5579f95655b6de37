// Deriving a capability for a copy (CNode Copy/Mint, IPC transfer): which capabilities may be
// copied and what the copy looks like (as seL4's deriveCap).
#pragma once

#include "core/derivation_tree.hpp"
#include "core/syscall_error.hpp"

namespace tessera {

SysResult<Capability> derive_capability(const Cte& src);

}  // namespace tessera
