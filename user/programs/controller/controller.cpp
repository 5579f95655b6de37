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
#include <optional>

#include "abi/fault.hpp"
#include "abi/ipc_buffer.hpp"
#include "abi/process.hpp"
#include "base/format.hpp"
#include "base/string_view.hpp"
#include "cpio/cpio_reader.hpp"
#include "tessera/debug_print.hpp"
#include "tessera/fault.hpp"
#include "tessera/invocation.hpp"
#include "tessera/pd_builder.hpp"
#include "tessera/service_call.hpp"
#include "tessera/startup.hpp"
#include "tessera/syscall.hpp"
#include "tessera/vspace_manager.hpp"

using namespace tessera;
using service::ControllerLabel;
using service::Ending;
using service::StatusCode;
namespace badge = service::badge;

namespace {

// The part of its address space the controller manages for its own mappings (the archive),
// below its PD builder's scratch range.
constexpr uint64_t kMappingsLow = 0x7d00'0000'0000;
constexpr uint64_t kMappingsHigh = 0x7e00'0000'0000;
constexpr uint64_t kDepth = abi::kWordBits;  // every slot of a single-level CSpace
constexpr unsigned kMaxPds = 1536;           // its CNode (16,384 slots) holds their budgets' blocks
constexpr unsigned kMaxServices = 4;
constexpr unsigned kMaxArguments = 16;
constexpr uint64_t kChildPriority = 100;

// A PD of the controller's. Every field is zero when unused (the table lives in .bss).
struct Pd {
    PdHandle handle;
    uint64_t waiter = 0;      // reply capability of whoever waits for its end (0: nobody)
    uint64_t any_waiter = 0;  // its own wait for any child: the reply capability
    char name[24] = {};
    uint32_t waiter_plus_one = 0;  // that waiter's PD id plus one (0: a client)
    uint32_t parent_plus_one = 0;  // the PD that started it, plus one (0: a client)
    int service_plus_one = 0;      // the service it serves plus one (0: none)
    bool used = false;
    bool linked = false;  // ends with its parent

    [[nodiscard]] int service() const { return service_plus_one - 1; }
};

struct Service {
    bool used = false;
    char name[24] = {};
    uint64_t endpoint = 0;  // slot of the endpoint (all rights)
    uint64_t block = 0;     // the memory it was made from
};

struct Controller {
    BuilderEnvironment builder;
    SlotAllocator slots;
    abi::CapPtr service_ep;
    abi::CapPtr pool;
    unsigned pool_bits = 0;
    std::optional<cpio::Archive> archive;  // once mapped
    VSpaceManager mappings;
    uint64_t free_at_start = 0;  // the pool's free bytes once ready: what every teardown returns to
    Service services[kMaxServices];
};

Controller g_controller;
// Zero-initialized, so in .bss (not in the image file): the PD table and the allocator.
Pd g_pds[kMaxPds];
UntypedAllocator g_memory;

void copy_name(char (&dest)[24], StringView name) {
    size_t i = 0;
    for (; i < name.size() && i + 1 < sizeof(dest); ++i) {
        dest[i] = name[i];
    }
    dest[i] = '\0';
}

// A PD builder failure in words: the step and its cause.
StringView describe(const SpawnError& error, char (&text)[160]) {
    BufferWriter why(text, sizeof(text));
    why.print("failed while {}: {}", to_string(error.step), detail(error));
    return why.view();
}

// Splits a command line into at most kMaxArguments words (pointing into line).
size_t split(StringView line, StringView (&words)[kMaxArguments]) {
    size_t n = 0;
    size_t i = 0;
    while (i < line.size() && n < kMaxArguments) {
        while (i < line.size() && line[i] == ' ') {
            ++i;
        }
        size_t start = i;
        while (i < line.size() && line[i] != ' ') {
            ++i;
        }
        if (i > start) {
            words[n++] = line.substr(start, i - start);
        }
    }
    return n;
}

// A new kernel object (a page table or an endpoint) in its own 4 KiB block of the pool, into a
// fresh slot; block_out receives the block. 0 on failure.
uint64_t make_object(abi::ObjectType type, uint64_t& block_out) {
    uint64_t block = g_memory.allocate(12);
    uint64_t slot = g_controller.slots.allocate();
    if (block == 0 || slot == 0 ||
        !untyped_retype(abi::CapPtr(block), type, 0, g_controller.builder.cnode, 0, 0, slot, 1)
             .ok()) {
        g_memory.free(block);
        g_controller.slots.free(slot);
        return 0;
    }
    block_out = block;
    return slot;
}

// Page tables for the controller's own mappings (kept: the archive stays mapped): count of them
// from one block of the pool.
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

// --- PDs --------------------------------------------------------------------------------

int pd_id(uint64_t id) {
    return id < kMaxPds && g_pds[id].used ? static_cast<int>(id) : -1;
}

// The configuration of every PD the controller makes: argv from the command line, its parent
// and fault endpoints badged with its id, and the directory of running services.
struct Config {
    StringView arguments[kMaxArguments];
    CapGrant grants[kMaxServices + 1];
    PdConfig pd;

