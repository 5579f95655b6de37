// Staging and placing a PD's capabilities (capability_staging.hpp).
#include "capability_staging.hpp"

#include "abi/process.hpp"
#include "budget.hpp"

namespace tessera {
namespace {

using abi::CapPtr;
using abi::kWordBits;

constexpr SpawnStep kStep = SpawnStep::kCapabilities;

// Deletes every staged copy and frees its slot (a failed exec, or one a kept slot made moot).
void unstage(const BuilderEnvironment& env, Staged& staged) {
    for (size_t i = 0; i < staged.count; ++i) {
        (void)cnode_delete(root_of(env), staged.ones[i].from, kWordBits);
        env.slots->free(staged.ones[i].from);
    }
    for (size_t r = 0; r < staged.run_count; ++r) {
        for (uint64_t k = 0; k < staged.runs[r].count; ++k) {
            (void)cnode_delete(root_of(env), staged.runs[r].from + k, kWordBits);
            env.slots->free(staged.runs[r].from + k);
        }
    }
    staged = Staged{};
}

InvocationResult copy_or_mint(CapPtr dest_root, uint64_t dest, uint64_t dest_depth, CapPtr src_root,
                              uint64_t src, uint64_t rights, uint64_t data, bool mint) {
    return mint ? cnode_mint(dest_root, dest, dest_depth, src_root, src, kWordBits, rights, data)
                : cnode_copy(dest_root, dest, dest_depth, src_root, src, kWordBits, rights);
}

Result<void, SpawnError> stage_one(const BuilderEnvironment& env, Staged& staged, uint64_t to,
                                   uint64_t src, uint64_t rights, uint64_t data, bool mint) {
    if (staged.direct) {
        return checked(copy_or_mint(staged.child, to, staged.child_radix, root_of(env), src, rights,
                                    data, mint),
                       kStep);
    }
    if (staged.count == Staged::kMaxOnes) {
        return fail(out_of_memory(kStep));
    }
    const uint64_t from = env.slots->allocate();
    if (from == 0) {
        return fail(out_of_memory(kStep));
    }
    auto made = checked(
        copy_or_mint(root_of(env), from, kWordBits, root_of(env), src, rights, data, mint), kStep);
    if (!made) {
        env.slots->free(from);
        return made;
    }
    staged.ones[staged.count++] = Staged::One{from, to};
    return {};
}

// The bulk grant's capabilities, in the order the plan counted them.
Result<void, SpawnError> stage_bulk(const BuilderEnvironment& env, const BulkGrant& g, uint64_t to,
                                    uint64_t wanted, Staged& staged) {
    Staged::Run run;
    run.to = to;
    if (!staged.direct && wanted != 0) {
        run.from = env.slots->allocate_run(wanted);
        if (run.from == 0) {
            return fail(out_of_memory(kStep));
        }
    }
    Staged::Run* recorded = nullptr;
    if (!staged.direct) {
        recorded = &staged.runs[staged.run_count++];
        *recorded = run;  // count 0: unstage frees nothing yet
    }
    Result<void, SpawnError> copied;
    for (uint64_t s = g.first; s < g.end && run.count < wanted && copied.ok(); ++s) {
        if (cnode_identify(root_of(env), s, kWordBits).type != g.type) {
            continue;
        }
        copied = staged.direct
                     ? checked(cnode_copy(staged.child, run.to + run.count, staged.child_radix,
                                          root_of(env), s, kWordBits, g.rights),
                               kStep)
                     : checked(cnode_copy(root_of(env), run.from + run.count, kWordBits,
                                          root_of(env), s, kWordBits, g.rights),
                               kStep);
        if (copied.ok()) {
            ++run.count;
            if (recorded != nullptr) {
                recorded->count = run.count;
            }
        }
    }
    for (uint64_t k = run.count; !staged.direct && k < wanted; ++k) {
        env.slots->free(run.from + k);  // fewer than planned (or a refusal): not staged
    }
    return copied;
}

}  // namespace

Result<void, SpawnError> give(const BuilderEnvironment& env, const PdHandle& pd, uint64_t slot,
                              uint64_t src, uint64_t rights, uint64_t badge) {
    return checked(copy_or_mint(CapPtr(pd.cnode), slot, pd.radix, root_of(env), src, rights, badge,
                                badge != 0),
                   kStep);
}

Result<void, SpawnError> stage_caps(const BuilderEnvironment& env, const PdHandle& pd,
                                    const pd::BuildPlan& plan, const Image& image,
                                    const PdConfig& config, Staged& staged) {
    auto attempt = [&]() -> Result<void, SpawnError> {
        if (config.self_caps) {
            // The CNode with the guard that makes depth 64 reach its slots.
            TRY(stage_one(env, staged, abi::kPdSlotSelfCNode, pd.cnode, abi::kRightsAll,
                          kWordBits - pd.radix, true));
            TRY(stage_one(env, staged, abi::kPdSlotSelfVSpace, image.vspace, abi::kRightsAll, 0,
                          false));
            TRY(stage_one(env, staged, abi::kPdSlotSelfTcb, pd.tcb, abi::kRightsAll, 0, false));
        }
        if (config.console && env.console.value() != 0) {
            TRY(stage_one(env, staged, abi::kPdSlotConsole, env.console.value(), abi::kRightsAll, 0,
                          false));
        }
        if (config.debug && env.debug.value() != 0) {
            TRY(stage_one(env, staged, abi::kPdSlotDebug, env.debug.value(), abi::kRightsAll, 0,
                          false));
        }
        for (size_t i = 0; i < config.caps.size(); ++i) {
            const CapGrant& g = config.caps[i];
            if (!g.move) {
                TRY(stage_one(env, staged, plan.grant_slot[i], g.source, g.rights, g.badge,
                              g.badge != 0));
            }
        }
        for (size_t b = 0; b < config.bulk.size(); ++b) {
            TRY(stage_bulk(env, config.bulk[b], plan.bulk_slot[b], plan.bulk_count[b], staged));
        }
        return {};
    }();
    if (!attempt) {
        unstage(env, staged);
    }
    return attempt;
}

Result<void, SpawnError> place_staged(const BuilderEnvironment& env, const PdHandle& pd,
                                      const pd::BuildPlan& plan, const Image& image,
                                      const PdConfig& config, Staged& staged) {
    abi::Error first = abi::Error::kOk;
    auto note = [&first](const InvocationResult& r) {
        if (!r.ok() && r.error != abi::Error::kDeleteFirst && first == abi::Error::kOk) {
            first = r.error;
        }
        return r.ok();
    };
    auto move = [&](uint64_t from, uint64_t to) {
        return cnode_move(CapPtr(pd.cnode), to, pd.radix, root_of(env), from, kWordBits);
    };
    auto place = [&](uint64_t from, uint64_t to) {
        if (!note(move(from, to))) {
            (void)cnode_delete(root_of(env), from, kWordBits);
        }
        env.slots->free(from);
    };
    for (size_t i = 0; i < staged.count; ++i) {
        place(staged.ones[i].from, staged.ones[i].to);
    }
    for (size_t r = 0; r < staged.run_count; ++r) {
        for (uint64_t k = 0; k < staged.runs[r].count; ++k) {
            place(staged.runs[r].from + k, staged.runs[r].to + k);
        }
    }
    staged = Staged{};
    for (size_t i = 0; i < config.caps.size(); ++i) {
        if (config.caps[i].move) {
            (void)note(move(config.caps[i].source, plan.grant_slot[i]));
        }
    }
    for (size_t g = 0; g < image.given_count; ++g) {
        const Image::GivenRun& run = image.given[g];
        for (uint64_t p = 0; p < run.count; ++p) {
            (void)note(move(run.from + p, run.to + p));
        }
    }
    return checked(InvocationResult{first, {}}, kStep);
}

}  // namespace tessera
