// Host tests of the freestanding formatter: every spec, argument kind, and malformed input.
#include "base/format.hpp"

#include <gtest/gtest.h>

#include <string>

namespace tessera {
namespace {

template <typename... Args>
std::string fmt(StringView f, const Args&... args) {
    char buffer[256];
    BufferWriter w(buffer, sizeof(buffer));
    w.print(f, args...);
    return std::string(w.view().data(), w.view().size());
}

TEST(Format, Integers) {
    EXPECT_EQ(fmt("{}", 0u), "0");
    EXPECT_EQ(fmt("{}", 42), "42");
    EXPECT_EQ(fmt("{}", -42), "-42");
    EXPECT_EQ(fmt("{}", INT64_MIN), "-9223372036854775808");
    EXPECT_EQ(fmt("{}", UINT64_MAX), "18446744073709551615");
    EXPECT_EQ(fmt("{:x}", 0xbeefu), "beef");
    EXPECT_EQ(fmt("{:X}", 0xbeefu), "BEEF");
    EXPECT_EQ(fmt("{:#x}", 0xbeefu), "0xbeef");
    EXPECT_EQ(fmt("{:#010x}", 0xbeefu), "0x0000beef");
    EXPECT_EQ(fmt("{:b}", 5u), "101");
    EXPECT_EQ(fmt("{:#b}", 5u), "0b101");
    EXPECT_EQ(fmt("{:5}", 42), "   42");
    EXPECT_EQ(fmt("{:<5}|", 42), "42   |");
    EXPECT_EQ(fmt("{:05}", -42), "-0042");
}

TEST(Format, StringsCharsBools) {
    EXPECT_EQ(fmt("{} {}", "a", StringView("bc")), "a bc");
    EXPECT_EQ(fmt("[{:4}]", "ab"), "[  ab]");
    EXPECT_EQ(fmt("[{:<4}]", "ab"), "[ab  ]");
    EXPECT_EQ(fmt("{}", 'x'), "x");
    EXPECT_EQ(fmt("{}{}", true, false), "truefalse");
    EXPECT_EQ(fmt("{}", static_cast<const char*>(nullptr)), "(null)");
}

TEST(Format, AddressesDefaultToFullHex) {
    EXPECT_EQ(fmt("{}", PhysAddr(0x4000'0000)), "0x0000000040000000");
    EXPECT_EQ(fmt("{:#x}", VirtAddr(0x10)), "0x10");
}

TEST(Format, EscapesAndMalformedSpecs) {
    EXPECT_EQ(fmt("{{}}"), "{}");
    EXPECT_EQ(fmt("{} {}", 1), "1 {?}");
    EXPECT_EQ(fmt("{:q}", 1), "{:q}");      // unknown type printed literally
    EXPECT_EQ(fmt("{:99}", 1), "{:99}");    // width over the limit
    EXPECT_EQ(fmt("tail {", 1), "tail {");  // unterminated
    EXPECT_EQ(fmt("{}", 1, 2), "1");        // extra arguments ignored
}

TEST(Format, BufferTruncatesAndTerminates) {
    char buffer[6];
    BufferWriter w(buffer, sizeof(buffer));
    w.print("{}", "abcdefgh");
    EXPECT_TRUE(w.truncated());
    EXPECT_EQ(std::string(buffer), "abcde");
    BufferWriter empty(buffer, 0);
    empty.print("x");
    EXPECT_TRUE(empty.truncated());
}

}  // namespace
}  // namespace tessera
