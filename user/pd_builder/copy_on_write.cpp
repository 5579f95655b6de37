// Copy-on-write (copy_on_write.hpp, tessera/pd_builder.hpp): the write fault that makes a shared
// page the writer's own, and the release of an image whose frames forks still map.
#include "copy_on_write.hpp"

#include "budget.hpp"
#include "tessera/invocation.hpp"

namespace tessera {

using abi::CapPtr;
using abi::kWordBits;

uint64_t private_pages(const PageRuns& runs) {
    uint64_t n = 0;
    for (const PageRun& r : runs.list()) {
        n += r.kind == PageKind::kPrivate ? r.count : 0;
    }
    return n;
}

bool find_private_page(const PageRuns& runs, uint64_t address, PrivatePage& out) {
    uint64_t n = 0;
    for (const PageRun& r : runs.list()) {
        if (r.kind != PageKind::kPrivate) {
            continue;
        }
        if (address >= r.va && address < r.end()) {
            const uint64_t i = (address - r.va) / r.page_bytes();
            out = PrivatePage{n + i, r.va + i * r.page_bytes(), &r};
            return true;
        }
        n += r.count;
    }
    return false;
}

namespace {

void act_on(BuilderEnvironment& env, const pd::Release& r) {
    if (r.block != 0) {
        env.memory->free(r.block);  // the frame, and every capability to it
    }
    if (r.store != pd::kNoEntry) {
        release(env, env.cow->stores[r.store]);
    }
}

}  // namespace

void release_image(BuilderEnvironment& env, Budget& image, CowState& cow) {
    if (cow.pages != 0) {
        pd::CowLedger& ledger = env.cow->ledger;
        for (uint32_t i = 0; i < cow.pages; ++i) {
            act_on(env, ledger.unref(ledger.page(cow.first + i).frame));
        }
        ledger.free_pages(cow.first, cow.pages);
    }
    release(env, cow.copies);
    if (cow.store_plus_one != 0) {
        const uint32_t store = cow.store_plus_one - 1;
        env.cow->stores[store] = image;  // kept while forks map its frames
        act_on(env, env.cow->ledger.owner_gone(store));
        image = Budget{};
    } else {
        release(env, image);
    }
    cow = CowState{};
}

Result<bool, SpawnError> resolve_cow_fault(BuilderEnvironment& env, PdHandle& pd,
                                           uint64_t address) {
    constexpr SpawnStep kStep = SpawnStep::kRegions;
    PrivatePage at;
    if (pd.cow.pages == 0 || !find_private_page(pd.runs, address, at) ||
        (at.run->rights & abi::kMapWrite) == 0) {
        return false;
    }
    pd::CowLedger& ledger = env.cow->ledger;
    pd::CowPage& page = ledger.page(pd.cow.first + static_cast<uint32_t>(at.number));
    if (page.own != 0) {
        return false;  // writable already: not a copy-on-write fault
    }
    if (ledger.refs(page.frame) == 1) {  // the last to map it: its own, without a copy
        TRY(checked(frame_remap(CapPtr(page.slot()), page.rights), kStep));
        page.own = 1;
        return true;
    }
    // A copy in a frame of its own block, made straight into the page's copy slot; or, when
    // that slot holds the shared frame's capability (a copy of this PD's shared again by a later
    // fork), in the creator's scratch slot first and moved there after.
    const bool large = page.large != 0;
    const uint64_t block =
        env.memory->allocate(large ? abi::kLargePageSizeBits : abi::kPageSizeBits);
    if (block == 0) {
        return fail(out_of_memory(kStep));
    }
    const uint32_t frame = ledger.new_frame(pd::kNoEntry, block);
    if (frame == pd::kNoEntry) {
        env.memory->free(block);
        return fail(SpawnError::config(ConfigError::kLedgerFull));
    }
    const CapPtr root = root_of(env);
    const uint64_t copy_slot = pd.cow.copy_base + at.number;
    const bool via_scratch = page.slot() == copy_slot;
    const uint64_t made_at = via_scratch ? env.cow->scratch_slot : copy_slot;
    auto made = [&]() -> Result<void, SpawnError> {
        const auto type = large ? abi::ObjectType::kFrame2M : abi::ObjectType::kFrame4K;
        constexpr unsigned kNodeShift = BookkeepingSpace::kNodeBits;
        const uint64_t node = made_at >> kNodeShift;
        TRY(checked(node == 0 ? untyped_retype(CapPtr(block), type, 0, env.cnode, 0, 0, made_at, 1)
                              : untyped_retype(CapPtr(block), type, 0, root,
                                               BookkeepingSpace::node_index(node),
                                               BookkeepingSpace::kNodeDepth,
                                               made_at & ((uint64_t{1} << kNodeShift) - 1), 1),
                    kStep));
        TRY(checked(frame_copy(CapPtr(made_at), CapPtr(page.slot())), kStep));
        return {};
    }();
    if (!made) {
        (void)ledger.unref(frame);
        env.memory->free(block);  // the copy with it
        return fail(made.error());
    }
    // Nothing below can be refused: the page is mapped, its copy slot is the PD's.
    (void)frame_unmap(CapPtr(page.slot()));
    if (via_scratch) {
        (void)cnode_delete(root, copy_slot, kWordBits);
        (void)cnode_move(root, copy_slot, kWordBits, root, made_at, kWordBits);
    }
    auto mapped = checked(frame_map(CapPtr(copy_slot), CapPtr(pd.vspace), at.va, page.rights,
                                    abi::MapAttributes::kCached),
                          kStep);
    act_on(env, ledger.unref(page.frame));
    page.frame = frame;
    page.set_slot(copy_slot);
    page.own = 1;
    if (!mapped) {
        return fail(mapped.error());
    }
    return true;
}

CowFigures cow_figures(const BuilderEnvironment& env, const PdHandle& pd) {
    CowFigures f;
    for (uint32_t i = 0; i < pd.cow.pages; ++i) {
        const pd::CowPage& page = env.cow->ledger.page(pd.cow.first + i);
        if (page.own != 0) {
            ++f.own;
            if (env.cow->ledger.block_of(page.frame) != 0) {
                f.own_bytes += page.large != 0 ? pd::kLargePage : pd::kSmallPage;
            }
        } else {
            ++f.shared;
        }
    }
    return f;
}

}  // namespace tessera
