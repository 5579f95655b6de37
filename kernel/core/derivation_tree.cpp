// Derivation-tree operations on the depth-first linked list (see derivation_tree.hpp).
// Callers (the CNode and untyped invocations) have already checked every precondition;
// nothing here can fail.
#include "core/derivation_tree.hpp"

#include <initializer_list>

#include "base/assert.hpp"

namespace tessera {
namespace {

bool is_badgeable(CapType t) {
    return t == CapType::kEndpoint || t == CapType::kNotification;
}

}  // namespace

bool DerivationTree::is_parent_of(const Cte& parent, const Cte& child) {
    if (!parent.revocable() || !same_region_as(parent.cap(), child.cap())) {
        return false;
    }
    if (is_badgeable(parent.cap().type())) {
        uint64_t badge = parent.cap().badge();
        if (badge == 0) {
            return true;  // the unbadged original parents every badged derivation
        }
        // A badged capability parents its unbadged-by-minting copies only: the next
        // first-badged capability with the same badge starts a sibling subtree.
        return child.cap().badge() == badge && !child.first_badged();
    }
    return true;
}

bool DerivationTree::derived_is_revocable(const Capability& derived, const Capability& src) {
    switch (derived.type()) {
        case CapType::kEndpoint:
        case CapType::kNotification:
            return derived.badge() != src.badge();  // minting a new badge
        case CapType::kUntyped:
            return true;
        case CapType::kIrqHandler:
            return src.type() == CapType::kIrqControl;
        default:
            return false;
    }
}

void DerivationTree::link_after(Cte& src, Cte& dest, const Capability& cap, bool revocable,
                                bool first_badged) {
    TESSERA_ASSERT(dest.is_empty() && !cap.is_null() && &src != &dest);
    dest.cap_ = cap;
    dest.prev_ = &src;
    dest.next_bits_ = 0;
    dest.set_next(src.next());
    dest.set_flags(revocable, first_badged);
    if (src.next() != nullptr) {
        src.next()->prev_ = &dest;
    }
    src.set_next(&dest);
}

void DerivationTree::insert_derived(Cte& src, Cte& dest, const Capability& cap) {
    bool revocable = derived_is_revocable(cap, src.cap());
    link_after(src, dest, cap, revocable, revocable);
    // A copy of an untyped takes over its free memory: the source is marked full, so the two
    // never hand out the same bytes (seL4's setUntypedCapAsFull). The copy is the source's
    // child, so the source cannot reset until the copy and everything made from it are gone.
    const Capability& from = src.cap();
    if (cap.type() == CapType::kUntyped && from.type() == CapType::kUntyped &&
        cap.object() == from.object() && cap.untyped_size_bits() == from.untyped_size_bits()) {
        src.update_cap(from.with_free_index(uint64_t{1} << from.untyped_size_bits()));
    }
}

void DerivationTree::insert_new_object(Cte& parent, Cte& dest, const Capability& cap) {
    link_after(parent, dest, cap, true, true);
}

void DerivationTree::insert_original(Cte& dest, const Capability& cap) {
    TESSERA_ASSERT(dest.is_empty() && !cap.is_null());
    dest.cap_ = cap;
    dest.prev_ = nullptr;
    dest.next_bits_ = 0;
    dest.set_flags(true, true);
}

void DerivationTree::move(Cte& src, Cte& dest, const Capability& cap) {
    TESSERA_ASSERT(dest.is_empty() && !src.is_empty());
    dest.cap_ = cap;
    dest.prev_ = src.prev_;
    dest.next_bits_ = src.next_bits_;
    if (dest.prev_ != nullptr) {
        dest.prev_->set_next(&dest);
    }
    if (dest.next() != nullptr) {
        dest.next()->prev_ = &dest;
    }
    src.clear();
}

void DerivationTree::swap(Cte& a, const Capability& cap_a, Cte& b, const Capability& cap_b) {
    TESSERA_ASSERT(&a != &b && !a.is_empty() && !b.is_empty());
    // Exchange contents, then repair the neighbours' pointers. Adjacent slots point at each
    // other, so fix-ups go through the swapped fields.
    Cte saved_a = a;
    a.cap_ = cap_b;
    a.prev_ = b.prev_;
    a.next_bits_ = b.next_bits_;
    b.cap_ = cap_a;
    b.prev_ = saved_a.prev_;
    b.next_bits_ = saved_a.next_bits_;
    // If they were adjacent, the pointers that named each other now name themselves.
    if (a.prev_ == &a) {
        a.prev_ = &b;
    }
    if (a.next() == &a) {
        a.set_next(&b);
    }
    if (b.prev_ == &b) {
        b.prev_ = &a;
    }
    if (b.next() == &b) {
        b.set_next(&a);
    }
    for (Cte* slot : {&a, &b}) {
        if (slot->prev_ != nullptr) {
            slot->prev_->set_next(slot);
        }
        if (slot->next() != nullptr) {
            slot->next()->prev_ = slot;
        }
    }
}

void DerivationTree::remove(Cte& slot) {
    Cte* prev = slot.prev_;
    Cte* next = slot.next();
    if (prev != nullptr) {
        prev->set_next(next);
    }
    if (next != nullptr) {
        next->prev_ = prev;
        // A child that relied on this slot's first-badged mark to start its subtree keeps it.
        if (slot.first_badged()) {
            next->set_flags(next->revocable(), true);
        }
    }
    slot.clear();
}

bool DerivationTree::is_final(const Cte& slot) {
    const Capability& cap = slot.cap();
    const Cte* prev = slot.prev_;
    const Cte* next = slot.next();
    bool prev_same = prev != nullptr && same_object_as(prev->cap(), cap);
    bool next_same = next != nullptr && same_object_as(cap, next->cap());
    return !prev_same && !next_same;
}

bool DerivationTree::has_children(const Cte& slot) {
    return first_child(slot) != nullptr;
}

Cte* DerivationTree::first_child(const Cte& slot) {
    Cte* next = slot.next();
    return next != nullptr && is_parent_of(slot, *next) ? next : nullptr;
}

}  // namespace tessera
