// Host tests of Result, TRY and the checked arithmetic helpers.
#include "base/result.hpp"

#include <gtest/gtest.h>

#include "base/bits.hpp"

namespace tessera {
namespace {

enum class E { kBad, kWorse };

Result<int, E> half(int x) {
    if (x % 2 != 0) {
        return fail(E::kBad);
    }
    return x / 2;
}

Result<int, E> quarter(int x) {
    int h = TRY(half(x));
    return TRY(half(h));
}

Result<void, E> check_positive(int x) {
    if (x <= 0) {
        return fail(E::kWorse);
    }
    return {};
}

Result<int, E> positive_quarter(int x) {
    TRY(check_positive(x));
    return quarter(x).value_or(-1);
}

TEST(Result, ValueAndError) {
    auto r = half(4);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.value(), 2);
    auto e = half(3);
    ASSERT_FALSE(e.ok());
    EXPECT_EQ(e.error(), E::kBad);
    EXPECT_EQ(e.value_or(7), 7);
}

TEST(Result, TryPropagates) {
    EXPECT_EQ(quarter(8).value(), 2);
    EXPECT_EQ(quarter(6).error(), E::kBad);  // second step fails
    EXPECT_EQ(quarter(5).error(), E::kBad);  // first step fails
    EXPECT_EQ(positive_quarter(-4).error(), E::kWorse);
    EXPECT_EQ(positive_quarter(8).value(), 2);
}

TEST(Bits, AlignmentAndOverflow) {
    EXPECT_TRUE(is_power_of_two(4096));
    EXPECT_FALSE(is_power_of_two(0));
    EXPECT_FALSE(is_power_of_two(6));
    EXPECT_EQ(align_up(4097, 4096).value(), 8192u);
    EXPECT_EQ(align_up(4096, 4096).value(), 4096u);
    EXPECT_FALSE(align_up(UINT64_MAX - 10, 4096).has_value());
    EXPECT_EQ(align_down(8191, 4096), 4096u);
    EXPECT_FALSE(checked_add(UINT64_MAX, 1).has_value());
    EXPECT_EQ(checked_add(1, 2).value(), 3u);
    EXPECT_FALSE(checked_mul(uint64_t{1} << 32, uint64_t{1} << 32).has_value());
    EXPECT_EQ(bit_field(0x96000044, 26, 6), 0x25u);
    EXPECT_EQ(bit_field(~uint64_t{0}, 0, 64), ~uint64_t{0});
}

}  // namespace
}  // namespace tessera
