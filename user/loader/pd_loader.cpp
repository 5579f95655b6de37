// The PD loader. Order: parse and plan (nothing allocated yet), carve the budgets, make the
// objects, fill and map every page through the parent's scratch mapping, build the CSpace,
// configure and start the thread. Any failure revokes what was carved, so a failed spawn or
// exec leaves nothing behind; destroying a PD is revoking its two budgets.
#include "tessera/pd_loader.hpp"

#include <bit>

#include "abi/bootinfo.hpp"
#include "abi/process.hpp"
#include "elf/load_plan.hpp"
#include "tessera/invocation.hpp"

extern "C" void* memcpy(void* dest, const void* src, size_t n);

namespace tessera {
namespace {

using abi::CapPtr;
using abi::ObjectType;

constexpr CapPtr kRootCNode{abi::kSlotInitThreadCNode};
constexpr CapPtr kOwnVSpace{abi::kSlotInitThreadVSpace};
constexpr uint64_t kPage = 4096;
constexpr uint64_t kDepth = 64;
constexpr unsigned kIdentityBits = 14;  // TCB + CNode of radix 8, with alignment room

SpawnError kernel_failure(SpawnStep step, abi::Error error) {
    SpawnError e;
    e.step = step;
    e.kernel_error = error;
    return e;
}

// Objects carved from one budget; every capability lands in a recorded root slot.
class Carver {
  public:
    Carver(LoaderEnvironment& env, Budget& budget) : env_(env), budget_(budget) {}

    uint64_t slot() {
        uint64_t s = env_.slots->allocate();
        if (s == 0) {
            return 0;
        }
        if (!record(s, s + 1)) {
            env_.slots->free(s);
            return 0;
        }
        return s;
    }

    // Notes [start, end) as this budget's slots (freed when it is released).
    bool record(uint64_t start, uint64_t end) {
        auto& ranges = budget_.slot_ranges;
        unsigned& n = budget_.slot_range_count;
        if (n > 0 && ranges[n - 1].end == start) {
            ranges[n - 1].end = end;
        } else if (n < Budget::kMaxSlotRanges) {
            ranges[n++] = Budget::SlotRange{start, end};
        } else {
            return false;
        }
        return true;
    }

    // Carves the budget itself from the environment's pool.
    Result<void, SpawnError> reserve(unsigned bits) {
        budget_.bits = bits;
        budget_.untyped = slot();
        if (budget_.untyped == 0) {
            return fail(kernel_failure(SpawnStep::kBudget, abi::Error::kNotEnoughMemory));
        }
        InvocationResult r = untyped_retype(env_.memory_pool, ObjectType::kUntyped, bits,
                                            kRootCNode, 0, 0, budget_.untyped, 1);
        if (!r.ok()) {
            return fail(kernel_failure(SpawnStep::kBudget, r.error));
        }
        return {};
    }

    // `count` objects in consecutive slots with one retype; returns the first slot.
    Result<uint64_t, SpawnError> make_many(ObjectType type, uint64_t size_bits, uint64_t count,
                                           SpawnStep step) {
        uint64_t first = env_.slots->allocate_run(count);
        if (first == 0) {
            return fail(kernel_failure(step, abi::Error::kNotEnoughMemory));
        }
        record(first, first + count);
        InvocationResult r = untyped_retype(CapPtr(budget_.untyped), type, size_bits, kRootCNode, 0,
                                            0, first, count);
        if (!r.ok()) {
            return fail(kernel_failure(step, r.error));
        }
        return first;
    }

    Result<uint64_t, SpawnError> make(ObjectType type, uint64_t size_bits, SpawnStep step) {
        uint64_t s = slot();
        if (s == 0) {
            return fail(kernel_failure(step, abi::Error::kNotEnoughMemory));
        }
        InvocationResult r =
            untyped_retype(CapPtr(budget_.untyped), type, size_bits, kRootCNode, 0, 0, s, 1);
        if (!r.ok()) {
            return fail(kernel_failure(step, r.error));
        }
        return s;
    }

