// The image store and the controller as PDs, driven over IPC the way the shell drives them:
// spawn, wait, kill, exec, list and memory; a crash reported to a waiter; the service directory
// (ping-pong) and a PD re-imaging itself; and every byte of the controller's pool back when its
// PDs are gone.
#include "base/format.hpp"
#include "tessera/debug_print.hpp"
#include "tessera/service_call.hpp"
#include "tessera/services.hpp"
#include "user_test.hpp"

namespace tessera::test {
namespace {

using service::Ending;
using service::StatusCode;

constexpr unsigned kServicesPoolBits = 24;

Services g_services;
bool g_started = false;
uint64_t g_reports = 0;  // the services' fault and exit reports arrive here

bool services_ready() {
    if (g_started) {
        return true;
    }
    static BuilderEnvironment builder;
    uint64_t asid_ut = new_untyped(12);
    g_reports = make_objects(new_untyped(12), abi::ObjectType::kEndpoint, 0);
    uint64_t asid_pool = new_slot();
    if (!asid_control_make_pool(abi::CapPtr(abi::kSlotAsidControl), abi::CapPtr(asid_ut),
                                kRootCNode, asid_pool, kRootDepth)
             .ok()) {
        return false;
    }
    builder.asid_pool = abi::CapPtr(asid_pool);
    static UntypedAllocator memory;
    if (!memory.init(kRootCNode, new_untyped(kServicesPoolBits), kServicesPoolBits, &env().slots)) {
        println("services: no memory for the services");
        return false;
    }
    builder.memory = &memory;
    builder.slots = &env().slots;
    if (!pd_builder_init(builder).ok() || g_reports == 0) {
        return false;
    }
    ServicesOptions options;
    options.builder = &builder;
    options.info = env().info;
    options.store_image = archive_image("imagestore");
    options.controller_image = archive_image("controller");
    options.parent_endpoint = g_reports;
    options.store_badge = 1;  // of the reports the services send to g_reports
    options.controller_badge = 2;
    options.controller_pool_bits = 23;  // 4 MiB of it: the PD table and the ledger
    auto services = start_services(options);
    if (!services) {
        println("services: failed while {}: {}", to_string(services.error().step),
                detail(services.error()));
        return false;
    }
    g_services = services.value();
    g_started = true;
    return true;
}

template <typename Req>
auto ask(const Req& request) {
    return service::call(abi::CapPtr(g_services.controller_client), request);
}

// The code a request is refused with (kOk: it was not refused).
template <typename Req>
StatusCode refusal(const Req& request) {
    auto r = ask(request);
    return r ? StatusCode::kOk : r.error().status;
}

uint64_t spawn(StringView command_line, uint64_t flags = 0) {
    auto r = ask(service::Spawn{flags, command_line});
    if (!r) {
        println("spawn \"{}\" refused ({}): {}", command_line, to_string(r.error().status),
                r.error().message.view());
        return ~uint64_t{0};
    }
    return r.value().id;
}

// How PD id ended (ending kCount: the wait was refused).
service::WaitReply wait_for(uint64_t id) {
    auto r = ask(service::Wait{id});
    return r ? r.value() : service::WaitReply{Ending::kCount, 0};
}

uint64_t held_by_pds() {
    auto r = ask(service::Memory{});
    return r ? r.value().held : ~uint64_t{0};
}

// The controller's pool: all of it free but its own permanent blocks.
uint64_t pool_free() {
    auto r = ask(service::Memory{});
    return r ? r.value().free : 0;
}

// A raw message to the controller: its reply's label.
uint64_t raw_request(uint64_t label, unsigned length, uint64_t word0 = 0, uint64_t word1 = 0) {
    sys::Message m;
    m.mr[0] = word0;
    m.mr[1] = word1;
    m.info = abi::MessageInfo(label, 0, 0, length);
    sys::call(abi::CapPtr(g_services.controller_client), m);
    return m.info.label();
}

}  // namespace

USER_TEST(controller, store_lists_and_finds_images) {
    CHECK(services_ready());
    const abi::CapPtr store(g_services.store_client);
    bool saw_hello = false;
    uint64_t count = 0;
    for (uint64_t i = 0;; ++i) {
        auto r = service::call(store, service::StoreList{i});
        if (!r) {
            CHECK(r.error().status == StatusCode::kEndOfList);
            break;
        }
        ++count;
        if (r.value().name == "hello") {
            saw_hello = true;
            CHECK_EQ(r.value().size, uint64_t{archive_image("hello").size()});
        }
    }
    CHECK(saw_hello);
    CHECK(count >= 8);
    auto found = service::call(store, service::StoreFind{"probe"});
    CHECK(found.ok());
    CHECK_EQ(found.value().size, uint64_t{archive_image("probe").size()});
    auto missing = service::call(store, service::StoreFind{"nothing"});
    CHECK(!missing.ok() && missing.error().status == StatusCode::kNoSuchImage);
}

USER_TEST(controller, spawn_and_wait_for_exit) {
    CHECK(services_ready());
    uint64_t id = spawn("hello 5");
    CHECK(id != ~uint64_t{0});
    const service::WaitReply done = wait_for(id);
    CHECK(done.ending == Ending::kExited);
    CHECK_EQ(done.status, uint64_t{60});  // it greeted with 6, the controller answered 60
    CHECK_EQ(held_by_pds(), uint64_t{0});
    CHECK(refusal(service::Wait{id}) == StatusCode::kNoSuchPd);  // gone
}

USER_TEST(controller, list_kill_and_memory) {
    CHECK(services_ready());
    uint64_t id = spawn("spinner");
    CHECK(id != ~uint64_t{0});
    auto first = ask(service::List{0});
    CHECK(first.ok());
    CHECK_EQ(first.value().id, id);
    CHECK(first.value().name == "spinner");
    CHECK(first.value().bytes > 0);
    CHECK_EQ(first.value().priority, uint64_t{100});
    CHECK(first.value().state == service::PdState::kRunning);
    CHECK_EQ(held_by_pds(), first.value().bytes);
    CHECK(refusal(service::List{1}) == StatusCode::kEndOfList);
    auto killed = ask(service::Kill{id});
    CHECK(killed.ok());
    CHECK(killed.value().name == "spinner");
    CHECK(refusal(service::List{0}) == StatusCode::kEndOfList);
    CHECK(refusal(service::Kill{id}) == StatusCode::kNoSuchPd);
    CHECK_EQ(held_by_pds(), uint64_t{0});
}

USER_TEST(controller, exec_then_wait) {
    CHECK(services_ready());
    uint64_t id = spawn("spinner");
    CHECK(id != ~uint64_t{0});
    CHECK(refusal(service::Exec{id, "nosuchimage"}) == StatusCode::kNoSuchImage);
    auto execed = ask(service::Exec{id, "hello 2"});
    CHECK(execed.ok());
    CHECK(execed.value().name == "hello");
    const service::WaitReply done = wait_for(id);
    CHECK(done.ending == Ending::kExited);
    CHECK_EQ(done.status, uint64_t{30});
    CHECK_EQ(held_by_pds(), uint64_t{0});
}

USER_TEST(controller, bad_requests_get_errors) {
    CHECK(services_ready());
    CHECK(refusal(service::Spawn{0, "nosuchimage"}) == StatusCode::kNoSuchImage);
    CHECK(refusal(service::Spawn{0, "   "}) == StatusCode::kBadRequest);
    CHECK(refusal(service::Wait{12345}) == StatusCode::kNoSuchPd);
    CHECK(refusal(service::Exec{12345, "hello"}) == StatusCode::kNoSuchPd);
    CHECK(refusal(service::Kill{~uint64_t{0}}) == StatusCode::kNoSuchPd);
    // Malformed messages: an unknown label, too short for its fields, text without its NUL.
    const auto bad = static_cast<uint64_t>(StatusCode::kBadRequest);
    CHECK_EQ(raw_request(0x999, 0), bad);
    CHECK_EQ(raw_request(static_cast<uint64_t>(service::ControllerLabel::kWait), 0), bad);
    CHECK_EQ(raw_request(static_cast<uint64_t>(service::ControllerLabel::kExec), 2, 0,
                         0x6f6c6c6568686868),
             bad);
    CHECK_EQ(raw_request(static_cast<uint64_t>(service::ControllerLabel::kSpawn), 1), bad);
    // The controller still serves.
    uint64_t id = spawn("hello 0");
    CHECK(id != ~uint64_t{0});
    CHECK_EQ(wait_for(id).status, uint64_t{10});
}

USER_TEST(controller, crash_is_reported_to_the_waiter) {
    CHECK(services_ready());
    uint64_t id = spawn("crasher null");
    CHECK(id != ~uint64_t{0});
    CHECK(wait_for(id).ending == Ending::kCrashed);
    CHECK_EQ(held_by_pds(), uint64_t{0});
}

USER_TEST(controller, ping_pong_through_the_service_directory) {
    CHECK(services_ready());
    uint64_t pong = spawn("pong", service::kSpawnServe);
    CHECK(pong != ~uint64_t{0});
    auto listed = ask(service::List{0});
    CHECK(listed.ok() && listed.value().state == service::PdState::kServing);
    uint64_t ping = spawn("ping 50");
    CHECK(ping != ~uint64_t{0});
    const service::WaitReply done = wait_for(ping);
    CHECK(done.ending == Ending::kExited);
    CHECK_EQ(done.status, uint64_t{0});  // no wrong answers
    CHECK(ask(service::Kill{pong}).ok());
    // With pong gone its name is no longer in a new PD's directory.
    uint64_t lonely = spawn("ping 1");
    CHECK_EQ(wait_for(lonely).status, uint64_t{2});
    CHECK_EQ(held_by_pds(), uint64_t{0});
}

USER_TEST(controller, pd_re_images_itself) {
    CHECK(services_ready());
    uint64_t id = spawn("reimage 1");
    CHECK(id != ~uint64_t{0});
    const service::WaitReply done = wait_for(id);
    CHECK(done.ending == Ending::kExited);
    CHECK_EQ(done.status, uint64_t{3});
    CHECK_EQ(held_by_pds(), uint64_t{0});
}

// The controller's PDs as (id, parent, linked) triples, in id order; how many.
struct Member {
    uint64_t id;
    uint64_t parent;
    uint64_t linked;
};
size_t members(Member (&out)[16]) {
    size_t n = 0;
    for (uint64_t i = 0; n < 16; ++i) {
        auto r = ask(service::List{i});
        if (!r) {
            break;
        }
        out[n++] = Member{r.value().id, r.value().parent, r.value().linked};
    }
    return n;
}

// A PD's linked children end with it whether it exits or crashes; its unlinked child stays,
// a client's from then on; a PD may wait for any child.
USER_TEST(controller, linked_children_end_with_their_parent) {
    CHECK(services_ready());
    for (const char* how : {"family exit", "family crash"}) {
        const uint64_t id = spawn(how);
        CHECK(id != ~uint64_t{0});
        const service::WaitReply done = wait_for(id);
        CHECK(done.ending == (how[7] == 'e' ? Ending::kExited : Ending::kCrashed));
        CHECK_EQ(done.id, id);
        Member left[16];
        const size_t n = members(left);
        CHECK_EQ(n, size_t{1});  // the unlinked spinner
        CHECK_EQ(left[0].parent, service::kNoParent);
        CHECK_EQ(left[0].linked, uint64_t{0});
        auto killed = ask(service::Kill{left[0].id});
        CHECK(killed.ok() && killed.value().count == 1);
    }
    CHECK_EQ(held_by_pds(), uint64_t{0});
}

// Killing a PD ends its linked subtree, two levels deep, in one request.
USER_TEST(controller, kill_ends_the_linked_subtree) {
    CHECK(services_ready());
    const uint64_t free_before = pool_free();
    const uint64_t top = spawn("family hold");
    CHECK(top != ~uint64_t{0});
    Member tree[16];
    size_t n = 0;
    // The family starts its children at the controller's children's priority, next to
    // spinners that never block: take turns with them there (below it nothing would run).
    (void)tcb_set_priority(abi::CapPtr(abi::kSlotInitThreadTcb),
                           abi::CapPtr(abi::kSlotInitThreadTcb), 100, 255);
    for (int tries = 0; tries < 200 && n < 4; ++tries) {
        sys::yield();
        n = members(tree);
    }
    (void)tcb_set_priority(abi::CapPtr(abi::kSlotInitThreadTcb),
                           abi::CapPtr(abi::kSlotInitThreadTcb), 255, 255);
    CHECK_EQ(n, size_t{4});  // family, its spinner, family leaf and the leaf's spinner
    unsigned linked = 0;
    for (size_t i = 0; i < n; ++i) {
        linked += tree[i].linked != 0 ? 1 : 0;
    }
    CHECK_EQ(linked, 3u);
    auto killed = ask(service::Kill{top});
    CHECK(killed.ok() && killed.value().count == 4);
    CHECK_EQ(members(tree), size_t{0});
    CHECK_EQ(pool_free(), free_before);
}

// A PD acts only on its own children: killing or waiting for another PD is refused.
USER_TEST(controller, pds_act_only_on_their_children) {
    CHECK(services_ready());
    const uint64_t victim = spawn("spinner quiet");
    CHECK(victim != ~uint64_t{0});
    char line[32];
    BufferWriter w(line, sizeof(line));
    w.print("family rogue {}", victim);
    const uint64_t rogue = spawn(w.view());
    const service::WaitReply done = wait_for(rogue);
    CHECK(done.ending == Ending::kExited);
    CHECK_EQ(done.status, uint64_t{0});      // both refused
    CHECK(ask(service::Kill{victim}).ok());  // still there until its client ends it
    CHECK_EQ(held_by_pds(), uint64_t{0});
}

USER_TEST(controller, many_spawns_leave_the_pool_whole) {
    CHECK(services_ready());
    uint64_t free_before = pool_free();
    for (unsigned i = 0; i < 50; ++i) {
        uint64_t id = spawn("minimal");
        if (id == ~uint64_t{0}) {
            t.fail("spawn {} failed", i);
            return;
        }
        const service::WaitReply done = wait_for(id);
        if (done.ending != Ending::kExited) {
            t.fail("PD {} ended as {}", i, to_string(done.ending));
            return;
        }
    }
    CHECK_EQ(held_by_pds(), uint64_t{0});
    CHECK_EQ(pool_free(), free_before);  // every byte back, merged
    // Nothing reported a stopped service meanwhile.
    sys::Message m;
    sys::nb_recv(abi::CapPtr(g_reports), m);
    CHECK_EQ(m.badge_or_cap, uint64_t{0});
}

}  // namespace tessera::test

