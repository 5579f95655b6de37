// The image builder (image_builder.hpp). Frames come in batches of consecutive slots retyped
// with one call; the ELF's pages go in runs (pd/image_runs.hpp), each mapped with one call, its
// tables made from the budget as the kernel asks for them.
#include "image_builder.hpp"

#include "abi/process.hpp"
#include "pd/image_runs.hpp"
#include "pd/startup_record_writer.hpp"
#include "tessera/vspace_manager.hpp"

extern "C" void* memcpy(void* dest, const void* src, size_t n);

namespace tessera {
namespace {

using abi::CapPtr;
using abi::kWordBits;
using abi::ObjectType;
using pd::BuildPlan;
using pd::ImageRun;
using pd::OwnSpan;
using pd::PageSize;
using pd::RegionSpec;
using pd::Sharing;

constexpr uint64_t kPage = pd::kSmallPage;
constexpr uint64_t kLargePage = pd::kLargePage;
constexpr uint64_t kReadWrite = abi::kMapRead | abi::kMapWrite;

uint64_t map_rights(elf::Rights r) {
    uint64_t rights = abi::kMapRead;
    if (elf::has(r, elf::Rights::kWrite)) {
        rights |= abi::kMapWrite;
    }
    if (elf::has(r, elf::Rights::kExecute)) {
        rights |= abi::kMapExecute;
    }
    return rights;
}

}  // namespace

Result<void, SpawnError> assign_asid(BuilderEnvironment& env, CapPtr vspace) {
    constexpr SpawnStep kStep = SpawnStep::kObjects;
    // From the pool that gave the last ASID on: the ones before it were full then.
    const unsigned pools = 1 + env.more_asid_pool_count;
    auto pool_at = [&](unsigned i) {
        return i == 0 ? env.asid_pool : CapPtr(env.more_asid_pools[i - 1]);
    };
    InvocationResult r{abi::Error::kNotEnoughMemory, {}};
    for (unsigned k = 0; k < pools && r.error == abi::Error::kNotEnoughMemory; ++k) {
        const unsigned i = (env.asid_pool_hint + k) % pools;
        r = asid_pool_assign(pool_at(i), vspace);
        if (r.ok()) {
            env.asid_pool_hint = i;
        }
    }
    if (r.error != abi::Error::kNotEnoughMemory || env.asid_control.value() == 0 ||
        env.more_asid_pool_count == BuilderEnvironment::kMaxAsidPools) {
        return checked(r, kStep);
    }
    // A pool is made from an untyped of exactly one page: one carved from a block of the
    // creator's memory (blocks may be larger), both kept while the pool is.
    const uint64_t block = env.memory->allocate(abi::kPageSizeBits);
    const uint64_t page = env.slots->allocate();
    const uint64_t slot = env.slots->allocate();
    InvocationResult made{abi::Error::kNotEnoughMemory, {}};
    if (block != 0 && page != 0 && slot != 0) {
        made = untyped_retype(CapPtr(block), abi::ObjectType::kUntyped, abi::kPageSizeBits,
                              env.cnode, 0, 0, page, 1);
        if (made.ok()) {
            made =
                asid_control_make_pool(env.asid_control, CapPtr(page), env.cnode, slot, kWordBits);
        }
    }
    if (!made.ok()) {             // no memory, or every ASID the CPU has is in a pool
        env.memory->free(block);  // revokes the page's untyped too
        env.slots->free(page);
        env.slots->free(slot);
        return checked(r, kStep);
    }
    env.more_asid_pools[env.more_asid_pool_count++] = slot;
    env.asid_pool_hint = env.more_asid_pool_count;
    env.kept_bytes +=
        uint64_t{1} << (env.memory->min_bits() > abi::kPageSizeBits ? env.memory->min_bits()
                                                                    : abi::kPageSizeBits);
    return checked(asid_pool_assign(CapPtr(slot), vspace), kStep);
}

namespace {

class ImageBuilder {
  public:
    ImageBuilder(BuilderEnvironment& env, Carver& carver, Budget& budget, const BuildPlan& plan,
                 const PdConfig& config)
        : env_(env), carver_(carver), budget_(budget), plan_(plan), config_(config) {}

