// Fork (tessera/pd_builder.hpp: fork_pd). The child is built whole from the parent's page runs —
// a new VSpace mapping the parent's private frames read-only (or, eager, copies of them), the
// shared regions as they are, its own IPC buffer — with an identity of its own and the parent's
// registers. Only when nothing is left that can run out are the ledger's records written and the
// parent's writable pages made read-only (the commit), then the child starts.
#include "abi/process.hpp"
#include "budget.hpp"
#include "capability_staging.hpp"
#include "copy_on_write.hpp"
#include "image_builder.hpp"
#include "pd/build_plan.hpp"
#include "tessera/invocation.hpp"
#include "tessera/vspace_manager.hpp"

namespace tessera {
namespace {

using abi::CapPtr;
using abi::kWordBits;
using abi::ObjectType;

constexpr uint64_t kReadWrite = abi::kMapRead | abi::kMapWrite;

struct ChildPlan {
    uint64_t private_pages = 0;
    uint64_t shared_pages = 0;
    unsigned book_radix = 0;
    uint64_t image_bytes = 0;  // VSpace, tables, IPC buffer, bookkeeping CNode
};

ChildPlan plan_child(const PdHandle& parent) {
    ChildPlan p;
    for (const PageRun& r : parent.runs.list()) {
        if (r.kind == PageKind::kPrivate) {
            p.private_pages += r.count;
        } else if (r.kind == PageKind::kShared) {
            p.shared_pages += r.count;
        }
    }
    // A private page has two slots: the copy of the parent's capability that maps it, and the
    // child's own copy of the page if it writes it (made straight into its slot on the fault).
    const uint64_t caps =
        pd::kIdentitySlots + 1 + parent.tables + 1 + p.shared_pages + 2 * p.private_pages;
    p.book_radix = pd::book_radix_for(caps);
    p.image_bytes = (uint64_t{1} << abi::object_bytes_bits(ObjectType::kCNode, p.book_radix)) +
                    (2 + parent.tables) * pd::kSmallPage;
    return p;
}

// Tables for the child's VSpace, made from its budget into slots reserved for them.
struct TableMaker {
    Carver* carver = nullptr;
    uint64_t next = 0;
    uint64_t end = 0;
    abi::Error error = abi::Error::kOk;

    static uint64_t make(void* context, uint64_t count) {
        auto* self = static_cast<TableMaker*>(context);
        if (count > self->end - self->next) {
            self->error = abi::Error::kNotEnoughMemory;  // the parent has them all: a bug
            return 0;
        }
        const uint64_t first = self->next;
        auto made = self->carver->make_into(CapPtr(first), ObjectType::kPageTable, 0, count,
                                            SpawnStep::kImage);
        if (!made) {
            self->error = made.error().kernel_error;
            return 0;
        }
        self->next += count;
        return first;
    }
};

class Forker {
  public:
    Forker(BuilderEnvironment& env, PdHandle& parent, const ForkConfig& config)
        : env_(env),
          ledger_(env.cow->ledger),
          parent_(parent),
          config_(config),
          plan_(plan_child(parent)) {
        tables_.carver = &carver_;
    }

    // Profiled (when the environment asks) as: plan (checks and the ledger's room), image
    // objects (the child's budgets and objects), image pages (sharing or copying the pages),
    // capabilities, thread, and reclaim (the commit: records and the parent made read-only).
    Result<PdHandle, SpawnError> run() {
        if (env_.profile != nullptr) {
            env_.profile->start();
        }
        TRY(check());
        auto built = build();
        if (!built) {
            roll_back();
            return fail(built.error());
        }
        commit();
        (void)tcb_resume(CapPtr(child_.tcb));
        mark(env_, SpawnPhase::kReclaim);
        return child_;
    }

  private:
    Result<void, SpawnError> check() {
        const uint64_t slots = uint64_t{1} << parent_.radix;
        for (size_t i = 0; i < config_.rules.size(); ++i) {
            const uint64_t s = config_.rules[i].slot;
            if (s < abi::kPdSlotFirstFree || s >= slots) {
                return fail(SpawnError::config(ConfigError::kForkRule, static_cast<int>(i)));
            }
        }
        if (env_.cow->scratch_slot == 0) {
            env_.cow->scratch_slot = env_.slots->allocate();
            if (env_.cow->scratch_slot == 0) {
                return fail(out_of_memory(SpawnStep::kBudget));
            }
        }
        return {};
    }

