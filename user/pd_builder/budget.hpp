// A PD's memory budgets as the builder fills them: a Carver makes objects from one budget (one
// block of the creator's untyped allocator) into the next slots of the image's bookkeeping
// CNode (tessera/bookkeeping_space.hpp), and release takes a budget back. Invariant: every
// capability a build creates lies in the bookkeeping CNode or is a descendant of a budget, so
// releasing the budgets leaves nothing of the PD behind and no creator slot in use.
#pragma once

#include <cstdint>

#include "abi/object_type.hpp"
#include "base/result.hpp"
#include "pd/build_error.hpp"
#include "tessera/bookkeeping_space.hpp"
#include "tessera/invocation.hpp"
#include "tessera/pd_builder.hpp"

namespace tessera {

// A kernel call's refusal as the builder's error at `step`: the one conversion, used with TRY.
inline Result<void, SpawnError> checked(const InvocationResult& r, SpawnStep step) {
    if (!r.ok()) {
        return fail(SpawnError::kernel(step, r.error));
    }
    return {};
}

// Ends a phase of the build's profile (when profiling).
inline void mark(const BuilderEnvironment& env, SpawnPhase phase) {
    if (env.profile != nullptr) {
        env.profile->mark(phase);
    }
}

inline SpawnError out_of_memory(SpawnStep step) {
    return SpawnError::kernel(step, abi::Error::kNotEnoughMemory);
}

// The root for CNode operations on the creator's slots and bookkeeping slots alike.
inline abi::CapPtr root_of(const BuilderEnvironment& env) {
    return env.book->root();
}

class Carver {
  public:
    // Objects from `budget`'s memory, their capabilities in `book`'s bookkeeping CNode (the
    // image's: the identity budget has none of its own).
    Carver(BuilderEnvironment& env, Budget& budget, Budget& book)
        : env_(env), budget_(budget), book_(book) {}

    // Takes the budget's memory: blocks of the environment's untyped allocator for `bytes`.
    Result<void, SpawnError> reserve(uint64_t bytes);
    // Makes the budget's bookkeeping CNode (of 2^radix slots) from its memory; its slots from
    // `first` on are handed out.
    Result<void, SpawnError> make_book(unsigned radix, uint64_t first);

    // `count` objects in consecutive bookkeeping slots with one retype; returns the first.
    Result<abi::CapPtr, SpawnError> make_many(abi::ObjectType type, uint64_t size_bits,
                                              uint64_t count, SpawnStep step);
    Result<abi::CapPtr, SpawnError> make(abi::ObjectType type, uint64_t size_bits, SpawnStep step) {
        return make_many(type, size_bits, 1, step);
    }
    // `count` objects into reserved bookkeeping slots from `first` on.
    Result<void, SpawnError> make_into(abi::CapPtr first, abi::ObjectType type, uint64_t size_bits,
                                       uint64_t count, SpawnStep step);
    // One object into a given bookkeeping slot (the identity's fixed slots).
    Result<void, SpawnError> make_at(abi::ObjectType type, uint64_t size_bits, uint64_t index,
                                     SpawnStep step);
    // `count` empty consecutive bookkeeping slots; returns the first.
    Result<abi::CapPtr, SpawnError> reserve_slots(uint64_t count, SpawnStep step);
    // A copy of the creator's capability at source (with rights), in a bookkeeping slot.
    Result<abi::CapPtr, SpawnError> copy(abi::CapPtr source, uint64_t rights, SpawnStep step);

  private:
    // Retypes count objects into bookkeeping slots from `index` on, from whichever blocks have
    // room (largest objects first keep the fill exact).
    Result<void, SpawnError> retype(abi::ObjectType type, uint64_t size_bits, uint64_t index,
                                    uint64_t count, SpawnStep step);

    BuilderEnvironment& env_;
    Budget& budget_;
    Budget& book_;
};

// Revokes the budget's blocks (destroying every object made from them, its bookkeeping CNode
// with every capability in it among them) and returns its memory; the budget is empty after.
void release(BuilderEnvironment& env, Budget& budget);

}  // namespace tessera
