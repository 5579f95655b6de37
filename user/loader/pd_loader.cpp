// The PD loader. Order: parse and plan (nothing allocated yet), carve the budget, make the
// objects, fill and map every page through the parent's scratch mapping, build the CSpace,
// configure and start the thread. Any failure after the budget exists revokes it, so a failed
// spawn leaves nothing behind.
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

SpawnError kernel_failure(SpawnStep step, const InvocationResult& r) {
    SpawnError e;
    e.step = step;
    e.kernel_error = r.error;
    return e;
}

SpawnError step_failure(SpawnStep step, abi::Error error) {
    SpawnError e;
    e.step = step;
    e.kernel_error = error;
    return e;
}

class Spawner {
  public:
    Spawner(LoaderEnvironment& env, PdHandle& pd) : env_(env), pd_(pd) {}

    // A fresh root slot, recorded as the PD's.
    uint64_t slot() {
        uint64_t s = env_.slots->allocate();
        if (s == 0) {
            return 0;
        }
        auto& ranges = pd_.slot_ranges;
        unsigned& n = pd_.slot_range_count;
        if (n > 0 && ranges[n - 1].end == s) {
            ranges[n - 1].end = s + 1;
        } else if (n < PdHandle::kMaxSlotRanges) {
            ranges[n++] = PdHandle::SlotRange{s, s + 1};
        } else {
            env_.slots->free(s);
            return 0;
        }
        return s;
    }

    Result<uint64_t, SpawnError> make(ObjectType type, uint64_t size_bits, SpawnStep step) {
        uint64_t s = slot();
        if (s == 0) {
            return fail(step_failure(step, abi::Error::kNotEnoughMemory));
        }
        InvocationResult r =
            untyped_retype(CapPtr(pd_.budget), type, size_bits, kRootCNode, 0, 0, s, 1);
        if (!r.ok()) {
            return fail(kernel_failure(step, r));
        }
        return s;
    }

    // Maps frame into vspace at va, making tables from the budget as the kernel asks for them.
    Result<void, SpawnError> map(uint64_t frame, CapPtr vspace, uint64_t va, uint64_t rights,
                                 SpawnStep step) {
        for (;;) {
            InvocationResult r =
                frame_map(CapPtr(frame), vspace, va, rights, abi::MapAttributes::kCached);
            if (r.ok()) {
                return {};
            }
            if (r.error != abi::Error::kFailedLookup) {
                return fail(kernel_failure(step, r));
            }
            uint64_t table = TRY(make(ObjectType::kPageTable, 0, step));
            InvocationResult t = page_table_map(CapPtr(table), vspace, va);
            if (!t.ok()) {
                return fail(kernel_failure(step, t));
            }
            ++pd_.tables;
        }
    }

    // A new zeroed page mapped into the PD at va; fill() writes it through the scratch mapping.
    template <typename Fill>
    Result<void, SpawnError> page(uint64_t va, uint64_t rights, SpawnStep step, Fill&& fill) {
        uint64_t frame = TRY(make(ObjectType::kFrame4K, 0, step));
        if (fill.needed()) {
            InvocationResult r =
                frame_map(CapPtr(frame), kOwnVSpace, env_.scratch_address,
                          abi::kMapRead | abi::kMapWrite, abi::MapAttributes::kCached);
            if (!r.ok()) {
                return fail(kernel_failure(step, r));
            }
            fill(reinterpret_cast<uint8_t*>(env_.scratch_address));
            if ((rights & abi::kMapExecute) != 0) {
                (void)frame_cache_op(CapPtr(frame), abi::CacheOp::kUnifyInstruction, 0, kPage);
            }
            (void)frame_unmap(CapPtr(frame));
        }
        TRY(map(frame, CapPtr(pd_.vspace), va, rights, step));
        ++pd_.pages;
        return {};
    }

  private:
    LoaderEnvironment& env_;
    PdHandle& pd_;
};

struct NoFill {
    bool needed() const { return false; }
    void operator()(uint8_t*) const {}
};

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

