// The freestanding memcpy, memmove, memset and memcmp, compiled under other names for the host:
// every length up to a few blocks at every alignment of source and destination, against a
// byte-by-byte model, with guard bytes around the destination.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#define TESSERA_MEMORY_FUNCTION(name) tessera_test_##name
// The functions under test, renamed (a .cpp on purpose).
// NOLINTNEXTLINE(bugprone-suspicious-include)
#include "memory_functions.cpp"

namespace {

constexpr size_t kMaxLength = 300;  // past four 64-byte blocks plus every tail
constexpr size_t kAlignments = 16;
constexpr size_t kGuard = 32;
constexpr unsigned char kGuardByte = 0xa5;

std::vector<unsigned char> pattern(size_t n, unsigned seed) {
    std::vector<unsigned char> v(n);
    for (size_t i = 0; i < n; ++i) {
        v[i] = static_cast<unsigned char>((i * 131 + uint64_t{seed} * 7 + 1) & 0xff);
    }
    return v;
}

TEST(MemoryFunctions, CopyEveryLengthAndAlignment) {
    const std::vector<unsigned char> source = pattern(kMaxLength + kAlignments, 3);
    for (size_t length = 0; length <= kMaxLength; ++length) {
        for (size_t from = 0; from < kAlignments; ++from) {
            for (size_t to = 0; to < kAlignments; ++to) {
                std::vector<unsigned char> dest(kGuard + to + length + kGuard, kGuardByte);
                void* r =
                    tessera_test_memcpy(dest.data() + kGuard + to, source.data() + from, length);
                ASSERT_EQ(r, dest.data() + kGuard + to);
                for (size_t i = 0; i < dest.size(); ++i) {
                    bool inside = i >= kGuard + to && i < kGuard + to + length;
                    unsigned char want = inside ? source[from + i - kGuard - to] : kGuardByte;
                    ASSERT_EQ(dest[i], want)
                        << "length " << length << " from " << from << " to " << to << " byte " << i;
                }
            }
        }
    }
}

TEST(MemoryFunctions, SetEveryLengthAndAlignment) {
    for (size_t length = 0; length <= kMaxLength; ++length) {
        for (size_t to = 0; to < kAlignments; ++to) {
            std::vector<unsigned char> dest(kGuard + to + length + kGuard, kGuardByte);
            void* r = tessera_test_memset(dest.data() + kGuard + to, 0x1c3, length);
            ASSERT_EQ(r, dest.data() + kGuard + to);
            for (size_t i = 0; i < dest.size(); ++i) {
                bool inside = i >= kGuard + to && i < kGuard + to + length;
                ASSERT_EQ(dest[i], inside ? 0xc3 : kGuardByte) << length << " " << to << " " << i;
            }
        }
    }
}

TEST(MemoryFunctions, MoveOverlappingBothWays) {
    for (size_t length = 0; length <= 100; ++length) {
        for (size_t shift = 0; shift < 20; ++shift) {
            std::vector<unsigned char> up = pattern(length + shift, 5);
            std::vector<unsigned char> down = up;
            std::vector<unsigned char> want_up = up;
            std::vector<unsigned char> want_down = up;
            for (size_t i = length; i-- > 0;) {
                want_up[i + shift] = up[i];
            }
            for (size_t i = 0; i < length; ++i) {
                want_down[i] = down[i + shift];
            }
            tessera_test_memmove(up.data() + shift, up.data(), length);
            tessera_test_memmove(down.data(), down.data() + shift, length);
            ASSERT_EQ(up, want_up) << length << " " << shift;
            ASSERT_EQ(down, want_down) << length << " " << shift;
        }
    }
}

TEST(MemoryFunctions, CompareOrdersByFirstDifferentByteUnsigned) {
    const unsigned char a[] = {1, 2, 3, 0x80};
    const unsigned char b[] = {1, 2, 3, 0x7f};
    EXPECT_EQ(tessera_test_memcmp(a, a, sizeof a), 0);
    EXPECT_EQ(tessera_test_memcmp(a, b, 3), 0);
    EXPECT_GT(tessera_test_memcmp(a, b, 4), 0);  // 0x80 is above 0x7f as unsigned char
    EXPECT_LT(tessera_test_memcmp(b, a, 4), 0);
    EXPECT_EQ(tessera_test_memcmp(a, b, 0), 0);
}

}  // namespace