    Result<Image, SpawnError> build(std::span<const uint8_t> elf) {
        const pd::Layout& layout = plan_.layout;
        TRY(large_frames_and_book());
        image_.vspace = TRY(carver_.make(ObjectType::kVSpace, 0, SpawnStep::kObjects)).value();
        // The tables' slots together, so the frames' slots follow on and their runs stay few.
        tables_next_ = TRY(carver_.reserve_slots(layout.tables, SpawnStep::kObjects)).value();
        tables_end_ = tables_next_ + layout.tables;
        small_left_ = layout.small_frames;
        TRY(refill());
        TRY(assign_asid(env_, CapPtr(image_.vspace)));
        mark(env_, SpawnPhase::kImageObjects);
        TRY(reserve_own_frames());
        TRY(load_elf(elf));
        mark(env_, SpawnPhase::kImagePages);
        TRY(fresh_pages(layout.stack_low, (layout.stack_top - layout.stack_low) / kPage));
        TRY(fresh_pages(layout.heap_base, layout.heap_size / kPage));
        for (size_t i = 0; i < plan_.region_count; ++i) {
            TRY(region(plan_.regions[i], layout.addresses[i], i));
        }
        mark(env_, SpawnPhase::kRegions);
        TRY(startup_record());
        image_.ipc_frame = TRY(next_small(SpawnStep::kRegions));
        TRY(map_run(image_.ipc_frame, 1, abi::kPdIpcBuffer, kReadWrite, abi::MapAttributes::kCached,
                    SpawnStep::kRegions, false, PageKind::kIpcBuffer));
        TRY(give_own(image_.ipc_frame, 1, abi::kPdIpcBuffer));
        ++image_.pages;
        mark(env_, SpawnPhase::kStartupRecord);
        return image_;
    }

  private:
    // The bookkeeping CNode first, so every capability has its place; but large frames need the
    // budget's 2 MiB alignment, so they come before it, in creator slots they leave for it.
    Result<void, SpawnError> large_frames_and_book() {
        constexpr SpawnStep kStep = SpawnStep::kRegions;
        const uint64_t large = plan_.layout.large_frames;
        if (large == 0) {
            return carver_.make_book(plan_.book_radix, pd::kIdentitySlots);
        }
        const uint64_t temp = env_.slots->allocate_run(large);
        if (temp == 0) {
            return fail(out_of_memory(kStep));
        }
        const CapPtr root = root_of(env_);
        auto moved = [&]() -> Result<void, SpawnError> {
            const auto at = budget_.fill.place(abi::kLargePageSizeBits, large);
            if (at.chunk_count == 0) {
                return fail(out_of_memory(kStep));
            }
            for (unsigned c = 0, done = 0; c < at.chunk_count; done += at.chunks[c++].count) {
                TRY(checked(untyped_retype(CapPtr(budget_.untyped[at.chunks[c].block]),
                                           ObjectType::kFrame2M, 0, env_.cnode, 0, 0, temp + done,
                                           at.chunks[c].count),
                            kStep));
            }
            TRY(carver_.make_book(plan_.book_radix, pd::kIdentitySlots));
            next_large_ = TRY(carver_.reserve_slots(large, kStep)).value();
            for (uint64_t i = 0; i < large; ++i) {
                TRY(checked(cnode_move(root, next_large_ + i, kWordBits, root, temp + i, kWordBits),
                            kStep));
            }
            return {};
        }();
        for (uint64_t i = 0; i < large; ++i) {
            (void)cnode_delete(root, temp + i, kWordBits);  // empty unless it failed
            env_.slots->free(temp + i);
        }
        return moved;
    }

    uint64_t scratch_small(unsigned n) const { return env_.scratch_address + n * kPage; }
    uint64_t scratch_large(unsigned n) const { return env_.scratch_address + (n + 1) * kLargePage; }

    // Creator slots for copies of the PD's own frames (give_own_frames).
    Result<void, SpawnError> reserve_own_frames() {
        for (size_t k = 0; k < pd::kOwnKinds; ++k) {
            if (plan_.own[k].pages != 0) {
                image_.own_given[k] =
                    TRY(reserve_given(plan_.own[k].pages, plan_.own[k].child_slot));
            }
        }
        return {};
    }

    // Bookkeeping slots for copies of `pages` frames that go to child slots from `to` (what is
    // not moved to the child goes with the image).
    Result<uint64_t, SpawnError> reserve_given(uint64_t pages, uint64_t to) {
        const uint64_t run = TRY(carver_.reserve_slots(pages, SpawnStep::kRegions)).value();
        image_.given[image_.given_count++] = Image::GivenRun{run, to, pages};
        return run;
    }

