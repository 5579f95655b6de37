// The image store and the controller as PDs, driven over IPC the way the shell drives them:
// spawn, wait, kill, exec, list and memory; a crash reported to a waiter; the service directory
// (ping-pong) and a PD re-imaging itself; and every byte of the controller's pool back when its
// PDs are gone.
#include "tessera/debug_print.hpp"
#include "tessera/service_protocol.hpp"
#include "tessera/services.hpp"
#include "user_test.hpp"

namespace tessera::test {
namespace {

using service::ControllerLabel;
using service::Ending;
using service::StatusCode;
using service::StoreLabel;

constexpr unsigned kServicesPoolBits = 22;

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
    options.store_badge = 1;
    options.controller_badge = 2;
    options.controller_pool_bits = 20;
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

ServiceReply ask(ControllerLabel label, uint64_t word0, StringView text = {}) {
    return service_request(abi::CapPtr(g_services.controller_client), static_cast<uint64_t>(label),
                           word0, text);
}

uint64_t spawn(StringView command_line, uint64_t flags = 0) {
    ServiceReply r = ask(ControllerLabel::kSpawn, flags, command_line);
    if (!r.ok()) {
        println("spawn \"{}\" refused ({}): {}", command_line, static_cast<uint64_t>(r.status),
                r.text);
    }
    return r.ok() ? r.mr[0] : ~uint64_t{0};
}

uint64_t held_by_pds() {
    ServiceReply r = ask(ControllerLabel::kMemory, 0);
    return r.mr[1];
}

// The controller's pool: all of it free but its own permanent blocks.
uint64_t pool_free() {
    return ask(ControllerLabel::kMemory, 0).mr[2];
}

}  // namespace

USER_TEST(controller, store_lists_and_finds_images) {
    CHECK(services_ready());
    bool saw_hello = false;
    uint64_t count = 0;
    for (uint64_t i = 0;; ++i) {
        ServiceReply r = service_request(abi::CapPtr(g_services.store_client),
                                         static_cast<uint64_t>(StoreLabel::kList), i);
        if (!r.ok()) {
            CHECK(r.status == StatusCode::kNotFound);
            break;
        }
        ++count;
        if (r.text == "hello") {
            saw_hello = true;
            CHECK_EQ(r.mr[0], uint64_t{archive_image("hello").size()});
        }
    }
    CHECK(saw_hello);
    CHECK(count >= 8);
    ServiceReply found = service_request(abi::CapPtr(g_services.store_client),
                                         static_cast<uint64_t>(StoreLabel::kFind), 0, "probe");
    CHECK(found.ok());
    CHECK_EQ(found.mr[1], uint64_t{archive_image("probe").size()});
    ServiceReply missing = service_request(abi::CapPtr(g_services.store_client),
                                           static_cast<uint64_t>(StoreLabel::kFind), 0, "nothing");
    CHECK(missing.status == StatusCode::kNotFound);
}

USER_TEST(controller, spawn_and_wait_for_exit) {
    CHECK(services_ready());
    uint64_t id = spawn("hello 5");
    CHECK(id != ~uint64_t{0});
    ServiceReply done = ask(ControllerLabel::kWait, id);
    CHECK(done.ok());
    CHECK_EQ(done.mr[0], static_cast<uint64_t>(Ending::kExited));
    CHECK_EQ(done.mr[1], uint64_t{60});  // it greeted with 6, the controller answered 60
    CHECK_EQ(held_by_pds(), uint64_t{0});
    CHECK(ask(ControllerLabel::kWait, id).status == StatusCode::kNotFound);  // gone
}

USER_TEST(controller, list_kill_and_memory) {
    CHECK(services_ready());
    uint64_t id = spawn("spinner");
    CHECK(id != ~uint64_t{0});
    ServiceReply first = ask(ControllerLabel::kList, 0);
    CHECK(first.ok());
    CHECK_EQ(first.mr[0], id);
    CHECK(first.text == "spinner");
    CHECK(first.mr[1] > 0);
    CHECK_EQ(first.mr[2], uint64_t{100});  // priority 100, running
    CHECK_EQ(held_by_pds(), first.mr[1]);
    CHECK(ask(ControllerLabel::kList, 1).status == StatusCode::kNotFound);
    ServiceReply killed = ask(ControllerLabel::kKill, id);
    CHECK(killed.ok());
    CHECK(killed.text == "spinner");
    CHECK(ask(ControllerLabel::kList, 0).status == StatusCode::kNotFound);
    CHECK(ask(ControllerLabel::kKill, id).status == StatusCode::kNotFound);
    CHECK_EQ(held_by_pds(), uint64_t{0});
}

USER_TEST(controller, exec_then_wait) {
    CHECK(services_ready());
    uint64_t id = spawn("spinner");
    CHECK(id != ~uint64_t{0});
    CHECK(ask(ControllerLabel::kExec, id, "nosuchimage").status == StatusCode::kNotFound);
    ServiceReply execed = ask(ControllerLabel::kExec, id, "hello 2");
    CHECK(execed.ok());
    CHECK(execed.text == "hello");
    ServiceReply done = ask(ControllerLabel::kWait, id);
    CHECK_EQ(done.mr[0], static_cast<uint64_t>(Ending::kExited));
    CHECK_EQ(done.mr[1], uint64_t{30});
    CHECK_EQ(held_by_pds(), uint64_t{0});
}

USER_TEST(controller, bad_requests_get_errors) {
    CHECK(services_ready());
    ServiceReply none = ask(ControllerLabel::kSpawn, 0, "nosuchimage");
    CHECK(none.status == StatusCode::kNotFound);
    ServiceReply empty = ask(ControllerLabel::kSpawn, 0, "   ");
    CHECK(empty.status == StatusCode::kBadRequest);
    ServiceReply junk = service_request(abi::CapPtr(g_services.controller_client), 0x999, 0);
    CHECK(junk.status == StatusCode::kBadRequest);
    CHECK(ask(ControllerLabel::kWait, 12345).status == StatusCode::kNotFound);
    CHECK(ask(ControllerLabel::kExec, 12345, "hello").status == StatusCode::kNotFound);
    // The controller still serves.
    uint64_t id = spawn("hello 0");
    CHECK(id != ~uint64_t{0});
    CHECK_EQ(ask(ControllerLabel::kWait, id).mr[1], uint64_t{10});
}

USER_TEST(controller, crash_is_reported_to_the_waiter) {
    CHECK(services_ready());
    uint64_t id = spawn("crasher null");
    CHECK(id != ~uint64_t{0});
    ServiceReply done = ask(ControllerLabel::kWait, id);
    CHECK_EQ(done.mr[0], static_cast<uint64_t>(Ending::kCrashed));
    CHECK_EQ(held_by_pds(), uint64_t{0});
}

USER_TEST(controller, ping_pong_through_the_service_directory) {
    CHECK(services_ready());
    uint64_t pong = spawn("pong", service::kSpawnServe);
    CHECK(pong != ~uint64_t{0});
    uint64_t ping = spawn("ping 50");
    CHECK(ping != ~uint64_t{0});
    ServiceReply done = ask(ControllerLabel::kWait, ping);
    CHECK_EQ(done.mr[0], static_cast<uint64_t>(Ending::kExited));
    CHECK_EQ(done.mr[1], uint64_t{0});  // no wrong answers
    CHECK(ask(ControllerLabel::kKill, pong).ok());
    // With pong gone its name is no longer in a new PD's directory.
    uint64_t lonely = spawn("ping 1");
    CHECK_EQ(ask(ControllerLabel::kWait, lonely).mr[1], uint64_t{2});
    CHECK_EQ(held_by_pds(), uint64_t{0});
}

USER_TEST(controller, pd_re_images_itself) {
    CHECK(services_ready());
    uint64_t id = spawn("reimage 1");
    CHECK(id != ~uint64_t{0});
    ServiceReply done = ask(ControllerLabel::kWait, id);
    CHECK_EQ(done.mr[0], static_cast<uint64_t>(Ending::kExited));
    CHECK_EQ(done.mr[1], uint64_t{3});
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
        ServiceReply done = ask(ControllerLabel::kWait, id);
        if (done.mr[0] != static_cast<uint64_t>(Ending::kExited)) {
            t.fail("PD {} ended as {}", i, done.mr[0]);
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
