// Capability deletion with zombies (see capability_delete.hpp). A zombie is a slot whose
// capability has been unlinked from the derivation tree and replaced by a record of the slot
// array still being emptied (a CNode's, or a TCB's own three slots) and of the parent zombie.
// Invariant: every capability reachable from a zombie's slots is deleted exactly once.
#include "core/capability_delete.hpp"

#include "arch/cpu.hpp"
#include "core/ipc.hpp"
#include "core/kernel_memory.hpp"
#include "core/thread_switch.hpp"
#include "object/irq_handler.hpp"
#include "object/tcb.hpp"
#include "object/vspace.hpp"

namespace tessera {
namespace {

// Zombies live only inside this file, in slots that have left the derivation tree; they use
// the CNode capability encoding with a distinct, never user-visible marker in the guard size.
constexpr unsigned kZombieMarker = 63;

struct Zombie {
    PhysAddr slots;   // first slot of the array being emptied
    uint64_t count;   // number of slots
    Cte* parent;      // zombie slot this one was found in, or nullptr at the top
    PhysAddr object;  // the object being destroyed (a CNode's slots, or a TCB)
};

constexpr unsigned kTcbSlotCount = 3;

bool is_zombie(const Capability& c) {
    return c.type() == CapType::kCNode && c.cnode_guard_size() == kZombieMarker;
}

}  // namespace

// Reads and writes zombie records. The capability field holds the slot array, its size and the
// object; the parent link lives in the slot's derivation-tree prev pointer, which a slot that
// has left the tree no longer uses, so nesting depth costs no kernel memory at all.
class ZombieAccess {
  public:
    static void store(Cte& slot, const Zombie& z) {
        // count: log2 for CNodes (radix) or the TCB marker in the radix field.
        slot.cap_ = Capability::cnode(z.slots, z.count == kTcbSlotCount ? 0 : log2(z.count),
                                      kZombieMarker, z.object.value());
        slot.prev_ = z.parent;
        slot.next_bits_ = 0;
    }
    static Zombie load(const Cte& slot) {
        const Capability& c = slot.cap_;
        uint64_t count = c.cnode_radix() == 0 ? kTcbSlotCount : uint64_t{1} << c.cnode_radix();
        return Zombie{c.object(), count, slot.prev_, PhysAddr(c.cnode_guard())};
    }
    static void clear(Cte& slot) { slot.clear(); }

