// Boot benchmark payload: reports guest instructions from reset to the boot banner. Run under
// QEMU -icount shift=0, where one instruction is one virtual nanosecond: the PMU counts
// retired instructions exactly from the kernel's first instruction, and the generic counter
// (62.5 MHz on QEMU, so 16 ns per count) measures from reset with a resolution of 16.
#include "arch/timer.hpp"
#include "core/boot_state.hpp"
#include "core/console.hpp"
#include "core/panic.hpp"

namespace tessera {

void run_boot_payload(BootState& state) {
    uint64_t frequency = arch::counter_frequency();
    uint64_t ns_per_count = frequency != 0 ? 1'000'000'000 / frequency : 0;
    kprintln("");
    kprintln("Benchmark: boot (guest instructions under -icount shift=0)");
    kprintln("| measurement                               | instructions |");
    kprintln("|-------------------------------------------|--------------|");
    kprintln("| kernel entry to banner (PMU, exact)       | {:12} |", state.instructions_to_banner);
    kprintln("| reset to banner (CNTVCT x {} ns, +-{})    | {:12} |", ns_per_count, ns_per_count,
             state.counter_at_banner * ns_per_count);
    system_halt(state.instructions_to_banner != 0 ? 0 : 1);
}

}  // namespace tessera
