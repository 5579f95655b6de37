// Boot payload of the self-test image: runs every registered case (or those whose
// "suite.name" starts with the test= boot argument), prints one line each and the summary the
// runner checks, then exits QEMU through semihosting with status 0 only if all passed.
// With the boot argument selftest.panic it instead faults on purpose to exercise the panic path.
#include "core/boot_state.hpp"
#include "core/console.hpp"
#include "core/panic.hpp"
#include "selftest.hpp"

extern "C" {
extern const tessera::test::SelfTestCase __start_selftests[];
extern const tessera::test::SelfTestCase __stop_selftests[];
}

namespace tessera {
namespace {

bool matches(const test::SelfTestCase& c, StringView filter) {
    char full[128];
    BufferWriter writer(full, sizeof(full));
    writer.print("{}.{}", c.suite, c.name);
    return writer.view().starts_with(filter);
}

// Named so the panic report's backtrace can be checked for it.
[[gnu::noinline]] void selftest_deliberate_fault() {
    auto* bad = reinterpret_cast<volatile uint64_t*>(0xffff'7fff'dead'0000);
    *bad = 0x5e1f7e57;
}

}  // namespace

void run_boot_payload(BootState& state) {
    if (state.command_line.has("selftest.panic")) {
        kprintln("selftest: faulting on purpose");
        selftest_deliberate_fault();
        panic("deliberate fault did not fault");
    }
    StringView filter = state.command_line.get("test").value_or("");
    unsigned passed = 0;
    unsigned failed = 0;
    for (const test::SelfTestCase* c = __start_selftests; c < __stop_selftests; ++c) {
        if (!matches(*c, filter)) {
            continue;
        }
        test::TestContext context;
        c->run(context);
        if (context.failed()) {
            kprintln("FAIL {}.{}: {}", c->suite, c->name, context.reason());
            ++failed;
        } else {
            kprintln("PASS {}.{}", c->suite, c->name);
            ++passed;
        }
    }
    kprintln("{} passed, {} failed", passed, failed);
    system_halt(failed == 0 && passed > 0 ? 0 : 1);
}

}  // namespace tessera
