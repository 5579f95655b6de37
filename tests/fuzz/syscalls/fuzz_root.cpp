// The system-call fuzzer's root task: for every seed it spawns the untrusted syscall-fuzz PD
// (user/programs/syscall-fuzz) with a fresh untyped and a page it reports progress in, watches
// it at its own priority, tears it down when it exits, faults or stops making progress, and then
// checks that every byte came back: the PD's budgets and its untyped are whole again. The kernel
// must never panic (QEMU would end with status 3) and the system never stop.
// Command line: fuzz.seeds=FIRST-LAST fuzz.calls=N (per seed). Exit status 0 when every seed's
// memory came back, 1 otherwise.
#include "abi/bootinfo.hpp"
#include "abi/fault.hpp"
#include "abi/process.hpp"
#include "base/command_line.hpp"
#include "cpio/cpio_reader.hpp"
#include "tessera/boot_info.hpp"
#include "tessera/debug_print.hpp"
#include "tessera/invocation.hpp"
#include "tessera/pd_builder.hpp"
#include "tessera/runtime.h"
#include "tessera/syscall.hpp"
#include "tessera/untyped_allocator.hpp"
#include "tessera/vspace_manager.hpp"

using namespace tessera;

namespace {

using abi::CapPtr;
using abi::ObjectType;

constexpr CapPtr kRoot{abi::kSlotInitThreadCNode};
constexpr CapPtr kVSpace{abi::kSlotInitThreadVSpace};
constexpr uint64_t kArchiveAddress = 0x7d00'0000'0000;
constexpr uint64_t kProgressAddress = 0x7c00'0000'0000;  // clear of the builder's scratch
constexpr unsigned kFuzzPoolBits = 22;                   // the PD's own untyped: 4 MiB
constexpr unsigned kBudgetBits = 24;                     // the PD builder's budgets
constexpr uint64_t kBadge = 0xf0;
constexpr uint64_t kFaultBadge = 0xfa;
constexpr unsigned kIdleLimit = 50;  // yields without progress before it counts as stuck

SlotAllocator g_slots;
UntypedAllocator g_memory;
BuilderEnvironment g_loader;

struct Totals {
    uint64_t seeds = 0;
    uint64_t calls = 0;
    uint64_t performed = 0;
    uint64_t exited = 0;
    uint64_t faulted = 0;
    uint64_t stuck = 0;
    uint64_t leaked = 0;
    uint64_t unspawned = 0;
};

// The seeds' range and calls per seed from the command line.
struct Options {
    uint64_t first = 1;
    uint64_t last = 4;
    uint64_t calls = 2000;
    uint64_t trace_from = 0;  // 0: no trace; else the PD prints every call from this index on
};

Options read_options(const abi::BootInfo& info) {
    Options o;
    size_t n = 0;
    while (n < abi::kBootCommandLineMax && info.command_line[n] != '\0') {
        ++n;
    }
    CommandLine line(StringView(info.command_line, n));
    if (auto seeds = line.get("fuzz.seeds")) {
        size_t dash = seeds->find('-');
        StringView a = dash == SIZE_MAX ? *seeds : seeds->substr(0, dash);
        StringView b =
            dash == SIZE_MAX ? *seeds : seeds->substr(dash + 1, seeds->size() - dash - 1);
        (void)parse_u64(a, o.first);
        (void)parse_u64(b, o.last);
    }
    o.calls = line.get_u64("fuzz.calls").value_or(o.calls);
    o.trace_from = line.get_u64("fuzz.trace").value_or(0);
    return o;
}

uint64_t make(CapPtr untyped, ObjectType type, uint64_t bits) {
    uint64_t s = g_slots.allocate();
    return untyped_retype(untyped, type, bits, kRoot, 0, 0, s, 1).ok() ? s : 0;
}

// Whole again: no children, so one untyped of its full size fits (and is deleted again).
bool untyped_is_whole(uint64_t untyped, unsigned bits) {
    uint64_t s = g_slots.allocate();
    bool whole =
        untyped_retype(CapPtr(untyped), ObjectType::kUntyped, bits, kRoot, 0, 0, s, 1).ok();
    (void)cnode_delete(kRoot, s, 64);
    g_slots.free(s);
    return whole;
}

// One seed: spawn, watch, tear down, account. False if memory did not come back.
bool run_seed(std::span<const uint8_t> image, uint64_t seed, const Options& o, uint64_t ep,
              uint64_t fuzz_pool, uint64_t progress_frame, volatile uint64_t* progress,
              Totals& totals) {
    char seed_text[24];
    char calls_text[24];
    BufferWriter sw(seed_text, sizeof(seed_text));
    sw.print("{}", seed);
    BufferWriter cw(calls_text, sizeof(calls_text));
    cw.print("{}", o.calls);
    char trace_text[24];
    BufferWriter tw(trace_text, sizeof(trace_text));
    tw.print("{}", o.trace_from);
    const StringView arguments[] = {"syscall-fuzz", sw.view(), cw.view(), tw.view()};
    const CapGrant grants[] = {{"pool", fuzz_pool, 0, abi::kRightsAll, 0, false}};
    pd::RegionSpec region;
    region.name = "progress";
    region.kind = abi::RegionKind::kShared;
    region.sharing = pd::Sharing::kShared;
    region.size = 4096;
    region.frames = progress_frame;
    PdConfig config;
    config.name = "syscall-fuzz";
    config.arguments = std::span<const StringView>(arguments, o.trace_from != 0 ? 4 : 3);
    config.parent_endpoint = ep;
    config.badge = kBadge;
    config.fault = FaultPolicy::kCreatorEndpoint;
    config.fault_endpoint = ep;
    config.fault_badge = kFaultBadge;
    config.self_caps = true;
    // Its random ConsoleWrites would print noise: a console only for a traced replay.
    config.console = o.trace_from != 0;
    config.cnode_radix = 10;
    config.priority = 100;
    config.max_priority = 100;
    config.caps = grants;
    config.regions = std::span<const pd::RegionSpec>(&region, 1);
    for (unsigned i = 0; i < 8; ++i) {
        progress[i] = 0;
    }
    auto pd = spawn_pd(g_loader, image, config);
    if (!pd) {
        println("syscall-fuzz: seed {}: spawn failed at {} ({})", seed, to_string(pd.error().step),
                abi::error_name(pd.error().kernel_error));
        ++totals.unspawned;
        return false;
    }
    uint64_t last = ~uint64_t{0};
    unsigned idle = 0;
    const char* outcome = "stuck";
    for (;;) {
        sys::Message m;
        sys::nb_recv(CapPtr(ep), m);
        if (m.badge_or_cap == kBadge && m.info.label() == uint64_t(abi::ProcessLabel::kExit)) {
            outcome = "exited";
            ++totals.exited;
            break;
        }
        if (m.badge_or_cap == kBadge) {
            // Any other call on its parent endpoint (it had lost the means to tell what a slot
            // holds): answered with an error, so it goes on.
            sys::Message answer;
            answer.info = abi::MessageInfo(uint64_t(abi::Error::kIllegalOperation), 0, 0, 0);
            sys::reply(answer);
        }
        if (m.badge_or_cap == kFaultBadge) {
            outcome = "faulted";
            ++totals.faulted;
            break;
        }
        uint64_t done = progress[0];
        if (done != last) {
            last = done;
            idle = 0;
        } else if (++idle > kIdleLimit) {
            if (progress[4] != 0) {
                // It made every call, then could not report its exit (its own calls had
                // deleted its parent and fault endpoints): finished, not stuck.
                outcome = "exited";
                ++totals.exited;
                break;
            }
            ++totals.stuck;
            break;
        }
        sys::yield();
    }
    uint64_t done = progress[0];
    totals.calls += done;
    totals.performed += progress[5];
    PdHandle handle = pd.value();
    destroy_pd(g_loader, handle);
    bool budgets_whole = g_memory.whole() && g_memory.free_bytes() == g_memory.size();
    // The untyped it lent the PD comes back the way a creator takes back lent memory: revoked.
    // (Objects made from it whose destruction the PD's teardown began but did not finish - a
    // cycle preempted while being unwound - are finished by this revoke.)
    bool revoked = cnode_revoke(kRoot, fuzz_pool, 64).ok();
    bool pool_whole = revoked && untyped_is_whole(fuzz_pool, kFuzzPoolBits);
    bool whole = budgets_whole && pool_whole;
    if (!whole) {
        ++totals.leaked;
    }
    if (!whole || outcome[0] != 'e') {
        println("syscall-fuzz: seed {}: {} after {} calls (last: slot {:#x}, label {}){}", seed,
                outcome, done, static_cast<uint64_t>(progress[2]),
                static_cast<uint64_t>(progress[3]),
                whole           ? ""
                : budgets_whole ? "; its untyped is NOT WHOLE"
                                : "; the budgets are NOT WHOLE");
    }
    if (!whole || outcome[0] != 'e') {
        // The last calls it made, oldest first: where to start a traced replay.
        for (uint64_t k = 8; k > 0; --k) {
            if (done < k) {
                continue;
            }
            const volatile uint64_t* r = progress + 8 + ((done - k) % 32) * 8;
            println(
                "  call {}: slot {:#x} type {} label {} length {} caps {} words {:#x} {:#x} {:#x}",
                r[0], r[1], r[2], r[3], r[4] & 0xff, r[4] >> 8, r[5], r[6], r[7]);
        }
    }
    return whole;
}

}  // namespace

