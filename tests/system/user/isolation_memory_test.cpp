// Isolation attacks on untyped memory (docs/SECURITY.md, findings 1 and 4): copies of an
// untyped never hand out the same memory twice, and a retype racing another thread's use of the
// same fresh untyped never builds objects over memory that thread wrote.
#include "abi/fault.hpp"
#include "isolation_support.hpp"
#include "tessera/debug_print.hpp"
#include "tessera/syscall.hpp"
#include "user_test.hpp"

namespace tessera::test {

using namespace isolation;
using abi::CapPtr;
using abi::Error;
using abi::ObjectType;

// Finding 1: a copy of an untyped with no children took the same watermark as its source, so
// the two handed out the same memory twice (a frame over a CNode: forged capabilities).
USER_TEST(isolation, untyped_copy_marks_its_source_full) {
    uint64_t ut = new_untyped(16);
    CHECK(ut != 0);
    uint64_t alias = new_slot();
    CHECK(copy(alias, ut).ok());
    InvocationResult r = retype(ut, ObjectType::kFrame4K, 0, new_slot());
    CHECK(r.error == Error::kNotEnoughMemory);
    uint64_t frame = make_objects(alias, ObjectType::kFrame4K, 0);
    CHECK(frame != 0);
    // The five-call reduction: objects from both copies would overlap.
    r = retype(ut, ObjectType::kTcb, 0, new_slot());
    CHECK(r.error == Error::kNotEnoughMemory);
    // Once the copy and its objects are gone, the original owns the whole region again.
    CHECK(cnode_revoke(kRootCNode, alias, kRootDepth).ok());
    CHECK(cnode_delete(kRootCNode, alias, kRootDepth).ok());
    CHECK(make_objects(ut, ObjectType::kFrame4K, 0) != 0);
}

// A copy of an untyped is a child of its source: revoking the source takes it and its objects.
USER_TEST(isolation, untyped_copy_is_revoked_with_its_source) {
    uint64_t ut = new_untyped(14);
    CHECK(ut != 0);
    uint64_t alias = new_slot();
    CHECK(copy(alias, ut).ok());
    uint64_t ep = make_objects(alias, ObjectType::kEndpoint, 0);
    CHECK(ep != 0);
    CHECK(cnode_revoke(kRootCNode, ut, kRootDepth).ok());
    CHECK(identify(CapPtr(alias)).type == abi::CapType::kNull);
    CHECK(identify(CapPtr(ep)).type == abi::CapType::kNull);
    CHECK(make_objects(ut, ObjectType::kEndpoint, 0) != 0);
}

namespace {

constexpr unsigned kRaceBits = 22;  // 4 MiB: zeroing it spans many timer ticks
uint64_t g_race_untyped = 0;
uint64_t g_race_cnode = 0;
volatile uint64_t g_race_done = 0;
volatile uint64_t g_race_forgeries = 0;

// Spends part of its timeslice, then retypes the whole racing untyped into one CNode, so that
// the timeslice ends somewhere inside the retype.
void retype_big_cnode(uint64_t spin) {
    for (volatile uint64_t i = 0; i < spin; i = i + 1) {
    }
    uint64_t slot = g_race_cnode;
    InvocationResult r =
        retype(g_race_untyped, ObjectType::kCNode, kRaceBits - abi::kSlotSizeBits, slot);
    g_race_done = r.ok() ? 1 : 2;
}

// Meanwhile: takes the untyped's first page as a frame, fills it with capability-shaped
// words, and deletes it again, as often as it gets the processor.
void forge_in_first_page(uint64_t frame_slot) {
    uint64_t va = kAttackBase + 0x80'0000;
    for (unsigned round = 0; round < 200 && g_race_done == 0; ++round) {
        if (retype(g_race_untyped, ObjectType::kFrame4K, 0, frame_slot).ok()) {
            if (frame_map(CapPtr(frame_slot), kOwnVSpace, va, kRW, abi::MapAttributes::kCached)
                    .ok()) {
                auto* words = reinterpret_cast<volatile uint64_t*>(va);
                for (unsigned i = 0; i < 512; ++i) {
                    words[i] = (i % 4 == 0) ? 0x0000'0400'0020'01e6 : 0x4020'0000;
                }
                g_race_forgeries = g_race_forgeries + 1;
            }
            (void)cnode_delete(kRootCNode, frame_slot, kRootDepth);
        }
        sys::yield();
    }
}

}  // namespace

// Finding 4: a retype of a fresh untyped, interrupted while zeroing, trusted a record of how far
// it got, though a second thread had since retyped the same memory, written capability-shaped
// words into it and deleted it again; the restarted retype built a CNode holding the forgeries.
// Now memory above the watermark is always zero and a reset's progress is the watermark itself:
// every slot of the new CNode must be empty, however the two threads interleave.
USER_TEST(isolation, racing_reset_leaves_nothing_behind) {
    CHECK(map_tables(kOwnVSpace, kAttackBase + 0x80'0000));
    uint64_t frame_slot = new_slot();
    uint64_t probe = new_slot();
    g_race_cnode = new_slot();
    // Each round ends the retyping thread's timeslice at another point of its retype.
    for (uint64_t round = 0; round < 8; ++round) {
        // A fresh untyped (never used: watermark 0), carved from the shared pool.
        g_race_untyped = make_objects(shared_pool(), ObjectType::kUntyped, kRaceBits);
        CHECK(g_race_untyped != 0);
        g_race_done = 0;
        g_race_forgeries = 0;
        TestThread a = start_thread(retype_big_cnode, round * 10000, kTestPriority);
        TestThread b = start_thread(forge_in_first_page, frame_slot, kTestPriority);
        CHECK(a.tcb != 0 && b.tcb != 0);
        let_others_run();
        stop_thread(a);
        stop_thread(b);
        CHECK_EQ(g_race_done, uint64_t{1});
        for (uint64_t i = 0; i < 4096 / 32; ++i) {
            InvocationResult r = cnode_copy(kRootCNode, probe, kRootDepth, CapPtr(g_race_cnode), i,
                                            kRaceBits - abi::kSlotSizeBits, abi::kRightsAll);
            if (r.error != Error::kFailedLookup) {
                t.fail("round {}: slot {} of the new CNode is not empty ({} forgeries written)",
                       round, i, static_cast<uint64_t>(g_race_forgeries));
                (void)cnode_delete(kRootCNode, probe, kRootDepth);
                break;
            }
        }
        (void)cnode_delete(kRootCNode, g_race_cnode, kRootDepth);
        (void)cnode_delete(kRootCNode, frame_slot, kRootDepth);
        (void)cnode_delete(kRootCNode, g_race_untyped, kRootDepth);  // the shared pool is whole
        if (t.failed()) {
            return;
        }
    }
}

}  // namespace tessera::test
