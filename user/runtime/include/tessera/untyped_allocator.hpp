// Untyped memory for a program that makes objects: large untypeds (pools, at most two) split
// buddy-style into power-of-two child untypeds on demand (alloc/buddy_tree.hpp), so each user (a
// PD's budget block, a page table, an endpoint) gets its own block and returning it - a revoke -
// makes it reusable at once. A plain untyped only becomes reusable when every child is gone;
// this keeps long-running creators (controllers) from running dry. Two pools let a creator use
// more memory than the largest power of two that fits in RAM.
#pragma once

#include <cstdint>

#include "abi/capability_pointer.hpp"
#include "alloc/buddy_tree.hpp"
#include "alloc/slot_allocator.hpp"

namespace tessera {

class UntypedAllocator {
  public:
    static constexpr unsigned kMinBits = 12;
    static constexpr unsigned kMaxDepth = 14;  // 16,384 blocks: 64 MiB in 4 KiB blocks, or more
                                               // in larger ones
    static constexpr unsigned kMaxPools = 2;

    // pool: an untyped of 2^bits with no children, in cnode (addressed with depth 64), handed
    // out in blocks of 2^min_bits and up (bits - min_bits <= kMaxDepth; a larger pool is used
    // in part). Halves get slots from `slots`.
    bool init(abi::CapPtr cnode, uint64_t pool, unsigned bits, SlotAllocator* slots,
              unsigned min_bits = kMinBits);
    // A second pool of 2^bits (after init), blocks of the same minimum.
    bool add_pool(uint64_t pool, unsigned bits);

    // The slot of a fresh untyped of 2^bits, or 0 when there is no such block.
    uint64_t allocate(unsigned bits);
    // Revokes every object made from the block at slot and returns the block.
    void free(uint64_t slot);

    [[nodiscard]] uint64_t free_bytes() const;
    [[nodiscard]] uint64_t size() const;
    [[nodiscard]] unsigned min_bits() const { return min_bits_; }
    // True when every block has come back: the free blocks are merged (freed blocks are merged
    // lazily, when a larger one is wanted) and no pool has children.
    [[nodiscard]] bool whole();
    [[nodiscard]] abi::CapPtr cnode() const { return cnode_; }

  private:
    friend struct UntypedBackend;
    using Tree = alloc::BuddyTree<kMaxDepth>;

    struct Pool {
        unsigned bits = 0;
        Tree tree;
        uint16_t slot_of_node[Tree::kNodes] = {};
    };
    bool set_up(Pool& pool, uint64_t untyped, unsigned bits);

    abi::CapPtr cnode_;
    unsigned min_bits_ = 0;  // set by init; zero here keeps a static allocator in .bss
    SlotAllocator* slots_ = nullptr;
    Pool pools_[kMaxPools];
    unsigned pool_count_ = 0;
    // For allocated blocks only: the node and the pool (high bit) of a slot.
    uint16_t node_of_slot_[SlotAllocator::kMaxSlots] = {};
    uint8_t pool_of_slot_[SlotAllocator::kMaxSlots] = {};
};

}  // namespace tessera
