// Strong address types: a physical address and a virtual address never convert into each other
// implicitly, so mixing them is a compile error. Conversions go through the memory map that owns
// them.
#pragma once

#include <compare>
#include <cstdint>

namespace tessera {

template <typename Tag>
class Address {
  public:
    constexpr Address() = default;
    constexpr explicit Address(uint64_t value) : value_(value) {}

    [[nodiscard]] constexpr uint64_t value() const { return value_; }
    [[nodiscard]] constexpr Address offset(uint64_t bytes) const { return Address(value_ + bytes); }
    [[nodiscard]] constexpr Address align_down(uint64_t alignment) const {
        return Address(value_ & ~(alignment - 1));
    }
    [[nodiscard]] constexpr bool is_aligned(uint64_t alignment) const {
        return (value_ & (alignment - 1)) == 0;
    }
    constexpr auto operator<=>(const Address&) const =
        default;  // NOLINT(modernize-use-nullptr): clang-tidy 14 false positive

  private:
    uint64_t value_ = 0;
};

struct PhysTag {};
struct VirtTag {};
using PhysAddr = Address<PhysTag>;
using VirtAddr = Address<VirtTag>;

static_assert(sizeof(PhysAddr) == 8 && sizeof(VirtAddr) == 8);

// A half-open physical range [base, base + size).
struct PhysRange {
    PhysAddr base;
    uint64_t size = 0;

    [[nodiscard]] constexpr PhysAddr end() const { return base.offset(size); }
    [[nodiscard]] constexpr bool contains(PhysAddr a) const { return a >= base && a < end(); }
    constexpr bool operator==(const PhysRange&) const = default;
};

}  // namespace tessera
