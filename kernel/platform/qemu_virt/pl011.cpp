// PL011 UART driver, polled. It leaves the baud rate as the firmware set it (QEMU ignores it)
// because the reference clock is not known here; it only enables the FIFOs, TX and RX.
#include "arch/registers.hpp"
#include "platform/uart.hpp"

namespace tessera::platform {
namespace {

constexpr uintptr_t kDr = 0x00;
constexpr uintptr_t kFr = 0x18;
constexpr uintptr_t kLcrH = 0x2c;
constexpr uintptr_t kCr = 0x30;
constexpr uintptr_t kImsc = 0x38;
constexpr uint32_t kFrRxEmpty = 1u << 4;
constexpr uint32_t kFrTxFull = 1u << 5;
constexpr uint32_t kLcrFifoEnable = 1u << 4;
constexpr uint32_t kLcrWord8 = 3u << 5;
constexpr uint32_t kCrEnable = 1u << 0;
constexpr uint32_t kCrTxEnable = 1u << 8;
constexpr uint32_t kCrRxEnable = 1u << 9;

uintptr_t g_base = 0;

void put(char c) {
    while ((arch::mmio_read<uint32_t>(g_base + kFr) & kFrTxFull) != 0) {
    }
    arch::mmio_write<uint32_t>(g_base + kDr, static_cast<uint8_t>(c));
}

}  // namespace

void uart_init(VirtAddr registers) {
    g_base = registers.value();
    arch::mmio_write<uint32_t>(g_base + kCr, 0);
    arch::mmio_write<uint32_t>(g_base + kImsc, 0);
    arch::mmio_write<uint32_t>(g_base + kLcrH, kLcrFifoEnable | kLcrWord8);
    arch::mmio_write<uint32_t>(g_base + kCr, kCrEnable | kCrTxEnable | kCrRxEnable);
}

void uart_write(const char* chars, size_t count) {
    if (g_base == 0) {
        return;
    }
    for (size_t i = 0; i < count; ++i) {
        if (chars[i] == '\n') {
            put('\r');
        }
        put(chars[i]);
    }
}

std::optional<char> uart_try_read() {
    if (g_base == 0 || (arch::mmio_read<uint32_t>(g_base + kFr) & kFrRxEmpty) != 0) {
        return std::nullopt;
    }
    return static_cast<char>(arch::mmio_read<uint32_t>(g_base + kDr) & 0xff);
}

}  // namespace tessera::platform
