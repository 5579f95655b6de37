// The buddy untyped allocator (see tessera/untyped_allocator.hpp): splitting is a retype of a
// block into its two halves; merging deletes the halves and revokes the block, which resets it.
#include "tessera/untyped_allocator.hpp"

#include "tessera/invocation.hpp"

namespace tessera {

constexpr uint64_t kDepth = abi::kWordBits;  // every slot of a single-level CSpace

struct UntypedBackend {
    UntypedAllocator& a;
    UntypedAllocator::Pool& p;

    bool split(size_t node, unsigned order) {
        uint64_t halves = a.slots_->allocate_run(2);
        if (halves == 0) {
            return false;
        }
        InvocationResult r =
            untyped_retype(abi::CapPtr(p.slot_of_node[node]), abi::ObjectType::kUntyped, order - 1,
                           a.cnode_, 0, 0, halves, 2);
        if (!r.ok()) {
            a.slots_->free(halves);
            a.slots_->free(halves + 1);
            return false;
        }
        p.slot_of_node[2 * node + 1] = static_cast<uint16_t>(halves);
        p.slot_of_node[2 * node + 2] = static_cast<uint16_t>(halves + 1);
        return true;
    }

    void merge(size_t node) {
        for (size_t half : {2 * node + 1, 2 * node + 2}) {
            (void)cnode_delete(a.cnode_, p.slot_of_node[half], kDepth);
            a.slots_->free(p.slot_of_node[half]);
            p.slot_of_node[half] = 0;
        }
        // With no children left the block is reset (its watermark back at the start).
        (void)cnode_revoke(a.cnode_, p.slot_of_node[node], kDepth);
    }
};

bool UntypedAllocator::set_up(Pool& pool, uint64_t untyped, unsigned bits) {
    if (bits < min_bits_ || untyped == 0 || untyped >= SlotAllocator::kMaxSlots) {
        return false;
    }
    // A pool larger than the tree covers is used only in part: its first
    // 2^(min + depth) bytes, as one child untyped.
    pool.bits = bits - min_bits_ > kMaxDepth ? min_bits_ + kMaxDepth : bits;
    uint64_t root = untyped;
    if (pool.bits != bits) {
        root = slots_->allocate();
        if (root == 0 || !untyped_retype(abi::CapPtr(untyped), abi::ObjectType::kUntyped, pool.bits,
                                         cnode_, 0, 0, root, 1)
                              .ok()) {
            slots_->free(root);
            return false;
        }
    }
    pool.slot_of_node[0] = static_cast<uint16_t>(root);
    return pool.tree.init(pool.bits, min_bits_);
}

bool UntypedAllocator::init(abi::CapPtr cnode, uint64_t pool, unsigned bits, SlotAllocator* slots,
                            unsigned min_bits) {
    if (min_bits < kMinBits) {
        return false;
    }
    cnode_ = cnode;
    slots_ = slots;
    min_bits_ = min_bits;
    pool_count_ = 0;
    if (!set_up(pools_[0], pool, bits)) {
        return false;
    }
    pool_count_ = 1;
    return true;
}

bool UntypedAllocator::add_pool(uint64_t pool, unsigned bits) {
    if (pool_count_ == 0 || pool_count_ == kMaxPools || !set_up(pools_[pool_count_], pool, bits)) {
        return false;
    }
    ++pool_count_;
    return true;
}

uint64_t UntypedAllocator::allocate(unsigned bits) {
    for (unsigned i = 0; i < pool_count_; ++i) {
        Pool& p = pools_[i];
        UntypedBackend backend{*this, p};
        size_t node = p.tree.allocate(bits < min_bits_ ? min_bits_ : bits, backend);
        if (node == Tree::kNone) {
            continue;
        }
        uint64_t slot = p.slot_of_node[node];
        node_of_slot_[slot] = static_cast<uint16_t>(node);
        pool_of_slot_[slot] = static_cast<uint8_t>(i);
        return slot;
    }
    return 0;
}

void UntypedAllocator::free(uint64_t slot) {
    if (slot == 0 || slot >= SlotAllocator::kMaxSlots || pool_of_slot_[slot] >= pool_count_) {
        return;
    }
    Pool& p = pools_[pool_of_slot_[slot]];
    size_t node = node_of_slot_[slot];
    if (!p.tree.is_allocated(node) || p.slot_of_node[node] != slot) {
        return;
    }
    while (!cnode_revoke(cnode_, slot, kDepth).ok()) {
    }
    node_of_slot_[slot] = 0;
    UntypedBackend backend{*this, p};
    p.tree.free(node, backend);
}

bool UntypedAllocator::whole() {
    bool all = true;
    for (unsigned i = 0; i < pool_count_; ++i) {
        UntypedBackend backend{*this, pools_[i]};
        (void)pools_[i].tree.compact(backend);
        all = all && pools_[i].tree.whole();
    }
    return all;
}

uint64_t UntypedAllocator::free_bytes() const {
    uint64_t bytes = 0;
    for (unsigned i = 0; i < pool_count_; ++i) {
        bytes += pools_[i].tree.free_bytes();
    }
    return bytes;
}

uint64_t UntypedAllocator::size() const {
    uint64_t bytes = 0;
    for (unsigned i = 0; i < pool_count_; ++i) {
        bytes += uint64_t{1} << pools_[i].bits;
    }
    return bytes;
}

}  // namespace tessera
