// A program loaded at run time: greets with its arguments on the console, calls its parent
// through the badged endpoint it was given (proving the IPC path across CSpaces) with a number
// from its first argument and its fresh .data and .bss, and exits with the parent's answer.
#include "abi/process.hpp"
#include "base/string_view.hpp"
#include "service/service_protocol.hpp"
#include "tessera/debug_print.hpp"
#include "tessera/process.hpp"
#include "tessera/startup.hpp"
#include "tessera/syscall.hpp"

using namespace tessera;

namespace {
uint64_t g_counter = 5;  // .data: reset on every load
uint64_t g_zeroed;       // .bss
}  // namespace

int main(int argc, char** argv, char** /*envp*/) {
    uint64_t number = 0;
    if (argc >= 2) {
        (void)parse_u64(StringView(argv[1]), number);
    }
    print("hello: running in a protection domain created at run time; argv:");
    for (int i = 0; i < argc; ++i) {
        print(" \"{}\"", argv[i]);
    }
    println("");
    sys::Message m;
    // The greeting (service::Greet, the number first), with two more words a parent may check.
    m.info = abi::MessageInfo(static_cast<uint64_t>(service::ControllerLabel::kGreet), 0, 0, 3);
    m.mr[0] = number + 1;
    m.mr[1] = g_counter++;
    m.mr[2] = g_zeroed++;
    sys::call(abi::CapPtr(startup_record()->parent_endpoint), m);
    println("hello: my parent answered {}", m.mr[0]);
    return static_cast<int>(m.mr[0]);
}
