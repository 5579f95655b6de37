// The board's console UART (a PL011 on QEMU virt): polled output and input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "base/address.hpp"

namespace tessera::platform {

// Points the driver at the UART's mapped registers and enables transmit and receive.
void uart_init(VirtAddr registers);
void uart_write(const char* chars, size_t count);
std::optional<char> uart_try_read();

}  // namespace tessera::platform