    // Copies the frames first .. first + count - 1, mapped from address on, into the slots of
    // the own regions that hold them.
    Result<void, SpawnError> give_own(uint64_t first, uint64_t count, uint64_t address) {
        if (!config_.give_own_frames) {
            return {};
        }
        for (uint64_t i = 0; i < count; ++i) {
            const uint64_t at = address + i * kPage;
            for (size_t k = 0; k < pd::kOwnKinds; ++k) {
                const OwnSpan& own = plan_.own[k];
                if (own.holds(at)) {
                    const CapPtr root = root_of(env_);
                    TRY(checked(cnode_copy(root, image_.own_given[k] + (at - own.low) / kPage,
                                           kWordBits, root, first + i, kWordBits,
                                           frame_cap_rights(pd::kOwnKindInfo[k].rights)),
                                SpawnStep::kRegions));
                }
            }
        }
        return {};
    }

    // The ELF's pages, run by run on the current batch of frames, gathered into groups that
    // share one mapping of the scratch window. A batch is never empty here: the startup record
    // and the IPC buffer still need frames after the last page of the image.
    Result<void, SpawnError> load_elf(std::span<const uint8_t> elf) {
        pd::RunGroup group;
        pd::ImageRunCursor runs(plan_.load);
        ImageRun run;
        for (;;) {
            uint64_t limit = TRY(frames_in_batch(SpawnStep::kImage));
            limit = limit < pd::RunGroup::kMaxWindowFrames ? limit : pd::RunGroup::kMaxWindowFrames;
            if (!runs.next(limit, run)) {
                break;
            }
            const uint64_t first = take_frames(run.count);
            if (!group.accepts(run, first)) {
                TRY(flush_group(elf, group));
                group.clear();
            }
            group.add(run, first);
            if (pd::RunGroup::closes_after(run)) {
                TRY(flush_group(elf, group));
                group.clear();
            }
        }
        return flush_group(elf, group);
    }

    // Fills the group's filled runs through one mapping of the window, then maps every run
    // into the new VSpace.
    Result<void, SpawnError> flush_group(std::span<const uint8_t> elf, const pd::RunGroup& group) {
        constexpr SpawnStep kStep = SpawnStep::kImage;
        const uint64_t low = group.window_low();
        const uint64_t high = group.window_high();
        if (high != 0) {
            const uint64_t window = scratch_small(0);
            TRY(checked(vspace_map_frames(env_.vspace, CapPtr(low), high - low, window, kReadWrite,
                                          abi::MapAttributes::kCached),
                        kStep));
            for (const pd::RunGroup::Member& m : group.members()) {
                if (m.run.filled) {
                    fill_run(elf, m, window + (m.first_frame - low) * kPage);
                }
            }
            (void)vspace_unmap_frames(env_.vspace, CapPtr(low), high - low);
        }
        for (const pd::RunGroup::Member& m : group.members()) {
            TRY(map_run(m.first_frame, m.run.count, m.run.address, map_rights(m.run.rights),
                        abi::MapAttributes::kCached, kStep));
            TRY(give_own(m.first_frame, m.run.count, m.run.address));
            image_.pages += m.run.count;
        }
        return {};
    }

    // Copies the file's bytes into a run's frames, mapped at window (they arrive zeroed, so
    // only the copies are written).
    void fill_run(std::span<const uint8_t> elf, const pd::RunGroup::Member& m, uint64_t window) {
        auto* dest = reinterpret_cast<uint8_t*>(window);
        pd::for_each_run_copy(plan_.load, m.run,
                              [&](uint64_t offset, uint64_t file_offset, uint64_t length) {
                                  memcpy(dest + offset, elf.data() + file_offset, length);
                              });
        if (elf::has(m.run.rights, elf::Rights::kExecute)) {
            // Code must reach instruction fetch before the child runs it.
            for (uint64_t i = 0; i < m.run.count; ++i) {
                (void)frame_cache_op(CapPtr(m.first_frame + i), abi::CacheOp::kUnifyInstruction, 0,
                                     kPage);
            }
        }
    }

