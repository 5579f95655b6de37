// The controller: an ordinary PD that creates, re-images and destroys PDs for its clients over
// IPC (service/service_protocol.hpp). Its creator gives it an untyped pool ("pool"), an ASID
// pool ("asid-pool"), the endpoint it serves ("service"), a client capability to the image
// store ("store") and its own CNode, VSpace and TCB; argv[1] is log2 of the pool's size. It
// maps the archive read-only from the store's frames, then serves spawn / wait / kill / exec /
// list / memory requests. Every PD it makes draws its budgets from a buddy allocator over the
// pool, so a PD's end is a revoke that returns every byte at once.
//
// One endpoint carries everything, told apart by badge (service::badge): clients, its PDs' calls
// and exit reports, and their faults.
#include "controller.hpp"
#include "abi/fault.hpp"
#include "abi/ipc_buffer.hpp"
#include "abi/process.hpp"
#include "base/format.hpp"
#include "tessera/debug_print.hpp"
#include "tessera/fault.hpp"
#include "tessera/invocation.hpp"
#include "tessera/startup.hpp"

namespace tessera::controller {

Controller g_controller;
Pd* g_pds = nullptr;
// Zero-initialized, so in .bss (not in the image file).
UntypedAllocator g_memory;

namespace {

uint64_t make_tables(void* /*context*/, uint64_t count) {
    unsigned bits = 12;
    while ((uint64_t{1} << (bits - 12)) < count) {
        ++bits;
    }
    uint64_t block = g_memory.allocate(bits);
    uint64_t first = g_controller.slots.allocate_run(count);
    if (block == 0 || first == 0 ||
        !untyped_retype(abi::CapPtr(block), abi::ObjectType::kPageTable, 0,
                        g_controller.builder.cnode, 0, 0, first, count)
             .ok()) {
        g_memory.free(block);
        for (uint64_t s = first; first != 0 && s < first + count; ++s) {
            g_controller.slots.free(s);
        }
        return 0;
    }
    return first;
}

// Zeroed memory of the controller's own, `bytes` of it in 2 MiB pages from its pool, mapped
// read-write and kept for good (null: no room): the PD table and the copy-on-write ledger.
void* own_memory(uint64_t bytes) {
    constexpr unsigned kBits = abi::kLargePageSizeBits;
    const uint64_t pages = (bytes + (uint64_t{1} << kBits) - 1) >> kBits;
    const uint64_t va = g_controller.mappings.reserve_any(pages << kBits, uint64_t{1} << kBits);
    if (va == 0) {
        return nullptr;
    }
    for (uint64_t i = 0; i < pages; ++i) {
        const uint64_t block = g_memory.allocate(kBits);
        const uint64_t slot = g_controller.slots.allocate();
        if (block == 0 || slot == 0 ||
            !untyped_retype(abi::CapPtr(block), abi::ObjectType::kFrame2M, 0,
                            g_controller.builder.cnode, 0, 0, slot, 1)
                 .ok() ||
            !g_controller.mappings
                 .map(abi::CapPtr(slot), 1, va + (i << kBits), abi::kMapRead | abi::kMapWrite,
                      abi::MapAttributes::kCached, true)
                 .ok()) {
            return nullptr;  // the start fails: nothing to give back
        }
    }
    return reinterpret_cast<void*>(va);
}

// Fetches the archive's frames from the image store and maps them read-only here.
bool map_archive(abi::CapPtr store) {
    abi::IpcBuffer* buffer = ipc_buffer();
    VSpaceManager& mappings = g_controller.mappings;
    if (!mappings.init(g_controller.builder.vspace, TableSource{&make_tables, nullptr},
                       kMappingsLow, kMappingsHigh)) {
        return false;
    }
    uint64_t count = 1;
    uint64_t offset = 0;
    uint64_t size = 0;
    uint64_t base = 0;
    for (uint64_t i = 0; i < count; ++i) {
        uint64_t slot = g_controller.slots.allocate();
        buffer->receive_cnode = g_controller.builder.cnode;
        buffer->receive_index = slot;
        buffer->receive_depth = kDepth;
        unsigned caps = 0;
        auto frame = service::call(store, service::StoreFrame{i}, &caps);
        if (!frame || caps != 1) {
            println("controller: the image store gave no frame {} ({})", i,
                    frame ? StringView("no capability") : frame.error().message.view());
            return false;
        }
        count = frame.value().count;
        offset = frame.value().offset;
        size = frame.value().size;
        if (i == 0) {
            base = count < (uint64_t{1} << 40) / 4096 ? mappings.reserve_any(count * 4096) : 0;
            if (base == 0 || offset + size > count * 4096) {
                println("controller: no room for an archive of {} frames", count);
                return false;
            }
        }
        InvocationResult r = mappings.map(abi::CapPtr(slot), 1, base + i * 4096, abi::kMapRead);
        if (!r.ok()) {
            println("controller: cannot map the archive: {}", abi::error_name(r.error));
            return false;
        }
    }
    auto archive = cpio::Archive::parse(
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(base + offset), size));
    if (!archive) {
        println("controller: the archive is not valid: {}", cpio::to_string(archive.error()));
        return false;
    }
    g_controller.archive.emplace(archive.value());
    return true;
}

bool from_pd(unsigned id, sys::Message& m) {
    Pd& pd = g_pds[id];
    auto label = m.info.label();
    if (label == static_cast<uint64_t>(abi::ProcessLabel::kExit)) {
        println("[{}] {} exited with status {}", id, pd.name, m.mr[0]);
        end_pd(id, Ending::kExited, m.mr[0]);
        return false;
    }
    if (label == static_cast<uint64_t>(ControllerLabel::kExecSelf)) {
        auto request = service::request<service::ExecSelf>(m);
        if (!request) {
            service::refuse(m, request.error());
            return true;
        }
        exec(id, request.value().line.view(), m);
        // Re-imaged: it starts afresh and never sees a reply. Refused: it hears why.
        return m.info.label() != static_cast<uint64_t>(StatusCode::kOk);
    }
    const uint32_t asker = id + 1;
    if (label == static_cast<uint64_t>(ControllerLabel::kSpawn)) {
        spawn(m, asker);
        return true;
    }
    if (label == static_cast<uint64_t>(ControllerLabel::kWait)) {
        return wait(m, asker);
    }
    if (label == static_cast<uint64_t>(ControllerLabel::kKill)) {
        kill(m, asker);  // its own children only: not itself, not its parent
        return true;
    }
    if (label == static_cast<uint64_t>(ControllerLabel::kFork)) {
        fork(id, m);
        return true;
    }
    if (label == static_cast<uint64_t>(ControllerLabel::kGreet)) {
        auto greet = service::request<service::Greet>(m);
        if (!greet) {
            service::refuse(m, greet.error());
        } else {
            service::reply(m, service::GreetReply{greet.value().number * 10});
        }
        return true;
    }
    service::refuse(m, StatusCode::kBadRequest, "unknown request");
    return true;
}

// A fault of PD id: a write to a copy-on-write page is resolved and the PD resumed (true: reply
// to resume it); anything else ends the PD.
bool fault(unsigned id, sys::Message& m) {
    Pd& pd = g_pds[id];
    abi::FaultMessage f = received_fault(m);
    if (f.type == abi::FaultType::kVmFault && f.access == abi::FaultAccess::kWrite) {
        auto resolved = resolve_cow_fault(g_controller.builder, pd.handle, f.address);
        if (resolved && resolved.value()) {
            m.info = abi::MessageInfo(0, 0, 0, 0);  // resume: the write is retried
            return true;
        }
        if (!resolved) {
            char text[160];
            println("[{}] {}: no copy of the page at {:#x}: {}", id, pd.name, f.address,
                    describe(resolved.error(), text));
        }
    }
    if (f.type == abi::FaultType::kVmFault) {
        println("[{}] {} crashed: {} of {:#x} at pc {:#x}; torn down", id, pd.name,
                abi::fault_kind(f), f.address, f.pc);
    } else {
        println("[{}] {} crashed: {} at pc {:#x}; torn down", id, pd.name, abi::fault_kind(f),
                f.pc);
    }
    end_pd(id, Ending::kCrashed, m.info.label());
    return false;
}

// Handles one message; false when no reply is due.
bool handle(sys::Message& m) {
    const badge::Classified from = badge::classify(m.badge_or_cap);
    if (from.sender == badge::Sender::kFault) {
        const int id = pd_id(from.id);
        return id >= 0 && fault(static_cast<unsigned>(id), m);
    }
    if (from.sender == badge::Sender::kChild) {
        const int id = pd_id(from.id);
        return id >= 0 ? from_pd(static_cast<unsigned>(id), m) : false;
    }
    switch (static_cast<ControllerLabel>(m.info.label())) {
        case ControllerLabel::kSpawn:
            spawn(m, 0);
            return true;
        case ControllerLabel::kWait:
            return wait(m, 0);
        case ControllerLabel::kKill:
            kill(m, 0);
            return true;
        case ControllerLabel::kExec: {
            auto request = service::request<service::Exec>(m);
            if (!request) {
                service::refuse(m, request.error());
                return true;
            }
            const int id = pd_id(request.value().id);
            if (id < 0) {
                service::refuse(m, StatusCode::kNoSuchPd);
            } else {
                exec(static_cast<unsigned>(id), request.value().line.view(), m);
            }
            return true;
        }
        case ControllerLabel::kList:
            list(m);
            return true;
        case ControllerLabel::kMemory:
            memory(m);
            return true;
        case ControllerLabel::kKillAll:
            kill_all(m);
            return true;
        default:
            service::refuse(m, StatusCode::kBadRequest, "unknown request");
            return true;
    }
}

}  // namespace
}  // namespace tessera::controller

