// Host tests of the one fault-message decoder (abi/fault.hpp): each kind's words land in the
// fields every reporter prints, and a short or unknown message decodes to zeros, not garbage.
#include "abi/fault.hpp"

#include <gtest/gtest.h>

namespace tessera::abi {
namespace {

TEST(FaultMessage, VmFaultWords) {
    const uint64_t words[] = {0x3ffe'dff8, 0x40'6440, 1, 0x0f, 0x9200'004f};
    FaultMessage f = decode_fault(uint64_t(FaultType::kVmFault), words, 5);
    EXPECT_EQ(f.type, FaultType::kVmFault);
    EXPECT_EQ(f.address, 0x3ffe'dff8u);
    EXPECT_EQ(f.pc, 0x40'6440u);
    EXPECT_EQ(f.access, FaultAccess::kWrite);
    EXPECT_EQ(f.syndrome, 0x9200'004fu);
    EXPECT_STREQ(fault_kind(f), "write");
}

TEST(FaultMessage, UserExceptionKeepsPcAndSpApart) {
    // The old reporters printed the pc as the address and the sp as the pc.
    const uint64_t words[] = {0x40'1000, 0x3fff'e000, 0x0200'0000, 0};
    FaultMessage f = decode_fault(uint64_t(FaultType::kUserException), words, 4);
    EXPECT_EQ(f.pc, 0x40'1000u);
    EXPECT_EQ(f.sp, 0x3fff'e000u);
    EXPECT_EQ(f.address, 0u);
    EXPECT_EQ(f.syndrome, 0x0200'0000u);
    EXPECT_STREQ(fault_kind(f), "exception");
}

TEST(FaultMessage, UnknownSyscallCarriesNumberAndImmediate) {
    const uint64_t words[] = {64, 0x40'2004, 0x3fff'd000, 7, 0};
    FaultMessage f = decode_fault(uint64_t(FaultType::kUnknownSyscall), words, 5);
    EXPECT_EQ(f.number, 64u);
    EXPECT_EQ(f.pc, 0x40'2004u);
    EXPECT_EQ(f.sp, 0x3fff'd000u);
    EXPECT_EQ(f.immediate, 0u);
    EXPECT_STREQ(fault_kind(f), "unknown system call");
}

TEST(FaultMessage, ShortAndUnknownMessages) {
    const uint64_t words[] = {0x1234, 0x5678, 9};
    FaultMessage f = decode_fault(uint64_t(FaultType::kVmFault), words, 2);
    EXPECT_EQ(f.address, 0x1234u);
    EXPECT_EQ(f.access, FaultAccess::kRead);  // word 2 missing
    FaultMessage g = decode_fault(uint64_t(FaultType::kVmFault), words, 3);
    EXPECT_EQ(g.access, FaultAccess::kRead);  // 9 is no access: read, never out of range
    FaultMessage n = decode_fault(0x4e110, words, 3);
    EXPECT_EQ(n.type, FaultType::kNone);
    EXPECT_STREQ(fault_kind(n), "fault");
}

}  // namespace
}  // namespace tessera::abi
