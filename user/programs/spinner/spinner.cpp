// A program that never ends on its own: it gives the CPU away in a loop until its parent kills
// or re-images it. Shell sessions and tests use it as a PD that is reliably still alive.
#include "tessera/debug_print.hpp"
#include "tessera/process.hpp"
#include "tessera/syscall.hpp"

extern "C" void tessera_start(uint64_t parent, uint64_t argument) {
    tessera::set_parent_endpoint(parent);
    tessera::println("spinner: yielding until stopped (argument {})", argument);
    for (;;) {
        tessera::sys::yield();
    }
}
