// Capability deletion with zombies (see capability_delete.hpp and core/zombie.hpp). The final
// capability to a CNode or TCB becomes a zombie in place - still in its slot and in the
// derivation tree, so the object's memory stays claimed - and its slots are emptied from the
// last down. A final capability to another CNode or TCB found there becomes a zombie in turn,
// linked to its parent, and the walk goes down into it; emptied zombies are cleared on the way
// back up. Every step is O(1) apart from skipping empty slots, and a preemption point follows
// each step, the progress being kept in the zombies themselves: the whole deletion is linear
// in the slots it empties and never blocks interrupts for long.
// A cycle (the starting slot inside an object being destroyed) is unwound one object a step.
// Invariants: every capability reachable from a zombie's slots is deleted exactly once; no
// object's memory is released (its zombie leaves the tree) while a live zombie lies inside it,
// except within one O(1) step that moves that zombie out first.
#include "core/capability_delete.hpp"

#include "arch/cpu.hpp"
#include "base/assert.hpp"
#include "core/ipc.hpp"
#include "core/kernel_memory.hpp"
#include "core/thread_switch.hpp"
#include "core/zombie.hpp"
#include "object/irq_handler.hpp"
#include "object/tcb.hpp"
#include "object/vspace.hpp"

namespace tessera {
namespace {

// Empty slots skipped between preemption points (a 2^24-slot CNode is 16 million of them).
constexpr uint64_t kEmptySlotsPerCheck = 256;
// Parent links followed for the price of one step of a deletion (see delete_capability).
constexpr uint64_t kClimbLevelsPerStep = 16;

bool is_zombie(const Capability& c) {
    return c.type() == CapType::kZombie;
}

Zombie load(const Cte& slot) {
    return zombie_of(slot.cap());
}

void store(Cte& slot, const Zombie& z) {
    slot.update_cap(zombie_capability(z));
}

Cte* slot_at(uint64_t physical) {
    return object_at<Cte>(PhysAddr(physical));
}

uint64_t address_of(const Cte& slot) {
    return physical_address_of(&slot).value();
}

Cte* slots_of(const Zombie& z) {
    return z.tcb ? &object_at<Tcb>(z.object)->cspace_root : object_at<Cte>(z.object);
}

}  // namespace

// Remembers where a zombie's leftover is. Every slot above it is empty by then, and a zombie's
// slots are reachable by no one but the deletion, so the last slot's unused tree link can hold
// the index (the leftover itself, if it is the last slot, needs no note).
class ZombieAccess {
  public:
    static void note_leftover(Cte* slots, uint64_t count, uint64_t index) {
        if (index + 1 < count) {
            slots[count - 1].prev_ = reinterpret_cast<Cte*>(index + 1);
        }
    }
    static Cte* leftover(Cte* slots, uint64_t count) {
        Cte& last = slots[count - 1];
        if (!last.is_empty()) {
            return &last;
        }
        auto index = reinterpret_cast<uintptr_t>(last.prev_);
        return index == 0 || index > count - 1 ? nullptr : &slots[index - 1];
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

bool owns_slots(const Capability& cap) {
    return cap.type() == CapType::kCNode || cap.type() == CapType::kTcb;
}

// The final capability in slot, to a CNode or TCB, becomes a zombie with all its slots still to
// empty. A thread stops before its slots go.
void make_zombie(Cte& slot, bool top, uint64_t parent) {
    const Capability cap = slot.cap();
    Zombie z;
    z.object = cap.object();
    z.tcb = cap.type() == CapType::kTcb;
    z.radix = z.tcb ? 0 : cap.cnode_radix();
    z.remaining = z.count();
    z.top = top;
    z.link = parent;
    if (z.tcb) {
        finalise_leaf(cap);
    }
    store(slot, z);
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

// The deletion started at top came back to it with nothing left but a cycle: top's array holds
// one waiting zombie, whose array holds the next, ..., whose array holds top's slot itself.
// Each lies inside the previous one's object, so none could be released while the next waits
// inside it. The cycle is unwound one zombie a step instead: the zombie at top is released and
// the next one moves into top's slot (outside the object just freed), until the zombie at top
// holds nothing but top's slot: it then goes too. Each step is O(1) and a preemption point; a
// waiting zombie at top marks a deletion in this phase. False if it stopped at a preemption.
// The first `credit` steps ignore preemption points (see walk).
bool break_cycle(Cte& top, uint64_t credit) {
    for (;;) {
        Zombie head = load(top);
        Cte* next = ZombieAccess::leftover(slots_of(head), head.count());
        if (next == nullptr || next == &top || next->is_empty()) {
            DerivationTree::remove(top);  // nothing is left inside it but (at most) itself
            return true;
        }
        TESSERA_ASSERT(is_zombie(next->cap()));
        Zombie moved = load(*next);
        Cte* after = ZombieAccess::leftover(slots_of(moved), moved.count());
        moved.top = true;
        moved.waiting = true;
        moved.link = 0;
        // Released first: next lies in the head's object, read before anything can reuse it.
        DerivationTree::remove(top);
        DerivationTree::move(*next, top, zombie_capability(moved));
        if (after != nullptr && after != &top && !after->is_empty()) {
            Zombie a = load(*after);  // its parent is now the zombie at top
            a.link = address_of(top);
            store(*after, a);
        }
        if (credit > 0) {
            --credit;
        } else if (arch::interrupt_pending()) {
            return false;
        }
    }
}

// Empties the zombie at top and everything below it; false if it stopped at a preemption point
// (top's cursor then names the zombie to go on in). The first `credit` steps ignore preemption
// points: a caller that first climbed to top pays for the climb with as much progress.
bool walk(Cte& top, uint64_t credit) {
    Zombie t = load(top);
    if (t.waiting) {
        return break_cycle(top, credit);  // emptied already: only its cycle is left to unwind
    }
    Cte* current = t.link != 0 ? slot_at(t.link) : &top;
    uint64_t skipped = 0;
    auto preempt = [&credit]() {
        if (credit > 0) {
            --credit;
            return false;
        }
        return arch::interrupt_pending();
    };
    for (;;) {
        Zombie z = load(*current);
        Cte* slots = slots_of(z);
        bool descended = false;
        while (z.remaining > 0) {
            Cte& s = slots[z.remaining - 1];
            bool stop = false;
            if (s.is_empty()) {
                --z.remaining;
                stop = ++skipped % kEmptySlotsPerCheck == 0 && preempt();
            } else if (is_zombie(s.cap())) {
                Zombie inner = load(s);
                if (&s == &top || inner.waiting) {
                    z.has_leftover = true;  // part of the cycle back to top: cleared with it
                    ZombieAccess::note_leftover(slots, z.count(), z.remaining - 1);
                    --z.remaining;
                    stop = preempt();  // coming back up a long cycle is a step per level
                } else {
                    // A zombie of ours we stopped below, or the start of another deletion that
                    // was preempted: either way its object goes with this one.
                    inner.top = false;
                    inner.link = address_of(*current);
                    store(s, inner);
                    descended = true;
                }
            } else if (owns_slots(s.cap()) && DerivationTree::is_final(s)) {
                make_zombie(s, false, address_of(*current));
                descended = true;
            } else {
                bool final = DerivationTree::is_final(s);
                Capability cap = s.cap();
                unlink_slot(s);
                if (final) {
                    finalise_leaf(cap);
                }
                --z.remaining;
                stop = preempt();
            }
            if (descended || stop) {
                store(*current, z);
                if (descended) {
                    current = &s;
                    // Going down is a step too: a chain of CNodes, each holding the next in
                    // its last slot, would otherwise be descended with interrupts masked.
                    if (!preempt()) {
                        break;
                    }
                }
                t = load(top);
                t.link = current == &top ? 0 : address_of(*current);
                store(top, t);
                return false;
            }
        }
        if (descended) {
            continue;
        }
        // Every slot is empty, or holds the cycle's leftover.
        if (z.has_leftover) {
            if (current == &top) {
                z.waiting = true;
                store(top, z);
                return break_cycle(top, credit);
            }
            // Its parent is needed no more (nothing walks a waiting zombie again): from now on
            // it links to top, so a revoke reaching it climbs in one hop.
            Cte* up = slot_at(z.link);
            z.waiting = true;
            z.link = address_of(top);
            store(*current, z);
            current = up;
            continue;
        }
        Cte* parent = current == &top ? nullptr : slot_at(z.link);
        DerivationTree::remove(*current);  // the object is destroyed: its memory is free
        if (parent == nullptr) {
            return true;
        }
        current = parent;
    }
}

}  // namespace

bool delete_capability(Cte& slot) {
    if (slot.is_empty()) {
        return true;
    }
    if (is_zombie(slot.cap())) {
        // A deletion that stopped: go on from where it started (an inner zombie is reached only
        // through the derivation tree, by revoking the untyped its object came from).
        Cte* top = &slot;
        uint64_t climbed = 0;
        for (Zombie z = load(*top); !z.top; z = load(*top)) {
            top = slot_at(z.link);
            ++climbed;
        }
        // A climb costs a few instructions a level, a step a few hundred: without the credit a
        // revoke restarted at every tick would climb again each time and barely move.
        return walk(*top, climbed / kClimbLevelsPerStep);
    }
    if (!owns_slots(slot.cap()) || !DerivationTree::is_final(slot)) {
        bool final = DerivationTree::is_final(slot);
        Capability cap = slot.cap();
        unlink_slot(slot);
        if (final) {
            finalise_leaf(cap);
        }
        return true;
    }
    make_zombie(slot, true, 0);
    return walk(slot, 0);
}

bool deletion_may_cascade(const Cte& slot) {
    return !slot.is_empty() &&
           (is_zombie(slot.cap()) || (owns_slots(slot.cap()) && DerivationTree::is_final(slot)));
}

bool revoke_capability(Cte& slot) {
    while (Cte* child = DerivationTree::first_child(slot)) {
        if (!delete_capability(*child)) {
            return false;
        }
        // Preemption point: a revoke may delete any number of capabilities.
        if (arch::interrupt_pending() && DerivationTree::first_child(slot) != nullptr) {
            return false;
        }
    }
    return true;
}

}  // namespace tessera
