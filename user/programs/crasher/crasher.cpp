// A program that crashes on purpose, to show crash containment: the kind of crash is the
// argument word (0 null read, 1 write to its own code, 2 execute data, 3 stack overflow into
// the guard page). Its parent receives the fault, reports it and tears the PD down.
#include "tessera/debug_print.hpp"
#include "tessera/process.hpp"

using namespace tessera;

namespace {

alignas(16) uint32_t g_data_code[4] = {0xd65f03c0};  // "ret", placed in a data page

volatile uint64_t g_limit = ~uint64_t{0};  // never reached: the guard page stops it first

[[gnu::noinline]] uint64_t recurse(uint64_t depth) {
    volatile uint64_t frame[64];
    frame[0] = depth;
    if (depth == g_limit) {
        return frame[0];
    }
    return recurse(depth + 1) + frame[0];
}

}  // namespace

extern "C" void tessera_start(uint64_t parent, uint64_t kind) {
    set_parent_endpoint(parent);
    println("crasher: crashing on purpose (kind {})", kind);
    switch (kind) {
        case 0:
            // The null read is the point of this case.
            // NOLINTNEXTLINE(clang-analyzer-core.NullDereference)
            (void)*reinterpret_cast<volatile uint64_t*>(0);
            break;
        case 1:
            *reinterpret_cast<volatile uint32_t*>(reinterpret_cast<uint64_t>(&tessera_start)) = 0;
            break;
        case 2:
            reinterpret_cast<void (*)()>(g_data_code)();
            break;
        default:
            (void)recurse(0);
            break;
    }
    pd_exit(1);  // not reached
}
