// Formatted output to the kernel console for user programs (through the DebugPutChar system
// call), using the same formatter as the kernel.
#pragma once

#include "base/format.hpp"

namespace tessera {

FormatSink debug_sink();

template <typename... Args>
void print(StringView fmt, const Args&... args) {
    format_to(debug_sink(), fmt, args...);
}

template <typename... Args>
void println(StringView fmt, const Args&... args) {
    format_to(debug_sink(), fmt, args...);
    format_to(debug_sink(), "\n");
}

}  // namespace tessera

// Each program defines its entry point after crt0: extern "C" void tessera_start(uint64_t x0,
// uint64_t x1), receiving the two start-up registers (see abi/bootinfo.hpp, abi/process.hpp).
// Called by crt0 if tessera_start returns. The root task's version halts the system; a
// dynamic PD's tells its parent it has exited (user/runtime/pd_exit.cpp).
extern "C" [[noreturn]] void tessera_exit();
