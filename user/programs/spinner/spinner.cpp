// A program that never ends on its own: it gives the CPU away in a loop until its parent kills
// or re-images it. Shell sessions and tests use it as a PD that is reliably still alive; with
// the argument "quiet" it says nothing (a thousand of them at once).
#include "base/string_view.hpp"
#include "tessera/debug_print.hpp"
#include "tessera/syscall.hpp"

int main(int argc, char** argv, char** /*envp*/) {
    if (argc < 2 || tessera::StringView(argv[1]) != tessera::StringView("quiet")) {
        tessera::println("spinner: yielding until stopped ({} arguments)", argc > 0 ? argc - 1 : 0);
    }
    for (;;) {
        tessera::sys::yield();
    }
}
