// Creating the root task at boot: its CNode, TCB, VSpace, image, stack, IPC buffer and boot-info
// page, the initial capabilities, and untyped capabilities for all remaining memory.
#pragma once

#include <cstdint>

#include "core/boot_state.hpp"
#include "core/root_image.hpp"

namespace tessera {

// Builds the root task from image and makes it runnable. Boot failures here are kernel or
// build bugs (the image is part of the kernel), so they panic with a message.
void create_root_task(BootState& state, const RootImageHeader& image, const char* name);

}  // namespace tessera
