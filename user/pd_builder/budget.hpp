// A PD's memory budgets as the builder fills them: a Carver makes objects from one budget (one
// block of the creator's untyped allocator) into creator slots it records in the budget, and
// release takes everything back. Invariant: every capability a build creates is in a slot some
// budget records, so releasing the budgets leaves nothing of the PD behind.
#pragma once

#include <cstdint>

#include "abi/object_type.hpp"
#include "base/result.hpp"
#include "pd/build_error.hpp"
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

inline SpawnError out_of_slots(SpawnStep step) {
    return SpawnError::kernel(step, abi::Error::kNotEnoughMemory);
}

class Carver {
  public:
    Carver(BuilderEnvironment& env, Budget& budget) : env_(env), budget_(budget) {}

    // Takes the budget itself, a block of the environment's untyped memory.
    Result<void, SpawnError> reserve(unsigned bits);

    // A root slot recorded in this budget; `copies` marks a slot for a capability derived from
    // the creator's rather than from the budget (0: no slot).
    uint64_t slot(bool copies = false);
    // Records creator slots [start, end) in the budget (false: no room to record them).
    bool record(uint64_t start, uint64_t end, bool copies);

    // `count` objects in consecutive slots with one retype; returns the first slot.
    Result<uint64_t, SpawnError> make_many(abi::ObjectType type, uint64_t size_bits, uint64_t count,
                                           SpawnStep step);
    Result<uint64_t, SpawnError> make(abi::ObjectType type, uint64_t size_bits, SpawnStep step) {
        return make_many(type, size_bits, 1, step);
    }

    struct Run {
        uint64_t first;
        uint64_t count;
    };
    // Up to `most` objects of a fixed-size type with one retype: as many as the longest run of
    // free slots up to `most` allows.
    Result<Run, SpawnError> make_run(abi::ObjectType type, uint64_t most, SpawnStep step);

    // A copy of the creator's capability at source, in a recorded slot.
    Result<uint64_t, SpawnError> copy(uint64_t source, SpawnStep step);

  private:
    // Retypes count objects into the allocated slots first.. (recorded, or freed on failure).
    Result<uint64_t, SpawnError> retype_into(abi::ObjectType type, uint64_t size_bits,
                                             uint64_t first, uint64_t count, SpawnStep step);

    BuilderEnvironment& env_;
    Budget& budget_;
};

// Deletes the budget's copies, revokes its untyped (destroying every object made from it) and
// frees its slots; the budget is empty afterwards.
void release(BuilderEnvironment& env, Budget& budget);

}  // namespace tessera
