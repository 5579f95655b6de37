// Budgets (budget.hpp): objects carved from one untyped block into bookkeeping slots.
#include "budget.hpp"

namespace tessera {

using abi::CapPtr;
using abi::kWordBits;
using abi::ObjectType;

Result<void, SpawnError> Carver::reserve(uint64_t bytes) {
    budget_.blocks = pd::budget_blocks(bytes, env_.memory->min_bits());
    for (unsigned i = 0; i < budget_.blocks.count; ++i) {
        budget_.untyped[i] = env_.memory->allocate(budget_.blocks.bits[i]);
        if (budget_.untyped[i] == 0) {
            return fail(SpawnError::kernel(SpawnStep::kBudget, abi::Error::kNotEnoughMemory));
        }
    }
    budget_.fill = pd::BlockFill(budget_.blocks);
    return {};
}

Result<void, SpawnError> Carver::make_book(unsigned radix, uint64_t first) {
    // The first (largest) block with room for it: a node is made from one untyped.
    const auto at = budget_.fill.place(abi::object_bytes_bits(ObjectType::kCNode, radix), 1);
    if (at.chunk_count != 1) {
        return fail(out_of_memory(SpawnStep::kBudget));
    }
    auto node = env_.book->make_node(budget_.untyped[at.chunks[0].block], radix);
    if (!node) {
        return fail(SpawnError::kernel(SpawnStep::kBudget, node.error()));
    }
    budget_.node = node.value();
    budget_.radix = radix;
    budget_.next = first;
    return {};
}

Result<CapPtr, SpawnError> Carver::reserve_slots(uint64_t count, SpawnStep step) {
    if (book_.node == 0 || count > (uint64_t{1} << book_.radix) - book_.next) {
        return fail(out_of_memory(step));  // the plan counted fewer: a bug of the builder
    }
    const uint64_t first = book_.next;
    book_.next += count;
    return BookkeepingSpace::slot(book_.node, first);
}

Result<void, SpawnError> Carver::retype(ObjectType type, uint64_t size_bits, uint64_t index,
                                        uint64_t count, SpawnStep step) {
    const auto placed = budget_.fill.place(abi::object_bytes_bits(type, size_bits), count);
    if (placed.chunk_count == 0) {
        return fail(out_of_memory(step));  // the plan counted less: a bug of the builder
    }
    for (unsigned c = 0; c < placed.chunk_count; ++c) {
        const auto& chunk = placed.chunks[c];
        TRY(checked(untyped_retype(CapPtr(budget_.untyped[chunk.block]), type, size_bits,
                                   root_of(env_), BookkeepingSpace::node_index(book_.node),
                                   BookkeepingSpace::kNodeDepth, index, chunk.count),
                    step));
        index += chunk.count;
    }
    return {};
}

Result<CapPtr, SpawnError> Carver::make_many(ObjectType type, uint64_t size_bits, uint64_t count,
                                             SpawnStep step) {
    const CapPtr first = TRY(reserve_slots(count, step));
    const uint64_t index = first.value() & ((uint64_t{1} << book_.radix) - 1);
    TRY(retype(type, size_bits, index, count, step));
    return first;
}

Result<void, SpawnError> Carver::make_into(CapPtr first, ObjectType type, uint64_t size_bits,
                                           uint64_t count, SpawnStep step) {
    const uint64_t index = first.value() & ((uint64_t{1} << book_.radix) - 1);
    return retype(type, size_bits, index, count, step);
}

Result<void, SpawnError> Carver::make_at(ObjectType type, uint64_t size_bits, uint64_t index,
                                         SpawnStep step) {
    return retype(type, size_bits, index, 1, step);
}

Result<CapPtr, SpawnError> Carver::copy(CapPtr source, uint64_t rights, SpawnStep step) {
    const CapPtr s = TRY(reserve_slots(1, step));
    const CapPtr root = root_of(env_);
    TRY(checked(cnode_copy(root, s.value(), kWordBits, root, source.value(), kWordBits, rights),
                step));
    return s;
}

void release(BuilderEnvironment& env, Budget& budget) {
    for (uint64_t block : budget.untyped) {
        env.memory->free(block);  // revokes every object of the block (0: none)
    }
    if (budget.node != 0) {
        env.book->free_node(budget.node);  // its CNode went with the revoke
    }
    budget = Budget{};
}

}  // namespace tessera