  private:
    static unsigned log2(uint64_t x) {
        unsigned n = 0;
        while ((uint64_t{1} << n) < x) {
            ++n;
        }
        return n;
    }
};

namespace {

// Objects destroyed without touching other capabilities.
void finalise_leaf(const Capability& cap) {
    switch (cap.type()) {
        case CapType::kTcb: {
            Tcb* t = object_at<Tcb>(cap.object());
            thread_destroyed(*t);
            break;
        }
        case CapType::kEndpoint:
            cancel_all_ipc(*object_at<Endpoint>(cap.object()));
            break;
        case CapType::kNotification:
            cancel_all_signals(*object_at<Notification>(cap.object()));
            irq_forget_notification(*object_at<Notification>(cap.object()));
            break;
        case CapType::kIrqHandler:
            irq_handler_destroyed(cap.irq());
            break;
        case CapType::kVSpace:
            vspace_destroyed(cap);
            break;
        case CapType::kAsidPool:
            asid_pool_destroyed(cap);
            break;
        default:
            break;  // frames, untyped: nothing else refers to them yet
    }
}

// The slot array an object owns, if destroying it means emptying slots.
bool owned_slots(const Capability& cap, Zombie& out) {
    if (cap.type() == CapType::kCNode) {
        out = Zombie{cap.object(), uint64_t{1} << cap.cnode_radix(), nullptr, cap.object()};
        return true;
    }
    if (cap.type() == CapType::kTcb) {
        Tcb* t = object_at<Tcb>(cap.object());
        out = Zombie{physical_address_of(&t->cspace_root), kTcbSlotCount, nullptr, cap.object()};
        return true;
    }
    return false;
}

// Removes a capability from its slot and the tree. A frame's mapping belongs to the capability
// that made it, so a mapped frame is unmapped whenever its capability goes, final or not; a
// page table's mapping is shared by all its copies and goes with the last one; a VSpace
// capability going advances the VSpace epoch.
void unlink_slot(Cte& slot) {
    const Capability& cap = slot.cap();
    if (cap.type() == CapType::kFrame) {
        frame_capability_deleted(cap);
    } else if (cap.type() == CapType::kPageTable) {
        if (DerivationTree::is_final(slot)) {
            page_table_capability_deleted(cap);
        }
    } else if (cap.type() == CapType::kReply) {
        reply_capability_moved(cap, &slot, nullptr);
    } else if (cap.type() == CapType::kVSpace) {
        advance_vspace_epoch();  // it may be a thread's: that thread must be checked again
    }
    DerivationTree::remove(slot);
}

bool on_zombie_path(const Cte* zombie_slot, PhysAddr object) {
    for (const Cte* z = zombie_slot; z != nullptr;) {
        Zombie record = ZombieAccess::load(*z);
        if (record.object == object) {
            return true;
        }
        z = record.parent;
    }
    return false;
}

}  // namespace

void delete_capability(Cte& top) {
    if (top.is_empty()) {
        return;
    }
    Zombie first;
    if (!DerivationTree::is_final(top) || !owned_slots(top.cap(), first)) {
        bool final = DerivationTree::is_final(top);
        Capability cap = top.cap();
        unlink_slot(top);
        if (final) {
            finalise_leaf(cap);
        }
        return;
    }
    // The final capability to an object that owns slots: empty them without recursion.
    Capability top_cap = top.cap();
    unlink_slot(top);
    if (top_cap.type() == CapType::kTcb) {
        finalise_leaf(top_cap);  // stop the thread before its slots go
    }
    ZombieAccess::store(top, first);
    Cte* zombie_slot = &top;
    uint64_t index = 0;
    for (;;) {
        Zombie z = ZombieAccess::load(*zombie_slot);
        Cte* slots = object_at<Cte>(z.slots);
        bool descended = false;
        for (; index < z.count; ++index) {
            Cte& s = slots[index];
            // A zombie here is an ancestor on our own path (a cycle): its walk clears it.
            if (s.is_empty() || is_zombie(s.cap())) {
                continue;
            }
            Zombie inner;
            bool final = DerivationTree::is_final(s);
            Capability cap = s.cap();
            if (final && owned_slots(cap, inner) && !on_zombie_path(zombie_slot, inner.object)) {
                unlink_slot(s);
                if (cap.type() == CapType::kTcb) {
                    finalise_leaf(cap);
                }
                inner.parent = zombie_slot;
                ZombieAccess::store(s, inner);
                zombie_slot = &s;
                index = 0;
                descended = true;
                break;
            }
            unlink_slot(s);
            if (final && !owned_slots(cap, inner)) {
                finalise_leaf(cap);
            }
        }
        if (descended) {
            continue;
        }
        // This zombie's slots are empty: the object is destroyed. Return to the parent.
        Cte* parent = z.parent;
        Cte* finished = zombie_slot;
        ZombieAccess::clear(*finished);
        if (parent == nullptr) {
            return;
        }
        Zombie p = ZombieAccess::load(*parent);
        index = static_cast<uint64_t>(finished - object_at<Cte>(p.slots)) + 1;
        zombie_slot = parent;
    }
}

bool deletion_may_cascade(const Cte& slot) {
    Zombie owned;
    return !slot.is_empty() && DerivationTree::is_final(slot) && owned_slots(slot.cap(), owned);
}

bool revoke_capability(Cte& slot) {
    while (Cte* child = DerivationTree::first_child(slot)) {
        delete_capability(*child);
        // Preemption point: a revoke may delete any number of capabilities.
        if (arch::interrupt_pending() && DerivationTree::first_child(slot) != nullptr) {
            return false;
        }
    }
    return true;
}

}  // namespace tessera