    // The ledger's room first (pages, frames, a store), then every object of the child.
    Result<void, SpawnError> build() {
        const auto n = static_cast<uint32_t>(plan_.private_pages);
        first_fork_ = parent_.cow.pages == 0 && !config_.eager;
        if (n != 0) {
            child_pages_ = ledger_.allocate_pages(n);
            const uint64_t new_frames = first_fork_ || config_.eager ? n : 0;
            if (child_pages_ == pd::kNoEntry ||
                ledger_.frames_in_use() + new_frames > pd::CowLedger::kFrames) {
                return fail(SpawnError::config(ConfigError::kLedgerFull));
            }
        }
        if (first_fork_ && n != 0) {
            parent_pages_ = ledger_.allocate_pages(n);
            store_ = ledger_.new_store();
            if (parent_pages_ == pd::kNoEntry || store_ == pd::kNoEntry) {
                return fail(SpawnError::config(ConfigError::kLedgerFull));
            }
            // Slots for the parent's own copies, in a budget of their own.
            Carver copies(env_, parent_copies_, parent_copies_);
            const unsigned radix = pd::book_radix_for(n);
            TRY(copies.reserve(uint64_t{1} << abi::object_bytes_bits(ObjectType::kCNode, radix)));
            TRY(copies.make_book(radix, 0));
            parent_copy_base_ = TRY(copies.reserve_slots(n, SpawnStep::kBudget)).value();
        }
        mark(env_, SpawnPhase::kPlan);
        TRY(build_image());
        TRY(build_identity());
        mark(env_, SpawnPhase::kImageObjects);
        TRY(map_pages());
        mark(env_, SpawnPhase::kImagePages);
        TRY(give_caps());
        mark(env_, SpawnPhase::kCapabilities);
        TRY(build_thread());
        mark(env_, SpawnPhase::kThread);
        return {};
    }

    Result<void, SpawnError> build_image() {
        Carver& image = carver_;
        TRY(image.reserve(plan_.image_bytes));
        TRY(image.make_book(plan_.book_radix, pd::kIdentitySlots));
        child_.vspace = TRY(image.make(ObjectType::kVSpace, 0, SpawnStep::kObjects)).value();
        tables_.next = TRY(image.reserve_slots(parent_.tables, SpawnStep::kObjects)).value();
        tables_.end = tables_.next + parent_.tables;
        child_.ipc_frame = TRY(image.make(ObjectType::kFrame4K, 0, SpawnStep::kRegions)).value();
        TRY(assign_asid(env_, CapPtr(child_.vspace)));
        if (plan_.private_pages != 0) {
            map_base_ = TRY(image.reserve_slots(plan_.private_pages, SpawnStep::kImage)).value();
            child_.cow.copy_base =
                TRY(image.reserve_slots(plan_.private_pages, SpawnStep::kImage)).value();
        }
        if (plan_.shared_pages != 0) {
            shared_base_ =
                TRY(image.reserve_slots(plan_.shared_pages, SpawnStep::kRegions)).value();
        }
        child_.radix = parent_.radix;
        child_.entry = parent_.entry;
        child_.layout = parent_.layout;
        child_.runs = parent_.runs;
        return {};
    }

    Result<void, SpawnError> build_identity() {
        Carver identity(env_, child_.identity, child_.image);
        TRY(identity.reserve(pd::identity_budget_bytes(parent_.radix, false)));
        const bool cnode_first =
            abi::object_bytes_bits(ObjectType::kCNode, parent_.radix) >= abi::kTcbSizeBits;
        if (cnode_first) {
            TRY(identity.make_at(ObjectType::kCNode, parent_.radix, pd::kBookCNode,
                                 SpawnStep::kObjects));
        }
        TRY(identity.make_at(ObjectType::kTcb, 0, pd::kBookTcb, SpawnStep::kObjects));
        if (!cnode_first) {
            TRY(identity.make_at(ObjectType::kCNode, parent_.radix, pd::kBookCNode,
                                 SpawnStep::kObjects));
        }
        child_.cnode = BookkeepingSpace::slot(child_.image.node, pd::kBookCNode).value();
        child_.tcb = BookkeepingSpace::slot(child_.image.node, pd::kBookTcb).value();
        return {};
    }

