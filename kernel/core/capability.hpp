// Capability: the 16-byte kernel record naming an object, the caller's rights to it and
// type-specific data (badge, guard, watermark, mapping). Objects are named by physical address
// so the encoding is the same on the kernel and in host tests.
// Invariant: only the constructors below make capabilities, so every field is in range.
#pragma once

#include <cstdint>

#include "abi/object_type.hpp"
#include "base/address.hpp"

namespace tessera {

using CapType = abi::CapType;

const char* to_string(CapType type);

// Rights as in abi::Rights (write, read, grant, grant-reply).
using Rights = uint8_t;

class Capability {
  public:
    constexpr Capability() = default;

    static constexpr Capability null() { return Capability(); }
    static constexpr Capability untyped(PhysAddr base, unsigned size_bits, bool device,
                                        uint64_t free_index) {
        return Capability(CapType::kUntyped, base, abi::kRightsAll,
                          (size_bits & 0x3f) | (device ? 0x40u : 0u), free_index);
    }
    static constexpr Capability endpoint(PhysAddr object, uint64_t badge, Rights rights) {
        return Capability(CapType::kEndpoint, object, rights, 0, badge);
    }
    static constexpr Capability notification(PhysAddr object, uint64_t badge, Rights rights) {
        return Capability(CapType::kNotification, object, rights, 0, badge);
    }
    // guard_size + radix <= 64; the guard value occupies the top 58 bits of data.
    static constexpr Capability cnode(PhysAddr object, unsigned radix, unsigned guard_size,
                                      uint64_t guard) {
        return Capability(CapType::kCNode, object, abi::kRightsAll, radix & 0x3f,
                          (guard << 6) | (guard_size & 0x3f));
    }
    static constexpr Capability tcb(PhysAddr object) {
        return Capability(CapType::kTcb, object, abi::kRightsAll, 0, 0);
    }
    static constexpr Capability reply(PhysAddr caller_tcb, bool can_grant) {
        return Capability(CapType::kReply, caller_tcb, can_grant ? abi::kRightGrant : 0, 0, 0);
    }
    static constexpr Capability irq_control() {
        return Capability(CapType::kIrqControl, PhysAddr(), abi::kRightsAll, 0, 0);
    }
    static constexpr Capability irq_handler(uint32_t irq) {
        return Capability(CapType::kIrqHandler, PhysAddr(), abi::kRightsAll, 0, irq);
    }
    static constexpr Capability debug() {
        return Capability(CapType::kDebug, PhysAddr(), abi::kRightsAll, 0, 0);
    }
    static constexpr Capability console() {
        return Capability(CapType::kConsole, PhysAddr(), abi::kRightsAll, 0, 0);
    }
    static constexpr Capability asid_control() {
        return Capability(CapType::kAsidControl, PhysAddr(), abi::kRightsAll, 0, 0);
    }
    // A frame: 4 KiB or 2 MiB; data holds its mapping (ASID in bits 63:48, user address below)
    // when mapped.
    static constexpr Capability frame(PhysAddr object, bool large, bool device, Rights rights,
                                      uint16_t asid = 0, uint64_t mapped_at = 0) {
        return Capability(CapType::kFrame, object, rights,
                          (large ? 1u : 0u) | (device ? 2u : 0u) | (mapped_at != 0 ? 4u : 0u),
                          (uint64_t{asid} << 48) | (mapped_at & 0xffff'ffff'ffff));
    }
    // A translation table below the root (level 1-3); mapped like a frame.
    static constexpr Capability page_table(PhysAddr object, unsigned level, uint16_t asid = 0,
                                           uint64_t mapped_at = 0) {
        return Capability(CapType::kPageTable, object, abi::kRightsAll,
                          (level & 3) | (mapped_at != 0 || asid != 0 ? 4u : 0u),
                          (uint64_t{asid} << 48) | (mapped_at & 0xffff'ffff'ffff));
    }
    // An ASID pool: 512 ASIDs starting at asid_base.
    static constexpr Capability asid_pool(PhysAddr object, uint16_t asid_base) {
        return Capability(CapType::kAsidPool, object, abi::kRightsAll, 0, asid_base);
    }
    // A VSpace root table with its ASID (0: none assigned yet).
    static constexpr Capability vspace(PhysAddr object, uint16_t asid) {
        return Capability(CapType::kVSpace, object, abi::kRightsAll, 0, asid);
    }

    // A zombie (core/zombie.hpp packs its fields): 15 bits of flags and a data word.
    static constexpr Capability zombie(PhysAddr object, uint32_t flags, uint64_t data) {
        return Capability(CapType::kZombie, object, flags & 0xf, (flags >> 4) & 0x7ff, data);
    }
    [[nodiscard]] constexpr uint32_t zombie_flags() const { return rights() | (extra() << 4); }

