// The console capability: ConsoleWrite takes up to abi::kConsoleWriteMax characters per call and
// each call reaches the console as one piece, control characters shown escaped (the runner
// checks the lines these cases print); without the capability nothing is written.
#include "tessera/debug_print.hpp"
#include "tessera/syscall.hpp"
#include "user_test.hpp"

namespace tessera::test {
namespace {

constexpr abi::CapPtr kConsole{abi::kSlotConsole};

USER_TEST(console, write_reports_what_it_wrote) {
    const char line[] = "console-write: one piece\n";
    CHECK_EQ(console_write(kConsole, line, sizeof(line) - 1), uint64_t{sizeof(line) - 1});
    CHECK_EQ(console_write(kConsole, line, 0), uint64_t{0});
}

USER_TEST(console, write_takes_at_most_its_maximum) {
    static char text[abi::kConsoleWriteMax + 40];
    const char head[] = "console-write: a long line, ";
    for (size_t i = 0; i < sizeof(text); ++i) {
        text[i] = i < sizeof(head) - 1 ? head[i] : static_cast<char>('a' + i % 26);
    }
    text[abi::kConsoleWriteMax - 1] = '|';
    text[sizeof(text) - 1] = '\n';
    uint64_t first = console_write(kConsole, text, sizeof(text));
    CHECK_EQ(first, abi::kConsoleWriteMax);
    CHECK_EQ(console_write(kConsole, text + first, sizeof(text) - first), sizeof(text) - first);
}

USER_TEST(console, control_characters_are_shown_escaped) {
    const char line[] = "console-write: bell \a, clear screen \x1b[2J, end\n";
    CHECK_EQ(console_write(kConsole, line, sizeof(line) - 1), uint64_t{sizeof(line) - 1});
}

USER_TEST(console, writing_needs_the_console_capability) {
    const char line[] = "console-write: this must not appear\n";
    CHECK_EQ(console_write(abi::CapPtr(new_slot()), line, sizeof(line) - 1), uint64_t{0});
    CHECK_EQ(console_write(kDebugCap, line, sizeof(line) - 1), uint64_t{0});
}

USER_TEST(console, println_is_line_buffered) {
    // Longer than a DebugWrite piece once was: the buffer must keep it whole (the runner
    // matches the whole line in the output).
    println("println: {} {} {}", "a line longer than forty-eight characters,", 12345,
            "still whole");
}

}  // namespace
}  // namespace tessera::test
