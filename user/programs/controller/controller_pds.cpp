// The controller's PDs (controller.hpp): spawning with their configuration and the service
// directory, waiting, killing with their linked subtree, exec, the list and the memory figures.
// A PD may act on its own children only; clients on any PD.
#include "abi/process.hpp"
#include "base/format.hpp"
#include "controller.hpp"
#include "tessera/debug_print.hpp"
#include "tessera/invocation.hpp"

namespace tessera::controller {

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

// --- PDs --------------------------------------------------------------------------------

int pd_id(uint64_t id) {
    return id < kMaxPds && g_pds[id].used && !g_pds[id].ended ? static_cast<int>(id) : -1;
}

namespace {
// An ended child kept for its parent's wait (id's slot; -1: not one).
int ended_id(uint64_t id) {
    return id < kMaxPds && g_pds[id].used && g_pds[id].ended ? static_cast<int>(id) : -1;
}
}  // namespace

// The configuration of every PD the controller makes: argv from the command line, its parent
// and fault endpoints badged with its id, and the directory of running services.
struct Config {
    StringView arguments[kMaxArguments];
    CapGrant grants[kMaxServices + 1];
    PdConfig pd;

    // own_service: the service it serves (-1: none); ending: a service it is not given at all.
    Config(unsigned id, std::span<const StringView> argv, int own_service, bool tiny = false,
           int ending = -1) {
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
            if (!service.used || s == ending) {
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

// Set while every PD ends (kill all): no fork need take its pages out of budgets of PDs gone.
bool g_ending_all = false;

// After a PD with forks ended or was re-imaged: the forks that now alone map pages of its old
// image take them over (tessera/pd_builder.hpp: reclaim_orphaned_pages), so its budget returns.
void reclaim_from_forks() {
    if (g_ending_all) {
        return;
    }
    for (unsigned p = 0; p < kMaxPds; ++p) {
        Pd& pd = g_pds[p];
        if (pd.used && !pd.ended && pd.handle.cow.pages != 0) {
            (void)reclaim_orphaned_pages(g_controller.builder, pd.handle);
        }
    }
}

// Tears PD id down with its linked subtree, tells whoever waits how each ended, and returns how
// many PDs ended. Unlinked children outlive it (a client's from then on).
uint64_t end_pd(unsigned id, Ending how, uint64_t status) {
    static unsigned depth = 0;  // the subtree's ends are one operation
    ++depth;
    uint64_t ended = 0;
    // Its linked children first (depth first; each ends as killed), its others orphaned.
    for (unsigned c = 0; c < kMaxPds; ++c) {
        Pd& child = g_pds[c];
        if (child.used && !child.ended && child.parent_plus_one == id + 1) {
            if (child.linked) {
                ended += end_pd(c, Ending::kKilled, 0);
            } else {
                child.parent_plus_one = 0;
            }
        }
    }
    // Its linked children's records too: nobody is left to wait for them.
    for (unsigned c = 0; c < kMaxPds; ++c) {
        if (g_pds[c].used && g_pds[c].ended && g_pds[c].parent_plus_one == id + 1) {
            g_pds[c] = Pd{};
        }
    }
    Pd& pd = g_pds[id];
    destroy_pd(g_controller.builder, pd.handle);
    if (pd.service() >= 0) {
        end_service(pd.service());
    }
    const service::WaitReply reply{how, status, id};
    bool told = true;
    if (pd.waiter != 0) {
        answer(pd.waiter, reply);
    } else if (pd.parent_plus_one != 0 && g_pds[pd.parent_plus_one - 1].any_waiter != 0) {
        answer(g_pds[pd.parent_plus_one - 1].any_waiter, reply);
    } else if (pd.parent_plus_one == 0 && g_client_any_waiter != 0) {
        answer(g_client_any_waiter, reply);
    } else {
        told = false;
    }
    // Waits it had itself are over: nobody will answer a PD that is gone.
    drop_reply(pd.any_waiter);
    for (unsigned o = 0; o < kMaxPds; ++o) {
        Pd& other = g_pds[o];
        if (other.used && other.waiter != 0 && other.waiter_plus_one == id + 1) {
            drop_reply(other.waiter);
            other.waiter_plus_one = 0;
        }
    }
    if (!told && pd.parent_plus_one != 0) {  // a PD's child: kept until it waits
        const uint32_t parent = pd.parent_plus_one;
        char name[24];
        copy_name(name, StringView(pd.name));
        pd = Pd{};
        pd.used = true;
        pd.ended = true;
        pd.ending = how;
        pd.status = status;
        pd.parent_plus_one = parent;
        copy_name(pd.name, StringView(name));
    } else {
        pd = Pd{};
    }
    if (--depth == 0) {
        reclaim_from_forks();
    }
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
    const bool memory = error.kernel_error == abi::Error::kNotEnoughMemory ||
                        error.config_error == pd::ConfigError::kLedgerFull;
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
        for (unsigned p = 0; p < kMaxPds; ++p) {  // one service per name
            const Pd& other = g_pds[p];
            const int s = other.used && !other.ended ? other.service() : -1;
            if (s >= 0 && StringView(g_controller.services[s].name) == words[0]) {
                char text[64];
                BufferWriter why(text, sizeof(text));
                why.print("a service named \"{}\" runs already (PD {})", words[0], p);
                service::refuse(m, StatusCode::kNameTaken, why.view());
                return;
            }
        }
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
        for (unsigned p = 0; p < kMaxPds; ++p) {  // one that ended already
            Pd& pd = g_pds[p];
            if (pd.used && pd.ended && pd.parent_plus_one == asker) {
                service::reply(m, service::WaitReply{pd.ending, pd.status, p});
                pd = Pd{};
                return true;
            }
        }
        bool any = false;
        for (unsigned p = 0; p < kMaxPds; ++p) {
            const Pd& pd = g_pds[p];
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
    const int over = ended_id(request.value().id);
    if (over >= 0 && may_act_on(asker, static_cast<unsigned>(over))) {
        Pd& pd = g_pds[over];
        service::reply(m, service::WaitReply{pd.ending, pd.status, static_cast<uint64_t>(over)});
        pd = Pd{};
        return true;
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
    const int over = ended_id(request.value().id);
    if (over >= 0 && may_act_on(asker, static_cast<unsigned>(over))) {
        service::reply(m, service::KillReply{0, StringView(g_pds[over].name)});
        g_pds[over] = Pd{};  // ended already: only its record goes
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
    // A service's server re-imaged is no longer its server: the new image does not get the
    // service's end, and the service ends (its clients' capabilities revoked) once it runs.
    Config config(id, std::span<const StringView>(words, n), -1, false, pd.service());
    const bool shared = pd.handle.cow.pages != 0;
    auto result = exec_pd(g_controller.builder, pd.handle, entry->data, config.pd);
    if (!result) {
        refuse_build(m, result.error());
        return;
    }
    if (shared) {
        reclaim_from_forks();
    }
    const bool served = pd.service() >= 0;
    if (served) {
        end_service(pd.service());
        pd.service_plus_one = 0;
    }
    copy_name(pd.name, words[0]);
    service::reply(m, service::ExecReply{served ? 1u : 0u, StringView(pd.name)});
}

void fork(unsigned id, sys::Message& m) {
    auto request = service::request<service::Fork>(m);
    if (!request || request.value().rule_count > service::kMaxForkRules) {
        service::refuse(m, request ? StatusCode::kBadRequest : request.error(), "bad fork request");
        return;
    }
    unsigned child = 0;
    while (child < kMaxPds && g_pds[child].used) {
        ++child;
    }
    if (child == kMaxPds) {
        service::refuse(m, StatusCode::kTooManyPds, "too many PDs (kill one first)");
        return;
    }
    const service::Fork& f = request.value();
    ForkRule rules[service::kMaxForkRules];
    for (uint64_t i = 0; i < f.rule_count; ++i) {
        rules[i].slot = f.rule[i].slot;
        rules[i].action = static_cast<ForkRule::Action>(f.rule[i].action);
        rules[i].badge = f.rule[i].badge;
    }
    // The child returns from the same call, with a reply of its own: x0 (badge) 0, x1 the reply's
    // message info, x2 and x3 its id and in_child.
    const RegisterValue registers[] = {
        {abi::kRegisterIndexX0, 0},
        {abi::kRegisterIndexX0 + 1, abi::MessageInfo(0, 0, 0, 2).raw()},
        {abi::kRegisterIndexX0 + 2, child},
        {abi::kRegisterIndexX0 + 3, 1},
    };
    Pd& parent = g_pds[id];
    ForkConfig config;
    config.name = StringView(parent.name);
    config.priority = kChildPriority;
    config.parent_endpoint = g_controller.service_ep.value();
    config.badge = badge::child(child);
    config.fault = FaultPolicy::kCreatorEndpoint;
    config.fault_endpoint = g_controller.service_ep.value();
    config.fault_badge = badge::fault(child);
    config.rules = std::span<const ForkRule>(rules, f.rule_count);
    config.registers = registers;
    config.eager = (f.flags & service::kForkEager) != 0;
    auto forked = fork_pd(g_controller.builder, parent.handle, config);
    if (!forked) {
        refuse_build(m, forked.error());
        return;
    }
    Pd& slot = g_pds[child];
    slot.used = true;
    slot.handle = forked.value();
    slot.parent_plus_one = id + 1;
    copy_name(slot.name, StringView(parent.name));
    service::reply(m, service::ForkReply{child, 0});
}

// What a PD holds: its budgets and the copies it made of pages it shared with forks.
uint64_t held_by(const Pd& pd) {
    return pd_memory(pd.handle) + cow_figures(g_controller.builder, pd.handle).own_bytes;
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
            const auto state = pd.ended            ? service::PdState::kEnded
                               : pd.service() >= 0 ? service::PdState::kServing
                               : pd.waiter != 0    ? service::PdState::kWaitedFor
                                                   : service::PdState::kRunning;
            const uint64_t parent =
                pd.parent_plus_one != 0 ? pd.parent_plus_one - 1 : service::kNoParent;
            service::reply(m, service::ListReply{id, parent, pd.linked ? 1u : 0u, held_by(pd),
                                                 kChildPriority, state, StringView(pd.name)});
            return;
        }
    }
    service::refuse(m, StatusCode::kEndOfList);
}

void kill_all(sys::Message& m) {
    g_ending_all = true;
    uint64_t count = 0;
    for (unsigned id = 0; id < kMaxPds; ++id) {
        if (g_pds[id].used && g_pds[id].ended) {
            g_pds[id] = Pd{};
        } else if (g_pds[id].used) {
            count += end_pd(id, Ending::kKilled, 0);
        }
    }
    g_ending_all = false;
    (void)g_memory.whole();  // merge what came back
    service::reply(m,
                   service::KillAllReply{count, g_memory.free_bytes(), g_controller.free_at_start,
                                         g_controller.builder.kept_bytes});
}

void memory(sys::Message& m) {
    uint64_t held = 0;
    for (unsigned p = 0; p < kMaxPds; ++p) {
        const Pd& pd = g_pds[p];
        held += pd.used ? held_by(pd) : 0;
    }
    service::reply(m, service::MemoryReply{g_memory.size(), held, g_memory.free_bytes()});
}

// A message from one of its PDs (calls on the parent endpoint). False: no reply.

}  // namespace tessera::controller
