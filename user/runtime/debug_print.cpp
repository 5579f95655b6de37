// User-side console output and the assertion hook for lib/ code in user programs.
#include "tessera/debug_print.hpp"

#include "base/assert.hpp"
#include "tessera/syscall.hpp"

namespace tessera {
namespace {

void put(void* /*context*/, const char* chars, size_t count) {
    for (size_t i = 0; i < count; ++i) {
        sys::debug_put_char(chars[i]);
    }
}

}  // namespace

FormatSink debug_sink() {
    return FormatSink{&put, nullptr};
}

}  // namespace tessera

extern "C" void tessera_assert_failed(const char* expr, const char* file, int line) {
    tessera::println("assertion failed: {} ({}:{})", expr, file, line);
    tessera::sys::debug_halt(4);
}
