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

// Provided by the program: its entry point after crt0.
extern "C" void tessera_start(uint64_t argument);
// Ends the program's thread: the root task halts the system with the given status.
extern "C" [[noreturn]] void tessera_exit();
