// Self-tests of the GICv2 path: a software-generated interrupt is delivered to its registered
// handler through the IRQ vector, and the registration rules hold.
#include "arch/cpu.hpp"
#include "arch/interrupt_controller.hpp"
#include "core/interrupts.hpp"
#include "selftest.hpp"

namespace tessera {
namespace {

volatile uint32_t g_sgi_seen = 0;
volatile uint32_t g_sgi_irq = 0;

void on_sgi(uint32_t irq, void* context) {
    g_sgi_irq = irq;
    g_sgi_seen = g_sgi_seen + *static_cast<uint32_t*>(context);
}

}  // namespace

SELFTEST(interrupt, sgi_delivered_to_handler) {
    constexpr uint32_t kSgi = 3;
    uint32_t increment = 1;
    CHECK(register_interrupt_handler(kSgi, on_sgi, &increment));
    CHECK(arch::interrupts_enabled());
    for (uint32_t i = 0; i < 5; ++i) {
        arch::send_sgi_to_self(kSgi);
        for (int spin = 0; spin < 100000 && g_sgi_seen == i; ++spin) {
        }
    }
    unregister_interrupt_handler(kSgi);
    CHECK_EQ(g_sgi_seen, 5u);
    CHECK_EQ(g_sgi_irq, kSgi);
    CHECK_EQ(interrupt_count(kSgi), uint64_t{0});  // unregistering resets the slot
}

SELFTEST(interrupt, registration_rules) {
    uint32_t ctx = 0;
    CHECK(!register_interrupt_handler(kMaxInterruptLines, on_sgi, &ctx));
    CHECK(!register_interrupt_handler(4, nullptr, &ctx));
    CHECK(register_interrupt_handler(4, on_sgi, &ctx));
    CHECK(!register_interrupt_handler(4, on_sgi, &ctx));  // already taken
    unregister_interrupt_handler(4);
    CHECK(arch::interrupt_line_count() >= 64);
}

}  // namespace tessera

#include "object/endpoint.hpp"
#include "object/irq_handler.hpp"

namespace tessera {

// The user-interrupt path: a line routed to a notification signals it with the badge and is
// masked until acknowledged. Raised here with a software-generated interrupt.
SELFTEST(interrupt, user_line_signals_notification) {
    static Notification n;
    constexpr uint32_t kSgi = 6;
    CHECK(irq_route_to_notification(kSgi, n, 0x40));
    arch::send_sgi_to_self(kSgi);
    for (int spin = 0; spin < 100000 && n.word == 0; ++spin) {
    }
    CHECK_EQ(n.word, uint64_t{0x40});
    CHECK_EQ(interrupt_count(kSgi), uint64_t{1});
    irq_handler_destroyed(kSgi);
    CHECK(!interrupt_line_taken(kSgi));
}

}  // namespace tessera