    // `pages` fresh zeroed read-write pages from va up, in runs.
    Result<void, SpawnError> fresh_pages(uint64_t va, uint64_t pages) {
        constexpr SpawnStep kStep = SpawnStep::kRegions;
        while (pages > 0) {
            uint64_t count = TRY(frames_in_batch(kStep));
            const uint64_t in_table = pd::pages_left_in_table(va);
            count = count < in_table ? count : in_table;
            count = count < pages ? count : pages;
            const uint64_t first = take_frames(count);
            TRY(map_run(first, count, va, kReadWrite, abi::MapAttributes::kCached, kStep));
            TRY(give_own(first, count, va));
            image_.pages += count;
            va += count * kPage;
            pages -= count;
        }
        return {};
    }

    Result<void, SpawnError> region(const RegionSpec& r, uint64_t address, size_t index) {
        constexpr SpawnStep kStep = SpawnStep::kRegions;
        const uint64_t page = pd::bytes_of(r.page_size);
        const bool large = r.page_size == PageSize::k2M;
        const auto attributes =
            r.device ? abi::MapAttributes::kDevice : abi::MapAttributes::kCached;
        const bool creators =
            r.sharing == Sharing::kShared || (r.sharing == Sharing::kDisjoint && r.frames != 0);
        const PageKind kind = creators || r.device ? PageKind::kShared : PageKind::kPrivate;
        // Copies of the region's frames, moved into the child's CSpace with its other caps.
        const uint64_t given =
            r.give_frames ? TRY(reserve_given(r.size / page, plan_.region_frames_slot[index])) : 0;
        for (uint64_t off = 0, i = 0; off < r.size; off += page, ++i) {
            uint64_t frame = 0;
            if (creators) {
                // The creator's own page.
                frame = TRY(carver_.copy(CapPtr(r.frames + i), abi::kRightsAll, kStep)).value();
            } else {
                frame = large ? next_large_++ : TRY(next_small(kStep));
                if (r.sharing == Sharing::kDeepCopy) {
                    TRY(copy_contents(frame, r.frames + i, r.rights, large));
                }
            }
            TRY(map_run(frame, 1, address + off, r.rights, attributes, kStep, large, kind));
            ++image_.pages;
            if (given != 0) {
                const CapPtr root = root_of(env_);
                TRY(checked(cnode_copy(root, given + i, kWordBits, root, frame, kWordBits,
                                       frame_cap_rights(r.rights)),
                            kStep));
            }
        }
        return {};
    }

    // Copies the contents of the creator's frame at source into frame (both of one size).
    Result<void, SpawnError> copy_contents(uint64_t frame, uint64_t source, uint64_t rights,
                                           bool large) {
        constexpr SpawnStep kStep = SpawnStep::kRegions;
        const uint64_t size = large ? kLargePage : kPage;
        const uint64_t temp = env_.slots->allocate();
        if (temp == 0) {
            return fail(out_of_memory(kStep));
        }
        const CapPtr root = root_of(env_);
        auto copied = [&]() -> Result<void, SpawnError> {
            TRY(checked(cnode_copy(root, temp, kWordBits, root, source, kWordBits, abi::kRightRead),
                        kStep));
            uint8_t* from = TRY(map_scratch(temp, large ? scratch_large(1) : scratch_small(1),
                                            kStep, abi::kMapRead));
            auto to = map_scratch(frame, large ? scratch_large(0) : scratch_small(0), kStep);
            if (!to) {
                (void)frame_unmap(CapPtr(temp));
                return fail(to.error());
            }
            memcpy(to.value(), from, size);
            (void)frame_unmap(CapPtr(temp));
            unmap_scratch(frame, rights, size);
            return {};
        }();
        (void)cnode_delete(root, temp, kWordBits);
        env_.slots->free(temp);
        return copied;
    }

    Result<void, SpawnError> startup_record() {
        constexpr SpawnStep kStep = SpawnStep::kRegions;
        const uint64_t frame = TRY(next_small(kStep));
        uint8_t* page = TRY(map_scratch(frame, scratch_small(0), kStep));
        write_startup_record(page);
        unmap_scratch(frame, kReadWrite, kPage);
        TRY(map_run(frame, 1, abi::kPdStartupRecord, kReadWrite, abi::MapAttributes::kCached,
                    kStep));
        ++image_.pages;
        return {};
    }

