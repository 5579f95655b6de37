// Exit of a root task: there is nobody to report to, so the system halts (status 0).
#include "tessera/debug_print.hpp"
#include "tessera/syscall.hpp"

extern "C" void tessera_exit() {
    tessera::sys::debug_halt(0);
}
