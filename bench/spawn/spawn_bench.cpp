// Protection-domain benchmark root task (run with `pmu_user` and the benchmark archive): guest
// instructions, read from the PMU instruction counter (exact under QEMU -icount), from a spawn
// request to the PD's first instruction in main and to its exit seen by the parent; the same
// for exec; teardown; and where a spawn's instructions go, phase by phase. Images: `minimal`
// and the same program with 4 KiB, 64 KiB, 1 MiB, 4 MiB and 8 MiB of initialized data. Then
// spawn to exit of a minimal PD with 0, 100 and 1,000 tiny PDs alive (blocked in a call): the
// cost should not grow with the number of PDs a creator holds.
#include "abi/bootinfo.hpp"
#include "abi/process.hpp"
#include "cpio/cpio_reader.hpp"
#include "tessera/boot_info.hpp"
#include "tessera/debug_print.hpp"
#include "tessera/invocation.hpp"
#include "tessera/pd_builder.hpp"
#include "tessera/runtime.h"
#include "tessera/syscall.hpp"
#include "tessera/vspace_manager.hpp"

using namespace tessera;

namespace {

constexpr abi::CapPtr kRoot{abi::kSlotInitThreadCNode};
constexpr abi::CapPtr kVSpace{abi::kSlotInitThreadVSpace};
constexpr uint64_t kArchiveAddress = 0x7d00'0000'0000;

uint64_t instructions() {
    uint64_t v;
    asm volatile("isb; mrs %0, pmevcntr0_el0" : "=r"(v)::"memory");
    return v;
}

SlotAllocator g_slots;
UntypedAllocator g_memory;
BuilderEnvironment g_builder;
SpawnProfile g_profile;
uint64_t g_ep = 0;

// A child's exit status is the low 31 bits of the counter it read first.
uint64_t since(uint64_t start, uint64_t child) {
    return (child - start) & 0x7fff'ffff;
}

PdConfig config_for(StringView name, std::span<const StringView> arguments) {
    PdConfig config;
    config.name = name;
    config.arguments = arguments;
    config.parent_endpoint = g_ep;
    config.priority = 254;
    config.stack_size = 4096;
    config.heap_size = 0;
    return config;
}

struct Figures {
    uint64_t to_first = 0;
    uint64_t to_exit = 0;
    uint64_t teardown = 0;
    uint64_t exec_to_first = 0;
    uint64_t pages = 0;
    uint64_t tables = 0;
    uint64_t budget = 0;
    uint64_t used = 0;
    uint64_t phases[static_cast<size_t>(SpawnPhase::kCount)] = {};
    uint64_t exec_phases[static_cast<size_t>(SpawnPhase::kCount)] = {};
};

bool expect_exit(sys::Message& m) {
    sys::recv(abi::CapPtr(g_ep), m);
    if (m.info.label() != static_cast<uint64_t>(abi::ProcessLabel::kExit)) {
        println("spawn benchmark: unexpected message (label {:#x})", m.info.label());
        return false;
    }
    return true;
}

// Spawns `image` runs times (and as many execs of a waiting minimal PD into it).
bool measure(std::span<const uint8_t> image, std::span<const uint8_t> minimal, StringView name,
             unsigned runs, Figures& f) {
    static const StringView kCounter[] = {"image", "counter"};
    static const StringView kWait[] = {"minimal", "wait"};
    for (unsigned i = 0; i < runs; ++i) {
        g_profile = SpawnProfile{};
        g_profile.clock = instructions;
        uint64_t start = instructions();
        auto pd = spawn_pd(g_builder, image, config_for(name, kCounter));
        if (!pd) {
            println("spawn benchmark: spawning {} failed while {}: {}", name,
                    to_string(pd.error().step), detail(pd.error()));
            return false;
        }
        sys::Message m;
        if (!expect_exit(m)) {
            return false;
        }
        f.to_exit += instructions() - start;
        f.to_first += since(start, m.mr[0]);
        for (size_t p = 0; p < static_cast<size_t>(SpawnPhase::kCount); ++p) {
            f.phases[p] += g_profile.phase[p];
        }
        PdHandle handle = pd.value();
        f.pages = handle.pages;
        f.tables = handle.tables;
        f.budget = pd_memory(handle);
        f.used = pd_used(handle);
        uint64_t t0 = instructions();
        destroy_pd(g_builder, handle);
        f.teardown += instructions() - t0;

        // exec: a minimal PD waiting in a call is re-imaged with this image.
        auto waiting = spawn_pd(g_builder, minimal, config_for("minimal", kWait));
        if (!waiting) {
            return false;
        }
        sys::recv(abi::CapPtr(g_ep), m);  // its call
        PdHandle w = waiting.value();
        g_profile = SpawnProfile{};
        g_profile.clock = instructions;
        start = instructions();
        auto execed = exec_pd(g_builder, w, image, config_for(name, kCounter));
        if (!execed || !expect_exit(m)) {
            println("spawn benchmark: exec into {} failed", name);
            return false;
        }
        f.exec_to_first += since(start, m.mr[0]);
        for (size_t p = 0; p < static_cast<size_t>(SpawnPhase::kCount); ++p) {
            f.exec_phases[p] += g_profile.phase[p];
        }
        destroy_pd(g_builder, w);
    }
    return true;
}

// Spawn to exit and teardown of a minimal PD while `alive` tiny PDs wait in a call on alive_ep.
void measure_alive(std::span<const uint8_t> minimal, uint64_t alive_ep) {
    static const StringView kCounter[] = {"minimal", "counter"};
    static const StringView kWait[] = {"minimal", "wait"};
    constexpr unsigned kMost = 1000;
    constexpr unsigned kRuns = 10;
    static PdHandle alive[kMost];
    unsigned count = 0;
    println("");
    println("Spawn of a minimal PD with PDs alive (instructions, average of {})", kRuns);
    println("| {:<10} | {:<12} | {:<12} | {:<10} | {:<12} |", "PDs alive", "to first",
            "to exit seen", "teardown", "held (KiB)");
    println("|------------|--------------|--------------|------------|--------------|");
    uint64_t low = ~uint64_t{0};
    uint64_t high = 0;
    for (unsigned target : {0u, 100u, kMost}) {
        while (count < target) {
            PdConfig config = config_for("minimal", kWait);
            config.parent_endpoint = alive_ep;
            config.stack_size = uint64_t{8} * 1024;
            config.cnode_radix = abi::kPdMinCNodeRadix;
            auto pd = spawn_pd(g_builder, minimal, config);
            if (!pd) {
                println("| {:<10} | spawning the PDs alive stopped at {}: {}", target, count,
                        detail(pd.error()));
                break;
            }
            alive[count++] = pd.value();
            // Its call, taken and never answered: it waits for good, and has run to that
            // point before anything is measured.
            sys::Message call;
            sys::recv(abi::CapPtr(alive_ep), call);
        }
        uint64_t first = 0;
        uint64_t exit = 0;
        uint64_t teardown = 0;
        for (unsigned r = 0; r < kRuns; ++r) {
            uint64_t start = instructions();
            auto pd = spawn_pd(g_builder, minimal, config_for("minimal", kCounter));
            sys::Message m;
            if (!pd || !expect_exit(m)) {
                println("| {:<10} | (failed)", count);
                return;
            }
            exit += instructions() - start;
            first += since(start, m.mr[0]);
            PdHandle handle = pd.value();
            uint64_t t0 = instructions();
            destroy_pd(g_builder, handle);
            teardown += instructions() - t0;
        }
        uint64_t held = 0;
        for (unsigned i = 0; i < count; ++i) {
            held += pd_memory(alive[i]);
        }
        println("| {:10} | {:12} | {:12} | {:10} | {:12} |", count, first / kRuns, exit / kRuns,
                teardown / kRuns, held / 1024);
        low = first / kRuns < low ? first / kRuns : low;
        high = first / kRuns > high ? first / kRuns : high;
    }
    println("spread of spawn to first instruction: {}.{}% (target: within 5%)",
            (high - low) * 100 / low, (high - low) * 1000 / low % 10);
    for (unsigned i = 0; i < count; ++i) {
        destroy_pd(g_builder, alive[i]);
    }
}

}  // namespace

