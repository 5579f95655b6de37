// A program that re-images itself: generation N (argv[1]) asks the controller, on its parent
// endpoint, to exec it again as generation N + 1, until generation 3 exits. Each generation
// starts from a fresh image (its .data counter is back at its initial value) in the same PD.
#include "base/format.hpp"
#include "base/string_view.hpp"
#include "tessera/debug_print.hpp"
#include "tessera/service_call.hpp"
#include "tessera/startup.hpp"
#include "tessera/syscall.hpp"

using namespace tessera;

namespace {
uint64_t g_runs = 0;  // .data/.bss: 0 in every generation, so this prints 1 each time
}  // namespace

int main(int argc, char** argv, char** /*envp*/) {
    uint64_t generation = 1;
    if (argc >= 2) {
        (void)parse_u64(StringView(argv[1]), generation);
    }
    ++g_runs;
    println("reimage: generation {} (runs of this image: {})", generation, g_runs);
    if (generation >= 3) {
        return static_cast<int>(generation);
    }
    char line[32];
    BufferWriter next(line, sizeof(line));
    next.print("reimage {}", generation + 1);
    auto refused = service::call(abi::CapPtr(startup_record()->parent_endpoint),
                                 service::ExecSelf{next.view()});
    // Only a refusal comes back.
    println("reimage: exec refused: {}",
            refused ? StringView("a reply to an exec") : refused.error().message.view());
    return 100;
}
