// Boot payload of images that carry a root task (tools/mkrootimage): build it and start
// scheduling. From here on the kernel only runs on behalf of user threads and interrupts.
#include "core/boot_state.hpp"
#include "core/root_image.hpp"
#include "core/root_task.hpp"
#include "core/thread_switch.hpp"

extern "C" {
extern const tessera::RootImageHeader __root_task_image;
extern const char __root_task_name[];
}

namespace tessera {

void run_boot_payload(BootState& state) {
    create_root_task(state, __root_task_image, __root_task_name);
    schedule_and_run();
}

}  // namespace tessera