  private:
    LoaderEnvironment& env_;
    Budget& budget_;
};

void release(LoaderEnvironment& env, Budget& budget) {
    if (budget.untyped != 0) {
        while (!cnode_revoke(kRootCNode, budget.untyped, kDepth).ok()) {
        }
        (void)cnode_delete(kRootCNode, budget.untyped, kDepth);
    }
    for (unsigned i = 0; i < budget.slot_range_count; ++i) {
        for (uint64_t s = budget.slot_ranges[i].start; s < budget.slot_ranges[i].end; ++s) {
            env.slots->free(s);
        }
    }
    budget = Budget{};
}

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

// Bytes an image needs from its budget, rounded up to a power of two.
unsigned image_bits_for(const elf::LoadPlan& plan, uint64_t stack_pages) {
    uint64_t pages = plan.page_count + stack_pages + 1;
    // At most three tables per 2 MiB region touched, counted generously.
    uint64_t regions = plan.segment_count + 2;
    for (const elf::Segment& s : plan.segment_list()) {
        regions += s.memsz / 0x20'0000;
    }
    uint64_t bytes = (pages + 3 * regions + 1) * kPage + 2 * kPage;
    return static_cast<unsigned>(64 - std::countl_zero(bytes - 1));
}

// A new image: VSpace (with ASID), the ELF's pages, stack and IPC buffer, all from `budget`.
struct Image {
    uint64_t vspace = 0;
    uint64_t ipc_frame = 0;
    uint64_t pages = 0;
    uint64_t tables = 0;
};

class ImageBuilder {
  public:
    ImageBuilder(LoaderEnvironment& env, Carver& carver) : env_(env), carver_(carver) {}

    Result<Image, SpawnError> build(const elf::LoadPlan& plan, std::span<const uint8_t> elf,
                                    uint64_t stack_pages) {
        image_.vspace = TRY(carver_.make(ObjectType::kVSpace, 0, SpawnStep::kObjects));
        // Every frame the image needs, retyped in batches of consecutive slots.
        frames_left_ = plan.page_count + stack_pages + 1;
        TRY(refill());
        InvocationResult a = asid_pool_assign(env_.asid_pool, CapPtr(image_.vspace));
        if (!a.ok()) {
            return fail(kernel_failure(SpawnStep::kObjects, a.error));
        }
        bool ok = true;
        SpawnError error;
        elf::for_each_page(plan, [&](const elf::PagePlan& page) {
            auto loaded = page_at(
                page.address, map_rights(page.rights), SpawnStep::kImage,
                [&](uint8_t* dest) {
                    for (const elf::CopyRange& c : page.copy_ranges()) {
                        memcpy(dest + c.page_offset, elf.data() + c.file_offset, c.length);
                    }
                },
                !page.all_zero());
            if (!loaded) {
                ok = false;
                error = loaded.error();
            }
            return ok;
        });
        if (!ok) {
            return fail(error);
        }
        // Stack below kPdStackTop with an unmapped guard page under it, and the IPC buffer.
        for (uint64_t i = 1; i <= stack_pages; ++i) {
            TRY(page_at(
                abi::kPdStackTop - i * kPage, abi::kMapRead | abi::kMapWrite, SpawnStep::kStack,
                [](uint8_t*) {}, false));
        }
        image_.ipc_frame = TRY(next_frame(SpawnStep::kStack));
        TRY(map(image_.ipc_frame, abi::kPdIpcBuffer, abi::kMapRead | abi::kMapWrite,
                SpawnStep::kStack));
        ++image_.pages;
        return image_;
    }

  private:
    // Maps frame into the new VSpace at va, making tables as the kernel asks for them.
    Result<void, SpawnError> map(uint64_t frame, uint64_t va, uint64_t rights, SpawnStep step) {
        for (;;) {
            InvocationResult r = frame_map(CapPtr(frame), CapPtr(image_.vspace), va, rights,
                                           abi::MapAttributes::kCached);
            if (r.ok()) {
                return {};
            }
            if (r.error != abi::Error::kFailedLookup) {
                return fail(kernel_failure(step, r.error));
            }
            uint64_t table = TRY(carver_.make(ObjectType::kPageTable, 0, step));
            InvocationResult t = page_table_map(CapPtr(table), CapPtr(image_.vspace), va);
            if (!t.ok()) {
                return fail(kernel_failure(step, t.error));
            }
            ++image_.tables;
        }
    }

    // A new zeroed page at va; fill() writes it through the parent's scratch mapping first.
    template <typename Fill>
    Result<void, SpawnError> page_at(uint64_t va, uint64_t rights, SpawnStep step, Fill&& fill,
                                     bool needs_fill) {
        uint64_t frame = TRY(next_frame(step));
        if (needs_fill) {
            InvocationResult r =
                frame_map(CapPtr(frame), kOwnVSpace, env_.scratch_address,
                          abi::kMapRead | abi::kMapWrite, abi::MapAttributes::kCached);
            if (!r.ok()) {
                return fail(kernel_failure(step, r.error));
            }
            fill(reinterpret_cast<uint8_t*>(env_.scratch_address));
            if ((rights & abi::kMapExecute) != 0) {
                (void)frame_cache_op(CapPtr(frame), abi::CacheOp::kUnifyInstruction, 0, kPage);
            }
            (void)frame_unmap(CapPtr(frame));
        }
        TRY(map(frame, va, rights, step));
        ++image_.pages;
        return {};
    }

