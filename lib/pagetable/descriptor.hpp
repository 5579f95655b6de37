// AArch64 VMSAv8-64 stage-1 translation descriptors for the 4 KiB granule: encoding and decoding
// of table, block and page entries and of the MAIR attribute slots Tessera programs.
// Pure bit manipulation, host-tested; the kernel and the VSpace code both use it.
#pragma once

#include <cstdint>

#include "base/address.hpp"

namespace tessera::aarch64 {

// Memory types, each the index of its MAIR_EL1 attribute slot (AttrIndx).
enum class MemoryType : uint8_t {
    kDevice = 0,              // Device-nGnRnE: MMIO, strongly ordered
    kNormal = 1,              // Normal, inner/outer write-back read/write-allocate
    kNormalNonCacheable = 2,  // Normal, inner/outer non-cacheable
    kDeviceGre = 3,           // Device-nGnRE (posted writes), for devices that allow it
};

// MAIR_EL1 value matching MemoryType: slot i holds the attribute byte for type i.
constexpr uint64_t kMairValue =
    (uint64_t{0x00} << 0) | (uint64_t{0xff} << 8) | (uint64_t{0x44} << 16) | (uint64_t{0x04} << 24);

enum class Shareability : uint8_t { kNone = 0, kOuter = 2, kInner = 3 };

// Who may do what through a leaf mapping. The kernel can always read a valid mapping.
struct Permissions {
    bool user = false;     // EL0 may access (AP[1])
    bool write = false;    // writable (by EL1, and by EL0 if user)
    bool execute = false;  // executable by the owner: EL0 if user, else EL1
    bool operator==(const Permissions&) const = default;
};

struct LeafAttributes {
    Permissions permissions;
    MemoryType type = MemoryType::kNormal;
    bool global = true;  // !nG: kernel mappings are global, user mappings per-ASID
    bool operator==(const LeafAttributes&) const = default;
};

namespace bits {
constexpr uint64_t kValid = uint64_t{1} << 0;
constexpr uint64_t kTableOrPage = uint64_t{1} << 1;  // L0-L2: table; L3: page (must be set)
constexpr unsigned kAttrIndxShift = 2;
constexpr uint64_t kAttrIndxMask = uint64_t{7} << kAttrIndxShift;
constexpr uint64_t kApUser = uint64_t{1} << 6;      // AP[1]: EL0 access
constexpr uint64_t kApReadOnly = uint64_t{1} << 7;  // AP[2]: read-only
constexpr unsigned kShShift = 8;
constexpr uint64_t kShMask = uint64_t{3} << kShShift;
constexpr uint64_t kAccessFlag = uint64_t{1} << 10;
constexpr uint64_t kNotGlobal = uint64_t{1} << 11;
constexpr uint64_t kPxn = uint64_t{1} << 53;
constexpr uint64_t kUxn = uint64_t{1} << 54;
constexpr uint64_t kPxnTable = uint64_t{1} << 59;
constexpr uint64_t kUxnTable = uint64_t{1} << 60;
constexpr uint64_t kOutputAddressMask = 0x0000'ffff'ffff'f000;  // bits [47:12]
}  // namespace bits

constexpr unsigned kLevels = 4;
constexpr uint64_t kEntriesPerTable = 512;
constexpr uint64_t kPageSize = 4096;

// Bytes mapped by one entry at the given level: L0 512 GiB, L1 1 GiB, L2 2 MiB, L3 4 KiB.
constexpr uint64_t level_size(unsigned level) {
    return uint64_t{1} << (39 - 9 * level);
}
constexpr unsigned level_shift(unsigned level) {
    return 39 - 9 * level;
}
constexpr uint64_t level_index(uint64_t va, unsigned level) {
    return (va >> level_shift(level)) & (kEntriesPerTable - 1);
}
// Whether a leaf (block or page) may sit at this level with the 4 KiB granule.
constexpr bool leaf_allowed(unsigned level) {
    return level >= 1 && level < kLevels;
}

class Descriptor {
  public:
    constexpr Descriptor() = default;
    constexpr explicit Descriptor(uint64_t raw) : raw_(raw) {}

    static constexpr Descriptor invalid() { return Descriptor(0); }

