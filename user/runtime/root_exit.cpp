// Exit of a root task: there is nobody to report to, so the system halts with the status.
#include "tessera/runtime.h"
#include "tessera/syscall.hpp"

extern "C" void tessera_exit(int status) {
    tessera::sys::debug_halt(static_cast<uint64_t>(status));
}