// Bytes the PD needs from its budget, rounded up to a power of two.
unsigned budget_bits_for(const elf::LoadPlan& plan, uint64_t stack_pages) {
    uint64_t pages = plan.page_count + stack_pages + 1;
    // At most three tables per 2 MiB region touched, counted generously.
    uint64_t regions = plan.segment_count + 2;
    for (const elf::Segment& s : plan.segment_list()) {
        regions += s.memsz / 0x20'0000;
    }
    uint64_t bytes = (pages + 3 * regions + 1) * kPage  // frames, tables, VSpace
                     + (uint64_t{1} << (abi::kPdCNodeRadix + abi::kSlotSizeBits)) +
                     (uint64_t{1} << abi::kTcbSizeBits) + 4 * kPage;  // alignment slack
    return static_cast<unsigned>(64 - std::countl_zero(bytes - 1));
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
            return fail(kernel_failure(SpawnStep::kBudget, r));
        }
        r = page_table_map(CapPtr(s), kOwnVSpace, env.scratch_address);
        if (r.error == abi::Error::kDeleteFirst) {
            (void)cnode_delete(kRootCNode, s, kDepth);
            env.slots->free(s);
            return {};
        }
        if (!r.ok()) {
            return fail(kernel_failure(SpawnStep::kBudget, r));
        }
    }
    return {};
}