    [[nodiscard]] constexpr CapType type() const { return static_cast<CapType>(word0_ & 0x1f); }
    [[nodiscard]] constexpr bool is_null() const { return type() == CapType::kNull; }
    [[nodiscard]] constexpr Rights rights() const { return (word0_ >> 5) & 0xf; }
    [[nodiscard]] constexpr bool has_rights(Rights wanted) const {
        return (rights() & wanted) == wanted;
    }
    [[nodiscard]] constexpr PhysAddr object() const { return PhysAddr((word0_ >> 20) << 4); }
    [[nodiscard]] constexpr uint64_t data() const { return word1_; }

    // Untyped.
    [[nodiscard]] constexpr unsigned untyped_size_bits() const { return extra() & 0x3f; }
    [[nodiscard]] constexpr bool untyped_is_device() const { return (extra() & 0x40) != 0; }
    [[nodiscard]] constexpr uint64_t untyped_free_index() const { return word1_; }
    [[nodiscard]] constexpr Capability with_free_index(uint64_t free_index) const {
        Capability c = *this;
        c.word1_ = free_index;
        return c;
    }
    // Endpoint / notification.
    [[nodiscard]] constexpr uint64_t badge() const { return word1_; }
    // CNode.
    [[nodiscard]] constexpr unsigned cnode_radix() const { return extra() & 0x3f; }
    [[nodiscard]] constexpr unsigned cnode_guard_size() const { return word1_ & 0x3f; }
    [[nodiscard]] constexpr uint64_t cnode_guard() const { return word1_ >> 6; }
    // IRQ handler.
    [[nodiscard]] constexpr uint32_t irq() const { return static_cast<uint32_t>(word1_); }
    // Frame / page table / VSpace.
    [[nodiscard]] constexpr bool frame_is_large() const { return (extra() & 1) != 0; }
    [[nodiscard]] constexpr bool frame_is_device() const { return (extra() & 2) != 0; }
    [[nodiscard]] constexpr bool is_mapped() const { return (extra() & 4) != 0; }
    [[nodiscard]] constexpr uint16_t mapped_asid() const {
        return static_cast<uint16_t>(word1_ >> 48);
    }
    [[nodiscard]] constexpr uint64_t mapped_address() const { return word1_ & 0xffff'ffff'ffff; }
    [[nodiscard]] constexpr unsigned table_level() const { return extra() & 3; }
    [[nodiscard]] constexpr uint16_t vspace_asid() const { return static_cast<uint16_t>(word1_); }
    [[nodiscard]] constexpr uint16_t asid_base() const { return static_cast<uint16_t>(word1_); }

    // Same capability with rights reduced to rights & mask (rights never grow).
    [[nodiscard]] constexpr Capability with_rights_masked(Rights mask) const {
        Capability c = *this;
        c.word0_ = (word0_ & ~(uint64_t{0xf} << 5)) | (uint64_t{rights() & mask & 0xfu} << 5);
        return c;
    }
    // Same capability with a new data word (a badge, or a CNode's guard) - used by Mint/Mutate.
    [[nodiscard]] constexpr Capability with_data(uint64_t data) const {
        Capability c = *this;
        c.word1_ = data;
        return c;
    }

    // The object's size in bytes, for the types the derivation tree compares by region.
    [[nodiscard]] uint64_t object_size() const;

    constexpr bool operator==(const Capability&) const = default;

  private:
    constexpr Capability(CapType type, PhysAddr object, Rights rights, uint32_t extra,
                         uint64_t data)
        : word0_(static_cast<uint64_t>(type) | (uint64_t{rights & 0xfu} << 5) |
                 (uint64_t{extra & 0x7ffu} << 9) | ((object.value() >> 4) << 20)),
          word1_(data) {}
    [[nodiscard]] constexpr uint32_t extra() const { return (word0_ >> 9) & 0x7ff; }

    uint64_t word0_ = 0;  // type:5 | rights:4 | extra:11 | object >> 4 : 44
    uint64_t word1_ = 0;  // type-specific data
};

static_assert(sizeof(Capability) == 16, "a capability is two words");
static_assert(static_cast<unsigned>(CapType::kCount) <= 32, "type field is 5 bits");

// Two capabilities refer to overlapping memory in the derivation-tree sense: an untyped
// covers every object in its region; other types must name the same object.
bool same_region_as(const Capability& a, const Capability& b);
// Two capabilities refer to the same object (an untyped only to an identical untyped).
bool same_object_as(const Capability& a, const Capability& b);

}  // namespace tessera
