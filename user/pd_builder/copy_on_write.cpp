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

// Makes a frame from untyped at slot: a slot of the creator's own CNode or of a bookkeeping
// node.
InvocationResult make_frame_at(const BuilderEnvironment& env, uint64_t untyped, bool large,
                               uint64_t slot) {
    const auto type = large ? abi::ObjectType::kFrame2M : abi::ObjectType::kFrame4K;
    constexpr unsigned kNodeShift = BookkeepingSpace::kNodeBits;
    const uint64_t node = slot >> kNodeShift;
    if (node == 0) {
        return untyped_retype(CapPtr(untyped), type, 0, env.cnode, 0, 0, slot, 1);
    }
    return untyped_retype(CapPtr(untyped), type, 0, root_of(env),
                          BookkeepingSpace::node_index(node), BookkeepingSpace::kNodeDepth,
                          slot & ((uint64_t{1} << kNodeShift) - 1), 1);
}

}  // namespace

void drop_frame(BuilderEnvironment& env, uint32_t frame) {
    act_on(env, env.cow->ledger.unref(frame));
}

void retire_chunk(BuilderEnvironment& env, CowState& cow) {
    if (cow.chunk_plus_one != 0) {
        act_on(env, env.cow->ledger.owner_gone(cow.chunk_plus_one - 1));
    }
    cow.chunk_plus_one = 0;
    cow.chunk_used = 0;
    cow.chunk_block = 0;
}

Result<uint32_t, SpawnError> make_copy_frame(BuilderEnvironment& env, CowState& cow, bool large,
                                             uint64_t slot) {
    constexpr SpawnStep kStep = SpawnStep::kCopy;
    pd::CowLedger& ledger = env.cow->ledger;
    if (large) {
        const uint64_t block = env.memory->allocate(abi::kLargePageSizeBits);
        if (block == 0) {
            return fail(out_of_memory(kStep));
        }
        const uint32_t frame = ledger.new_frame(pd::kNoEntry, block);
        if (frame == pd::kNoEntry) {
            env.memory->free(block);
            return fail(SpawnError::config(ConfigError::kLedgerFull));
        }
        auto made = checked(make_frame_at(env, block, true, slot), kStep);
        if (!made) {
            drop_frame(env, frame);  // its block with it
            return fail(made.error());
        }
        return frame;
    }
    if (cow.chunk_plus_one == 0 || cow.chunk_used == kChunkFrames) {
        retire_chunk(env, cow);
        const uint64_t block = env.memory->allocate(kChunkBits);
        if (block == 0) {  // memory is short: one page in a block of its own, if even that
            const uint64_t page = env.memory->allocate(abi::kPageSizeBits);
            if (page == 0) {
                return fail(out_of_memory(kStep));
            }
            const uint32_t frame = ledger.new_frame(pd::kNoEntry, page);
            if (frame == pd::kNoEntry) {
                env.memory->free(page);
                return fail(SpawnError::config(ConfigError::kLedgerFull));
            }
            auto made = checked(make_frame_at(env, page, false, slot), kStep);
            if (!made) {
                drop_frame(env, frame);
                return fail(made.error());
            }
            return frame;
        }
        const uint32_t chunk = ledger.new_store(block);
        if (chunk == pd::kNoEntry) {
            env.memory->free(block);
            return fail(SpawnError::config(ConfigError::kLedgerFull));
        }
        cow.chunk_plus_one = chunk + 1;
        cow.chunk_block = block;
    }
    const uint32_t frame = ledger.new_frame(cow.chunk_plus_one - 1, 0);
    if (frame == pd::kNoEntry) {
        return fail(SpawnError::config(ConfigError::kLedgerFull));
    }
    auto made = checked(make_frame_at(env, cow.chunk_block, false, slot), kStep);
    if (!made) {
        drop_frame(env, frame);  // the chunk stays: it is still the current one
        return fail(made.error());
    }
    ++cow.chunk_used;
    return frame;
}