Result<PdHandle, SpawnError> spawn_pd(LoaderEnvironment& env, std::span<const uint8_t> elf,
                                      const SpawnOptions& options) {
    auto plan_result = elf::make_load_plan(elf);
    if (!plan_result) {
        SpawnError e;
        e.step = SpawnStep::kParse;
        e.elf_error = plan_result.error();
        return fail(e);
    }
    const elf::LoadPlan& plan = plan_result.value();

    PdHandle pd;
    Spawner sp(env, pd);
    pd.budget_bits = budget_bits_for(plan, options.stack_pages);
    pd.budget = sp.slot();
    InvocationResult r = untyped_retype(env.memory_pool, ObjectType::kUntyped, pd.budget_bits,
                                        kRootCNode, 0, 0, pd.budget, 1);
    if (pd.budget == 0 || !r.ok()) {
        destroy_pd(env, pd);
        return fail(kernel_failure(SpawnStep::kBudget, r));
    }
    auto attempt = [&]() -> Result<void, SpawnError> {
        pd.vspace = TRY(sp.make(ObjectType::kVSpace, 0, SpawnStep::kObjects));
        InvocationResult a = asid_pool_assign(env.asid_pool, CapPtr(pd.vspace));
        if (!a.ok()) {
            return fail(kernel_failure(SpawnStep::kObjects, a));
        }
        pd.cnode = TRY(sp.make(ObjectType::kCNode, abi::kPdCNodeRadix, SpawnStep::kObjects));
        pd.tcb = TRY(sp.make(ObjectType::kTcb, 0, SpawnStep::kObjects));

        // The image, page by page.
        bool image_ok = true;
        SpawnError image_error;
        elf::for_each_page(plan, [&](const elf::PagePlan& page) {
            struct Fill {
                const elf::PagePlan& page;
                std::span<const uint8_t> file;
                bool needed() const { return !page.all_zero(); }
                void operator()(uint8_t* dest) const {
                    for (const elf::CopyRange& c : page.copy_ranges()) {
                        memcpy(dest + c.page_offset, file.data() + c.file_offset, c.length);
                    }
                }
            } fill{page, elf};
            auto loaded = sp.page(page.address, map_rights(page.rights), SpawnStep::kImage, fill);
            if (!loaded) {
                image_ok = false;
                image_error = loaded.error();
            }
            return image_ok;
        });
        if (!image_ok) {
            return fail(image_error);
        }

        // Stack (guard page below left unmapped) and IPC buffer.
        for (uint64_t i = 1; i <= options.stack_pages; ++i) {
            TRY(sp.page(abi::kPdStackTop - i * kPage, abi::kMapRead | abi::kMapWrite,
                        SpawnStep::kStack, NoFill{}));
        }
        uint64_t ipc_frame = TRY(sp.make(ObjectType::kFrame4K, 0, SpawnStep::kStack));
        TRY(sp.map(ipc_frame, CapPtr(pd.vspace), abi::kPdIpcBuffer, abi::kMapRead | abi::kMapWrite,
                   SpawnStep::kStack));
        ++pd.pages;

        // CSpace: its parent endpoint, badged.
        if (options.parent_endpoint != 0) {
            InvocationResult m =
                cnode_mint(CapPtr(pd.cnode), abi::kPdSlotParentEndpoint, abi::kPdCNodeRadix,
                           kRootCNode, options.parent_endpoint, kDepth,
                           abi::kRightWrite | abi::kRightGrantReply, options.badge);
            if (!m.ok()) {
                return fail(kernel_failure(SpawnStep::kCapabilities, m));
            }
        }

        uint64_t fault_slot = 0;
        if (options.fault_endpoint != 0) {
            InvocationResult m =
                cnode_mint(CapPtr(pd.cnode), abi::kPdSlotFaultEndpoint, abi::kPdCNodeRadix,
                           kRootCNode, options.fault_endpoint, kDepth,
                           abi::kRightWrite | abi::kRightGrantReply, options.fault_badge);
            if (!m.ok()) {
                return fail(kernel_failure(SpawnStep::kCapabilities, m));
            }
            fault_slot = abi::kPdSlotFaultEndpoint;
        }

        // The thread: single-level CSpace with a guard covering the high bits.
        uint64_t guard_bits = 64 - abi::kPdCNodeRadix;
        InvocationResult c =
            tcb_configure(CapPtr(pd.tcb), CapPtr(fault_slot), CapPtr(pd.cnode), guard_bits,
                          CapPtr(pd.vspace), abi::kPdIpcBuffer, CapPtr(ipc_frame));
        if (!c.ok()) {
            return fail(kernel_failure(SpawnStep::kThread, c));
        }
        InvocationResult p =
            tcb_set_priority(CapPtr(pd.tcb), CapPtr(abi::kSlotInitThreadTcb), options.priority, 0);
        if (!p.ok()) {
            return fail(kernel_failure(SpawnStep::kThread, p));
        }
        uint64_t name[3] = {};
        for (size_t i = 0; i < options.name.size() && i < 23; ++i) {
            name[i / 8] |= uint64_t{static_cast<uint8_t>(options.name[i])} << (8 * (i % 8));
        }
        (void)invoke(CapPtr(pd.tcb), abi::InvocationLabel::kTcbSetName, name);
        uint64_t regs[abi::kUserRegisterCount] = {};
        regs[abi::kRegisterIndexPc] = plan.entry;
        regs[abi::kRegisterIndexSp] = abi::kPdStackTop;
        regs[abi::kRegisterIndexX0] = abi::kPdSlotParentEndpoint;
        regs[abi::kRegisterIndexX0 + 1] = options.argument;
        regs[abi::kRegisterIndexTpidr] = abi::kPdIpcBuffer;
        InvocationResult w =
            tcb_write_registers(CapPtr(pd.tcb), true, regs, abi::kUserRegisterCount);
        if (!w.ok()) {
            return fail(kernel_failure(SpawnStep::kThread, w));
        }
        return {};
    };
    Result<void, SpawnError> built = attempt();
    if (!built) {
        destroy_pd(env, pd);  // everything made so far came from the budget
        return fail(built.error());
    }
    return pd;
}

void destroy_pd(LoaderEnvironment& env, PdHandle& pd) {
    if (pd.budget != 0) {
        while (!cnode_revoke(kRootCNode, pd.budget, kDepth).ok()) {
        }
        (void)cnode_delete(kRootCNode, pd.budget, kDepth);
    }
    for (unsigned i = 0; i < pd.slot_range_count; ++i) {
        for (uint64_t s = pd.slot_ranges[i].start; s < pd.slot_ranges[i].end; ++s) {
            env.slots->free(s);
        }
    }
    pd = PdHandle{};
}

}  // namespace tessera
