// System-call entry: decodes the call number and arguments from the thread's saved registers
// and dispatches. Results are written back into the saved registers.
#pragma once

#include "object/tcb.hpp"

namespace tessera {

void handle_syscall(Tcb& t);

}  // namespace tessera
