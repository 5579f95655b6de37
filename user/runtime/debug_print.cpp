// User-side console output and the assertion hook for lib/ code in user programs.
#include "tessera/debug_print.hpp"

#include "base/assert.hpp"
#include "tessera/syscall.hpp"

namespace tessera {
namespace {

void put(void* /*context*/, const char* chars, size_t count) {
    while (count > 0) {
        uint64_t written = sys::debug_write(chars, count);
        if (written == 0) {
            return;  // the kernel took nothing: do not spin
        }
        chars += written;
        count -= written;
    }
}

}  // namespace

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

extern "C" void tessera_assert_failed(const char* expr, const char* file, int line) {
    tessera::println("assertion failed: {} ({}:{})", expr, file, line);
    tessera::sys::debug_halt(4);
}
