// Host tests of CommandLine parsing and of parse_u64.
#include "base/command_line.hpp"

#include <gtest/gtest.h>

#include <string>

namespace tessera {
namespace {

std::string str(StringView v) {
    return std::string(v.data(), v.size());
}

TEST(CommandLine, KeysValuesAndFlags) {
    CommandLine c("  exit=semihosting   tick_hz=1000 verbose test=boot. tick_hz=0x10 ");
    EXPECT_EQ(str(*c.get("exit")), "semihosting");
    EXPECT_TRUE(c.has("verbose"));
    EXPECT_EQ(c.get("verbose")->size(), 0u);
    EXPECT_EQ(str(*c.get("test")), "boot.");
    EXPECT_EQ(*c.get_u64("tick_hz"), 16u);  // last one wins
    EXPECT_FALSE(c.has("exi"));
    EXPECT_FALSE(c.has("semihosting"));
    EXPECT_FALSE(c.get_u64("exit").has_value());
}

TEST(CommandLine, Empty) {
    CommandLine c;
    EXPECT_FALSE(c.has(""));
    EXPECT_FALSE(c.has("x"));
}

TEST(ParseU64, DecimalHexAndErrors) {
    uint64_t v = 0;
    EXPECT_TRUE(parse_u64("0", v));
    EXPECT_EQ(v, 0u);
    EXPECT_TRUE(parse_u64("18446744073709551615", v));
    EXPECT_EQ(v, UINT64_MAX);
    EXPECT_FALSE(parse_u64("18446744073709551616", v));
    EXPECT_TRUE(parse_u64("0xFFffFFffFFffFFff", v));
    EXPECT_EQ(v, UINT64_MAX);
    EXPECT_FALSE(parse_u64("0x1ffffffffffffffff", v));
    EXPECT_FALSE(parse_u64("", v));
    EXPECT_FALSE(parse_u64("12a", v));
    EXPECT_FALSE(parse_u64("0x", v));
    EXPECT_FALSE(parse_u64("-1", v));
}

}  // namespace
}  // namespace tessera
