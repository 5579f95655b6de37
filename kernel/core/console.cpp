// Kernel console routing. One output function pointer; no locking is needed while the kernel
// runs on one CPU with interrupts masked around multi-part messages that must not interleave.
#include "core/console.hpp"

namespace tessera::console {
namespace {

WriteFn g_write = nullptr;

void sink_put(void* /*context*/, const char* chars, size_t count) {
    write(chars, count);
}

}  // namespace

void set_output(WriteFn write_fn) {
    g_write = write_fn;
}

void write(const char* chars, size_t count) {
    if (g_write != nullptr) {
        g_write(chars, count);
    }
}

FormatSink sink() {
    return FormatSink{&sink_put, nullptr};
}

}  // namespace tessera::console
