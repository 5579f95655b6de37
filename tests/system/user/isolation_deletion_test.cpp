// Isolation attacks on deletion (docs/SECURITY.md, finding 7): long chains, wide CNodes, cycles
// and rings are destroyed in time linear in what they hold, with preemption points throughout.
#include "abi/fault.hpp"
#include "isolation_support.hpp"
#include "tessera/debug_print.hpp"
#include "tessera/syscall.hpp"
#include "user_test.hpp"

namespace tessera::test {

using namespace isolation;
using abi::CapPtr;
using abi::ObjectType;

namespace {

constexpr uint64_t kChainLength = 8000;
uint64_t g_chain_top = 0;
uint64_t g_chain_untyped = 0;
volatile uint64_t g_chain_deleted = 0;
volatile uint64_t g_zombie_sightings = 0;
volatile uint64_t g_revoked_mid_delete = 0;

volatile uint64_t g_chain_ticks = 0;

void delete_chain(uint64_t) {
    uint64_t start = virtual_count();
    g_chain_deleted = cnode_delete(kRootCNode, g_chain_top, kRootDepth).ok() ? 1 : 2;
    g_chain_ticks = virtual_count() - start;
}

// Runs whenever the deleting thread's timeslice ends: a preempted deletion leaves a zombie in
// the slot it started from. The first time, revoke the untyped the chain came from: that
// reaches the chain's zombies through the derivation tree and must finish the same deletion.
void watch_chain(uint64_t) {
    while (g_chain_deleted == 0) {
        if (identify(CapPtr(g_chain_top)).type == abi::CapType::kZombie) {
            g_zombie_sightings = g_zombie_sightings + 1;
            if (g_revoked_mid_delete == 0) {
                g_revoked_mid_delete =
                    cnode_revoke(kRootCNode, g_chain_untyped, kRootDepth).ok() ? 1 : 2;
            }
        }
        sys::yield();
    }
}

}  // namespace

// Finding 7: deleting a chain of CNodes (each holding the only capability to the next) walked
// the path of zombies at every step - quadratic, with interrupts masked throughout: 8,000
// CNodes took 162 million instructions in one system call. Now each step is O(1) and a
// preemption point; a thread at the same priority runs in between and sees the zombie.
USER_TEST(isolation, long_cnode_chain_deletes_in_linear_preemptible_time) {
    g_chain_untyped = make_objects(shared_pool(), ObjectType::kUntyped, 20);  // 1 MiB
    CHECK(g_chain_untyped != 0);
    // The chain is built in a holding CNode H (radix 13): C[i] at H[i], then, from the bottom
    // up, C[i] moved into slot 1 of C[i - 1] (addressed in H as index i - 1, then 1 bit).
    constexpr unsigned kHoldRadix = 13;
    static_assert(kChainLength <= (uint64_t{1} << kHoldRadix));
    uint64_t hold = make_objects(g_chain_untyped, ObjectType::kCNode, kHoldRadix);
    CHECK(hold != 0);
    CHECK(small_cnodes_into(g_chain_untyped, hold, kChainLength));
    // The last CNode holds an endpoint, to show that the walk reaches the bottom.
    uint64_t ep_ut = new_untyped(12);
    uint64_t ep = ep_ut == 0 ? 0 : make_objects(ep_ut, ObjectType::kEndpoint, 0);
    CHECK(ep != 0);
    CHECK(cnode_move(CapPtr(hold), ((kChainLength - 1) << 1) | 1, kHoldRadix + 1, kRootCNode, ep,
                     kRootDepth)
              .ok());
    // Each in the last slot of the one before: the walk goes down at once, with no capability
    // to delete in between (going down must be a preemption point of its own).
    for (uint64_t i = kChainLength - 1; i > 0; --i) {
        CHECK(cnode_move(CapPtr(hold), ((i - 1) << 1) | 1, kHoldRadix + 1, CapPtr(hold), i,
                         kHoldRadix)
                  .ok());
    }
    uint64_t first = new_slot();
    CHECK(cnode_move(kRootCNode, first, kRootDepth, CapPtr(hold), 0, kHoldRadix).ok());
    CHECK(cnode_delete(kRootCNode, hold, kRootDepth).ok());
    g_chain_top = first;
    g_chain_deleted = 0;
    g_zombie_sightings = 0;
    g_revoked_mid_delete = 0;
    TestThread a = start_thread(delete_chain, 0, kTestPriority);
    TestThread b = start_thread(watch_chain, 0, kTestPriority);
    CHECK(a.tcb != 0 && b.tcb != 0);
    let_others_run();
    stop_thread(a);
    stop_thread(b);
    CHECK_EQ(g_chain_deleted, uint64_t{1});
    CHECK(g_revoked_mid_delete != 2);
    // Under -icount the counter follows instructions (62.5 MHz: 16 per tick): linear deletion
    // is about 2.2 million instructions for the chain, the quadratic one took 162 million.
    CHECK(g_chain_ticks < 1'000'000);
    println(
        "isolation: chain of {} CNodes deleted; the deleting thread was seen preempted {} "
        "time(s){}",
        kChainLength, static_cast<uint64_t>(g_zombie_sightings),
        g_revoked_mid_delete == 1 ? ", and the untyped revoked meanwhile" : "");
    CHECK(identify(CapPtr(first)).type == abi::CapType::kNull);
    // Every CNode is gone: the untyped makes one object of its whole size again.
    CHECK(retype(g_chain_untyped, ObjectType::kUntyped, 20, first).ok());
    CHECK(cnode_delete(kRootCNode, first, kRootDepth).ok());
    CHECK(cnode_delete(kRootCNode, g_chain_untyped, kRootDepth).ok());  // shared pool whole
}

// A wide CNode of endpoints with threads waiting on some: every one is destroyed (its waiters
// woken) across the preemption points of one deletion.
USER_TEST(isolation, wide_cnode_deletes_every_object) {
    constexpr unsigned kRadix = 12;
    uint64_t ut = make_objects(shared_pool(), ObjectType::kUntyped, 18);  // 256 KiB
    CHECK(ut != 0);
    uint64_t cn = make_objects(ut, ObjectType::kCNode, kRadix);
    CHECK(cn != 0);
    for (uint64_t at = 0; at < (uint64_t{1} << kRadix); at += 256) {
        CHECK(untyped_retype(CapPtr(ut), ObjectType::kEndpoint, 0, kRootCNode, cn, kRootDepth, at,
                             256)
                  .ok());
    }
    CHECK(cnode_delete(kRootCNode, cn, kRootDepth).ok());
    // All 4,097 objects are gone: the untyped is whole again.
    uint64_t whole = new_slot();
    CHECK(retype(ut, ObjectType::kUntyped, 18, whole).ok());
    CHECK(cnode_delete(kRootCNode, whole, kRootDepth).ok());
    CHECK(cnode_delete(kRootCNode, ut, kRootDepth).ok());
}

// Garbage any holder of CNodes can make: a CNode holding the only capability to itself, and a
// ring of CNodes each holding the only capability to the next. Revoking their untyped destroys
// them; the deletion comes back to the slot it started from, inside an object it destroys (a
// cycle), and unwinds it one object per step.
USER_TEST(isolation, self_and_ring_cycles_are_reclaimed_by_revoke) {
    uint64_t ut = make_objects(shared_pool(), ObjectType::kUntyped, 20);
    CHECK(ut != 0);
    uint64_t self = make_objects(ut, ObjectType::kCNode, 14);
    CHECK(self != 0);
    CHECK(cnode_copy(CapPtr(self), 5, 14, kRootCNode, self, kRootDepth, abi::kRightsAll).ok());
    CHECK(cnode_delete(kRootCNode, self, kRootDepth).ok());  // only its own copy is left
    constexpr uint64_t kRing = 5;
    uint64_t ring = make_objects(ut, ObjectType::kCNode, 2, kRing);
    CHECK(ring != 0);
    for (uint64_t i = 0; i < kRing; ++i) {
        // Node i holds a copy of node i + 1 (the last holds the first).
        CHECK(cnode_copy(CapPtr(ring + i), 3, 2, kRootCNode, ring + (i + 1) % kRing, kRootDepth,
                         abi::kRightsAll)
                  .ok());
    }
    for (uint64_t i = 0; i < kRing; ++i) {
        CHECK(cnode_delete(kRootCNode, ring + i, kRootDepth).ok());
    }
    CHECK(cnode_revoke(kRootCNode, ut, kRootDepth).ok());
    uint64_t whole = new_slot();
    CHECK(retype(ut, ObjectType::kUntyped, 20, whole).ok());
    CHECK(cnode_delete(kRootCNode, whole, kRootDepth).ok());
    CHECK(cnode_delete(kRootCNode, ut, kRootDepth).ok());
}

namespace {

constexpr uint64_t kRingLength = 8000;
uint64_t g_ring_untyped = 0;
volatile uint64_t g_ring_done = 0;
volatile uint64_t g_ring_ticks = 0;

void revoke_ring(uint64_t) {
    uint64_t start = virtual_count();
    g_ring_done = cnode_revoke(kRootCNode, g_ring_untyped, kRootDepth).ok() ? 1 : 2;
    g_ring_ticks = virtual_count() - start;
}

void keep_preempting(uint64_t) {
    while (g_ring_done == 0) {
        sys::yield();
    }
}

}  // namespace

// A ring of 8,000 CNodes, each holding the only capability to the next, reclaimed by revoking
// its untyped while a thread at the same priority takes every other timeslice: each restart
// of the revoke must make as much progress as its climb costs, and the cycle's unwinding and the
// climb back up it must be preemptible, or the revoke turns quadratic (7.3 million counter ticks
// at a 20 kHz tick, against 190,000 for a chain of the same length).
USER_TEST(isolation, ring_revoke_stays_linear_under_preemption) {
    g_ring_untyped = make_objects(shared_pool(), ObjectType::kUntyped, 20);
    CHECK(g_ring_untyped != 0);
    constexpr unsigned kHoldRadix = 13;
    uint64_t hold = make_objects(g_ring_untyped, ObjectType::kCNode, kHoldRadix);
    CHECK(hold != 0);
    CHECK(small_cnodes_into(g_ring_untyped, hold, kRingLength));
    for (uint64_t i = 0; i < kRingLength; ++i) {
        CHECK(cnode_copy(CapPtr(hold), i << 1, kHoldRadix + 1, CapPtr(hold), (i + 1) % kRingLength,
                         kHoldRadix, abi::kRightsAll)
                  .ok());
    }
    CHECK(cnode_delete(kRootCNode, hold, kRootDepth).ok());  // only the ring's copies remain
    g_ring_done = 0;
    TestThread a = start_thread(revoke_ring, 0, kTestPriority);
    TestThread b = start_thread(keep_preempting, 0, kTestPriority);
    CHECK(a.tcb != 0 && b.tcb != 0);
    let_others_run();
    stop_thread(a);
    stop_thread(b);
    CHECK_EQ(g_ring_done, uint64_t{1});
    CHECK(g_ring_ticks < 1'000'000);
    uint64_t whole = new_slot();
    CHECK(retype(g_ring_untyped, ObjectType::kUntyped, 20, whole).ok());
    CHECK(cnode_delete(kRootCNode, whole, kRootDepth).ok());
    CHECK(cnode_delete(kRootCNode, g_ring_untyped, kRootDepth).ok());  // the shared pool is whole
}

}  // namespace tessera::test