namespace tessera::test {
namespace {

// Runs `fork MODE` under the controller and waits for it: true if it exited with status 0 (every
// check the program makes held), and then, with every PD it left killed, the pool is whole.
bool fork_mode_passes(TestContext& t, StringView mode, bool may_run_out = false) {
    const uint64_t free_before = pool_free();
    char line[32];
    BufferWriter w(line, sizeof(line));
    w.print("fork {}", mode);
    const uint64_t id = spawn(w.view());
    if (id == ~uint64_t{0}) {
        t.fail("fork {} was not started", mode);
        return false;
    }
    const service::WaitReply done = wait_for(id);
    auto killed = ask(service::KillAll{});  // what it left running (oom's children)
    if (may_run_out && done.ending == Ending::kCrashed && killed && killed.value().count > 0) {
        // Out of memory for a copy after the refused fork (copy-on-write overcommits): the
        // children it made are there, and the pool must still be whole once they are gone.
    } else if (done.ending != Ending::kExited || done.status != 0) {
        t.fail("fork {} {} with status {}", mode, to_string(done.ending), done.status);
        return false;
    }
    if (held_by_pds() != 0 || pool_free() != free_before) {
        t.fail("fork {}: {} bytes held, {} of {} free after", mode, held_by_pds(), pool_free(),
               free_before);
        return false;
    }
    return true;
}

}  // namespace

// A forked child sees the parent's memory; after the fork each side's writes (data, .bss,
// stack, heap) are its own, pages neither writes stay shared, the last owner writes its page
// again; every byte comes back when both have ended.
USER_TEST(controller, fork_shares_pages_copy_on_write) {
    CHECK(services_ready());
    CHECK(fork_mode_passes(t, "check"));
    CHECK(fork_mode_passes(t, "demo"));
}

// Fork inside fork: a page shared three ways, each PD then writing its own; the pages go when
// the last of the three has ended.
USER_TEST(controller, fork_inside_fork_shares_a_page_three_ways) {
    CHECK(services_ready());
    CHECK(fork_mode_passes(t, "tree"));
    CHECK(fork_mode_passes(t, "many"));
}

// A forked child that crashes is reported to its parent, whose memory is untouched; a forked
// child that re-images itself runs the new program.
USER_TEST(controller, forked_child_crashes_or_execs) {
    CHECK(services_ready());
    CHECK(fork_mode_passes(t, "crash"));
    CHECK(fork_mode_passes(t, "exec"));
}

// The eager fork (every page copied at once) keeps the same semantics.
USER_TEST(controller, eager_fork_copies_every_page) {
    CHECK(services_ready());
    CHECK(fork_mode_passes(t, "eager"));
}

// Forking until memory runs out: the refused fork (half-way through its copies, for the eager
// one) leaves nothing behind, and the eager parent runs on with its memory intact (the
// copy-on-write one does too, unless its own writes find no memory for their copies).
USER_TEST(controller, fork_out_of_memory_rolls_back_whole) {
    CHECK(services_ready());
    CHECK(fork_mode_passes(t, "oom", true));
    CHECK(fork_mode_passes(t, "oom-eager"));
}

}  // namespace tessera::test