    // The capability that maps the parent's private page n.
    [[nodiscard]] uint64_t parent_slot(uint64_t n, const PageRun& r, uint64_t i) const {
        return parent_.cow.pages != 0 ? ledger_.page(parent_.cow.first + n).slot() : r.slot + i;
    }

    Result<void, SpawnError> map(uint64_t first, uint64_t count, const PageRun& r,
                                 uint64_t rights) {
        tables_.error = abi::Error::kOk;
        InvocationResult m =
            map_frames(CapPtr(child_.vspace), CapPtr(first), count, r.va, rights,
                       r.device ? abi::MapAttributes::kDevice : abi::MapAttributes::kCached,
                       r.large, TableSource{&TableMaker::make, &tables_}, &child_.tables);
        if (!m.ok() && tables_.error != abi::Error::kOk) {
            m.error = tables_.error;
        }
        return checked(m, SpawnStep::kImage);
    }

    Result<void, SpawnError> map_pages() {
        constexpr SpawnStep kStep = SpawnStep::kImage;
        uint64_t n = 0;
        uint64_t shared = 0;
        for (unsigned j = 0; j < parent_.runs.count; ++j) {
            const PageRun& r = parent_.runs.run[j];
            // The child's runs name its own capabilities.
            child_.runs.run[j].slot = r.kind == PageKind::kShared      ? shared_base_ + shared
                                      : r.kind == PageKind::kIpcBuffer ? child_.ipc_frame
                                      : config_.eager                  ? child_.cow.copy_base + n
                                                                       : map_base_ + n;
            switch (r.kind) {
                case PageKind::kShared: {
                    TRY(copy_run(shared_base_ + shared, r.count, r,
                                 [&](uint64_t i) { return r.slot + i; }));
                    TRY(map(shared_base_ + shared, r.count, r, r.rights));
                    shared += r.count;
                    child_.pages += r.count;
                    break;
                }
                case PageKind::kIpcBuffer:
                    TRY(checked(frame_copy(CapPtr(child_.ipc_frame), CapPtr(parent_.ipc_frame)),
                                kStep));
                    TRY(map(child_.ipc_frame, 1, r, kReadWrite));
                    ++child_.pages;
                    break;
                case PageKind::kPrivate: {
                    const uint64_t first = (config_.eager ? child_.cow.copy_base : map_base_) + n;
                    if (config_.eager) {
                        for (uint64_t i = 0; i < r.count; ++i) {
                            TRY(eager_copy(n + i, r, i));
                        }
                    } else {
                        TRY(copy_run(first, r.count, r,
                                     [&](uint64_t i) { return parent_slot(n + i, r, i); }));
                    }
                    TRY(map(first, r.count, r,
                            config_.eager ? r.rights : r.rights & ~abi::kMapWrite));
                    n += r.count;
                    child_.pages += r.count;
                    break;
                }
            }
        }
        return {};
    }

    // Copies of the capabilities source(0 .. count - 1) into slots from `to` on, one CopyRange
    // per stretch of consecutive sources.
    template <typename Source>
    Result<void, SpawnError> copy_run(uint64_t to, uint64_t count, const PageRun& r,
                                      Source source) {
        const CapPtr root = root_of(env_);
        for (uint64_t i = 0; i < count;) {
            const uint64_t first = source(i);
            uint64_t n = 1;
            while (i + n < count && n < abi::kMaxFramesPerCall && source(i + n) == first + n &&
                   ((first + n) & ((uint64_t{1} << 51) - 1)) != 0) {  // within one node
                ++n;
            }
            TRY(checked(cnode_copy_range(root, to + i, kWordBits, root, first, kWordBits,
                                         frame_cap_rights(r.rights), n),
                        SpawnStep::kImage));
            i += n;
        }
        return {};
    }

    // Page n as a copy in a frame of its own block, recorded as the child's own at once (so a
    // roll-back finds it).
    Result<void, SpawnError> eager_copy(uint64_t n, const PageRun& r, uint64_t i) {
        const uint64_t slot = child_.cow.copy_base + n;
        const uint32_t frame = TRY(make_copy_frame(env_, child_.cow, r.large, slot));
        ledger_.page(child_pages_ + static_cast<uint32_t>(n)) =
            pd::CowPage::make(slot, frame, true, r.large, r.rights);
        ++eager_made_;
        return checked(frame_copy(CapPtr(slot), CapPtr(parent_slot(n, r, i))), SpawnStep::kImage);
    }