    // The record's directory and regions, in the order the plan counted them (so they fit).
    void write_startup_record(uint8_t* page) const {
        const pd::Layout& layout = plan_.layout;
        pd::StartupRecordWriter w(page, abi::kPdStartupRecord);
        abi::StartupRecord& r = w.record();
        r.parent_endpoint = config_.parent_endpoint != 0 ? abi::kPdSlotParentEndpoint : 0;
        r.fault_endpoint = config_.fault != FaultPolicy::kReport ? abi::kPdSlotFaultEndpoint : 0;
        r.cnode_radix = config_.cnode_radix;
        r.first_free_slot = plan_.first_free;
        r.stack_low = layout.stack_low;
        r.stack_top = layout.stack_top;
        r.heap_base = layout.heap_base;
        r.heap_size = layout.heap_size;
        r.ipc_buffer = abi::kPdIpcBuffer;
        auto type = [](abi::CapType t) { return static_cast<uint32_t>(t); };
        if (r.parent_endpoint != 0) {
            (void)w.add_cap("parent", abi::kPdSlotParentEndpoint, 1, type(abi::CapType::kEndpoint),
                            config_.badge);
        }
        if (config_.self_caps) {
            (void)w.add_cap("self-cnode", abi::kPdSlotSelfCNode, 1, type(abi::CapType::kCNode), 0);
            (void)w.add_cap("self-vspace", abi::kPdSlotSelfVSpace, 1, type(abi::CapType::kVSpace),
                            0);
            (void)w.add_cap("self-tcb", abi::kPdSlotSelfTcb, 1, type(abi::CapType::kTcb), 0);
        }
        for (size_t i = 0; i < config_.caps.size(); ++i) {
            const CapGrant& g = config_.caps[i];
            if (!g.name.empty()) {
                (void)w.add_cap(g.name, plan_.grant_slot[i], 1, type(plan_.grant_type[i]), g.badge);
            }
        }
        for (size_t b = 0; b < config_.bulk.size(); ++b) {
            const BulkGrant& g = config_.bulk[b];
            (void)w.add_cap(g.name, plan_.bulk_slot[b], static_cast<uint32_t>(plan_.bulk_count[b]),
                            type(g.type), 0);
        }
        (void)w.add_region("stack", layout.stack_low, layout.stack_top - layout.stack_low,
                           abi::RegionKind::kStack, kReadWrite);
        if (layout.heap_size != 0) {
            (void)w.add_region("heap", layout.heap_base, layout.heap_size, abi::RegionKind::kHeap,
                               kReadWrite);
        }
        for (size_t k = 0; k < pd::kOwnKinds; ++k) {
            const OwnSpan& own = plan_.own[k];
            if (own.pages == 0) {
                continue;
            }
            const pd::OwnKindInfo& info = pd::kOwnKindInfo[k];
            (void)w.add_cap(info.name, own.child_slot, static_cast<uint32_t>(own.pages),
                            type(abi::CapType::kFrame), 0);
            if (k != pd::kOwnStack && k != pd::kOwnHeap) {  // listed above in any case
                (void)w.add_region(info.name, own.low, own.pages * kPage, info.kind,
                                   static_cast<uint32_t>(info.rights));
            }
        }
        for (size_t i = 0; i < plan_.region_count; ++i) {
            const RegionSpec& g = plan_.regions[i];
            if (g.give_frames) {
                (void)w.add_cap(g.name, plan_.region_frames_slot[i],
                                static_cast<uint32_t>(g.size / pd::bytes_of(g.page_size)),
                                type(abi::CapType::kFrame), 0);
            }
        }
        for (size_t i = 0; i < plan_.region_count; ++i) {
            const RegionSpec& s = plan_.regions[i];
            (void)w.add_region(s.name, layout.addresses[i], s.size, s.kind,
                               static_cast<uint32_t>(s.rights));
        }
        (void)w.set_strings(config_.arguments, config_.environment);  // checked by the plan
    }

    Result<uint8_t*, SpawnError> map_scratch(uint64_t frame, uint64_t va, SpawnStep step,
                                             uint64_t rights = kReadWrite) {
        TRY(checked(frame_map(CapPtr(frame), env_.vspace, va, rights, abi::MapAttributes::kCached),
                    step));
        return reinterpret_cast<uint8_t*>(va);
    }

    // Unmaps a filled frame from the scratch range; code must reach instruction fetch.
    static void unmap_scratch(uint64_t frame, uint64_t rights, uint64_t size) {
        if ((rights & abi::kMapExecute) != 0) {
            (void)frame_cache_op(CapPtr(frame), abi::CacheOp::kUnifyInstruction, 0, size);
        }
        (void)frame_unmap(CapPtr(frame));
    }

