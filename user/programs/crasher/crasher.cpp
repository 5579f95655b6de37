// A program that crashes on purpose, to show crash containment: the kind of crash is its first
// argument (null: null read, code: write to its own code, data: execute data, stack: stack
// overflow into the guard below its stack). Its parent receives the fault, reports it and tears the
// PD down.
#include "base/string_view.hpp"
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

int main(int argc, char** argv, char** /*envp*/) {
    StringView kinds[] = {"null", "code", "data", "stack"};
    unsigned kind = 0;
    while (argc >= 2 && kind < 4 && !(kinds[kind] == StringView(argv[1]))) {
        ++kind;
    }
    println("crasher: crashing on purpose ({})", kind < 4 ? kinds[kind] : StringView("stack"));
    switch (kind) {
        case 0:
            // The null read is the point of this case.
            // NOLINTNEXTLINE(clang-analyzer-core.NullDereference)
            (void)*reinterpret_cast<volatile uint64_t*>(0);
            break;
        case 1:
            *reinterpret_cast<volatile uint32_t*>(reinterpret_cast<uint64_t>(&recurse)) = 0;
            break;
        case 2:
            reinterpret_cast<void (*)()>(g_data_code)();
            break;
        default:
            (void)recurse(0);
            break;
    }
    return 1;  // not reached
}