    Config(unsigned id, std::span<const StringView> argv, int own_service, bool tiny = false) {
        static const StringView kEnvironment[] = {"CONTROLLER=tessera"};
        size_t n = 0;
        for (StringView a : argv) {
            arguments[n++] = a;
        }
        pd.name = arguments[0];
        pd.priority = kChildPriority;
        if (tiny) {
            pd.stack_size = uint64_t{8} * 1024;
            pd.heap_size = 0;
            pd.cnode_radix = abi::kPdMinCNodeRadix;
        }
        pd.arguments = std::span<const StringView>(arguments, n);
        pd.environment = kEnvironment;
        pd.parent_endpoint = g_controller.service_ep.value();
        pd.badge = badge::child(id);
        pd.fault = FaultPolicy::kCreatorEndpoint;
        pd.fault_endpoint = g_controller.service_ep.value();
        pd.fault_badge = badge::fault(id);
        size_t g = 0;
        for (int s = 0; s < static_cast<int>(kMaxServices); ++s) {
            const Service& service = g_controller.services[s];
            if (!service.used) {
                continue;
            }
            if (s == own_service) {  // the server's own end: it receives on it
                grants[g++] = CapGrant{"service", service.endpoint, 0, abi::kRightsAll, 0, false};
            } else {
                grants[g++] = CapGrant{service.name,
                                       service.endpoint,
                                       0,
                                       abi::kRightWrite | abi::kRightGrantReply,
                                       badge::service_client(id),
                                       false};
            }
        }
        pd.caps = std::span<const CapGrant>(grants, g);
    }
};

int new_service(StringView name) {
    for (int s = 0; s < static_cast<int>(kMaxServices); ++s) {
        Service& service = g_controller.services[s];
        if (!service.used) {
            service.endpoint = make_object(abi::ObjectType::kEndpoint, service.block);
            if (service.endpoint == 0) {
                return -1;
            }
            service.used = true;
            copy_name(service.name, name);
            return s;
        }
    }
    return -1;
}

void end_service(int s) {
    Service& service = g_controller.services[s];
    // Revoking takes every client's badged copy with it; then the endpoint itself goes.
    while (!cnode_revoke(g_controller.builder.cnode, service.endpoint, kDepth).ok()) {
    }
    (void)cnode_delete(g_controller.builder.cnode, service.endpoint, kDepth);
    g_controller.slots.free(service.endpoint);
    g_memory.free(service.block);
    service = Service{};
}

void drop_reply(uint64_t& slot) {
    if (slot != 0) {
        (void)cnode_delete(g_controller.builder.cnode, slot, kDepth);
        g_controller.slots.free(slot);
        slot = 0;
    }
}

void answer(uint64_t& slot, const service::WaitReply& reply) {
    sys::Message m;
    service::reply(m, reply);
    sys::send(abi::CapPtr(slot), m);
    drop_reply(slot);
}

// A client's wait for any PD a client started (one at a time).
uint64_t g_client_any_waiter = 0;

// Tears PD id down with its linked subtree, tells whoever waits how each ended, and returns how
// many PDs ended. Unlinked children outlive it (a client's from then on).
uint64_t end_pd(unsigned id, Ending how, uint64_t status) {
    uint64_t ended = 0;
    // Its linked children first (depth first; each ends as killed), its others orphaned.
    for (unsigned c = 0; c < kMaxPds; ++c) {
        Pd& child = g_pds[c];
        if (child.used && child.parent_plus_one == id + 1) {
            if (child.linked) {
                ended += end_pd(c, Ending::kKilled, 0);
            } else {
                child.parent_plus_one = 0;
            }
        }
    }
    Pd& pd = g_pds[id];
    destroy_pd(g_controller.builder, pd.handle);
    if (pd.service() >= 0) {
        end_service(pd.service());
    }
    const service::WaitReply reply{how, status, id};
    if (pd.waiter != 0) {
        answer(pd.waiter, reply);
    } else if (pd.parent_plus_one != 0 && g_pds[pd.parent_plus_one - 1].any_waiter != 0) {
        answer(g_pds[pd.parent_plus_one - 1].any_waiter, reply);
    } else if (pd.parent_plus_one == 0 && g_client_any_waiter != 0) {
        answer(g_client_any_waiter, reply);
    }
    // Waits it had itself are over: nobody will answer a PD that is gone.
    drop_reply(pd.any_waiter);
    for (Pd& other : g_pds) {
        if (other.used && other.waiter != 0 && other.waiter_plus_one == id + 1) {
            drop_reply(other.waiter);
            other.waiter_plus_one = 0;
        }
    }
    pd = Pd{};
    return ended + 1;
}

// Whether `asker` (a PD id plus one; 0: a client) may wait for or kill PD id: clients any PD, a
// PD only its own children.
bool may_act_on(uint32_t asker, unsigned id) {
    return asker == 0 || g_pds[id].parent_plus_one == asker;
}

// A failed build's reply: out of memory, or refused with the builder's words.
void refuse_build(sys::Message& m, const SpawnError& error) {
    char text[160];
    const bool memory = error.kernel_error == abi::Error::kNotEnoughMemory;
    service::refuse(m, memory ? StatusCode::kNoMemory : StatusCode::kRefused,
                    describe(error, text));
}

void spawn(sys::Message& m, uint32_t asker) {
    auto request = service::request<service::Spawn>(m);
    if (!request) {
        service::refuse(m, request.error());
        return;
    }
    StringView words[kMaxArguments];
    const size_t n = split(request.value().line.view(), words);
    if (n == 0) {
        service::refuse(m, StatusCode::kBadRequest, "no image named");
        return;
    }
    const bool serve = (request.value().flags & service::kSpawnServe) != 0;
    auto entry = g_controller.archive->find(words[0]);
    if (!entry || !entry->is_regular_file()) {
        service::refuse(m, StatusCode::kNoSuchImage, "no such image (try ls)");
        return;
    }
    unsigned id = 0;
    while (id < kMaxPds && g_pds[id].used) {
        ++id;
    }
    if (id == kMaxPds) {
        service::refuse(m, StatusCode::kTooManyPds, "too many PDs (kill one first)");
        return;
    }
    int service = -1;
    if (serve) {
        service = new_service(words[0]);
        if (service < 0) {
            service::refuse(m, StatusCode::kTooManyServices, "no room for another service");
            return;
        }
    }
    const bool tiny = (request.value().flags & service::kSpawnTiny) != 0;
    Config config(id, std::span<const StringView>(words, n), service, tiny);
    auto pd = spawn_pd(g_controller.builder, entry->data, config.pd);
    if (!pd) {
        if (service >= 0) {
            end_service(service);
        }
        refuse_build(m, pd.error());
        return;
    }
    Pd& slot = g_pds[id];
    slot.used = true;
    slot.handle = pd.value();
    slot.service_plus_one = service + 1;
    slot.parent_plus_one = asker;
    slot.linked = (request.value().flags & service::kSpawnLinked) != 0 && asker != 0;
    copy_name(slot.name, words[0]);
    service::reply(m, service::SpawnReply{id});
}

// The caller's reply capability, saved in a fresh slot (0: none left).
uint64_t save_caller() {
    uint64_t slot = g_controller.slots.allocate();
    const uint64_t args[] = {slot, kDepth};
    if (slot == 0 ||
        !invoke(g_controller.builder.cnode, abi::InvocationLabel::kCNodeSaveCaller, args).ok()) {
        g_controller.slots.free(slot);
        return 0;
    }
    return slot;
}

// Returns false when the reply is deferred until the PD (or any child) ends.
bool wait(sys::Message& m, uint32_t asker) {
    auto request = service::request<service::Wait>(m);
    if (!request) {
        service::refuse(m, request.error());
        return true;
    }
    if (request.value().id == service::kAnyChild) {
        bool any = false;
        for (const Pd& pd : g_pds) {
            any = any || (pd.used && pd.parent_plus_one == asker);
        }
        uint64_t& waiter = asker != 0 ? g_pds[asker - 1].any_waiter : g_client_any_waiter;
        if (!any || waiter != 0) {
            service::refuse(m, any ? StatusCode::kAlreadyWaitedFor : StatusCode::kNoSuchPd,
                            any ? "already waiting" : "no children");
            return true;
        }
        waiter = save_caller();
        if (waiter == 0) {
            service::refuse(m, StatusCode::kNoSlot);
            return true;
        }
        return false;
    }
    const int id = pd_id(request.value().id);
    if (id < 0 || !may_act_on(asker, static_cast<unsigned>(id))) {
        service::refuse(m, StatusCode::kNoSuchPd);
        return true;
    }
    Pd& pd = g_pds[id];
    if (pd.waiter != 0) {
        service::refuse(m, StatusCode::kAlreadyWaitedFor);
        return true;
    }
    pd.waiter = save_caller();
    if (pd.waiter == 0) {
        service::refuse(m, StatusCode::kNoSlot);
        return true;
    }
    pd.waiter_plus_one = asker;
    return false;
}

void kill(sys::Message& m, uint32_t asker) {
    auto request = service::request<service::Kill>(m);
    if (!request) {
        service::refuse(m, request.error());
        return;
    }
    const int id = pd_id(request.value().id);
    if (id < 0 || !may_act_on(asker, static_cast<unsigned>(id))) {
        service::refuse(m, StatusCode::kNoSuchPd);
        return;
    }
    service::KillReply reply{0, StringView(g_pds[id].name)};
    reply.count = end_pd(static_cast<unsigned>(id), Ending::kKilled, 0);
    service::reply(m, reply);
}

// Re-images PD id with the command line in `line`; the reply (or, for a PD re-imaging itself,
// the lack of one) is decided by the caller.
void exec(unsigned id, StringView line, sys::Message& m) {
    StringView words[kMaxArguments];
    size_t n = split(line, words);
    if (n == 0) {
        service::refuse(m, StatusCode::kBadRequest, "no image named");
        return;
    }
    auto entry = g_controller.archive->find(words[0]);
    if (!entry || !entry->is_regular_file()) {
        service::refuse(m, StatusCode::kNoSuchImage, "no such image (try ls)");
        return;
    }
    Pd& pd = g_pds[id];
    Config config(id, std::span<const StringView>(words, n), pd.service());
    auto result = exec_pd(g_controller.builder, pd.handle, entry->data, config.pd);
    if (!result) {
        refuse_build(m, result.error());
        return;
    }
    copy_name(pd.name, words[0]);
    service::reply(m, service::ExecReply{StringView(pd.name)});
}

void list(sys::Message& m) {
    auto request = service::request<service::List>(m);
    if (!request) {
        service::refuse(m, request.error());
        return;
    }
    uint64_t index = request.value().index;
    for (unsigned id = 0; id < kMaxPds; ++id) {
        const Pd& pd = g_pds[id];
        if (pd.used && index-- == 0) {
            const auto state = pd.service() >= 0 ? service::PdState::kServing
                               : pd.waiter != 0  ? service::PdState::kWaitedFor
                                                 : service::PdState::kRunning;
            const uint64_t parent =
                pd.parent_plus_one != 0 ? pd.parent_plus_one - 1 : service::kNoParent;
            service::reply(m,
                           service::ListReply{id, parent, pd.linked ? 1u : 0u, pd_memory(pd.handle),
                                              kChildPriority, state, StringView(pd.name)});
            return;
        }
    }
    service::refuse(m, StatusCode::kEndOfList);
}

void kill_all(sys::Message& m) {
    uint64_t count = 0;
    for (unsigned id = 0; id < kMaxPds; ++id) {
        if (g_pds[id].used) {
            count += end_pd(id, Ending::kKilled, 0);
        }
    }
    (void)g_memory.whole();  // merge what came back
    service::reply(m,
                   service::KillAllReply{count, g_memory.free_bytes(), g_controller.free_at_start,
                                         g_controller.builder.kept_bytes});
}

void memory(sys::Message& m) {
    uint64_t held = 0;
    for (const Pd& pd : g_pds) {
        held += pd.used ? pd_memory(pd.handle) : 0;
    }
    service::reply(m, service::MemoryReply{g_memory.size(), held, g_memory.free_bytes()});
}

// A message from one of its PDs (calls on the parent endpoint). False: no reply.
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
        if (service::request<service::Kill>(m).ok() &&
            service::request<service::Kill>(m).value().id == id) {
            service::refuse(m, StatusCode::kBadRequest, "a PD exits; it does not kill itself");
            return true;
        }
        kill(m, asker);
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

void fault(unsigned id, const sys::Message& m) {
    Pd& pd = g_pds[id];
    abi::FaultMessage f = received_fault(m);
    if (f.type == abi::FaultType::kVmFault) {
        println("[{}] {} crashed: {} of {:#x} at pc {:#x}; torn down", id, pd.name,
                abi::fault_kind(f), f.address, f.pc);
    } else {
        println("[{}] {} crashed: {} at pc {:#x}; torn down", id, pd.name, abi::fault_kind(f),
                f.pc);
    }
    end_pd(id, Ending::kCrashed, m.info.label());
}

// Handles one message; false when no reply is due.
bool handle(sys::Message& m) {
    const badge::Classified from = badge::classify(m.badge_or_cap);
    if (from.sender == badge::Sender::kFault) {
        const int id = pd_id(from.id);
        if (id >= 0) {
            fault(static_cast<unsigned>(id), m);
        }
        return false;  // a faulting thread is torn down, never resumed
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
