// SyscallError: an ABI error code plus the detail that tells the caller what was wrong (which
// argument, the allowed range, how a lookup failed). Decode steps return it; the syscall layer
// copies it into the reply message.
#pragma once

#include <cstdint>

#include "abi/error.hpp"
#include "base/result.hpp"

namespace tessera {

struct SyscallError {
    abi::Error code = abi::Error::kOk;
    uint64_t detail[3] = {0, 0, 0};

    static constexpr SyscallError make(abi::Error code, uint64_t a = 0, uint64_t b = 0,
                                       uint64_t c = 0) {
        return SyscallError{code, {a, b, c}};
    }
    // detail[0]: index of the offending argument.
    static constexpr SyscallError invalid_argument(uint64_t index) {
        return make(abi::Error::kInvalidArgument, index);
    }
    static constexpr SyscallError invalid_capability(uint64_t index) {
        return make(abi::Error::kInvalidCapability, index);
    }
    // detail: minimum and maximum allowed values.
    static constexpr SyscallError range(uint64_t min, uint64_t max) {
        return make(abi::Error::kRangeError, min, max);
    }
    // detail: lookup failure kind and the number of address bits left unresolved.
    static constexpr SyscallError failed_lookup(abi::LookupFailure failure, uint64_t bits_left) {
        return make(abi::Error::kFailedLookup, static_cast<uint64_t>(failure), bits_left);
    }
    static constexpr SyscallError of(abi::Error code) { return make(code); }

    // Not an ABI error: the operation stopped at a preemption point and the system call must
    // run again (the caller's registers are left as they were).
    static constexpr abi::Error kRestartCode = static_cast<abi::Error>(~uint64_t{0});
    static constexpr SyscallError restart() { return make(kRestartCode); }
    [[nodiscard]] constexpr bool is_restart() const { return code == kRestartCode; }
};

template <typename T>
using SysResult = Result<T, SyscallError>;

}  // namespace tessera