extern "C" void tessera_start(uint64_t argument, uint64_t /*unused*/) {
    const auto* info = reinterpret_cast<const abi::BootInfo*>(argument);
    set_ipc_buffer(reinterpret_cast<abi::IpcBuffer*>(info->ipc_buffer));
    g_slots.init(info->empty.start, info->empty.end);
    Options options = read_options(*info);
    uint64_t pool = largest_ram_untyped(*info).slot.value();
    UntypedTables tables{kRoot, CapPtr(pool), &g_slots};
    (void)map_frames(kVSpace, CapPtr(info->boot_module_frames.start),
                     info->boot_module_frames.end - info->boot_module_frames.start, kArchiveAddress,
                     abi::kMapRead, abi::MapAttributes::kCached, false, tables_from(tables));
    auto archive = cpio::Archive::parse(std::span<const uint8_t>(
        reinterpret_cast<const uint8_t*>(kArchiveAddress + info->boot_module_offset),
        info->boot_module_size));
    auto entry = archive ? archive.value().find("syscall-fuzz") : std::optional<cpio::Entry>();
    if (!entry) {
        println("syscall-fuzz: no syscall-fuzz image in the archive (run with --module)");
        tessera_exit(1);
    }
    uint64_t asid_pool = g_slots.allocate();
    uint64_t ep = make(CapPtr(pool), ObjectType::kEndpoint, 0);
    uint64_t budgets = make(CapPtr(pool), ObjectType::kUntyped, kBudgetBits);
    uint64_t fuzz_pool = make(CapPtr(pool), ObjectType::kUntyped, kFuzzPoolBits);
    uint64_t progress_frame = make(CapPtr(pool), ObjectType::kFrame4K, 0);
    if (!asid_control_make_pool(CapPtr(abi::kSlotAsidControl),
                                CapPtr(make(CapPtr(pool), ObjectType::kUntyped, 12)), kRoot,
                                asid_pool, 64)
             .ok() ||
        ep == 0 || fuzz_pool == 0 || progress_frame == 0 ||
        !g_memory.init(kRoot, budgets, kBudgetBits, &g_slots) ||
        !map_frames(kVSpace, CapPtr(progress_frame), 1, kProgressAddress,
                    abi::kMapRead | abi::kMapWrite, abi::MapAttributes::kCached, false,
                    tables_from(tables))
             .ok()) {
        println("syscall-fuzz: cannot set up");
        tessera_exit(1);
    }
    g_loader.asid_pool = CapPtr(asid_pool);
    g_loader.slots = &g_slots;
    // What the builder keeps (its scratch tables and bookkeeping space) comes from an allocator
    // of its own, so the budgets' is whole whenever no PD is alive.
    static UntypedAllocator scratch;
    uint64_t scratch_memory = make(CapPtr(pool), ObjectType::kUntyped, 19);
    if (!scratch.init(kRoot, scratch_memory, 19, &g_slots)) {
        println("syscall-fuzz: cannot set up");
        tessera_exit(1);
    }
    g_loader.memory = &scratch;
    if (!pd_builder_init(g_loader).ok()) {
        println("syscall-fuzz: cannot prepare the PD builder");
        tessera_exit(1);
    }
    g_loader.memory = &g_memory;
    // The fuzzer's priority: round robin with it, so this thread runs between its timeslices.
    (void)tcb_set_priority(CapPtr(abi::kSlotInitThreadTcb), CapPtr(abi::kSlotInitThreadTcb), 100,
                           255);
    auto* progress = reinterpret_cast<volatile uint64_t*>(kProgressAddress);
    println("syscall-fuzz: seeds {}-{}, {} calls each", options.first, options.last, options.calls);
    Totals totals;
    for (uint64_t seed = options.first; seed <= options.last; ++seed) {
        (void)run_seed(entry->data, seed, options, ep, fuzz_pool, progress_frame, progress, totals);
        ++totals.seeds;
    }
    println(
        "syscall-fuzz: {} seeds, {} calls ({} invocations carried out): {} exited, {} faulted, "
        "{} stuck; memory {}",
        totals.seeds, totals.calls, totals.performed, totals.exited, totals.faulted, totals.stuck,
        totals.leaked == 0 && totals.unspawned == 0 ? "whole after every seed"
                                                    : "NOT RETURNED or a spawn failed");
    tessera_exit(totals.leaked == 0 && totals.unspawned == 0 ? 0 : 1);
}
