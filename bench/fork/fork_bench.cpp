// Fork benchmark root task (run with `pmu_user`, the benchmark archive and 512 MiB): guest
// instructions, from the PMU instruction counter (exact under QEMU -icount), of a PD forking
// itself with 0, 1, 16 and 64 MiB of its memory touched — from its fork call to the child's
// first instruction and to the parent's return — and of the first write to a page after the
// fork (a copy-on-write fault end to end: the fault, this root copying the page as the pager,
// and the retried write). The same for the eager fork, which copies every page at once. This
// root is the PDs' parent and pager, as the controller is in the running system.
#include "abi/bootinfo.hpp"
#include "abi/fault.hpp"
#include "abi/process.hpp"
#include "cpio/cpio_reader.hpp"
#include "service/service_protocol.hpp"
#include "tessera/boot_info.hpp"
#include "tessera/debug_print.hpp"
#include "tessera/fault.hpp"
#include "tessera/invocation.hpp"
#include "tessera/pd_builder.hpp"
#include "tessera/runtime.h"
#include "tessera/service_call.hpp"
#include "tessera/syscall.hpp"
#include "tessera/vspace_manager.hpp"

using namespace tessera;

namespace {

constexpr abi::CapPtr kRoot{abi::kSlotInitThreadCNode};
constexpr abi::CapPtr kVSpace{abi::kSlotInitThreadVSpace};
constexpr uint64_t kArchiveAddress = 0x7d00'0000'0000;
constexpr uint64_t kParentBadge = 1;
constexpr uint64_t kChildBadge = 2;
constexpr uint64_t kFaultBit = uint64_t{1} << 63;
constexpr uint64_t kWrites = 256;  // pages the parent writes after the fork

SlotAllocator g_slots;
UntypedAllocator g_memory;
BuilderEnvironment g_builder;
CowSpace g_cow;  // .bss
SpawnProfile g_profile;
SpawnProfile g_fork_16m;  // where the 16 MiB copy-on-write fork's instructions go
uint64_t g_ep = 0;

uint64_t instructions() {
    uint64_t v;
    asm volatile("isb; mrs %0, pmevcntr0_el0" : "=r"(v)::"memory");
    return v;
}

struct Row {
    uint64_t to_child = 0;
    uint64_t to_parent = 0;
    uint64_t per_write = 0;
    uint64_t faults = 0;
    uint64_t in_pager = 0;  // instructions in resolve_cow_fault, all faults
    bool ok = false;
};

// One fork of a PD with `mib` MiB touched: its figures, or ok false with the reason printed.
Row measure(std::span<const uint8_t> image, uint64_t mib, bool eager) {
    Row row;
    char size[24];
    char writes[24];
    BufferWriter(size, sizeof(size)).print("{}", mib);
    BufferWriter(writes, sizeof(writes)).print("{}", mib == 0 ? 0 : kWrites);
    const StringView arguments[] = {"forkbench-pd", StringView(size), StringView(writes),
                                    eager ? StringView("eager") : StringView("cow")};
    PdConfig config;
    config.name = "forkbench-pd";
    config.arguments = arguments;
    config.parent_endpoint = g_ep;
    config.badge = kParentBadge;
    config.fault = FaultPolicy::kCreatorEndpoint;
    config.fault_endpoint = g_ep;
    config.fault_badge = kFaultBit | kParentBadge;
    config.priority = 254;
    config.heap_size = (mib == 0 ? 1 : mib) * 1024 * 1024;
    auto spawned = spawn_pd(g_builder, image, config);
    if (!spawned) {
        println("fork benchmark: spawning with {} MiB failed while {}: {}", mib,
                to_string(spawned.error().step), detail(spawned.error()));
        return row;
    }
    PdHandle parent = spawned.value();
    PdHandle child;
    unsigned exited = 0;
    sys::Message m;
    sys::recv(abi::CapPtr(g_ep), m);
    while (exited < 2) {
        bool answer = true;
        const uint64_t badge = m.badge_or_cap;
        PdHandle& who = (badge & ~kFaultBit) == kChildBadge ? child : parent;
        if ((badge & kFaultBit) != 0) {
            const abi::FaultMessage f = received_fault(m);
            const uint64_t t0 = instructions();
            auto resolved = resolve_cow_fault(g_builder, who, f.address);
            row.in_pager += instructions() - t0;
            if (!resolved || !resolved.value()) {
                println("fork benchmark: a real fault at {:#x} (pc {:#x})", f.address, f.pc);
                break;
            }
            ++row.faults;
            m.info = abi::MessageInfo(0, 0, 0, 0);
        } else if (m.info.label() == static_cast<uint64_t>(service::ControllerLabel::kFork)) {
            auto request = service::request<service::Fork>(m);
            const RegisterValue registers[] = {
                {abi::kRegisterIndexX0, 0},
                {abi::kRegisterIndexX0 + 1, abi::MessageInfo(0, 0, 0, 2).raw()},
                {abi::kRegisterIndexX0 + 2, 1},
                {abi::kRegisterIndexX0 + 3, 1},
            };
            ForkConfig fork;
            fork.name = "forkbench-child";
            fork.priority = 254;
            fork.parent_endpoint = g_ep;
            fork.badge = kChildBadge;
            fork.fault = FaultPolicy::kCreatorEndpoint;
            fork.fault_endpoint = g_ep;
            fork.fault_badge = kFaultBit | kChildBadge;
            fork.registers = registers;
            fork.eager = request && (request.value().flags & service::kForkEager) != 0;
            g_profile = SpawnProfile{};
            g_profile.clock = instructions;
            g_builder.profile = &g_profile;
            auto forked = fork_pd(g_builder, parent, fork);
            g_builder.profile = nullptr;
            if (mib == 16 && !fork.eager) {
                g_fork_16m = g_profile;
            }
            if (!forked) {
                println("fork benchmark: the fork with {} MiB failed while {}: {} ({} KiB free)",
                        mib, to_string(forked.error().step), detail(forked.error()),
                        g_memory.free_bytes() >> 10);
                break;
            }
            child = forked.value();
            service::reply(m, service::ForkReply{1, 0});
        } else if (m.info.label() == 1) {  // the child: the counter before the call, and its first
            row.to_child = m.mr[1] - m.mr[0];
        } else if (m.info.label() == 2) {  // the parent: the same, and its writes
            row.to_parent = m.mr[1] - m.mr[0];
            row.per_write = mib == 0 ? 0 : m.mr[2] / kWrites;
        } else if (m.info.label() == static_cast<uint64_t>(abi::ProcessLabel::kExit)) {
            ++exited;
            if (m.mr[0] != 0) {
                println("fork benchmark: a PD exited with status {}", m.mr[0]);
                break;
            }
            answer = false;
        }
        if (exited == 2) {
            row.ok = true;
            break;
        }
        if (answer) {
            sys::reply_recv(abi::CapPtr(g_ep), m);
        } else {
            sys::recv(abi::CapPtr(g_ep), m);
        }
    }
    destroy_pd(g_builder, child);
    destroy_pd(g_builder, parent);
    return row;
}

}  // namespace

