// A PD that starts PDs of its own through its parent, the controller: the process tree. The
// first argument says what it does:
//   exit   starts a linked spinner, an unlinked spinner and a linked `hello 3`, waits for any
//          child (hello: status 40), then exits: the linked spinner goes with it, the other stays
//   crash  the same, then crashes
//   hold   starts a linked spinner and a linked `family leaf`, then waits for the spinner (for
//          good: until it is killed, with its subtree)
//   leaf   starts a linked spinner and waits for it
//   rogue  tries to kill and wait for PD ARGV[2], not its child: exits 0 if both are refused
#include "base/format.hpp"
#include "base/string_view.hpp"
#include "tessera/debug_print.hpp"
#include "tessera/service_call.hpp"
#include "tessera/startup.hpp"

using namespace tessera;

namespace {

abi::CapPtr parent() {
    return abi::CapPtr(startup_record()->parent_endpoint);
}

// Starts `line` as a child (linked or not); its id, or ~0 when refused.
uint64_t start(StringView line, bool linked) {
    const uint64_t flags = service::kSpawnTiny | (linked ? service::kSpawnLinked : 0);
    auto r = service::call(parent(), service::Spawn{flags, line});
    if (!r) {
        println("family: cannot start \"{}\": {}", line, r.error().message.view());
        return ~uint64_t{0};
    }
    return r.value().id;
}

int family(StringView what) {
    if (start("spinner quiet", true) == ~uint64_t{0} ||
        start("spinner quiet", false) == ~uint64_t{0} || start("hello 3", true) == ~uint64_t{0}) {
        return 1;
    }
    auto ended = service::call(parent(), service::Wait{service::kAnyChild});
    if (!ended) {
        println("family: waiting for a child failed: {}", ended.error().message.view());
        return 2;
    }
    println("family: child {} {} with status {}", ended.value().id, to_string(ended.value().ending),
            ended.value().status);
    if (what == "crash") {
        *reinterpret_cast<volatile uint64_t*>(8) = 1;
    }
    return 0;
}

int hold(bool leaf) {
    const uint64_t spinner = start("spinner quiet", true);
    if (spinner == ~uint64_t{0} || (!leaf && start("family leaf", true) == ~uint64_t{0})) {
        return 1;
    }
    (void)service::call(parent(), service::Wait{spinner});  // answered only if it ends
    return 3;
}

int rogue(StringView target) {
    uint64_t id = 0;
    if (!parse_u64(target, id)) {
        return 1;
    }
    auto killed = service::call(parent(), service::Kill{id});
    auto waited = service::call(parent(), service::Wait{id});
    const bool refused = !killed && killed.error().status == service::StatusCode::kNoSuchPd &&
                         !waited && waited.error().status == service::StatusCode::kNoSuchPd;
    return refused ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv, char** /*envp*/) {
    const StringView what = argc >= 2 ? StringView(argv[1]) : StringView("");
    if (what == "exit" || what == "crash") {
        return family(what);
    }
    if (what == "hold" || what == "leaf") {
        return hold(what == "leaf");
    }
    if (what == "rogue" && argc >= 3) {
        return rogue(StringView(argv[2]));
    }
    println("family: usage: family exit | crash | hold | leaf | rogue ID");
    return 1;
}
