// Zombies: while the slots of a destroyed CNode or TCB are emptied, the capability that was its
// last stays in its slot and in the derivation tree as a zombie. It keeps the object's memory
// claimed (the untyped it came from still has a child, so it cannot reset under a preempted
// deletion) and records how far emptying has got, so a deletion can stop at any slot and go on
// later. Pure packing, host-tested.
// Invariant: slots [remaining, count) of a zombie's array are empty, but for at most one: the
// leftover of a cycle (the slot the deletion started from, or a waiting zombie), recorded by
// has_leftover.
#pragma once

#include <cstdint>

#include "abi/object_type.hpp"
#include "core/capability.hpp"

namespace tessera {

constexpr unsigned kTcbOwnSlots = 3;  // CSpace root, VSpace root, IPC buffer frame

struct Zombie {
    PhysAddr object;     // the CNode (its slots) or the TCB
    bool tcb = false;    // a TCB's own slots, else a CNode's 2^radix
    unsigned radix = 0;  // CNode radix (1..24)
    uint64_t remaining = 0;
    bool has_leftover = false;  // a slot at or above remaining holds the cycle's leftover
    // Every slot is empty but the leftover: this zombie waits to be unwound with the cycle it
    // belongs to. In the starting slot, it marks a deletion that is unwinding its cycle.
    bool waiting = false;
    // The slot a deletion started from: link is its cursor (the zombie it stopped in, 0: this
    // one). Otherwise link is the parent: the zombie whose array holds this one - or, once
    // waiting, the slot the deletion started from.
    bool top = false;
    uint64_t link = 0;  // physical address of a slot (32-byte aligned, below 2^48)

    [[nodiscard]] uint64_t count() const { return tcb ? kTcbOwnSlots : uint64_t{1} << radix; }
};

namespace zombie_layout {
constexpr unsigned kRadixBits = 5;
constexpr uint32_t kTcb = 1u << 5;
constexpr uint32_t kLeftover = 1u << 6;
constexpr uint32_t kWaiting = 1u << 7;
constexpr uint32_t kTop = 1u << 8;
constexpr unsigned kRemainingHighShift = 9;  // flags bits 9-14 hold remaining >> 21
constexpr unsigned kRemainingLowBits = 21;
constexpr uint64_t kRemainingLowMask = (uint64_t{1} << kRemainingLowBits) - 1;
constexpr unsigned kLinkShift = 5;  // slots are 32-byte aligned
static_assert(abi::kMaxCNodeRadix < (1u << kRadixBits));
static_assert((uint64_t{1} << abi::kMaxCNodeRadix) < (uint64_t{1} << (kRemainingLowBits + 6)),
              "remaining fits its 21 + 6 bits");
static_assert(48 - kLinkShift + kRemainingLowBits <= 64, "link and remaining share word 1");
}  // namespace zombie_layout

constexpr Capability zombie_capability(const Zombie& z) {
    using namespace zombie_layout;
    uint32_t flags =
        (z.radix & ((1u << kRadixBits) - 1)) | (z.tcb ? kTcb : 0) |
        (z.has_leftover ? kLeftover : 0) | (z.waiting ? kWaiting : 0) | (z.top ? kTop : 0) |
        (static_cast<uint32_t>(z.remaining >> kRemainingLowBits) << kRemainingHighShift);
    uint64_t data =
        ((z.link >> kLinkShift) << kRemainingLowBits) | (z.remaining & kRemainingLowMask);
    return Capability::zombie(z.object, flags, data);
}

constexpr Zombie zombie_of(const Capability& c) {
    using namespace zombie_layout;
    uint32_t flags = c.zombie_flags();
    Zombie z;
    z.object = c.object();
    z.radix = flags & ((1u << kRadixBits) - 1);
    z.tcb = (flags & kTcb) != 0;
    z.has_leftover = (flags & kLeftover) != 0;
    z.waiting = (flags & kWaiting) != 0;
    z.top = (flags & kTop) != 0;
    z.remaining = (uint64_t{flags >> kRemainingHighShift} << kRemainingLowBits) |
                  (c.data() & kRemainingLowMask);
    z.link = (c.data() >> kRemainingLowBits) << kLinkShift;
    return z;
}

// The memory a zombie keeps claimed: its whole object.
constexpr uint64_t zombie_object_size(const Capability& c) {
    Zombie z = zombie_of(c);
    return z.tcb ? uint64_t{1} << abi::kTcbSizeBits : uint64_t{1} << (z.radix + abi::kSlotSizeBits);
}

}  // namespace tessera
