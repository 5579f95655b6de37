// Boot payload of the interactive image (`make run`): until the root task exists, the kernel
// reports that it is up and idles, waking on each tick.
#include "arch/cpu.hpp"
#include "core/boot_state.hpp"
#include "core/clock.hpp"
#include "core/console.hpp"

namespace tessera {

void run_boot_payload(const BootState& /*state*/) {
    kprintln("Tessera is up; no root task is configured in this image, so the CPU idles.");
    kprintln("(QEMU: press Ctrl-A then X to quit.)");
    for (;;) {
        arch::wait_for_interrupt();
    }
}

}  // namespace tessera
