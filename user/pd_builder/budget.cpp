// Budgets (budget.hpp): objects carved from one untyped block into bookkeeping slots.
#include "budget.hpp"

namespace tessera {

using abi::CapPtr;
using abi::kWordBits;
using abi::ObjectType;

Result<void, SpawnError> Carver::reserve(unsigned bits) {
    budget_.bits = bits;
    budget_.untyped = env_.memory->allocate(bits);
    if (budget_.untyped == 0) {
        return fail(SpawnError::kernel(SpawnStep::kBudget, abi::Error::kNotEnoughMemory));
    }
    return {};
}

Result<void, SpawnError> Carver::make_book(unsigned radix, uint64_t first) {
    auto node = env_.book->make_node(budget_.untyped, radix);
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

Result<CapPtr, SpawnError> Carver::make_many(ObjectType type, uint64_t size_bits, uint64_t count,
                                             SpawnStep step) {
    const CapPtr first = TRY(reserve_slots(count, step));
    const uint64_t index = first.value() & ((uint64_t{1} << book_.radix) - 1);
    TRY(checked(untyped_retype(CapPtr(budget_.untyped), type, size_bits, root_of(env_),
                               BookkeepingSpace::node_index(book_.node),
                               BookkeepingSpace::kNodeDepth, index, count),
                step));
    return first;
}

Result<void, SpawnError> Carver::make_at(ObjectType type, uint64_t size_bits, uint64_t index,
                                         SpawnStep step) {
    return checked(untyped_retype(CapPtr(budget_.untyped), type, size_bits, root_of(env_),
                                  BookkeepingSpace::node_index(book_.node),
                                  BookkeepingSpace::kNodeDepth, index, 1),
                   step);
}

Result<CapPtr, SpawnError> Carver::copy(CapPtr source, uint64_t rights, SpawnStep step) {
    const CapPtr s = TRY(reserve_slots(1, step));
    const CapPtr root = root_of(env_);
    TRY(checked(cnode_copy(root, s.value(), kWordBits, root, source.value(), kWordBits, rights),
                step));
    return s;
}

void release(BuilderEnvironment& env, Budget& budget) {
    env.memory->free(budget.untyped);  // revokes every object of the budget
    if (budget.node != 0) {
        env.book->free_node(budget.node);  // its CNode went with the revoke
    }
    budget = Budget{};
}

}  // namespace tessera
