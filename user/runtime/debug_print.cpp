// User-side console output and the assertion hook for lib/ code in user programs.
#include "tessera/debug_print.hpp"

#include "abi/bootinfo.hpp"
#include "base/assert.hpp"
#include "tessera/invocation.hpp"
#include "tessera/runtime.h"

namespace tessera {
namespace {

// A root task's slots until a PD's start-up says otherwise.
constinit abi::CapPtr g_console{abi::kSlotConsole};
constinit abi::CapPtr g_debug{abi::kSlotDebug};

void put(void* /*context*/, const char* chars, size_t count) {
    while (count > 0) {
        uint64_t written = console_write(g_console, chars, count);
        if (written == 0) {
            return;  // the kernel took nothing: do not spin
        }
        chars += written;
        count -= written;
    }
}

}  // namespace

void set_console_capability(abi::CapPtr console) {
    g_console = console;
}
abi::CapPtr console_capability() {
    return g_console;
}
void set_debug_capability(abi::CapPtr debug) {
    g_debug = debug;
}
abi::CapPtr debug_capability() {
    return g_debug;
}

FormatSink debug_sink() {
    return FormatSink{&put, nullptr};
}

void ConsoleBuffer::append(void* context, const char* chars, size_t count) {
    auto* self = static_cast<ConsoleBuffer*>(context);
    for (size_t i = 0; i < count; ++i) {
        if (self->used_ == sizeof(self->text_)) {
            self->flush();
        }
        self->text_[self->used_++] = chars[i];
    }
}

void ConsoleBuffer::flush() {
    put(nullptr, text_, used_);
    used_ = 0;
}

}  // namespace tessera

// A failed assertion ends this program only: a PD reports status 4 to its parent, a root task
// halts the system with it.
extern "C" void tessera_assert_failed(const char* expr, const char* file, int line) {
    tessera::println("assertion failed: {} ({}:{})", expr, file, line);
    tessera_exit(4);
}
