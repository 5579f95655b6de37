// Host tests of UserAddress: the only way a user-supplied address reaches kernel state.
#include "core/user_address.hpp"

#include <gtest/gtest.h>

namespace tessera {
namespace {

TEST(UserAddress, AcceptsAlignedUserRanges) {
    auto a = UserAddress::make(0x40'0000, 4096, 4096, 0);
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(a.value().value(), 0x40'0000u);
    EXPECT_TRUE(UserAddress::make(abi::kUserAddressLimit - 4096, 4096, 4096, 0).ok());
}

TEST(UserAddress, RefusesNullKernelHalfWrappingAndMisaligned) {
    EXPECT_EQ(UserAddress::make(0, 4096, 4096, 2).error().code, abi::Error::kInvalidArgument);
    EXPECT_EQ(UserAddress::make(0, 4096, 4096, 2).error().detail[0], 2u);
    EXPECT_EQ(UserAddress::make(0xffff'0000'0000'0000, 4096, 4096, 0).error().code,
              abi::Error::kInvalidArgument);
    EXPECT_EQ(UserAddress::make(abi::kUserAddressLimit, 4096, 4096, 0).error().code,
              abi::Error::kInvalidArgument);
    // Straddling the end of the user half.
    EXPECT_EQ(UserAddress::make(abi::kUserAddressLimit - 4096, 4096, 8192, 0).error().code,
              abi::Error::kInvalidArgument);
    // Wrapping.
    EXPECT_EQ(UserAddress::make(0x1000, 4096, ~uint64_t{0}, 0).error().code,
              abi::Error::kInvalidArgument);
    EXPECT_EQ(UserAddress::make(0x1008, 4096, 8, 1).error().code, abi::Error::kAlignmentError);
    EXPECT_EQ(UserAddress::make(0x1008, 4096, 8, 1).error().detail[0], 1u);
    EXPECT_EQ(UserAddress::make(0x1000, 3, 8, 1).error().code, abi::Error::kAlignmentError);
}

}  // namespace
}  // namespace tessera