extern "C" void tessera_start(uint64_t argument, uint64_t /*unused*/) {
    const auto* info = reinterpret_cast<const abi::BootInfo*>(argument);
    set_ipc_buffer(reinterpret_cast<abi::IpcBuffer*>(info->ipc_buffer));
    g_slots.init(info->empty.start, info->empty.end);
    // The two largest RAM untypeds are the PDs' memory; the benchmark's own objects come from
    // the third.
    BootUntyped largest[3];
    largest_ram_untypeds(*info, largest);
    uint64_t pool = largest[2].slot.value();
    auto make = [&](abi::ObjectType type, uint64_t bits) {
        uint64_t s = g_slots.allocate();
        return untyped_retype(abi::CapPtr(pool), type, bits, kRoot, 0, 0, s, 1).ok() ? s : 0;
    };
    // The archive, read-only, with page tables from the pool.
    UntypedTables tables{kRoot, abi::CapPtr(pool), &g_slots};
    (void)map_frames(kVSpace, abi::CapPtr(info->boot_module_frames.start),
                     info->boot_module_frames.end - info->boot_module_frames.start, kArchiveAddress,
                     abi::kMapRead, abi::MapAttributes::kCached, false, tables_from(tables));
    auto archive = cpio::Archive::parse(std::span<const uint8_t>(
        reinterpret_cast<const uint8_t*>(kArchiveAddress + info->boot_module_offset),
        info->boot_module_size));
    if (!archive) {
        println("spawn benchmark: no image archive (run with --module)");
        tessera_exit(1);
    }
    uint64_t asid_pool = g_slots.allocate();
    (void)asid_control_make_pool(abi::CapPtr(abi::kSlotAsidControl),
                                 abi::CapPtr(make(abi::ObjectType::kUntyped, 12)), kRoot, asid_pool,
                                 64);
    g_ep = make(abi::ObjectType::kEndpoint, 0);
    // An 8 MiB image's budget is about 8.5 MiB; a thousand tiny PDs take about 60 MiB.
    if (!g_memory.init(kRoot, largest[0].slot.value(), largest[0].bits, &g_slots) ||
        !g_memory.add_pool(largest[1].slot.value(), largest[1].bits)) {
        println("spawn benchmark: no memory pool");
        tessera_exit(1);
    }
    g_builder.asid_pool = abi::CapPtr(asid_pool);
    g_builder.asid_control = abi::CapPtr(abi::kSlotAsidControl);  // beyond 512 PDs
    g_builder.memory = &g_memory;
    g_builder.slots = &g_slots;
    g_builder.profile = &g_profile;
    g_profile.clock = instructions;
    if (!pd_builder_init(g_builder).ok()) {
        println("spawn benchmark: cannot prepare the PD builder");
        tessera_exit(1);
    }

    auto minimal = archive.value().find("minimal");
    if (!minimal) {
        println("spawn benchmark: the archive has no 'minimal'");
        tessera_exit(1);
    }
    struct Row {
        const char* image;
        unsigned runs;
        Figures f;
    };
    static Row rows[] = {{"minimal", 10, {}}, {"sized-4k", 10, {}}, {"sized-64k", 5, {}},
                         {"sized-1m", 2, {}}, {"sized-4m", 1, {}},  {"sized-8m", 1, {}}};
    println("");
    println("Benchmark: protection domains (instructions; spawn, exec and teardown averages)");
    println("| {:<10} | {:<9} | {:<6} | {:<12} | {:<12} | {:<13} | {:<10} | {:<9} |", "image",
            "bytes", "pages", "to first", "to exit seen", "exec to first", "teardown", "per page");
    println(
        "|------------|-----------|--------|--------------|--------------|---------------|"
        "------------|-----------|");
    uint64_t minimal_first = 0;
    uint64_t minimal_pages = 0;
    for (Row& row : rows) {
        auto entry = archive.value().find(row.image);
        if (!entry || !measure(entry->data, minimal->data, row.image, row.runs, row.f)) {
            println("| {:<10} | (not in the archive or failed)", row.image);
            continue;
        }
        Figures& f = row.f;
        uint64_t first = f.to_first / row.runs;
        if (minimal_pages == 0) {
            minimal_first = first;
            minimal_pages = f.pages;
        }
        uint64_t extra = f.pages > minimal_pages ? f.pages - minimal_pages : 0;
        uint64_t per_page = extra > 0 ? (first - minimal_first) / extra : 0;
        println("| {:<10} | {:9} | {:6} | {:12} | {:12} | {:13} | {:10} | {:9} |", row.image,
                entry->data.size(), f.pages, first, f.to_exit / row.runs,
                f.exec_to_first / row.runs, f.teardown / row.runs, per_page);
    }
    println("");
    println("Where a spawn's instructions go (averages; exec in the last column):");
    println("| {:<40} | {:<10} | {:<10} | {:<10} | {:<10} |", "phase", "minimal", "sized-4k",
            "sized-8m", "exec 8m");
    println(
        "|------------------------------------------|------------|------------|------------|"
        "------------|");
    for (size_t p = 0; p < static_cast<size_t>(SpawnPhase::kCount); ++p) {
        println("| {:<40} | {:10} | {:10} | {:10} | {:10} |", to_string(static_cast<SpawnPhase>(p)),
                rows[0].f.phases[p] / rows[0].runs, rows[1].f.phases[p] / rows[1].runs,
                rows[5].f.phases[p] / rows[5].runs, rows[5].f.exec_phases[p] / rows[5].runs);
    }
    measure_alive(minimal->data, make(abi::ObjectType::kEndpoint, 0));
    const Figures& m = rows[0].f;
    println("");
    println(
        "memory of a minimal PD: {} pages, {} tables; objects {} bytes, budgets reserved {} "
        "bytes ({}.{:02}x)",
        m.pages, m.tables, m.used, m.budget, m.budget / m.used, m.budget * 100 / m.used % 100);
    tessera_exit(0);
}