using namespace tessera;
using namespace tessera::controller;

int main(int argc, char** argv, char** /*envp*/) {
    const abi::StartupCap* pool = find_cap("pool");
    const abi::StartupCap* asid_pool = find_cap("asid-pool");
    const abi::StartupCap* service_ep = find_cap("service");
    const abi::StartupCap* store = find_cap("store");
    const abi::StartupCap* cnode = find_cap("self-cnode");
    const abi::StartupCap* vspace = find_cap("self-vspace");
    const abi::StartupCap* tcb = find_cap("self-tcb");
    const abi::StartupCap* pool2 = find_cap("pool-2");               // optional: a second pool
    const abi::StartupCap* asid_control = find_cap("asid-control");  // optional: more pools
    uint64_t pool_bits = 0;
    uint64_t pool2_bits = 0;
    if (pool == nullptr || asid_pool == nullptr || service_ep == nullptr || store == nullptr ||
        cnode == nullptr || vspace == nullptr || tcb == nullptr || argc < 2 ||
        !parse_u64(StringView(argv[1]), pool_bits) || pool_bits > 47 ||
        (pool2 != nullptr &&
         (argc < 3 || !parse_u64(StringView(argv[2]), pool2_bits) || pool2_bits > 47))) {
        println(
            "controller: usage: controller POOL-BITS [POOL-2-BITS], with pool (and pool-2), "
            "asid-pool, service, store and self capabilities");
        return 1;
    }
    const abi::StartupRecord* record = startup_record();
    Controller& c = g_controller;
    c.slots.init(record->first_free_slot, uint64_t{1} << record->cnode_radix);
    c.service_ep = abi::CapPtr(service_ep->slot);
    c.pool = abi::CapPtr(pool->slot);
    c.pool_bits = static_cast<unsigned>(pool_bits);
    c.builder.cnode = abi::CapPtr(cnode->slot);
    c.builder.cnode_radix = static_cast<unsigned>(record->cnode_radix);
    c.builder.fault_endpoint = abi::CapPtr(record->fault_endpoint);
    c.builder.vspace = abi::CapPtr(vspace->slot);
    c.builder.tcb = abi::CapPtr(tcb->slot);
    c.builder.asid_pool = abi::CapPtr(asid_pool->slot);
    c.builder.asid_control = abi::CapPtr(asid_control != nullptr ? asid_control->slot : 0);
    // Its own console (from the root task) goes to the PDs it starts; it has no debug one.
    c.builder.console = abi::CapPtr(abi::kPdSlotConsole);
    c.builder.debug = abi::CapPtr(0);
    if (!g_memory.init(c.builder.cnode, c.pool.value(), c.pool_bits, &c.slots) ||
        (pool2 != nullptr && !g_memory.add_pool(pool2->slot, static_cast<unsigned>(pool2_bits)))) {
        println("controller: cannot use the pool");
        return 3;
    }
    c.builder.memory = &g_memory;
    c.builder.slots = &c.slots;
    if (!map_archive(abi::CapPtr(store->slot)) || !pd_builder_init(c.builder).ok()) {
        return 2;
    }
    g_pds = static_cast<Pd*>(own_memory(sizeof(Pd) * kMaxPds));
    c.builder.cow = static_cast<CowSpace*>(own_memory(sizeof(CowSpace)));
    if (g_pds == nullptr || c.builder.cow == nullptr) {
        println("controller: no memory for the PD table and the copy-on-write ledger");
        return 4;
    }
    c.free_at_start = g_memory.free_bytes();
    println("controller: ready; {} KiB pool, {} free slots", g_memory.size() >> 10,
            c.slots.free_count());
    sys::Message m;
    sys::recv(c.service_ep, m);
    for (;;) {
        if (handle(m)) {
            sys::reply_recv(c.service_ep, m);
        } else {
            sys::recv(c.service_ep, m);
        }
    }
}
