// The root task of the interactive image: reports what the kernel handed it, shows the headline
// at work (programs of the image archive started in new protection domains, answered, seen to
// exit or crash, torn down), then starts the image store and the controller as PDs and runs the
// interactive shell on the serial console as their client.
#include "abi/bootinfo.hpp"
#include "abi/fault.hpp"
#include "abi/process.hpp"
#include "cpio/cpio_reader.hpp"
#include "shell.hpp"
#include "tessera/boot_info.hpp"
#include "tessera/debug_print.hpp"
#include "tessera/fault.hpp"
#include "tessera/invocation.hpp"
#include "tessera/pd_builder.hpp"
#include "tessera/runtime.h"
#include "tessera/services.hpp"
#include "tessera/syscall.hpp"
#include "tessera/vspace_manager.hpp"

using namespace tessera;

namespace {

constexpr abi::CapPtr kRoot{abi::kSlotInitThreadCNode};
constexpr abi::CapPtr kVSpace{abi::kSlotInitThreadVSpace};
// The part of its address space the root manages for its own mappings (the archive), just
// below the PD builder's scratch range.
constexpr uint64_t kMappingsLow = 0x7d00'0000'0000;
constexpr uint64_t kMappingsHigh = 0x7e00'0000'0000;
constexpr uint64_t kFaultBadge = uint64_t{1} << 63;  // faults of the running program

SlotAllocator g_slots;

uint64_t make(abi::CapPtr untyped, abi::ObjectType type, uint64_t bits) {
    uint64_t slot = g_slots.allocate();
    return untyped_retype(untyped, type, bits, kRoot, 0, 0, slot, 1).ok() ? slot : 0;
}

// Maps the boot module read-only wherever the root's VSpace manager finds room and returns it
// (empty if there is none).
std::span<const uint8_t> map_archive(const abi::BootInfo& info, abi::CapPtr pool) {
    static VSpaceManager manager;
    static UntypedTables tables;
    tables = UntypedTables{kRoot, pool, &g_slots};
    uint64_t frames = info.boot_module_frames.end - info.boot_module_frames.start;
    if (frames == 0 || !manager.init(kVSpace, tables_from(tables), kMappingsLow, kMappingsHigh)) {
        return {};
    }
    uint64_t va =
        manager.map_anywhere(abi::CapPtr(info.boot_module_frames.start), frames, abi::kMapRead);
    if (va == 0) {
        return {};
    }
    return std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(va + info.boot_module_offset),
                                    info.boot_module_size);
}

void run_program(BuilderEnvironment& builder, const cpio::Entry& entry, uint64_t ep) {
    println("root: starting \"{}\" ({} bytes) in a new protection domain", entry.name,
            entry.data.size());
    // hello takes a number, crasher the kind of crash: both get one argument.
    StringView arguments[] = {entry.name, entry.name == "crasher" ? "stack" : "7"};
    PdConfig config;
    config.name = entry.name;
    config.arguments = arguments;
    config.parent_endpoint = ep;
    config.badge = 0x100;
    config.fault = FaultPolicy::kCreatorEndpoint;
    config.fault_endpoint = ep;
    config.fault_badge = kFaultBadge;
    auto pd = spawn_pd(builder, entry.data, config);
    if (!pd) {
        println("root: cannot start \"{}\": failed while {}: {}", entry.name,
                to_string(pd.error().step), detail(pd.error()));
        return;
    }
    PdHandle handle = pd.value();
    for (;;) {
        sys::Message m;
        sys::recv(abi::CapPtr(ep), m);
        if (m.badge_or_cap == kFaultBadge) {
            // Crash containment: report, tear down, carry on.
            abi::FaultMessage f = received_fault(m);
            if (f.type == abi::FaultType::kVmFault) {
                println("root: \"{}\" faulted: {} of {:#x} at pc {:#x}; tearing it down",
                        entry.name, abi::fault_kind(f), f.address, f.pc);
            } else {
                println("root: \"{}\" faulted: {} at pc {:#x}; tearing it down", entry.name,
                        abi::fault_kind(f), f.pc);
            }
            break;
        }
        if (m.info.label() == static_cast<uint64_t>(abi::ProcessLabel::kExit)) {
            println("root: \"{}\" exited with status {}; {} pages and {} tables returned",
                    entry.name, m.mr[0], handle.pages, handle.tables);
            break;
        }
        println("root: \"{}\" (badge {:#x}) called with {}; replying {}", entry.name,
                m.badge_or_cap, m.mr[0], m.mr[0] * 10);
        m.info = abi::MessageInfo(0, 0, 0, 1);
        m.mr[0] *= 10;
        sys::reply(m);
    }
    destroy_pd(builder, handle);
}

}  // namespace