    Result<void, SpawnError> refill() {
        constexpr uint64_t kBatch = 256;  // the kernel's fan-out limit per retype
        uint64_t n = frames_left_ < kBatch ? frames_left_ : kBatch;
        if (n > 0) {
            next_ = TRY(carver_.make_many(ObjectType::kFrame4K, 0, n, SpawnStep::kImage));
            end_ = next_ + n;
            frames_left_ -= n;
        }
        return {};
    }

    Result<uint64_t, SpawnError> next_frame(SpawnStep step) {
        if (next_ == end_) {
            TRY(refill());
            if (next_ == end_) {
                return fail(kernel_failure(step, abi::Error::kNotEnoughMemory));
            }
        }
        return next_++;
    }

    LoaderEnvironment& env_;
    Carver& carver_;
    Image image_;
    uint64_t frames_left_ = 0;
    uint64_t next_ = 0;
    uint64_t end_ = 0;
};

Result<elf::LoadPlan, SpawnError> plan_for(std::span<const uint8_t> elf) {
    auto plan = elf::make_load_plan(elf);
    if (!plan) {
        SpawnError e;
        e.step = SpawnStep::kParse;
        e.elf_error = plan.error();
        return fail(e);
    }
    return plan.value();
}

Result<Image, SpawnError> build_image(LoaderEnvironment& env, Budget& budget,
                                      const elf::LoadPlan& plan, std::span<const uint8_t> elf,
                                      const SpawnOptions& options) {
    Carver carver(env, budget);
    TRY(carver.reserve(image_bits_for(plan, options.stack_pages)));
    ImageBuilder builder(env, carver);
    return builder.build(plan, elf, options.stack_pages);
}

// Points the thread at its (new) image and starts it.
Result<void, SpawnError> start_thread(const PdHandle& pd, const elf::LoadPlan& plan,
                                      const SpawnOptions& options) {
    uint64_t guard_bits = 64 - abi::kPdCNodeRadix;  // single-level CSpace: slot n is CapPtr(n)
    InvocationResult c =
        tcb_configure(CapPtr(pd.tcb), CapPtr(pd.fault_slot), CapPtr(pd.cnode), guard_bits,
                      CapPtr(pd.vspace), abi::kPdIpcBuffer, CapPtr(pd.ipc_frame));
    if (!c.ok()) {
        return fail(kernel_failure(SpawnStep::kThread, c.error));
    }
    uint64_t regs[abi::kUserRegisterCount] = {};
    regs[abi::kRegisterIndexPc] = plan.entry;
    regs[abi::kRegisterIndexSp] = abi::kPdStackTop;
    regs[abi::kRegisterIndexX0] = abi::kPdSlotParentEndpoint;
    regs[abi::kRegisterIndexX0 + 1] = options.argument;
    regs[abi::kRegisterIndexTpidr] = abi::kPdIpcBuffer;
    InvocationResult w = tcb_write_registers(CapPtr(pd.tcb), true, regs, abi::kUserRegisterCount);
    if (!w.ok()) {
        return fail(kernel_failure(SpawnStep::kThread, w.error));
    }
    return {};
}

Result<void, SpawnError> mint_into(const PdHandle& pd, uint64_t slot, uint64_t src,
                                   uint64_t badge) {
    InvocationResult m = cnode_mint(CapPtr(pd.cnode), slot, abi::kPdCNodeRadix, kRootCNode, src,
                                    kDepth, abi::kRightWrite | abi::kRightGrantReply, badge);
    if (!m.ok()) {
        return fail(kernel_failure(SpawnStep::kCapabilities, m.error));
    }
    return {};
}

}  // namespace

const char* to_string(SpawnStep step) {
    switch (step) {
        case SpawnStep::kParse:
            return "parsing the ELF image";
        case SpawnStep::kBudget:
            return "reserving the PD's memory budget";
        case SpawnStep::kObjects:
            return "creating the TCB, CNode and VSpace";
        case SpawnStep::kImage:
            return "loading the image";
        case SpawnStep::kStack:
            return "creating the stack and IPC buffer";
        case SpawnStep::kCapabilities:
            return "giving the PD its capabilities";
        case SpawnStep::kThread:
            return "starting the thread";
    }
    return "unknown step";
}

Result<void, SpawnError> loader_init(LoaderEnvironment& env) {
    // Tables under the scratch address, made from the pool and kept for the parent's lifetime.
    for (unsigned i = 0; i < 4; ++i) {
        uint64_t s = env.slots->allocate();
        InvocationResult r =
            untyped_retype(env.memory_pool, ObjectType::kPageTable, 0, kRootCNode, 0, 0, s, 1);
        if (!r.ok()) {
            return fail(kernel_failure(SpawnStep::kBudget, r.error));
        }
        r = page_table_map(CapPtr(s), kOwnVSpace, env.scratch_address);
        if (r.error == abi::Error::kDeleteFirst) {
            (void)cnode_delete(kRootCNode, s, kDepth);
            env.slots->free(s);
            return {};
        }
        if (!r.ok()) {
            return fail(kernel_failure(SpawnStep::kBudget, r.error));
        }
    }
    return {};
}

Result<PdHandle, SpawnError> spawn_pd(LoaderEnvironment& env, std::span<const uint8_t> elf,
                                      const SpawnOptions& options) {
    elf::LoadPlan plan = TRY(plan_for(elf));
    PdHandle pd;
    auto attempt = [&]() -> Result<void, SpawnError> {
        Carver identity(env, pd.identity);
        TRY(identity.reserve(kIdentityBits));
        pd.cnode = TRY(identity.make(ObjectType::kCNode, abi::kPdCNodeRadix, SpawnStep::kObjects));
        pd.tcb = TRY(identity.make(ObjectType::kTcb, 0, SpawnStep::kObjects));
        Image image = TRY(build_image(env, pd.image, plan, elf, options));
        pd.vspace = image.vspace;
        pd.ipc_frame = image.ipc_frame;
        pd.pages = image.pages;
        pd.tables = image.tables;
        if (options.parent_endpoint != 0) {
            TRY(mint_into(pd, abi::kPdSlotParentEndpoint, options.parent_endpoint, options.badge));
        }
        if (options.fault_endpoint != 0) {
            TRY(mint_into(pd, abi::kPdSlotFaultEndpoint, options.fault_endpoint,
                          options.fault_badge));
            pd.fault_slot = abi::kPdSlotFaultEndpoint;
        }
        InvocationResult p =
            tcb_set_priority(CapPtr(pd.tcb), CapPtr(abi::kSlotInitThreadTcb), options.priority, 0);
        if (!p.ok()) {
            return fail(kernel_failure(SpawnStep::kThread, p.error));
        }
        uint64_t name[3] = {};
        for (size_t i = 0; i < options.name.size() && i < 23; ++i) {
            name[i / 8] |= uint64_t{static_cast<uint8_t>(options.name[i])} << (8 * (i % 8));
        }
        (void)invoke(CapPtr(pd.tcb), abi::InvocationLabel::kTcbSetName, name);
        return start_thread(pd, plan, options);
    };
    Result<void, SpawnError> built = attempt();
    if (!built) {
        destroy_pd(env, pd);  // everything made so far came from the two budgets
        return fail(built.error());
    }
    return pd;
}

Result<void, SpawnError> exec_pd(LoaderEnvironment& env, PdHandle& pd, std::span<const uint8_t> elf,
                                 const SpawnOptions& options) {
    elf::LoadPlan plan = TRY(plan_for(elf));
    // Build the new image whole while the old one is untouched.
    Budget fresh;
    auto image = build_image(env, fresh, plan, elf, options);
    if (!image) {
        release(env, fresh);
        return fail(image.error());
    }
    // Swap: stop the thread (cancelling whatever it was doing), install the new image, restart.
    (void)tcb_suspend(CapPtr(pd.tcb));
    Budget old = pd.image;
    PdHandle updated = pd;
    updated.image = fresh;
    updated.vspace = image.value().vspace;
    updated.ipc_frame = image.value().ipc_frame;
    updated.pages = image.value().pages;
    updated.tables = image.value().tables;
    auto started = start_thread(updated, plan, options);
    if (!started) {
        release(env, fresh);  // the old image is still installed: resume it as it was
        (void)tcb_resume(CapPtr(pd.tcb));
        return fail(started.error());
    }
    pd = updated;
    release(env, old);  // the old address space and every page of it
    return {};
}

void destroy_pd(LoaderEnvironment& env, PdHandle& pd) {
    release(env, pd.image);
    release(env, pd.identity);
    pd = PdHandle{};
}

}  // namespace tessera
