// Start of a protection domain created at run time: crt0 passes the startup record's address;
// check it, remember the parent endpoint, give the C library the heap region, and run
// main(argc, argv, envp) like any C program. Returning from main is exit(status): atexit
// handlers run, output is flushed and the parent sees the status.
#include <stdlib.h>

#include "abi/process.hpp"
#include "abi/startup.hpp"
#include "tessera/debug_print.hpp"
#include "tessera/heap.hpp"
#include "tessera/process.hpp"
#include "tessera/startup.hpp"

extern "C" int main(int argc, char** argv, char** envp);

extern "C" void tessera_start(uint64_t record_address, uint64_t /*unused*/) {
    tessera::set_console_capability(tessera::abi::CapPtr(tessera::abi::kPdSlotConsole));
    tessera::set_debug_capability(tessera::abi::CapPtr(tessera::abi::kPdSlotDebug));
    const auto* record = reinterpret_cast<const tessera::abi::StartupRecord*>(record_address);
    if (record == nullptr || record->magic != tessera::abi::kStartupMagic ||
        record->version != tessera::abi::kStartupVersion) {
        // Without a record there is no parent to report to: fault, so whoever handles this PD's
        // faults (or the kernel) sees it.
        tessera::println("pd: no valid startup record at {:#x}", record_address);
        __builtin_trap();
    }
    tessera::set_startup_record(record);
    tessera::set_parent_endpoint(record->parent_endpoint);
    tessera::set_heap_region(record->heap_base, record->heap_size);
    exit(main(static_cast<int>(record->argc), reinterpret_cast<char**>(record->argv),
              reinterpret_cast<char**>(record->envp)));
}
