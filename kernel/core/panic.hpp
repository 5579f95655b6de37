// Kernel panics: for kernel bugs and unrecoverable boot failures only, never for user mistakes.
// A panic prints its message and a symbolised backtrace, then halts the system.
#pragma once

#include "base/format.hpp"
#include "core/console.hpp"

namespace tessera {

// Prints the panic banner line ("*** KERNEL PANIC: ") with the message; used by panic() and
// by the exception path, which adds its own register dump before halting.
void panic_begin();
// frame_pointer starts the backtrace; first_is_exact says its first pc is a faulting
// instruction (an exception frame record) rather than a return address.
[[noreturn]] void panic_end(uint64_t frame_pointer, bool first_is_exact = false);

template <typename... Args>
[[noreturn]] void panic(StringView fmt, const Args&... args) {
    panic_begin();
    kprintln(fmt, args...);
    panic_end(reinterpret_cast<uint64_t>(__builtin_frame_address(0)));
}

// Halts the machine with an exit status: through semihosting when the boot arguments ask for
// it (test and benchmark runs), otherwise by idling forever so a person can read the console.
[[noreturn]] void system_halt(int status);
void set_halt_via_semihosting(bool enabled);

// Prints "  #n  0xaddr  symbol+0xoff" lines for the frame-pointer chain starting at fp.
void print_backtrace(uint64_t frame_pointer, bool first_is_exact = false);

}  // namespace tessera
