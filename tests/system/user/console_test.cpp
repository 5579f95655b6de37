// DebugWrite: characters travel in registers, at most 48 per call, and each call reaches the
// console as one piece (the runner checks the lines these cases print).
#include "tessera/debug_print.hpp"
#include "tessera/syscall.hpp"
#include "user_test.hpp"

namespace tessera::test {
namespace {

USER_TEST(console, debug_write_reports_what_it_wrote) {
    const char line[] = "debug-write: one piece\n";
    CHECK_EQ(sys::debug_write(line, sizeof(line) - 1), uint64_t{sizeof(line) - 1});
    CHECK_EQ(sys::debug_write(line, 0), uint64_t{0});
}

USER_TEST(console, debug_write_takes_at_most_48_characters) {
    const char text[] = "debug-write: 48 characters fit in one system ca|ll, the rest waits\n";
    uint64_t first = sys::debug_write(text, sizeof(text) - 1);
    CHECK_EQ(first, uint64_t{abi::kDebugWriteMax});
    CHECK_EQ(sys::debug_write(text + first, sizeof(text) - 1 - first), sizeof(text) - 1 - first);
}

USER_TEST(console, println_is_line_buffered) {
    // Longer than one piece: the buffer must split it without losing or reordering characters
    // (the runner matches the whole line in the output).
    println("println: {} {} {}", "a line longer than forty-eight characters,", 12345,
            "still whole");
}

}  // namespace
}  // namespace tessera::test
