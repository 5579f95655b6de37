// IRQ control and handlers from user level: which lines can be claimed, one handler per line,
// notification routing and reuse of a line after its handler is deleted.
#include "user_test.hpp"

namespace tessera::test {
namespace {

constexpr abi::CapPtr kIrqControl{abi::kSlotIrqControl};
constexpr uint64_t kUartIrq = 33;  // the PL011 on QEMU virt

uint64_t get_handler(uint64_t irq, abi::Error& error) {
    uint64_t slot = new_slot();
    InvocationResult r = irq_control_get(kIrqControl, irq, kRootCNode, slot, kRootDepth);
    error = r.error;
    return r.ok() ? slot : 0;
}

}  // namespace

USER_TEST(irq, lines_outside_user_range_refused) {
    abi::Error e;
    CHECK(get_handler(3, e) == 0);  // a software-generated interrupt
    CHECK(e == abi::Error::kRangeError);
    CHECK(get_handler(5000, e) == 0);
    CHECK(e == abi::Error::kRangeError);
    CHECK(get_handler(27, e) == 0);  // the kernel's timer
    CHECK(e == abi::Error::kRevokeFirst);
}

USER_TEST(irq, one_handler_per_line_and_reuse) {
    abi::Error e;
    uint64_t handler = get_handler(kUartIrq, e);
    CHECK(handler != 0);
    CHECK(identify(abi::CapPtr(handler)).type == abi::CapType::kIrqHandler);
    CHECK(get_handler(kUartIrq, e) == 0);
    CHECK(e == abi::Error::kRevokeFirst);
    CHECK(cnode_delete(kRootCNode, handler, kRootDepth).ok());
    uint64_t again = get_handler(kUartIrq, e);
    CHECK(again != 0);
    CHECK(cnode_delete(kRootCNode, again, kRootDepth).ok());
}

USER_TEST(irq, notification_routing) {
    abi::Error e;
    uint64_t handler = get_handler(kUartIrq, e);
    CHECK(handler != 0);
    uint64_t ut = new_untyped(12);
    uint64_t ep = make_objects(ut, abi::ObjectType::kEndpoint, 0);
    uint64_t ntfn = make_objects(ut, abi::ObjectType::kNotification, 0);
    InvocationResult r = irq_handler_set_notification(abi::CapPtr(handler), abi::CapPtr(ep));
    CHECK(r.error == abi::Error::kInvalidCapability);
    CHECK_EQ(r.detail[0], uint64_t{1});
    CHECK(irq_handler_set_notification(abi::CapPtr(handler), abi::CapPtr(ntfn)).ok());
    CHECK(irq_handler_ack(abi::CapPtr(handler)).ok());
    CHECK(irq_handler_clear(abi::CapPtr(handler)).ok());
    // Deleting the notification while routed must leave no dangling route.
    CHECK(irq_handler_set_notification(abi::CapPtr(handler), abi::CapPtr(ntfn)).ok());
    CHECK(cnode_delete(kRootCNode, ntfn, kRootDepth).ok());
    CHECK(irq_handler_ack(abi::CapPtr(handler)).ok());
    CHECK(cnode_revoke(kRootCNode, abi::kSlotIrqControl, kRootDepth).ok());
    CHECK(identify(abi::CapPtr(handler)).type == abi::CapType::kNull);
}

}  // namespace tessera::test
