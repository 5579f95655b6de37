// Budgets (budget.hpp): objects carved from one untyped block into recorded creator slots.
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

uint64_t Carver::slot(bool copies) {
    const uint64_t s = env_.slots->allocate();
    if (s == 0) {
        return 0;
    }
    if (!record(s, s + 1, copies)) {
        env_.slots->free(s);
        return 0;
    }
    return s;
}

bool Carver::record(uint64_t start, uint64_t end, bool copies) {
    auto& ranges = budget_.slot_ranges;
    unsigned& n = budget_.slot_range_count;
    if (n > 0 && ranges[n - 1].end == start && ranges[n - 1].copies == copies) {
        ranges[n - 1].end = end;
    } else if (n < Budget::kMaxSlotRanges) {
        ranges[n++] = Budget::SlotRange{start, end, copies};
    } else {
        return false;
    }
    return true;
}

Result<uint64_t, SpawnError> Carver::make_many(ObjectType type, uint64_t size_bits, uint64_t count,
                                               SpawnStep step) {
    const uint64_t first = env_.slots->allocate_run(count);
    if (first == 0) {
        return fail(out_of_slots(step));
    }
    return retype_into(type, size_bits, first, count, step);
}

Result<Carver::Run, SpawnError> Carver::make_run(ObjectType type, uint64_t most, SpawnStep step) {
    uint64_t count = most;
    uint64_t first = env_.slots->allocate_run(count);
    while (first == 0 && count > 1) {
        count /= 2;
        first = env_.slots->allocate_run(count);
    }
    if (first == 0) {
        return fail(out_of_slots(step));
    }
    return Run{TRY(retype_into(type, 0, first, count, step)), count};
}

Result<uint64_t, SpawnError> Carver::retype_into(ObjectType type, uint64_t size_bits,
                                                 uint64_t first, uint64_t count, SpawnStep step) {
    if (!record(first, first + count, false)) {
        for (uint64_t s = first; s < first + count; ++s) {
            env_.slots->free(s);
        }
        return fail(out_of_slots(step));
    }
    TRY(checked(
        untyped_retype(CapPtr(budget_.untyped), type, size_bits, env_.cnode, 0, 0, first, count),
        step));
    return first;
}

Result<uint64_t, SpawnError> Carver::copy(uint64_t source, SpawnStep step) {
    const uint64_t s = slot(true);
    if (s == 0) {
        return fail(out_of_slots(step));
    }
    TRY(checked(
        cnode_copy(env_.cnode, s, kWordBits, env_.cnode, source, kWordBits, abi::kRightsAll),
        step));
    return s;
}

void release(BuilderEnvironment& env, Budget& budget) {
    // Copies first: a shared frame is unmapped from the VSpace before the VSpace goes.
    for (unsigned i = 0; i < budget.slot_range_count; ++i) {
        if (budget.slot_ranges[i].copies) {
            for (uint64_t s = budget.slot_ranges[i].start; s < budget.slot_ranges[i].end; ++s) {
                (void)cnode_delete(env.cnode, s, kWordBits);
            }
        }
    }
    env.memory->free(budget.untyped);  // revokes every object of the budget
    for (unsigned i = 0; i < budget.slot_range_count; ++i) {
        for (uint64_t s = budget.slot_ranges[i].start; s < budget.slot_ranges[i].end; ++s) {
            env.slots->free(s);
        }
    }
    budget = Budget{};
}

}  // namespace tessera
