// stdin, stdout and stderr of the C library (see tessera/console_stream.hpp): a picolibc
// tinystdio stream set up at compile time, so nothing has to run before the first printf.
#include <stdio.h>

#include "tessera/console_stream.hpp"
#include "tessera/debug_print.hpp"
#include "tessera/invocation.hpp"

namespace tessera {
namespace {

char g_line[kConsoleLineBuffer];
size_t g_used = 0;

int console_put(char c, FILE* /*stream*/) {
    g_line[g_used++] = c;
    if (c == '\n' || g_used == kConsoleLineBuffer) {
        flush_console_stream();
    }
    return static_cast<unsigned char>(c);
}

int console_flush(FILE* /*stream*/) {
    flush_console_stream();
    return 0;
}

constinit FILE g_console =
    FDEV_SETUP_STREAM(console_put, nullptr, console_flush, _FDEV_SETUP_WRITE);

}  // namespace

void flush_console_stream() {
    const char* chars = g_line;
    size_t count = g_used;
    g_used = 0;
    while (count > 0) {
        uint64_t written = console_write(console_capability(), chars, count);
        if (written == 0) {
            return;  // the kernel took nothing: drop the rest rather than spin
        }
        chars += written;
        count -= written;
    }
}

}  // namespace tessera

constinit FILE* const stdin = &tessera::g_console;
constinit FILE* const stdout = &tessera::g_console;
constinit FILE* const stderr = &tessera::g_console;
