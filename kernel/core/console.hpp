// Kernel console: formatted output to whichever UART driver registered itself.
// Safe to call at any point after boot.S, including from exception handlers and panics.
#pragma once

#include <cstddef>

#include "base/format.hpp"

namespace tessera::console {

using WriteFn = void (*)(const char* chars, size_t count);

// Routes console output; until called, output is dropped.
void set_output(WriteFn write);
void write(const char* chars, size_t count);

FormatSink sink();

}  // namespace tessera::console

namespace tessera {

template <typename... Args>
void kprint(StringView fmt, const Args&... args) {
    format_to(console::sink(), fmt, args...);
}

template <typename... Args>
void kprintln(StringView fmt, const Args&... args) {
    format_to(console::sink(), fmt, args...);
    console::write("\n", 1);
}

}  // namespace tessera
