// A program loaded at run time: greets on the console, calls its parent through the badged
// endpoint it was given (proving the IPC path across CSpaces), and exits with a status.
#include "abi/process.hpp"
#include "tessera/debug_print.hpp"
#include "tessera/process.hpp"
#include "tessera/syscall.hpp"

using namespace tessera;

namespace {
uint64_t g_counter = 5;  // .data: reset on every load
uint64_t g_zeroed;       // .bss
}  // namespace

extern "C" void tessera_start(uint64_t parent, uint64_t argument) {
    set_parent_endpoint(parent);
    println("hello: running in a protection domain created at run time (argument {})", argument);
    sys::Message m;
    m.info = abi::MessageInfo(0x4e110, 0, 0, 3);
    m.mr[0] = argument + 1;
    m.mr[1] = g_counter++;
    m.mr[2] = g_zeroed++;
    sys::call(abi::CapPtr(parent), m);
    println("hello: my parent answered {}", m.mr[0]);
    pd_exit(m.mr[0]);
}
