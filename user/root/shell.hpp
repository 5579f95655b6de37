// The interactive shell of the root task: reads lines from the serial console (a PL011 the root
// task maps itself, with its receive interrupt routed to a notification) and asks the image
// store and the controller, over IPC, to list images and to run, list, exec and kill PDs.
#pragma once

#include <cstdint>

#include "abi/bootinfo.hpp"
#include "abi/capability_pointer.hpp"
#include "alloc/slot_allocator.hpp"

namespace tessera {

struct ShellEnvironment {
    const abi::BootInfo* info = nullptr;
    SlotAllocator* slots = nullptr;  // the root CNode's
    uint64_t endpoint = 0;  // root slot: console input and the services' reports arrive here
    uint64_t store = 0;     // root slots of client capabilities to the services
    uint64_t controller = 0;
    abi::CapPtr pool;  // the root's memory pool (for mem)
    unsigned pool_bits = 0;
    // The system's own PDs (the image store and the controller), which ps lists as such: they
    // are the root task's, not the controller's, so no shell command can end them.
    struct SystemPd {
        const char* name = nullptr;
        uint64_t bytes = 0;
        uint64_t priority = 0;
    };
    SystemPd system[2];
};

// Never returns.
[[noreturn]] void run_shell(ShellEnvironment& env);

}  // namespace tessera
