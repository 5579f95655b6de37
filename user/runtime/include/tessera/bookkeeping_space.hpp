// A creator's CSpace in two levels, so that one creator can keep the capabilities of thousands
// of PDs without spending its own slots on them. The thread's root becomes a top CNode whose
// slot 0 holds its old single-level CNode (with the guard that keeps slot n at CapPtr(n), so no
// existing capability pointer changes) and whose other slots hold bookkeeping CNodes, one per
// built image, each holding every capability of that PD (its frames, tables, VSpace, TCB, CNode
// and copies). A bookkeeping slot is reached through the top 13 bits:
//
//   CapPtr(node << 51 | index)   -> slot `index` of bookkeeping CNode `node` (1 to 8191)
//
// Invariant: CapPtr(n) for n below 2^radix of the old CNode still names its slot n, and every
// lookup takes two levels at most.
#pragma once

#include <cstdint>

#include "abi/capability_pointer.hpp"
#include "abi/error.hpp"
#include "abi/object_type.hpp"
#include "alloc/slot_allocator.hpp"
#include "base/result.hpp"

namespace tessera {

class BookkeepingSpace {
  public:
    static constexpr unsigned kTopRadix = 13;  // slot 0: the old CNode; 1 to 8191: nodes
    static constexpr unsigned kNodeBits = 64 - kTopRadix;  // a node's guard and radix take these
    static constexpr unsigned kTopBits = kTopRadix + abi::kSlotSizeBits;

    struct Adoption {
        abi::CapPtr tcb;                 // the calling thread's TCB
        abi::CapPtr cnode;               // its single-level root CNode (slot n at CapPtr(n))
        unsigned radix = 0;              // of that CNode
        abi::CapPtr vspace;              // its VSpace (kept)
        abi::CapPtr fault_endpoint;      // its fault endpoint (kept; 0: none)
        uint64_t top_untyped = 0;        // an untyped of at least 2^kTopBits, no children
        SlotAllocator* slots = nullptr;  // free slots of that CNode
    };

    // Makes the two-level CSpace and switches the calling thread to it. On failure the thread's
    // CSpace is as it was.
    Result<void, abi::Error> adopt(const Adoption& adoption);

    [[nodiscard]] bool adopted() const { return top_.value() != 0; }
    // A capability to the top CNode, in a slot of the old one: the root for CNode operations
    // that name bookkeeping slots (and old slots, at depth 64, alike).
    [[nodiscard]] abi::CapPtr root() const { return top_; }
    [[nodiscard]] abi::CapPtr cnode() const { return cnode_; }

    // Slot `index` of bookkeeping CNode `node`.
    static constexpr abi::CapPtr slot(uint64_t node, uint64_t index) {
        return abi::CapPtr(node << kNodeBits | index);
    }
    // The top slot of `node`, as a retype's destination CNode (index, depth) from root().
    static constexpr uint64_t node_index(uint64_t node) { return node; }
    static constexpr unsigned kNodeDepth = kTopRadix;

    // A bookkeeping CNode of 2^radix slots retyped from untyped (where it takes the next
    // 2^(radix + 5) bytes), in a free top slot; returns its node number.
    Result<uint64_t, abi::Error> make_node(uint64_t untyped, unsigned radix);
    // Forgets a node whose CNode is gone (revoked with its untyped) or deletes it.
    void free_node(uint64_t node);
    [[nodiscard]] uint64_t free_nodes() const { return nodes_.free_count(); }

  private:
    abi::CapPtr top_;
    abi::CapPtr cnode_;
    SlotAllocator* slots_ = nullptr;
    SlotAllocator nodes_;  // top slots for nodes
};

}  // namespace tessera
