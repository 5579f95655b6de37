// The life of a PD as its creator drives it (tessera/pd_builder.hpp): spawn and exec plan
// everything first, build the image whole, stage every capability, and only then commit;
// destroy releases the two budgets. A failed spawn leaves nothing behind; a failed exec leaves
// the PD as it was, running.
#include "abi/process.hpp"
#include "budget.hpp"
#include "capability_staging.hpp"
#include "copy_on_write.hpp"
#include "image_builder.hpp"
#include "pd/build_plan.hpp"
#include "tessera/invocation.hpp"
#include "tessera/pd_builder.hpp"

namespace tessera {
namespace {

using abi::CapPtr;
using abi::kWordBits;
using abi::ObjectType;
using pd::BuildPlan;

// What the creator's capability at slot is (CNodeIdentify on its own CNode: no debug call).
abi::CapType creator_cap_type(const void* context, uint64_t slot) {
    const auto* env = static_cast<const BuilderEnvironment*>(context);
    return cnode_identify(env->cnode, slot, kWordBits).type;
}

Result<BuildPlan, SpawnError> plan_for(const BuilderEnvironment& env, std::span<const uint8_t> elf,
                                       const PdConfig& config) {
    return pd::make_build_plan(elf, config, env.own_regions,
                               pd::CapTypeLookup{&creator_cap_type, &env});
}

void start_profile(const BuilderEnvironment& env) {
    if (env.profile != nullptr) {
        env.profile->start();
    }
}

// Points the thread at its (new) image and starts it.
Result<void, SpawnError> start_thread(const PdHandle& pd) {
    constexpr SpawnStep kStep = SpawnStep::kThread;
    const uint64_t guard_bits = kWordBits - pd.radix;  // single-level CSpace: slot n is CapPtr(n)
    TRY(checked(tcb_configure(CapPtr(pd.tcb), CapPtr(pd.fault_slot), CapPtr(pd.cnode), guard_bits,
                              CapPtr(pd.vspace), abi::kPdIpcBuffer, CapPtr(pd.ipc_frame)),
                kStep));
    uint64_t regs[abi::kUserRegisterCount] = {};
    regs[abi::kRegisterIndexPc] = pd.entry;
    regs[abi::kRegisterIndexSp] = pd.layout.stack_top;
    regs[abi::kRegisterIndexX0] = abi::kPdStartupRecord;
    regs[abi::kRegisterIndexTpidr] = abi::kPdIpcBuffer;
    return checked(tcb_write_registers(CapPtr(pd.tcb), true, regs, abi::kUserRegisterCount), kStep);
}

// The identity's place in an image's bookkeeping CNode.
uint64_t identity_slot(const Budget& image, uint64_t which) {
    return BookkeepingSpace::slot(image.node, which).value();
}

void install_image(PdHandle& pd, const BuildPlan& plan, const Image& image) {
    pd.cnode = identity_slot(pd.image, pd::kBookCNode);
    pd.tcb = identity_slot(pd.image, pd::kBookTcb);
    if (pd.fault_endpoint != 0) {
        pd.fault_endpoint = identity_slot(pd.image, pd::kBookFaultEndpoint);
    }
    pd.vspace = image.vspace;
    pd.ipc_frame = image.ipc_frame;
    pd.pages = image.pages;
    pd.tables = image.tables;
    pd.entry = plan.load.entry;
    pd.layout = plan.layout;
    pd.runs = image.runs;
}

void set_name(const PdHandle& pd, StringView text) {
    uint64_t name[3] = {};
    for (size_t i = 0; i < text.size() && i < 23; ++i) {
        name[i / 8] |= uint64_t{static_cast<uint8_t>(text[i])} << (8 * (i % 8));
    }
    (void)invoke(CapPtr(pd.tcb), abi::InvocationLabel::kTcbSetName, name);
}

// The parent and fault endpoints of a new PD, in its reserved slots.
Result<void, SpawnError> give_endpoints(BuilderEnvironment& env, Carver& identity, PdHandle& pd,
                                        const PdConfig& config) {
    constexpr uint64_t kSendRights = abi::kRightWrite | abi::kRightGrantReply;
    if (config.parent_endpoint != 0) {
        TRY(give(env, pd, abi::kPdSlotParentEndpoint, config.parent_endpoint, kSendRights,
                 config.badge));
    }
    if (config.fault == FaultPolicy::kNewEndpoint) {
        TRY(identity.make_at(ObjectType::kEndpoint, 0, pd::kBookFaultEndpoint,
                             SpawnStep::kObjects));
        pd.fault_endpoint = identity_slot(pd.image, pd::kBookFaultEndpoint);
    }
    if (config.fault != FaultPolicy::kReport) {
        const uint64_t ep =
            config.fault == FaultPolicy::kNewEndpoint ? pd.fault_endpoint : config.fault_endpoint;
        TRY(give(env, pd, abi::kPdSlotFaultEndpoint, ep, kSendRights, config.fault_badge));
        pd.fault_slot = abi::kPdSlotFaultEndpoint;
    }
    return {};
}

// Moves the identity (CNode, TCB, fault endpoint) from the old image's bookkeeping CNode to the
// new one's (exec): the slots are empty there, so nothing can refuse.
void move_identity(const BuilderEnvironment& env, const Budget& from, const Budget& to) {
    const CapPtr root = root_of(env);
    for (uint64_t which = 0; which < pd::kIdentitySlots; ++which) {
        (void)cnode_move(root, identity_slot(to, which), kWordBits, root,
                         identity_slot(from, which), kWordBits);
    }
}

// Empties every slot of the PD's CNode from the self slots up that the plan does not declare,
// with one DeleteRange per run of undeclared slots.
void prune_cspace(const PdHandle& pd, const BuildPlan& plan) {
    const uint64_t slots = uint64_t{1} << pd.radix;
    for (uint64_t s = abi::kPdSlotSelfCNode; s < slots;) {
        uint64_t end = s;
        while (end < slots && !plan.declared.has(end)) {
            ++end;
        }
        if (end > s) {
            (void)cnode_delete_range(CapPtr(pd.cnode), s, pd.radix, end - s);
        }
        s = end + 1;
    }
}

}  // namespace

void PageRuns::add(const PageRun& r) {
    if (count > 0) {
        PageRun& last = run[count - 1];
        if (last.end() == r.va && last.slot + last.count == r.slot && last.rights == r.rights &&
            last.kind == r.kind && last.large == r.large && last.device == r.device) {
            last.count += r.count;
            return;
        }
    }
    if (count == kMaxPageRuns) {
        overflowed = true;
        return;
    }
    run[count++] = r;
}

BookkeepingSpace& bookkeeping_space() {
    static BookkeepingSpace space;
    return space;
}

Result<void, SpawnError> pd_builder_init(BuilderEnvironment& env) {
    constexpr SpawnStep kStep = SpawnStep::kBudget;
    if (env.book == nullptr) {
        env.book = &bookkeeping_space();
    }
    if (!env.book->adopted()) {
        // The top CNode comes from a block kept for the creator's lifetime.
        BookkeepingSpace::Adoption a;
        a.tcb = env.tcb;
        a.cnode = env.cnode;
        a.radix = env.cnode_radix;
        a.vspace = env.vspace;
        a.fault_endpoint = env.fault_endpoint;
        a.top_untyped = env.memory->allocate(BookkeepingSpace::kTopBits);
        a.slots = env.slots;
        if (a.top_untyped == 0) {
            return fail(out_of_memory(kStep));
        }
        auto adopted = env.book->adopt(a);
        if (!adopted) {
            env.memory->free(a.top_untyped);
            return fail(SpawnError::kernel(kStep, adopted.error()));
        }
    }
    // Tables under the scratch range, made from one block kept for the parent's lifetime: one
    // walk to the small-page window; the large windows need only the level-2 table.
    const uint64_t block = env.memory->allocate(abi::kPageTableSizeBits + 2);
    if (block == 0) {
        return fail(out_of_memory(kStep));
    }
    for (unsigned i = 0; i < 4; ++i) {
        const uint64_t s = env.slots->allocate();
        if (s == 0) {
            return fail(out_of_memory(kStep));
        }
        TRY(checked(untyped_retype(CapPtr(block), ObjectType::kPageTable, 0, env.cnode, 0, 0, s, 1),
                    kStep));
        InvocationResult r = page_table_map(CapPtr(s), env.vspace, env.scratch_address);
        if (r.error == abi::Error::kDeleteFirst) {  // the walk is complete
            (void)cnode_delete(env.cnode, s, kWordBits);
            env.slots->free(s);
            return {};
        }
        TRY(checked(r, kStep));
    }
    return {};
}

Result<void, SpawnError> check_config(const BuilderEnvironment& env, std::span<const uint8_t> elf,
                                      const PdConfig& config) {
    TRY(plan_for(env, elf, config));
    return {};
}

Result<PdHandle, SpawnError> spawn_pd(BuilderEnvironment& env, std::span<const uint8_t> elf,
                                      const PdConfig& config) {
    start_profile(env);
    const auto planned = plan_for(env, elf, config);
    if (!planned) {
        return fail(planned.error());
    }
    const BuildPlan& plan = planned.value();  // not copied: it is a few KiB
    mark(env, SpawnPhase::kPlan);
    PdHandle pd;
    auto attempt = [&]() -> Result<void, SpawnError> {
        // The image first: its bookkeeping CNode holds the identity too.
        const Image image = TRY(build_image(env, pd.image, plan, elf, config));
        Carver identity(env, pd.identity, pd.image);
        pd.radix = config.cnode_radix;
        TRY(identity.reserve(plan.identity_bytes));
        // Largest first, so the budget's fill has no gaps (a tiny PD's CNode is smaller than
        // its TCB).
        const bool cnode_first =
            abi::object_bytes_bits(ObjectType::kCNode, config.cnode_radix) >= abi::kTcbSizeBits;
        if (cnode_first) {
            TRY(identity.make_at(ObjectType::kCNode, config.cnode_radix, pd::kBookCNode,
                                 SpawnStep::kObjects));
        }
        TRY(identity.make_at(ObjectType::kTcb, 0, pd::kBookTcb, SpawnStep::kObjects));
        if (!cnode_first) {
            TRY(identity.make_at(ObjectType::kCNode, config.cnode_radix, pd::kBookCNode,
                                 SpawnStep::kObjects));
        }
        mark(env, SpawnPhase::kIdentity);
        install_image(pd, plan, image);
        TRY(give_endpoints(env, identity, pd, config));
        Staged staged;
        staged.direct = true;
        staged.child = CapPtr(pd.cnode);
        staged.child_radix = pd.radix;
        TRY(stage_caps(env, pd, plan, image, config, staged));
        TRY(place_staged(env, pd, plan, image, config, staged));
        mark(env, SpawnPhase::kCapabilities);
        TRY(checked(tcb_set_priority(CapPtr(pd.tcb), env.tcb, config.priority, config.max_priority),
                    SpawnStep::kThread));
        set_name(pd, config.name);
        TRY(start_thread(pd));
        mark(env, SpawnPhase::kThread);
        return {};
    };
    Result<void, SpawnError> built = attempt();
    if (!built) {
        destroy_pd(env, pd);  // everything made so far came from the two budgets
        return fail(built.error());
    }
    return pd;
}

Result<void, SpawnError> exec_pd(BuilderEnvironment& env, PdHandle& pd,
                                 std::span<const uint8_t> elf, const PdConfig& config) {
    start_profile(env);
    const auto planned = plan_for(env, elf, config);
    if (!planned) {
        return fail(planned.error());
    }
    const BuildPlan& plan = planned.value();
    mark(env, SpawnPhase::kPlan);
    // Build the new image whole while the old one is untouched.
    Budget fresh;
    auto image = build_image(env, fresh, plan, elf, config);
    if (!image) {
        release(env, fresh);
        return fail(image.error());
    }
    // Every capability it will get, staged: a refused copy or mint fails the exec here, with
    // the PD untouched.
    Staged staged;
    auto stage = stage_caps(env, pd, plan, image.value(), config, staged);
    if (!stage) {
        release(env, fresh);
        return fail(stage.error());
    }
    // Commit: stop the thread (cancelling whatever it was doing), prune the CSpace to what the
    // configuration declares, install the new image and the staged capabilities, restart.
    (void)tcb_suspend(CapPtr(pd.tcb));
    prune_cspace(pd, plan);
    Budget old = pd.image;
    CowState old_cow = pd.cow;  // what it shared with forks goes with the old image
    pd.cow = CowState{};
    const uint64_t old_vspace = pd.vspace;
    move_identity(env, old, fresh);
    pd.image = fresh;
    install_image(pd, plan, image.value());
    mark(env, SpawnPhase::kIdentity);  // suspending and pruning the CSpace
    // Past the point of no return: a refusal here (a bug of the builder) leaves it suspended.
    auto placed = place_staged(env, pd, plan, image.value(), config, staged);
    mark(env, SpawnPhase::kCapabilities);
    set_name(pd, config.name);
    auto started = placed ? start_thread(pd) : Result<void, SpawnError>(fail(placed.error()));
    mark(env, SpawnPhase::kThread);
    (void)cnode_delete(root_of(env), old_vspace, kWordBits);  // the ASID first: one TLB flush
    release_image(env, old, old_cow);  // the old address space and every page of it
    mark(env, SpawnPhase::kReclaim);
    if (!started) {
        (void)tcb_suspend(CapPtr(pd.tcb));
        return fail(started.error());
    }
    return {};
}

void destroy_pd(BuilderEnvironment& env, PdHandle& pd) {
    // Stopped first, so it cannot fault on pages as they go; the VSpace goes before its pages
    // (retiring the ASID flushes its TLB entries at once, so no page needs its own flush).
    if (pd.tcb != 0) {
        (void)tcb_suspend(CapPtr(pd.tcb));
    }
    if (pd.vspace != 0) {
        (void)cnode_delete(root_of(env), pd.vspace, kWordBits);
    }
    release_image(env, pd.image, pd.cow);
    release(env, pd.identity);
    pd = PdHandle{};
}

uint64_t pd_memory(const PdHandle& pd) {
    return pd.identity.blocks.total() + pd.image.blocks.total() + pd.cow.copies.blocks.total();
}

uint64_t pd_used(const PdHandle& pd) {
    return pd.identity.fill.objects() + pd.image.fill.objects();
}

}  // namespace tessera
