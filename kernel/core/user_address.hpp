// UserAddress: an address a user thread handed the kernel, made only by a checked constructor
// (inside the user half, not the null page, aligned, and with [address, address + size) not
// wrapping or leaving the user half). The kernel never dereferences user addresses - data moves
// only through frames the caller holds capabilities to - so this type is what every user
// address (mapping targets, IPC buffer addresses) must pass before the kernel records it.
#pragma once

#include <cstdint>

#include "abi/invocation.hpp"
#include "base/bits.hpp"
#include "core/syscall_error.hpp"

namespace tessera {

class UserAddress {
  public:
    // word: the message word the address came from (named in the error).
    static SysResult<UserAddress> make(uint64_t raw, uint64_t alignment, uint64_t size,
                                       uint64_t word) {
        if (raw == 0 || raw >= abi::kUserAddressLimit) {
            return fail(SyscallError::invalid_argument(word));
        }
        if (!is_power_of_two(alignment) || raw % alignment != 0) {
            return fail(SyscallError::make(abi::Error::kAlignmentError, word));
        }
        auto end = checked_add(raw, size);
        if (!end || *end > abi::kUserAddressLimit) {
            return fail(SyscallError::invalid_argument(word));
        }
        return UserAddress(raw);
    }

    [[nodiscard]] constexpr uint64_t value() const { return value_; }

  private:
    constexpr explicit UserAddress(uint64_t value) : value_(value) {}
    uint64_t value_;
};

}  // namespace tessera