    Result<void, SpawnError> give_caps() {
        constexpr uint64_t kSendRights = abi::kRightWrite | abi::kRightGrantReply;
        constexpr SpawnStep kStep = SpawnStep::kCapabilities;
        if (config_.parent_endpoint != 0) {
            TRY(give(env_, child_, abi::kPdSlotParentEndpoint, config_.parent_endpoint, kSendRights,
                     config_.badge));
        }
        if (config_.fault == FaultPolicy::kCreatorEndpoint) {
            TRY(give(env_, child_, abi::kPdSlotFaultEndpoint, config_.fault_endpoint, kSendRights,
                     config_.fault_badge));
            child_.fault_slot = abi::kPdSlotFaultEndpoint;
        }
        // The console and debug capabilities the parent was given, and what the rules keep;
        // never the parent's self capabilities (its own CNode, VSpace and TCB).
        const CapPtr from(parent_.cnode);
        const CapPtr to(child_.cnode);
        const unsigned radix = parent_.radix;
        for (uint64_t s : {abi::kPdSlotConsole, abi::kPdSlotDebug}) {
            if (cnode_identify(from, s, radix).type != abi::CapType::kNull) {
                TRY(checked(cnode_copy(to, s, radix, from, s, radix, abi::kRightsAll), kStep));
            }
        }
        for (size_t i = 0; i < config_.rules.size(); ++i) {
            const ForkRule& rule = config_.rules[i];
            if (rule.action == ForkRule::Action::kDrop ||
                cnode_identify(from, rule.slot, radix).type == abi::CapType::kNull) {
                continue;
            }
            InvocationResult r =
                rule.action == ForkRule::Action::kCopy
                    ? cnode_copy(to, rule.slot, radix, from, rule.slot, radix, abi::kRightsAll)
                    : cnode_mint(to, rule.slot, radix, from, rule.slot, radix, abi::kRightsAll,
                                 rule.badge);
            if (!r.ok()) {
                SpawnError e = SpawnError::kernel(kStep, r.error);
                e.index = static_cast<int>(i);
                return fail(e);
            }
        }
        return {};
    }

    Result<void, SpawnError> build_thread() {
        constexpr SpawnStep kStep = SpawnStep::kThread;
        TRY(checked(
            tcb_configure(CapPtr(child_.tcb), CapPtr(child_.fault_slot), CapPtr(child_.cnode),
                          kWordBits - child_.radix, CapPtr(child_.vspace), abi::kPdIpcBuffer,
                          CapPtr(child_.ipc_frame)),
            kStep));
        uint64_t regs[abi::kUserRegisterCount] = {};
        TRY(checked(tcb_read_registers(CapPtr(parent_.tcb), false, regs, abi::kUserRegisterCount),
                    kStep));
        for (const RegisterValue& v : config_.registers) {
            if (v.index < abi::kUserRegisterCount) {
                regs[v.index] = v.value;
            }
        }
        TRY(checked(tcb_write_registers(CapPtr(child_.tcb), false, regs, abi::kUserRegisterCount),
                    kStep));
        TRY(checked(
            tcb_set_priority(CapPtr(child_.tcb), env_.tcb, config_.priority, config_.max_priority),
            kStep));
        uint64_t name[3] = {};
        for (size_t i = 0; i < config_.name.size() && i < 23; ++i) {
            name[i / 8] |= uint64_t{static_cast<uint8_t>(config_.name[i])} << (8 * (i % 8));
        }
        (void)invoke(CapPtr(child_.tcb), abi::InvocationLabel::kTcbSetName, name);
        return {};
    }

