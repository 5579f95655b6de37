// Boot payload of the self-test image: runs every registered case (or those whose
// "suite.name" starts with the test= boot argument), prints one line each and the summary the
// runner checks, then exits QEMU through semihosting with status 0 only if all passed.
// With the boot argument selftest.panic it instead faults on purpose to exercise the panic path.
#include "core/boot_state.hpp"
#include "core/console.hpp"
#include "core/panic.hpp"
#include "selftest.hpp"

extern "C" {
extern const tessera::test::TestCase __start_selftests[];
extern const tessera::test::TestCase __stop_selftests[];
}

namespace tessera {
namespace {

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
    test::TestSummary s =
        test::run_test_cases(__start_selftests, __stop_selftests, filter, console::sink());
    system_halt(s.failed == 0 && s.passed > 0 ? 0 : 1);
}

}  // namespace tessera
