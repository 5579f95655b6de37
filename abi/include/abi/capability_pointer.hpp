// CapPtr: the address of a capability slot in a thread's capability space, resolved from the
// most significant of `depth` bits down through guarded CNodes. A distinct type so it is never
// confused with a memory address or a plain number.
#pragma once

#include <cstdint>

namespace tessera::abi {

class CapPtr {
  public:
    constexpr CapPtr() = default;
    constexpr explicit CapPtr(uint64_t value) : value_(value) {}
    [[nodiscard]] constexpr uint64_t value() const { return value_; }
    constexpr bool operator==(const CapPtr&) const = default;

  private:
    uint64_t value_ = 0;
};

static_assert(sizeof(CapPtr) == 8);

// Invocations address capabilities with all 64 bits unless they pass an explicit depth.
constexpr unsigned kWordBits = 64;

}  // namespace tessera::abi
