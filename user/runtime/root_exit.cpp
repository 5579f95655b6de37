// Exit of a root task: there is nobody to report to, so the system halts with the status
// (through the debug capability the kernel gives every root task).
#include "tessera/debug_print.hpp"
#include "tessera/invocation.hpp"
#include "tessera/runtime.h"
#include "tessera/syscall.hpp"

extern "C" void tessera_exit(int status) {
    (void)tessera::debug_halt(tessera::debug_capability(), static_cast<uint64_t>(status));
    for (;;) {
        tessera::sys::yield();  // only without the debug capability: nothing else can end it
    }
}