    // Nothing here can be refused: the records are written into room taken before, and the
    // parent's pages it maps itself become read-only.
    void commit() {
        const auto n = static_cast<uint32_t>(plan_.private_pages);
        child_.cow.first = child_pages_;
        child_.cow.pages = n;
        if (config_.eager || n == 0) {
            return;  // the child's pages are its own; the parent's stay as they are
        }
        if (first_fork_) {
            uint64_t k = 0;
            for (const PageRun& r : parent_.runs.list()) {
                for (uint64_t i = 0; r.kind == PageKind::kPrivate && i < r.count; ++i, ++k) {
                    pd::CowPage& page = ledger_.page(parent_pages_ + static_cast<uint32_t>(k));
                    page = pd::CowPage::make(r.slot + i, ledger_.new_frame(store_, 0), false,
                                             r.large, r.rights);
                }
            }
            parent_.cow.first = parent_pages_;
            parent_.cow.pages = n;
            parent_.cow.store_plus_one = store_ + 1;
            parent_.cow.copy_base = parent_copy_base_;
            parent_.cow.copies = parent_copies_;
        }
        for (uint32_t k = 0; k < n; ++k) {
            pd::CowPage& mine = ledger_.page(parent_.cow.first + k);
            ledger_.ref(mine.frame);
            mine.own = 0;
            ledger_.page(child_pages_ + k) =
                pd::CowPage::make(map_base_ + k, mine.frame, false, mine.large != 0, mine.rights);
        }
        make_parent_read_only();
    }

    // The parent's writable private pages become read-only, in runs of consecutive slots.
    void make_parent_read_only() {
        uint64_t k = 0;
        for (const PageRun& r : parent_.runs.list()) {
            if (r.kind != PageKind::kPrivate) {
                continue;
            }
            const uint64_t rights = r.rights & ~abi::kMapWrite;
            for (uint64_t i = 0; i < r.count;) {
                const uint64_t first = ledger_.page(parent_.cow.first + k + i).slot();
                uint64_t count = 1;
                while (i + count < r.count && count < abi::kMaxFramesPerCall &&
                       ledger_.page(parent_.cow.first + k + i + count).slot() == first + count) {
                    ++count;
                }
                if ((r.rights & abi::kMapWrite) != 0) {
                    (void)vspace_remap_frames(CapPtr(parent_.vspace), CapPtr(first), count, rights);
                }
                i += count;
            }
            k += r.count;
        }
    }

    void roll_back() {
        for (uint32_t k = 0; k < eager_made_; ++k) {
            drop_frame(env_, ledger_.page(child_pages_ + k).frame);
        }
        retire_chunk(env_, child_.cow);
        if (child_.tcb != 0) {
            (void)tcb_suspend(CapPtr(child_.tcb));
        }
        if (child_.vspace != 0) {
            (void)cnode_delete(root_of(env_), child_.vspace, kWordBits);
        }
        release(env_, child_.image);
        release(env_, child_.identity);
        const auto n = static_cast<uint32_t>(plan_.private_pages);
        if (child_pages_ != pd::kNoEntry && n != 0) {
            ledger_.free_pages(child_pages_, n);
        }
        if (parent_pages_ != pd::kNoEntry) {
            ledger_.free_pages(parent_pages_, n);
        }
        if (store_ != pd::kNoEntry) {
            (void)ledger_.owner_gone(store_);  // it holds no frame yet: the entry goes
        }
        release(env_, parent_copies_);
    }

    BuilderEnvironment& env_;
    pd::CowLedger& ledger_;
    PdHandle& parent_;
    const ForkConfig& config_;
    ChildPlan plan_;
    PdHandle child_;
    Carver carver_{env_, child_.image, child_.image};  // the child's image budget
    TableMaker tables_;
    bool first_fork_ = false;
    uint32_t child_pages_ = pd::kNoEntry;
    uint32_t parent_pages_ = pd::kNoEntry;
    uint32_t store_ = pd::kNoEntry;
    uint32_t eager_made_ = 0;
    Budget parent_copies_;
    uint64_t parent_copy_base_ = 0;
    uint64_t shared_base_ = 0;
    uint64_t map_base_ = 0;  // the child's mapping copies of the parent's private pages
};

}  // namespace

Result<PdHandle, SpawnError> fork_pd(BuilderEnvironment& env, PdHandle& parent,
                                     const ForkConfig& config) {
    if (env.cow == nullptr || parent.runs.overflowed || parent.vspace == 0) {
        return fail(SpawnError::config(ConfigError::kNotForkable));
    }
    Forker forker(env, parent, config);
    return forker.run();
}

}  // namespace tessera
