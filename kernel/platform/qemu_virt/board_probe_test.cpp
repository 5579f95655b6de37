// Host tests of the board probe against device trees dumped from QEMU itself at build time
// (tools/make-test-dtbs), so the probe is checked on exactly what the kernel will be given.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "platform/board.hpp"

namespace tessera::platform {
namespace {

std::vector<uint8_t> load(const std::string& name) {
    std::ifstream in(std::string(TESSERA_TEST_DTB_DIR) + "/" + name, std::ios::binary);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

Result<BoardInfo, ProbeError> probe(const std::vector<uint8_t>& blob) {
    auto tree = fdt::DeviceTree::parse(std::span<const uint8_t>(blob.data(), blob.size()));
    EXPECT_TRUE(tree.ok());
    return probe_board(tree.value());
}

TEST(BoardProbe, QemuVirt128MiB) {
    auto blob = load("virt-a53-128m.dtb");
    ASSERT_FALSE(blob.empty());
    auto info = probe(blob);
    ASSERT_TRUE(info.ok()) << to_string(info.error());
    const BoardInfo& b = info.value();
    ASSERT_EQ(b.ram.count(), 1u);
    EXPECT_EQ(b.ram[0], (Range{0x4000'0000, 0x4800'0000}));
    EXPECT_EQ(b.uart.base, PhysAddr(0x0900'0000));
    EXPECT_EQ(b.uart.size, 0x1000u);
    EXPECT_EQ(b.uart_irq, 33u);
    EXPECT_EQ(b.gic_distributor.base, PhysAddr(0x0800'0000));
    EXPECT_EQ(b.gic_cpu_interface.base, PhysAddr(0x0801'0000));
    EXPECT_EQ(b.timer_irq_virtual, 27u);
    EXPECT_EQ(b.timer_irq_physical, 30u);
    EXPECT_EQ(b.reservation_count, 0u);
    EXPECT_FALSE(b.initrd.has_value());
}

TEST(BoardProbe, QemuVirt2GiBWithVirtualization) {
    auto blob = load("virt-a72-2g-el2.dtb");
    ASSERT_FALSE(blob.empty());
    auto info = probe(blob);
    ASSERT_TRUE(info.ok()) << to_string(info.error());
    EXPECT_EQ(info.value().ram.total(), uint64_t{2} << 30);
    EXPECT_EQ(info.value().gic_cpu_interface.base, PhysAddr(0x0801'0000));
}

TEST(BoardProbe, BootArgumentsAndInitrd) {
    auto blob = load("virt-bootargs-initrd.dtb");
    ASSERT_FALSE(blob.empty());
    auto info = probe(blob);
    ASSERT_TRUE(info.ok()) << to_string(info.error());
    StringView args = info.value().bootargs;
    EXPECT_EQ(std::string(args.data(), args.size()), "tick_hz=100 test=boot.");
    ASSERT_TRUE(info.value().initrd.has_value());
    EXPECT_GT(info.value().initrd->size, 0u);
}

TEST(BoardProbe, ErrorsNameTheMissingPiece) {
    EXPECT_STREQ(to_string(ProbeError::kNoUart), "no PL011 UART");
    EXPECT_STREQ(to_string(ProbeError::kNoTimer), "no arm,armv8-timer node");
}

}  // namespace
}  // namespace tessera::platform
