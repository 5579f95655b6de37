// The buddy untyped allocator (see tessera/untyped_allocator.hpp): splitting is a retype of a
// block into its two halves; merging deletes the halves and revokes the block, which resets it.
#include "tessera/untyped_allocator.hpp"

#include "tessera/invocation.hpp"

namespace tessera {

constexpr uint64_t kDepth = abi::kWordBits;  // every slot of a single-level CSpace

struct UntypedBackend {
    UntypedAllocator& a;

    bool split(size_t node, unsigned order) {
        uint64_t halves = a.slots_->allocate_run(2);
        if (halves == 0) {
            return false;
        }
        InvocationResult r =
            untyped_retype(abi::CapPtr(a.slot_of_node_[node]), abi::ObjectType::kUntyped, order - 1,
                           a.cnode_, 0, 0, halves, 2);
        if (!r.ok()) {
            a.slots_->free(halves);
            a.slots_->free(halves + 1);
            return false;
        }
        a.slot_of_node_[2 * node + 1] = static_cast<uint16_t>(halves);
        a.slot_of_node_[2 * node + 2] = static_cast<uint16_t>(halves + 1);
        return true;
    }

    void merge(size_t node) {
        for (size_t half : {2 * node + 1, 2 * node + 2}) {
            (void)cnode_delete(a.cnode_, a.slot_of_node_[half], kDepth);
            a.slots_->free(a.slot_of_node_[half]);
            a.slot_of_node_[half] = 0;
        }
        // With no children left the block is reset (its watermark back at the start).
        (void)cnode_revoke(a.cnode_, a.slot_of_node_[node], kDepth);
    }
};

bool UntypedAllocator::init(abi::CapPtr cnode, uint64_t pool, unsigned bits, SlotAllocator* slots,
                            unsigned min_bits) {
    if (min_bits < kMinBits || bits < min_bits || pool >= SlotAllocator::kMaxSlots) {
        return false;
    }
    // A pool larger than the tree covers is used only in part: its first
    // 2^(min + depth) bytes, as one child untyped.
    cnode_ = cnode;
    slots_ = slots;
    bits_ = bits - min_bits > kMaxDepth ? min_bits + kMaxDepth : bits;
    uint64_t root = pool;
    if (bits_ != bits) {
        root = slots->allocate();
        if (root == 0 || !untyped_retype(abi::CapPtr(pool), abi::ObjectType::kUntyped, bits_, cnode,
                                         0, 0, root, 1)
                              .ok()) {
            return false;
        }
    }
    slot_of_node_[0] = static_cast<uint16_t>(root);
    min_bits_ = min_bits;
    return tree_.init(bits_, min_bits);
}

uint64_t UntypedAllocator::allocate(unsigned bits) {
    UntypedBackend backend{*this};
    size_t node = tree_.allocate(bits < min_bits_ ? min_bits_ : bits, backend);
    if (node == Tree::kNone) {
        return 0;
    }
    uint64_t slot = slot_of_node_[node];
    node_of_slot_[slot] = static_cast<uint16_t>(node);
    return slot;
}

bool UntypedAllocator::whole() {
    UntypedBackend backend{*this};
    (void)tree_.compact(backend);
    return tree_.whole();
}

void UntypedAllocator::free(uint64_t slot) {
    if (slot == 0 || slot >= SlotAllocator::kMaxSlots) {
        return;
    }
    size_t node = node_of_slot_[slot];
    if (!tree_.is_allocated(node) || slot_of_node_[node] != slot) {
        return;
    }
    while (!cnode_revoke(cnode_, slot, kDepth).ok()) {
    }
    node_of_slot_[slot] = 0;
    UntypedBackend backend{*this};
    tree_.free(node, backend);
}

}  // namespace tessera