namespace tessera::test {

// The per-slot fork rules: a rule on a reserved slot or outside the CNode, and a new badge on a
// badged endpoint, are refused with the parent unharmed; the child keeps a service only when a
// rule copies it. The pool is whole after.
USER_TEST(controller, fork_rules_decide_what_the_child_keeps) {
    CHECK(services_ready());
    const uint64_t free_before = pool_free();
    const uint64_t pong = spawn("pong", service::kSpawnServe);
    CHECK(pong != ~uint64_t{0});
    const uint64_t id = spawn("fork rules");
    CHECK(id != ~uint64_t{0});
    const service::WaitReply done = wait_for(id);
    CHECK(done.ending == Ending::kExited);
    CHECK_EQ(done.status, uint64_t{0});
    CHECK(ask(service::Kill{pong}).ok());
    CHECK_EQ(held_by_pds(), uint64_t{0});
    CHECK_EQ(pool_free(), free_before);
}

}  // namespace tessera::test

namespace tessera::test {

// A PD that ends while its fork still maps a few pages of its image: the fork takes those pages
// over (copies of its own), so the image's memory returns at once rather than when the fork
// ends: while the fork runs, the pool holds exactly what the PDs hold.
USER_TEST(controller, a_parents_memory_returns_when_its_fork_takes_its_pages_over) {
    CHECK(services_ready());
    const uint64_t free_before = pool_free();
    const uint64_t parent = spawn("fork orphan");
    CHECK(parent != ~uint64_t{0});
    const service::WaitReply done = wait_for(parent);
    CHECK(done.ending == Ending::kExited);
    CHECK_EQ(done.status, uint64_t{0});
    Member left[16];
    CHECK_EQ(members(left), size_t{1});  // the fork, a client's now
    CHECK_EQ(pool_free(), free_before - held_by_pds());
    const service::WaitReply child = wait_for(left[0].id);
    CHECK(child.ending == Ending::kExited);
    CHECK_EQ(child.status, uint64_t{0});
    CHECK_EQ(pool_free(), free_before);
}

}  // namespace tessera::test