extern "C" void tessera_start(uint64_t argument, uint64_t /*unused*/) {
    const auto* info = reinterpret_cast<const abi::BootInfo*>(argument);
    set_ipc_buffer(reinterpret_cast<abi::IpcBuffer*>(info->ipc_buffer));
    g_slots.init(info->empty.start, info->empty.end);
    BootUntyped largest[3];
    largest_ram_untypeds(*info, largest);
    uint64_t pool = largest[2].slot.value();
    auto make = [&](abi::ObjectType type, uint64_t bits) {
        uint64_t s = g_slots.allocate();
        return untyped_retype(abi::CapPtr(pool), type, bits, kRoot, 0, 0, s, 1).ok() ? s : 0;
    };
    UntypedTables tables{kRoot, abi::CapPtr(pool), &g_slots};
    (void)map_frames(kVSpace, abi::CapPtr(info->boot_module_frames.start),
                     info->boot_module_frames.end - info->boot_module_frames.start, kArchiveAddress,
                     abi::kMapRead, abi::MapAttributes::kCached, false, tables_from(tables));
    auto archive = cpio::Archive::parse(std::span<const uint8_t>(
        reinterpret_cast<const uint8_t*>(kArchiveAddress + info->boot_module_offset),
        info->boot_module_size));
    auto image = archive ? archive.value().find("forkbench-pd") : std::nullopt;
    if (!image) {
        println("fork benchmark: no forkbench-pd in the archive (run with --module)");
        tessera_exit(1);
    }
    uint64_t asid_pool = g_slots.allocate();
    (void)asid_control_make_pool(abi::CapPtr(abi::kSlotAsidControl),
                                 abi::CapPtr(make(abi::ObjectType::kUntyped, 12)), kRoot, asid_pool,
                                 64);
    g_ep = make(abi::ObjectType::kEndpoint, 0);
    if (!g_memory.init(kRoot, largest[0].slot.value(), largest[0].bits, &g_slots) ||
        !g_memory.add_pool(largest[1].slot.value(), largest[1].bits)) {
        println("fork benchmark: no memory pool");
        tessera_exit(1);
    }

    g_builder.asid_pool = abi::CapPtr(asid_pool);
    g_builder.memory = &g_memory;
    g_builder.slots = &g_slots;
    g_builder.cow = &g_cow;
    if (!pd_builder_init(g_builder).ok()) {
        println("fork benchmark: cannot prepare the PD builder");
        tessera_exit(1);
    }
    println("");
    println(
        "Benchmark: fork (instructions; copy-on-write and eager; the parent then writes {} "
        "pages)",
        kWrites);
    println("| {:<8} | {:<6} | {:<14} | {:<15} | {:<14} | {:<9} | {:<7} |", "touched", "fork",
            "to child", "to parent ret.", "first write", "in pager", "faults");
    println(
        "|----------|--------|----------------|-----------------|----------------|-----------|"
        "---------|");
    for (uint64_t mib : {0, 1, 16, 64}) {
        for (bool eager : {false, true}) {
            const Row r = measure(image->data, mib, eager);
            if (!r.ok) {
                println("| {:4} MiB | {:<6} | (failed: see above; the allocator holds {} MiB)", mib,
                        eager ? "eager" : "cow", g_memory.size() >> 20);
                continue;
            }
            println("| {:4} MiB | {:<6} | {:14} | {:15} | {:14} | {:9} | {:7} |", mib,
                    eager ? "eager" : "cow", r.to_child, r.to_parent, r.per_write,
                    r.faults == 0 ? 0 : r.in_pager / r.faults, r.faults);
        }
    }
    println("");
    println(
        "first write: instructions per page of the parent's first write after the fork (a "
        "copy-on-write fault end to end; eager: a plain write)");
    println("");
    println("Where the 16 MiB copy-on-write fork's instructions go (in the pager):");
    const struct {
        SpawnPhase phase;
        const char* what;
    } kParts[] = {{SpawnPhase::kPlan, "checks, room in the ledger"},
                  {SpawnPhase::kImageObjects, "the child's budgets and objects"},
                  {SpawnPhase::kImagePages, "sharing the pages (copies, mappings)"},
                  {SpawnPhase::kCapabilities, "capabilities"},
                  {SpawnPhase::kThread, "thread"},
                  {SpawnPhase::kReclaim, "commit: records, parent read-only"}};
    for (const auto& part : kParts) {
        println("| {:<40} | {:10} |", part.what, g_fork_16m.phase[static_cast<size_t>(part.phase)]);
    }
    (void)g_memory.whole();
    tessera_exit(0);
}
