// The capabilities a PD is given, in two steps: staging makes every copy and mint that could be
// refused (in the creator's own slots for exec, while the PD still runs its old image; straight
// into the child for a new PD), and placing moves them into the child's CNode. Invariant: after
// a successful stage, placing can be refused only by a bug of the builder, so exec commits
// between the two.
#pragma once

#include <cstddef>
#include <cstdint>

#include "abi/capability_pointer.hpp"
#include "base/result.hpp"
#include "image_builder.hpp"
#include "pd/build_plan.hpp"
#include "tessera/pd_builder.hpp"

namespace tessera {

struct Staged {
    struct One {
        uint64_t from = 0;  // creator slot holding the staged copy
        uint64_t to = 0;    // child slot
    };
    static constexpr size_t kMaxOnes = pd::kMaxGrants + 5;
    One ones[kMaxOnes];
    size_t count = 0;
    struct Run {
        uint64_t from = 0;
        uint64_t to = 0;
        uint64_t count = 0;
    };
    Run runs[pd::kMaxBulk];
    size_t run_count = 0;
    // A new PD: nothing of it runs yet, so copies go straight into its slots (no moves later;
    // a failed spawn destroys the PD with them).
    bool direct = false;
    abi::CapPtr child;
    unsigned child_radix = 0;
};

// Copies (or mints, with a badge) the creator's capability at src into the child's slot.
Result<void, SpawnError> give(const BuilderEnvironment& env, const PdHandle& pd, uint64_t slot,
                              uint64_t src, uint64_t rights, uint64_t badge);

// Everything the configuration copies or mints into the child, staged (or, for a new PD, put
// straight in). On failure nothing stays staged.
Result<void, SpawnError> stage_caps(const BuilderEnvironment& env, const PdHandle& pd,
                                    const pd::BuildPlan& plan, const Image& image,
                                    const PdConfig& config, Staged& staged);

// Moves the staged copies into the child, then the move grants and the given frames. A slot
// already occupied is one exec keeps (its declared channels): the staged copy goes and the slot
// keeps what it has. Any other refusal is the first error returned, after every move was tried.
Result<void, SpawnError> place_staged(const BuilderEnvironment& env, const PdHandle& pd,
                                      const pd::BuildPlan& plan, const Image& image,
                                      const PdConfig& config, Staged& staged);

}  // namespace tessera
