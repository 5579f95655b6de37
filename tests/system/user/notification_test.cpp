// Notifications from user level: signal/wait, badge accumulation, poll, and binding to a
// thread so one Recv waits for both an endpoint and the notification.
#include "tessera/syscall.hpp"
#include "user_test.hpp"

namespace tessera::test {
namespace {

using abi::ObjectType;

uint64_t new_object(ObjectType type) {
    uint64_t ut = new_untyped(12);
    return ut == 0 ? 0 : make_objects(ut, type, 0);
}

uint64_t mint(uint64_t src, uint64_t badge) {
    uint64_t slot = new_slot();
    if (!cnode_mint(kRootCNode, slot, kRootDepth, kRootCNode, src, kRootDepth, abi::kRightsAll,
                    badge)
             .ok()) {
        return 0;
    }
    return slot;
}

volatile uint64_t g_received = 0;
volatile uint64_t g_done = 0;

void waiter(uint64_t ntfn) {
    g_received = sys::wait(abi::CapPtr(ntfn));
    g_done = 1;
}

}  // namespace

USER_TEST(notification, signals_accumulate_until_waited) {
    uint64_t n = new_object(ObjectType::kNotification);
    sys::signal(abi::CapPtr(mint(n, 0x1)));
    sys::signal(abi::CapPtr(mint(n, 0x4)));
    CHECK_EQ(sys::poll(abi::CapPtr(n)), uint64_t{0x5});
    CHECK_EQ(sys::poll(abi::CapPtr(n)), uint64_t{0});  // consumed
}

USER_TEST(notification, signal_wakes_waiter) {
    uint64_t n = new_object(ObjectType::kNotification);
    g_done = 0;
    TestThread th = start_thread(waiter, n, kTestPriority);
    let_others_run();
    CHECK_EQ(g_done, uint64_t{0});
    sys::signal(abi::CapPtr(mint(n, 0x80)));
    let_others_run();
    CHECK_EQ(g_done, uint64_t{1});
    CHECK_EQ(g_received, uint64_t{0x80});
    stop_thread(th);
}

namespace {
volatile uint64_t g_bound_badge = 0;
volatile uint64_t g_bound_label = 0;

void bound_receiver(uint64_t ep) {
    sys::Message m;
    sys::recv(abi::CapPtr(ep), m);
    g_bound_badge = m.badge_or_cap;
    g_bound_label = m.info.label();
    g_done = 1;
}
}  // namespace

USER_TEST(notification, bound_notification_wakes_recv) {
    uint64_t n = new_object(ObjectType::kNotification);
    uint64_t ep = new_object(ObjectType::kEndpoint);
    g_done = 0;
    TestThread th = start_thread(bound_receiver, ep, kTestPriority);
    CHECK(tcb_bind_notification(abi::CapPtr(th.tcb), abi::CapPtr(n)).ok());
    // Binding twice is refused.
    CHECK(tcb_bind_notification(abi::CapPtr(th.tcb), abi::CapPtr(n)).error ==
          abi::Error::kIllegalOperation);
    let_others_run();
    CHECK_EQ(g_done, uint64_t{0});
    sys::signal(abi::CapPtr(mint(n, 0x2)));
    let_others_run();
    CHECK_EQ(g_done, uint64_t{1});
    CHECK_EQ(g_bound_badge, uint64_t{0x2});
    stop_thread(th);
}

USER_TEST(notification, deleting_wakes_waiter_with_cancelled) {
    uint64_t n = new_object(ObjectType::kNotification);
    g_done = 0;
    TestThread th = start_thread(bound_receiver, n, kTestPriority);  // Recv on a notification
    let_others_run();
    CHECK(cnode_delete(kRootCNode, n, kRootDepth).ok());
    let_others_run();
    CHECK_EQ(g_done, uint64_t{1});
    CHECK_EQ(g_bound_label, static_cast<uint64_t>(abi::Error::kCancelled));
    stop_thread(th);
}

}  // namespace tessera::test
