// The interactive shell of the root task: reads lines from the serial console (a PL011 the root
// task maps itself, with its receive interrupt routed to a notification) and runs, lists, execs
// and kills protection domains loaded from the image archive.
#pragma once

#include <cstdint>

#include "abi/bootinfo.hpp"
#include "cpio/cpio_reader.hpp"
#include "tessera/pd_loader.hpp"

namespace tessera {

struct ShellEnvironment {
    const abi::BootInfo* info = nullptr;
    LoaderEnvironment* loader = nullptr;
    const cpio::Archive* archive = nullptr;
    uint64_t endpoint = 0;  // root slot: PDs call and fault here
    abi::CapPtr pool;       // the memory pool PDs are carved from
    unsigned pool_bits = 0;
};

// Never returns.
[[noreturn]] void run_shell(ShellEnvironment& env);

}  // namespace tessera