    // Points at a next-level table. Hierarchical PXN keeps EL1 from executing anything a
    // user table maps (set by the caller for user-half tables).
    static constexpr Descriptor table(PhysAddr next, bool privileged_execute_never = false) {
        uint64_t raw =
            (next.value() & bits::kOutputAddressMask) | bits::kValid | bits::kTableOrPage;
        if (privileged_execute_never) {
            raw |= bits::kPxnTable;
        }
        return Descriptor(raw);
    }

    // A leaf: a page at level 3, a block at level 1 or 2. Write+execute is never encoded:
    // a writable mapping is always execute-never for everyone.
    static constexpr Descriptor leaf(unsigned level, PhysAddr output, LeafAttributes attrs) {
        uint64_t raw = (output.value() & bits::kOutputAddressMask & ~(level_size(level) - 1)) |
                       bits::kValid | bits::kAccessFlag;
        if (level == 3) {
            raw |= bits::kTableOrPage;
        }
        raw |= (static_cast<uint64_t>(attrs.type) << bits::kAttrIndxShift) & bits::kAttrIndxMask;
        // Device memory is outer shareable by definition; Normal memory is inner shareable.
        Shareability sh = attrs.type == MemoryType::kDevice || attrs.type == MemoryType::kDeviceGre
                              ? Shareability::kOuter
                              : Shareability::kInner;
        raw |= static_cast<uint64_t>(sh) << bits::kShShift;
        const Permissions& p = attrs.permissions;
        if (p.user) {
            raw |= bits::kApUser;
        }
        if (!p.write) {
            raw |= bits::kApReadOnly;
        }
        bool exec = p.execute && !p.write;
        bool is_device = attrs.type == MemoryType::kDevice || attrs.type == MemoryType::kDeviceGre;
        // EL1 never executes user memory; EL0 never executes kernel memory; nobody executes
        // device memory.
        if (p.user || !exec || is_device) {
            raw |= bits::kPxn;
        }
        if (!p.user || !exec || is_device) {
            raw |= bits::kUxn;
        }
        if (!attrs.global) {
            raw |= bits::kNotGlobal;
        }
        return Descriptor(raw);
    }

    [[nodiscard]] constexpr uint64_t raw() const { return raw_; }
    [[nodiscard]] constexpr bool is_valid() const { return (raw_ & bits::kValid) != 0; }
    [[nodiscard]] constexpr bool is_table(unsigned level) const {
        return level < 3 && (raw_ & 3) == 3;
    }
    // A valid leaf at this level (block at L1/L2, page at L3).
    [[nodiscard]] constexpr bool is_leaf(unsigned level) const {
        if (level == 3) {
            return (raw_ & 3) == 3;
        }
        return (level == 1 || level == 2) && (raw_ & 3) == 1;
    }
    [[nodiscard]] constexpr PhysAddr next_table() const {
        return PhysAddr(raw_ & bits::kOutputAddressMask);
    }
    [[nodiscard]] constexpr PhysAddr output_address(unsigned level) const {
        return PhysAddr(raw_ & bits::kOutputAddressMask & ~(level_size(level) - 1));
    }
    [[nodiscard]] constexpr LeafAttributes attributes() const {
        LeafAttributes a;
        a.permissions.user = (raw_ & bits::kApUser) != 0;
        a.permissions.write = (raw_ & bits::kApReadOnly) == 0;
        a.permissions.execute =
            a.permissions.user ? (raw_ & bits::kUxn) == 0 : (raw_ & bits::kPxn) == 0;
        a.type = static_cast<MemoryType>((raw_ & bits::kAttrIndxMask) >> bits::kAttrIndxShift);
        a.global = (raw_ & bits::kNotGlobal) == 0;
        return a;
    }
    [[nodiscard]] constexpr Shareability shareability() const {
        return static_cast<Shareability>((raw_ & bits::kShMask) >> bits::kShShift);
    }
    [[nodiscard]] constexpr bool access_flag() const { return (raw_ & bits::kAccessFlag) != 0; }

    constexpr bool operator==(const Descriptor&) const = default;

  private:
    uint64_t raw_ = 0;
};

static_assert(sizeof(Descriptor) == 8, "a descriptor is one 64-bit table entry");

}  // namespace tessera::aarch64
