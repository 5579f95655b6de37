// Capability slots (Cte) and the capability derivation tree. As in seL4, the tree is stored as a
// doubly linked list in depth-first order: a slot's descendants are exactly the run of slots
// that follow it and for which it is_parent_of. Every capability lives in exactly one slot;
// copies and derived objects are inserted right after their source, so all capabilities to
// one object are adjacent, which makes "is this the last capability?" a neighbour check.
// Pure bookkeeping with no hardware access: host tests link it.
#pragma once

#include <cstdint>

#include "abi/object_type.hpp"
#include "core/capability.hpp"

namespace tessera {

class Cte {
  public:
    [[nodiscard]] const Capability& cap() const { return cap_; }
    // Replaces the capability in place without touching the tree (e.g. an untyped's
    // watermark, a frame's mapping); the object and type must stay the same.
    void update_cap(const Capability& cap) { cap_ = cap; }

    [[nodiscard]] Cte* prev() const { return prev_; }
    [[nodiscard]] Cte* next() const { return reinterpret_cast<Cte*>(next_bits_ & ~kFlagMask); }
    // Revocable: this slot can have children (it was made by retype, minting a badge, or is
    // an original). First-badged: the first capability carrying its badge.
    [[nodiscard]] bool revocable() const { return (next_bits_ & kRevocable) != 0; }
    [[nodiscard]] bool first_badged() const { return (next_bits_ & kFirstBadged) != 0; }
    [[nodiscard]] bool is_empty() const { return cap_.is_null(); }

  private:
    friend class DerivationTree;
    friend class ZombieAccess;  // capability_delete.cpp reuses the links of unlinked slots
    static constexpr uintptr_t kRevocable = 1;
    static constexpr uintptr_t kFirstBadged = 2;
    static constexpr uintptr_t kFlagMask = 3;

    void set_next(Cte* next) {
        next_bits_ = reinterpret_cast<uintptr_t>(next) | (next_bits_ & kFlagMask);
    }
    void set_flags(bool revocable, bool first_badged) {
        next_bits_ = (next_bits_ & ~kFlagMask) | (revocable ? kRevocable : 0) |
                     (first_badged ? kFirstBadged : 0);
    }
    void clear() {
        cap_ = Capability::null();
        prev_ = nullptr;
        next_bits_ = 0;
    }

    Capability cap_;
    Cte* prev_ = nullptr;
    uintptr_t next_bits_ = 0;  // Cte* | flags
};

static_assert(sizeof(Cte) == (1u << abi::kSlotSizeBits), "a slot is 32 bytes");

class DerivationTree {
  public:
    // True if child is a descendant of parent (parent must immediately precede the run).
    static bool is_parent_of(const Cte& parent, const Cte& child);

    // Places cap in the empty slot dest as a child of src (copy, mint, derived caps). A copy
    // of an untyped marks src full.
    static void insert_derived(Cte& src, Cte& dest, const Capability& cap);
    // Places a freshly created object's cap in dest as a child of the untyped slot parent.
    static void insert_new_object(Cte& parent, Cte& dest, const Capability& cap);
    // Places an original capability (made at boot) in dest with no parent.
    static void insert_original(Cte& dest, const Capability& cap);
    // Moves src's capability and tree position to the empty slot dest, storing cap there
    // (Move keeps the cap; Mutate changes its data). src becomes empty.
    static void move(Cte& src, Cte& dest, const Capability& cap);
    // Exchanges two occupied slots' capabilities and tree positions (Rotate's building block).
    static void swap(Cte& a, const Capability& cap_a, Cte& b, const Capability& cap_b);
    // Unlinks slot from the tree and empties it. Its children stay, attached to its parent.
    static void remove(Cte& slot);

    // No other capability names the same object, so deleting this one must destroy it.
    static bool is_final(const Cte& slot);
    static bool has_children(const Cte& slot);
    // The first descendant of slot, or nullptr.
    static Cte* first_child(const Cte& slot);

    // Whether a capability derived from src (with its new data) may itself have children.
    static bool derived_is_revocable(const Capability& derived, const Capability& src);

  private:
    // Links the empty slot dest into the list right after src, holding cap.
    static void link_after(Cte& src, Cte& dest, const Capability& cap, bool revocable,
                           bool first_badged);
};

}  // namespace tessera
