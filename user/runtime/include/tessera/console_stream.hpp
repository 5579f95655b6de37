// The C library's standard streams on the kernel console (user/runtime/libc_console.cpp):
// stdin, stdout and stderr are one write-only stream whose text collects in a line buffer and
// goes to the console through ConsoleWrite on a newline, when the buffer is full, on fflush and
// at exit. One buffer for the whole program: threads printing at once may mix their text.
#pragma once

#include <cstddef>

namespace tessera {

// Bytes of the line buffer: a longer line goes out in pieces of this size.
constexpr size_t kConsoleLineBuffer = 256;

// Writes out whatever the line buffer holds (exit calls it).
void flush_console_stream();

}  // namespace tessera