void release_image(BuilderEnvironment& env, Budget& image, CowState& cow) {
    if (cow.pages != 0) {
        pd::CowLedger& ledger = env.cow->ledger;
        for (uint32_t i = 0; i < cow.pages; ++i) {
            act_on(env, ledger.unref(ledger.page(cow.first + i).frame));
        }
        ledger.free_pages(cow.first, cow.pages);
    }
    retire_chunk(env, cow);
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

namespace {

// Page `number` of the PD (mapped at va, shared) as a copy in a frame of its own, mapped
// writable. Made straight into the page's copy slot; or, when that slot holds the
// shared frame's capability (a copy of this PD's shared again by a later fork), in the creator's
// scratch slot first and moved there after. On failure nothing has changed.
Result<void, SpawnError> copy_page(BuilderEnvironment& env, PdHandle& pd, uint64_t number,
                                   uint64_t va) {
    constexpr SpawnStep kStep = SpawnStep::kCopy;
    pd::CowPage& page = env.cow->ledger.page(pd.cow.first + static_cast<uint32_t>(number));
    const bool large = page.large != 0;
    const CapPtr root = root_of(env);
    const uint64_t copy_slot = pd.cow.copy_base + number;
    const bool via_scratch = page.slot() == copy_slot;
    const uint64_t made_at = via_scratch ? env.cow->scratch_slot : copy_slot;
    const uint32_t frame = TRY(make_copy_frame(env, pd.cow, large, made_at));
    auto copied = checked(frame_copy(CapPtr(made_at), CapPtr(page.slot())), kStep);
    if (!copied) {
        (void)cnode_delete(root, made_at, kWordBits);
        drop_frame(env, frame);
        return fail(copied.error());
    }
    // Nothing below can be refused: the page is mapped, its copy slot is the PD's.
    (void)frame_unmap(CapPtr(page.slot()));
    if (via_scratch) {
        (void)cnode_delete(root, copy_slot, kWordBits);
        (void)cnode_move(root, copy_slot, kWordBits, root, made_at, kWordBits);
    }
    auto mapped = checked(frame_map(CapPtr(copy_slot), CapPtr(pd.vspace), va, page.rights,
                                    abi::MapAttributes::kCached),
                          kStep);
    if (mapped && (page.rights & abi::kMapExecute) != 0) {  // code (taken over, never written)
        (void)frame_cache_op(CapPtr(copy_slot), abi::CacheOp::kUnifyInstruction, 0,
                             large ? pd::kLargePage : pd::kSmallPage);
    }
    drop_frame(env, page.frame);
    page.frame = frame;
    page.set_slot(copy_slot);
    page.own = 1;
    if (!mapped) {
        return fail(mapped.error());
    }
    return {};
}

}  // namespace

Result<bool, SpawnError> resolve_cow_fault(BuilderEnvironment& env, PdHandle& pd,
                                           uint64_t address) {
    constexpr SpawnStep kStep = SpawnStep::kCopy;
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
    TRY(copy_page(env, pd, at.number, at.va));
    return true;
}

uint64_t reclaim_orphaned_pages(BuilderEnvironment& env, PdHandle& pd) {
    if (pd.cow.pages == 0) {
        return 0;
    }
    pd::CowLedger& ledger = env.cow->ledger;
    uint64_t copied = 0;
    uint64_t number = 0;
    for (const PageRun& r : pd.runs.list()) {
        if (r.kind != PageKind::kPrivate) {
            continue;
        }
        for (uint64_t i = 0; i < r.count; ++i, ++number) {
            const pd::CowPage& page = ledger.page(pd.cow.first + static_cast<uint32_t>(number));
            const uint32_t store = ledger.store_of(page.frame);
            if (page.own != 0 || ledger.refs(page.frame) != 1 || !ledger.orphaned_image(store)) {
                continue;
            }
            // Worth it only when the pages still mapped there are under half of its memory.
            const uint64_t kept = uint64_t{ledger.store_frames(store)} * r.page_bytes();
            if (2 * kept > env.cow->stores[store].blocks.total()) {
                continue;
            }
            if (!copy_page(env, pd, number, r.va + i * r.page_bytes())) {
                return copied;  // memory is short: what is done stays done
            }
            ++copied;
        }
    }
    return copied;
}

CowFigures cow_figures(const BuilderEnvironment& env, const PdHandle& pd) {
    CowFigures f;
    if (pd.cow.chunk_plus_one != 0) {  // what its current chunk has not given yet
        f.own_bytes += uint64_t{kChunkFrames - pd.cow.chunk_used} * pd::kSmallPage;
    }
    for (uint32_t i = 0; i < pd.cow.pages; ++i) {
        const pd::CowPage& page = env.cow->ledger.page(pd.cow.first + i);
        if (page.own != 0) {
            ++f.own;
            if (env.cow->ledger.is_copy(page.frame)) {
                f.own_bytes += page.large != 0 ? pd::kLargePage : pd::kSmallPage;
            }
        } else {
            ++f.shared;
        }
    }
    return f;
}

}  // namespace tessera
