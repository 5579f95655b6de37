// Exhaustion: every object type made until its untyped runs out, a CNode filled to its last
// slot, every ASID pool issued and a pool filled, every IRQ line claimed. Each ends in a clear
// error, the kernel goes on working meanwhile, and deleting what was made returns all of it.
#include "tessera/syscall.hpp"
#include "user_test.hpp"

namespace tessera::test {
namespace {

using abi::CapPtr;
using abi::Error;
using abi::ObjectType;

constexpr unsigned kHoldRadix = 12;  // 4,096 slots for what a case makes

// A CNode of 2^kHoldRadix slots carved from untyped (0 on failure).
uint64_t holding_cnode(uint64_t untyped) {
    return make_objects(untyped, ObjectType::kCNode, kHoldRadix);
}

// The kernel still answers: a signal through a badged capability to a fresh notification is
// there to poll.
bool kernel_answers(uint64_t untyped) {
    uint64_t ntfn = make_objects(untyped, ObjectType::kNotification, 0);
    uint64_t badged = new_slot();
    if (ntfn == 0 || !cnode_mint(kRootCNode, badged, kRootDepth, kRootCNode, ntfn, kRootDepth,
                                 abi::kRightsAll, 0x5)
                          .ok()) {
        return false;
    }
    sys::signal(CapPtr(badged));
    bool seen = sys::poll(CapPtr(ntfn)) == 0x5;
    return cnode_delete(kRootCNode, badged, kRootDepth).ok() &&
           cnode_delete(kRootCNode, ntfn, kRootDepth).ok() && seen;
}

// A case that stops early leaves the shared pool without children all the same.
struct PoolGuard {
    ~PoolGuard() { (void)cnode_revoke(kRootCNode, shared_pool(), kRootDepth); }
};

// Whole: one untyped of its full size fits (and goes again).
bool whole(uint64_t untyped, unsigned bits) {
    uint64_t s = new_slot();
    if (!untyped_retype(CapPtr(untyped), ObjectType::kUntyped, bits, kRootCNode, 0, 0, s, 1).ok()) {
        return false;
    }
    return cnode_delete(kRootCNode, s, kRootDepth).ok();
}

}  // namespace

USER_TEST(exhaustion, every_object_type_until_memory_runs_out) {
    PoolGuard guard;
    uint64_t pool = shared_pool();
    uint64_t side = make_objects(pool, ObjectType::kUntyped, 18);  // the holding CNode and checks
    CHECK(side != 0);
    uint64_t hold = holding_cnode(side);
    CHECK(hold != 0);
    struct {
        ObjectType type;
        uint64_t size_bits;  // the retype argument
        unsigned object_bits;
        unsigned untyped_bits;
    } cases[] = {
        {ObjectType::kUntyped, 12, 12, 18},  {ObjectType::kTcb, 0, 11, 18},
        {ObjectType::kEndpoint, 0, 4, 14},   {ObjectType::kNotification, 0, 5, 15},
        {ObjectType::kCNode, 2, 7, 17},      {ObjectType::kFrame4K, 0, 12, 20},
        {ObjectType::kPageTable, 0, 12, 20}, {ObjectType::kVSpace, 0, 12, 20},
        {ObjectType::kFrame2M, 0, 21, 22},
    };
    for (const auto& c : cases) {
        uint64_t ut = make_objects(pool, ObjectType::kUntyped, c.untyped_bits);
        CHECK(ut != 0);
        const uint64_t expected = uint64_t{1} << (c.untyped_bits - c.object_bits);
        uint64_t made = 0;
        InvocationResult r;
        // In batches while they fit, then one at a time until the untyped is full.
        uint64_t batch = 200;
        for (;;) {
            r = untyped_retype(CapPtr(ut), c.type, c.size_bits, kRootCNode, hold, kRootDepth, made,
                               batch);
            if (r.ok()) {
                made += batch;
                continue;
            }
            if (batch == 1) {
                break;
            }
            batch = 1;
        }
        if (made != expected || r.error != Error::kNotEnoughMemory) {
            t.fail("type {}: {} of {} made, then error {}", static_cast<uint64_t>(c.type), made,
                   expected, static_cast<uint64_t>(r.error));
            return;
        }
        CHECK(kernel_answers(side));
        CHECK(cnode_revoke(kRootCNode, ut, kRootDepth).ok());
        CHECK(whole(ut, c.untyped_bits));
        CHECK(cnode_delete(kRootCNode, ut, kRootDepth).ok());
    }
    CHECK(cnode_delete(kRootCNode, hold, kRootDepth).ok());
    CHECK(cnode_delete(kRootCNode, side, kRootDepth).ok());
    CHECK(whole(pool, kSharedPoolBits));
}

USER_TEST(exhaustion, full_cnode_refuses_more) {
    PoolGuard guard;
    uint64_t pool = shared_pool();
    uint64_t ut = make_objects(pool, ObjectType::kUntyped, 14);
    CHECK(ut != 0);
    uint64_t cn = make_objects(ut, ObjectType::kCNode, 4);
    CHECK(cn != 0);
    CHECK(untyped_retype(CapPtr(ut), ObjectType::kEndpoint, 0, kRootCNode, cn, kRootDepth, 0, 16)
              .ok());
    // Every slot is taken: more objects, copies and moves into it are refused, slot by slot.
    InvocationResult r =
        untyped_retype(CapPtr(ut), ObjectType::kEndpoint, 0, kRootCNode, cn, kRootDepth, 7, 1);
    CHECK(r.error == Error::kDeleteFirst);
    CHECK_EQ(r.detail[0], uint64_t{7});
    r = untyped_retype(CapPtr(ut), ObjectType::kEndpoint, 0, kRootCNode, cn, kRootDepth, 16, 1);
    CHECK(r.error == Error::kRangeError);
    r = cnode_copy(CapPtr(cn), 3, 4, CapPtr(cn), 2, 4, abi::kRightsAll);
    CHECK(r.error == Error::kDeleteFirst);
    r = cnode_move(CapPtr(cn), 15, 4, CapPtr(cn), 0, 4);
    CHECK(r.error == Error::kDeleteFirst);
    CHECK(kernel_answers(ut));
    CHECK(cnode_delete(kRootCNode, cn, kRootDepth).ok());  // its 16 endpoints with it
    CHECK(whole(ut, 14));
    CHECK(cnode_delete(kRootCNode, ut, kRootDepth).ok());
    CHECK(whole(pool, kSharedPoolBits));
}

USER_TEST(exhaustion, asid_pools_run_out_and_come_back) {
    PoolGuard guard;
    uint64_t pool = shared_pool();
    uint64_t spaces = make_objects(pool, ObjectType::kUntyped, 22);  // 513 VSpaces
    uint64_t pages = make_objects(pool, ObjectType::kUntyped, 20);   // pools: 4 KiB each
    uint64_t side = make_objects(pool, ObjectType::kUntyped, 18);    // holding CNode
    if (pages == 0 || spaces == 0 || side == 0) {
        t.fail("carving: spaces {} pages {} side {}; pool watermark {:#x}", spaces, pages, side,
               identify(CapPtr(pool)).data);
        return;
    }
    uint64_t hold = holding_cnode(side);
    CHECK(hold != 0);
    // Pools until there are no ASIDs left to issue (other cases hold some pools already).
    uint64_t pools = 0;
    uint64_t first_pool = 0;
    InvocationResult r;
    for (uint64_t i = 0; i < 256; ++i) {
        uint64_t page = make_objects(pages, ObjectType::kUntyped, 12);
        uint64_t slot = new_slot();
        CHECK(page != 0 && slot != 0);
        r = asid_control_make_pool(CapPtr(abi::kSlotAsidControl), CapPtr(page), kRootCNode, slot,
                                   kRootDepth);
        if (!r.ok()) {
            break;
        }
        first_pool = first_pool == 0 ? slot : first_pool;
        ++pools;
    }
    CHECK(r.error == Error::kNotEnoughMemory);
    CHECK(pools > 0 && pools < 128);
    CHECK(kernel_answers(side));
    // One pool filled: 512 ASIDs, then no more (the VSpaces in root slots, to be named).
    constexpr uint64_t kSpaces = 513;
    uint64_t run = env().slots.allocate_run(kSpaces);
    CHECK(run != 0);
    uint64_t assigned = 0;
    for (uint64_t at = 0; at < kSpaces; at += 171) {
        CHECK(
            untyped_retype(CapPtr(spaces), ObjectType::kVSpace, 0, kRootCNode, 0, 0, run + at, 171)
                .ok());
    }
    for (uint64_t i = 0; i < kSpaces; ++i) {
        r = asid_pool_assign(CapPtr(first_pool), CapPtr(run + i));
        if (!r.ok()) {
            break;
        }
        ++assigned;
    }
    CHECK_EQ(assigned, uint64_t{512});
    CHECK(r.error == Error::kNotEnoughMemory);
    CHECK(kernel_answers(side));
    CHECK(cnode_delete_range(kRootCNode, run, kRootDepth, kSpaces).ok());
    for (uint64_t i = 0; i < kSpaces; ++i) {
        env().slots.free(run + i);
    }
    CHECK(cnode_revoke(kRootCNode, pages, kRootDepth).ok());  // every pool goes
    uint64_t again = make_objects(pages, ObjectType::kUntyped, 12);
    uint64_t slot = new_slot();
    CHECK(asid_control_make_pool(CapPtr(abi::kSlotAsidControl), CapPtr(again), kRootCNode, slot,
                                 kRootDepth)
              .ok());
    CHECK(cnode_revoke(kRootCNode, pages, kRootDepth).ok());
    CHECK(cnode_revoke(kRootCNode, spaces, kRootDepth).ok());
    for (uint64_t s : {pages, spaces, hold, side}) {
        CHECK(cnode_delete(kRootCNode, s, kRootDepth).ok());
    }
    CHECK(whole(pool, kSharedPoolBits));
}

USER_TEST(exhaustion, every_irq_line_claimed) {
    PoolGuard guard;
    uint64_t pool = shared_pool();
    uint64_t side = make_objects(pool, ObjectType::kUntyped, 18);
    CHECK(side != 0);
    uint64_t hold = holding_cnode(side);
    CHECK(hold != 0);
    uint64_t claimed = 0;
    uint64_t refused = 0;
    uint64_t first = 0;
    for (uint64_t irq = 0; irq < 1100; ++irq) {
        InvocationResult r =
            irq_control_get(CapPtr(abi::kSlotIrqControl), irq, CapPtr(hold), claimed, kHoldRadix);
        if (r.ok()) {
            first = claimed == 0 ? irq : first;
            ++claimed;
        } else if (r.error == Error::kRangeError || r.error == Error::kRevokeFirst) {
            ++refused;
        } else {
            t.fail("IRQ {}: error {}", irq, static_cast<uint64_t>(r.error));
            return;
        }
    }
    CHECK(claimed > 0);
    CHECK(kernel_answers(side));
    // A line already claimed is refused until its handler goes.
    InvocationResult r =
        irq_control_get(CapPtr(abi::kSlotIrqControl), first, CapPtr(hold), claimed, kHoldRadix);
    CHECK(r.error == Error::kRevokeFirst);
    CHECK(cnode_delete(kRootCNode, hold, kRootDepth).ok());  // every handler with it
    uint64_t handler = new_slot();
    CHECK(
        irq_control_get(CapPtr(abi::kSlotIrqControl), first, kRootCNode, handler, kRootDepth).ok());
    CHECK(cnode_delete(kRootCNode, handler, kRootDepth).ok());
    CHECK(cnode_delete(kRootCNode, side, kRootDepth).ok());
    CHECK(whole(pool, kSharedPoolBits));
}

}  // namespace tessera::test