    // Maps the frames first .. first + count - 1 into the new VSpace from va, with the page
    // tables made from the image budget as the kernel asks for them.
    // The run is recorded as `kind` in the image's runs.
    Result<void, SpawnError> map_run(uint64_t first, uint64_t count, uint64_t va, uint64_t rights,
                                     abi::MapAttributes attributes, SpawnStep step,
                                     bool large = false, PageKind kind = PageKind::kPrivate) {
        table_step_ = step;
        table_error_ = abi::Error::kOk;
        InvocationResult r =
            map_frames(CapPtr(image_.vspace), CapPtr(first), count, va, rights, attributes, large,
                       TableSource{&ImageBuilder::make_tables, this}, &image_.tables);
        if (!r.ok() && table_error_ != abi::Error::kOk) {
            r.error = table_error_;  // the tables' own failure, not the map's consequence of it
        }
        TRY(checked(r, step));
        PageRun run;
        run.va = va;
        run.slot = first;
        run.count = static_cast<uint32_t>(count);
        run.rights = static_cast<uint8_t>(rights);
        run.kind = kind;
        run.large = large;
        run.device = attributes == abi::MapAttributes::kDevice;
        image_.runs.add(run);
        return {};
    }

    static uint64_t make_tables(void* context, uint64_t count) {
        auto* self = static_cast<ImageBuilder*>(context);
        if (count <= self->tables_end_ - self->tables_next_) {  // in the tables' slots
            const uint64_t first = self->tables_next_;
            auto made = self->carver_.make_into(CapPtr(first), ObjectType::kPageTable, 0, count,
                                                self->table_step_);
            if (!made) {
                self->table_error_ = made.error().kernel_error;
                return 0;
            }
            self->tables_next_ += count;
            return first;
        }
        auto tables = self->carver_.make_many(ObjectType::kPageTable, 0, count, self->table_step_);
        if (!tables) {
            self->table_error_ = tables.error().kernel_error;
            return 0;
        }
        return tables.value().value();
    }

    // Frames left in the current batch of consecutive frames (a new batch when it is empty).
    Result<uint64_t, SpawnError> frames_in_batch(SpawnStep step) {
        if (next_small_ == end_small_) {
            TRY(refill());
            if (next_small_ == end_small_) {
                return fail(SpawnError::kernel(step, abi::Error::kNotEnoughMemory));
            }
        }
        return end_small_ - next_small_;
    }

    // The next count frames of the batch (count <= frames_in_batch()).
    uint64_t take_frames(uint64_t count) {
        const uint64_t first = next_small_;
        next_small_ += count;
        return first;
    }

    Result<void, SpawnError> refill() {
        constexpr uint64_t kBatch = 256;  // the kernel's fan-out limit per retype
        const uint64_t n = small_left_ < kBatch ? small_left_ : kBatch;
        if (n == 0) {
            return {};
        }
        next_small_ = TRY(carver_.make_many(ObjectType::kFrame4K, 0, n, SpawnStep::kImage)).value();
        end_small_ = next_small_ + n;
        small_left_ -= n;
        return {};
    }

    Result<uint64_t, SpawnError> next_small(SpawnStep step) {
        TRY(frames_in_batch(step));
        return take_frames(1);
    }

    BuilderEnvironment& env_;
    Carver& carver_;
    Budget& budget_;
    const BuildPlan& plan_;
    const PdConfig& config_;
    Image image_;
    uint64_t small_left_ = 0;
    uint64_t next_small_ = 0;
    uint64_t end_small_ = 0;
    uint64_t next_large_ = 0;
    uint64_t tables_next_ = 0;  // the tables' reserved slots
    uint64_t tables_end_ = 0;
    SpawnStep table_step_ = SpawnStep::kImage;  // for errors while making tables
    abi::Error table_error_ = abi::Error::kOk;
};

}  // namespace

Result<Image, SpawnError> build_image(BuilderEnvironment& env, Budget& budget,
                                      const BuildPlan& plan, std::span<const uint8_t> elf,
                                      const PdConfig& config) {
    Carver carver(env, budget, budget);
    TRY(carver.reserve(plan.image_bytes));
    ImageBuilder builder(env, carver, budget, plan, config);
    return builder.build(elf);
}

}  // namespace tessera