extern "C" void tessera_start(uint64_t argument, uint64_t /*unused*/) {
    const auto* info = reinterpret_cast<const abi::BootInfo*>(argument);
    set_ipc_buffer(reinterpret_cast<abi::IpcBuffer*>(info->ipc_buffer));
    if (info->magic != abi::kBootInfoMagic || info->version != abi::kBootInfoVersion) {
        println("root: bad boot info at {:#x}", argument);
        tessera_exit(2);
    }
    g_slots.init(info->empty.start, info->empty.end);
    uint64_t ram = 0;
    uint64_t device = 0;
    for (uint64_t i = 0; i < info->untyped_count; ++i) {
        const abi::UntypedDescriptor& d = info->untyped_list[i];
        (d.is_device != 0 ? device : ram) += uint64_t{1} << d.size_bits;
    }
    // With enough RAM the controller gets the two largest RAM untypeds as its pools and the
    // root task keeps the third; else the root keeps the largest and lends the controller a
    // part of it.
    BootUntyped largest[3];
    largest_ram_untypeds(*info, largest);
    constexpr unsigned kRootNeedsBits = 23;  // 8 MiB: its own tables, the services, the demo
    const bool lend_largest = largest[2].bits >= kRootNeedsBits;
    abi::CapPtr pool = lend_largest ? largest[2].slot : largest[0].slot;
    unsigned best = lend_largest ? largest[2].bits : largest[0].bits;
    println("root: running at EL0; {} KiB of RAM and {} MiB of device memory in {} untypeds",
            ram / 1024, device / (uint64_t{1024} * 1024), info->untyped_count);

    // PDs' budgets come from a buddy allocator over half the pool, made first so it sits at the
    // pool's start (aligned) and the rest of the pool stays usable for small objects.
    const unsigned memory_bits = best - 1 > 24 ? 24 : best - 1;
    uint64_t memory_ut = make(pool, abi::ObjectType::kUntyped, memory_bits);
    std::span<const uint8_t> archive_bytes = map_archive(*info, pool);
    auto archive = cpio::Archive::parse(archive_bytes);
    if (!archive) {
        println("root: no image archive (boot without --module?); suspending");
    } else {
        uint64_t pool_slot = make(pool, abi::ObjectType::kUntyped, 12);
        uint64_t asid_pool = g_slots.allocate();
        (void)asid_control_make_pool(abi::CapPtr(abi::kSlotAsidControl), abi::CapPtr(pool_slot),
                                     kRoot, asid_pool, 64);
        BuilderEnvironment builder;
        builder.asid_pool = abi::CapPtr(asid_pool);
        uint64_t ep = make(pool, abi::ObjectType::kEndpoint, 0);  // before the pool's second half
        static UntypedAllocator memory;
        (void)memory.init(kRoot, memory_ut, memory_bits, &g_slots);
        builder.memory = &memory;
        builder.slots = &g_slots;
        if (!pd_builder_init(builder).ok() || ep == 0) {
            println("root: cannot prepare the builder");
        } else {
            for (const char* name : {"crasher", "hello", "minimal"}) {
                auto entry = archive.value().find(name);
                if (entry) {
                    run_program(builder, *entry, ep);
                } else {
                    println("root: the archive has no \"{}\"", name);
                }
            }
            println("root: demo done; starting the image store and the controller");
            auto store = archive.value().find("imagestore");
            auto controller = archive.value().find("controller");
            ServicesOptions options;
            options.builder = &builder;
            options.info = info;
            options.store_image = store ? store->data : std::span<const uint8_t>();
            options.controller_image = controller ? controller->data : std::span<const uint8_t>();
            options.parent_endpoint = ep;
            options.store_badge = kFaultBadge | 1;
            options.controller_badge = kFaultBadge | 2;
            options.controller_pool_bits = memory_bits - 1;
            options.controller_asid_control = true;
            if (lend_largest) {
                for (unsigned k = 0; k < 2; ++k) {
                    options.controller_pools[k] = largest[k].slot.value();
                    options.controller_pools_bits[k] = largest[k].bits;
                }
            }
            auto services = start_services(options);
            if (!services) {
                println("root: cannot start the services: failed while {}: {}",
                        to_string(services.error().step), detail(services.error()));
            } else {
                ShellEnvironment shell;
                shell.info = info;
                shell.slots = &g_slots;
                shell.endpoint = ep;
                shell.store = services.value().store_client;
                shell.controller = services.value().controller_client;
                shell.pool = pool;
                shell.pool_bits = best;
                shell.system[0] = {"imagestore", pd_memory(services.value().store), kStorePriority};
                shell.system[1] = {"controller", pd_memory(services.value().controller),
                                   kControllerPriority};
                run_shell(shell);
            }
        }
    }
    println("root: done; suspending (QEMU: Ctrl-A X quits)");
    InvocationResult r = tcb_suspend(abi::CapPtr(abi::kSlotInitThreadTcb));
    println("root: suspending myself failed: {}", abi::error_name(r.error));
    tessera_exit(3);
}
