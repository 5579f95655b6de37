// Attacks on the kernel's isolation rules (docs/SECURITY.md): each case performs an attack a
// hostile PD could try with ordinary capabilities and checks that the kernel refuses it, or that
// the attack leaves no trace (memory the attacker later owns stays zero, the kernel keeps running).
#include "abi/fault.hpp"
#include "tessera/debug_print.hpp"
#include "tessera/syscall.hpp"
#include "user_test.hpp"

namespace tessera::test {
namespace {

using abi::CapPtr;
using abi::Error;
using abi::ObjectType;
constexpr CapPtr kOwnVSpace{abi::kSlotInitThreadVSpace};
constexpr uint64_t kRW = abi::kMapRead | abi::kMapWrite;

// Free user addresses for this suite's own mappings (above the other suites' ranges).
constexpr uint64_t kAttackBase = 0x7e80'0000'0000;

InvocationResult retype(uint64_t ut, ObjectType type, uint64_t bits, uint64_t offset,
                        uint64_t count = 1) {
    return untyped_retype(CapPtr(ut), type, bits, kRootCNode, 0, 0, offset, count);
}

InvocationResult copy(uint64_t dest, uint64_t src, uint64_t rights = abi::kRightsAll) {
    return cnode_copy(kRootCNode, dest, kRootDepth, kRootCNode, src, kRootDepth, rights);
}

bool is_mapped(uint64_t slot) {
    return identify(CapPtr(slot)).data != 0;
}

uint64_t g_pool = 0;

// A VSpace with an ASID from this suite's pool (0 on failure).
uint64_t assigned_vspace() {
    if (g_pool == 0) {
        g_pool = new_asid_pool();
    }
    uint64_t ut = new_untyped(12);
    uint64_t vs = ut == 0 ? 0 : make_objects(ut, ObjectType::kVSpace, 0);
    if (vs == 0 || g_pool == 0 || !asid_pool_assign(CapPtr(g_pool), CapPtr(vs)).ok()) {
        return 0;
    }
    return vs;
}

uint64_t new_table() {
    uint64_t ut = new_untyped(12);
    return ut == 0 ? 0 : make_objects(ut, ObjectType::kPageTable, 0);
}

// Maps tables in vspace until the one for a 4 KiB page at va exists; returns the last-level
// table's slot (0 on failure or if every level was already present).
uint64_t map_last_level_table(CapPtr vspace, uint64_t va) {
    uint64_t last = 0;
    for (unsigned i = 0; i < 4; ++i) {
        uint64_t table = new_table();
        if (table == 0) {
            return 0;
        }
        InvocationResult r = page_table_map(CapPtr(table), vspace, va);
        if (r.error == Error::kDeleteFirst) {
            return last;
        }
        if (!r.ok()) {
            return 0;
        }
        last = table;
    }
    return 0;
}

}  // namespace

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

// Finding 2: an unmapped page table's copy could be mapped a second time, at another address or
// level (an L3 page descriptor reads as a table descriptor at L1).
USER_TEST(isolation, unmapped_page_table_cannot_be_copied) {
    uint64_t table = new_table();
    CHECK(table != 0);
    InvocationResult r = copy(new_slot(), table);
    CHECK(r.error == Error::kIllegalOperation);
}

USER_TEST(isolation, page_table_copy_keeps_the_one_mapping) {
    uint64_t vs = assigned_vspace();
    CHECK(vs != 0);
    uint64_t va = 0x40'0000'0000;
    uint64_t table = map_last_level_table(CapPtr(vs), va);
    CHECK(table != 0);
    uint64_t alias = new_slot();
    CHECK(copy(alias, table).ok());
    CHECK(is_mapped(alias));
    // The copy is the same mapping: it cannot be mapped again anywhere, at any level.
    CHECK(page_table_map(CapPtr(alias), CapPtr(vs), 0x80'0000'0000).error ==
          Error::kInvalidCapability);
    // Unmapping needs the last capability; deleting a copy leaves the table in place.
    CHECK(page_table_unmap(CapPtr(alias)).error == Error::kRevokeFirst);
    CHECK(page_table_unmap(CapPtr(table)).error == Error::kRevokeFirst);
    CHECK(cnode_delete(kRootCNode, alias, kRootDepth).ok());
    uint64_t frame = new_frame();
    CHECK(frame != 0);
    CHECK(frame_map(CapPtr(frame), CapPtr(vs), va, kRW, abi::MapAttributes::kCached).ok());
    CHECK(page_table_unmap(CapPtr(table)).ok());
}

// Finding 3: PageTableUnmap left the table's entries, so a remapped table brought back pages
// whose frames may since have been freed; and a table could be remapped at another level.
USER_TEST(isolation, page_table_unmap_clears_its_entries) {
    uint64_t va = kAttackBase;
    uint64_t table = map_last_level_table(kOwnVSpace, va);
    CHECK(table != 0);
    uint64_t frame = new_frame();
    CHECK(frame != 0);
    CHECK(frame_map(CapPtr(frame), kOwnVSpace, va, kRW, abi::MapAttributes::kCached).ok());
    *reinterpret_cast<volatile uint64_t*>(va) = 0x5ec7e7;
    CHECK(page_table_unmap(CapPtr(table)).ok());
    CHECK_EQ(translate(va).hardware, ~uint64_t{0});
    CHECK(page_table_map(CapPtr(table), kOwnVSpace, va).ok());
    CHECK_EQ(translate(va).hardware, ~uint64_t{0});
    CHECK_EQ(translate(va).walked, ~uint64_t{0});
    // The slot is empty again: another frame maps there.
    uint64_t other = new_frame();
    CHECK(other != 0);
    CHECK(frame_map(CapPtr(other), kOwnVSpace, va, kRW, abi::MapAttributes::kCached).ok());
    CHECK_EQ(*reinterpret_cast<volatile uint64_t*>(va), uint64_t{0});
    // The first frame's capability still names its old mapping; deleting it must not take
    // the new one.
    CHECK(cnode_delete(kRootCNode, frame, kRootDepth).ok());
    CHECK(translate(va).hardware != ~uint64_t{0});
    CHECK(cnode_delete(kRootCNode, other, kRootDepth).ok());
    CHECK(page_table_unmap(CapPtr(table)).ok());
}

USER_TEST(isolation, page_table_keeps_its_level) {
    uint64_t vs = assigned_vspace();
    CHECK(vs != 0);
    uint64_t va = 0x10'0000'0000;
    uint64_t table = map_last_level_table(CapPtr(vs), va);
    CHECK(table != 0);
    CHECK(page_table_unmap(CapPtr(table)).ok());
    // Far from va the first missing level is 1 (only the root is shared): refused there.
    InvocationResult r = page_table_map(CapPtr(table), CapPtr(vs), 0x7000'0000'0000);
    CHECK(r.error == Error::kIllegalOperation);
    // At its own level it maps again.
    CHECK(page_table_map(CapPtr(table), CapPtr(vs), va).ok());
}

// Finding 5: a VSpace capability copied before AsidPoolAssign could be given a second ASID.
USER_TEST(isolation, vspace_without_asid_cannot_be_copied) {
    uint64_t ut = new_untyped(12);
    uint64_t vs = ut == 0 ? 0 : make_objects(ut, ObjectType::kVSpace, 0);
    CHECK(vs != 0);
    CHECK(copy(new_slot(), vs).error == Error::kIllegalOperation);
    if (g_pool == 0) {
        g_pool = new_asid_pool();
    }
    CHECK(asid_pool_assign(CapPtr(g_pool), CapPtr(vs)).ok());
    uint64_t alias = new_slot();
    CHECK(copy(alias, vs).ok());
    CHECK(asid_pool_assign(CapPtr(g_pool), CapPtr(alias)).error == Error::kInvalidCapability);
}

// A badge is set once: minting a badged capability with another badge is refused.
USER_TEST(isolation, badged_capability_cannot_be_rebadged) {
    uint64_t ut = new_untyped(12);
    uint64_t ep = ut == 0 ? 0 : make_objects(ut, ObjectType::kEndpoint, 0);
    CHECK(ep != 0);
    uint64_t badged = new_slot();
    CHECK(cnode_mint(kRootCNode, badged, kRootDepth, kRootCNode, ep, kRootDepth, abi::kRightsAll,
                     0x51)
              .ok());
    InvocationResult r = cnode_mint(kRootCNode, new_slot(), kRootDepth, kRootCNode, badged,
                                    kRootDepth, abi::kRightsAll, 0x52);
    CHECK(r.error == Error::kIllegalOperation);
    // Mutate keeps badges too: a new badge is an error, not a silent no-op.
    r = cnode_mutate(kRootCNode, new_slot(), kRootDepth, kRootCNode, badged, kRootDepth, 0x53);
    CHECK(r.error == Error::kIllegalOperation);
    CHECK_EQ(identify(CapPtr(badged)).data, uint64_t{0x51});
}

// Rights only shrink, on every derivation path.
USER_TEST(isolation, rights_never_grow) {
    uint64_t frame = new_frame();
    CHECK(frame != 0);
    uint64_t ro = new_slot();
    CHECK(copy(ro, frame, abi::kRightRead).ok());
    uint64_t again = new_slot();
    CHECK(cnode_mint(kRootCNode, again, kRootDepth, kRootCNode, ro, kRootDepth, abi::kRightsAll, 0)
              .ok());
    CHECK_EQ(identify(CapPtr(again)).rights, uint64_t{abi::kRightRead});
    uint64_t moved = new_slot();
    CHECK(cnode_mutate(kRootCNode, moved, kRootDepth, kRootCNode, again, kRootDepth, 0).ok());
    CHECK_EQ(identify(CapPtr(moved)).rights, uint64_t{abi::kRightRead});
    // A read-only frame never maps writable.
    CHECK(frame_map(CapPtr(moved), kOwnVSpace, kAttackBase + 0x20'0000, kRW,
                    abi::MapAttributes::kCached)
              .error == Error::kInvalidCapability);
}

// Finding 11: CopyRegisters with the caller as its own target is refused like Read/Write.
USER_TEST(isolation, copy_registers_refuses_the_caller) {
    const uint64_t args[] = {0, 0};
    const CapPtr caps[] = {CapPtr(abi::kSlotInitThreadTcb)};
    InvocationResult r = invoke(CapPtr(abi::kSlotInitThreadTcb),
                                abi::InvocationLabel::kTcbCopyRegisters, args, caps);
    CHECK(r.error == Error::kIllegalOperation);
}

namespace {

uint64_t g_call_ep = 0;
volatile uint64_t g_reply_word = 0;
volatile uint64_t g_after_fault = 0;

// Faults with an unknown system call, then (once its fault is cancelled) makes an ordinary call.
void fault_then_call(uint64_t) {
    {
        register uint64_t x7 asm("x7") = 99;
        asm volatile("svc %[imm]"
                     : "+r"(x7)
                     : [imm] "i"(abi::kSvcImmediate)
                     : "x0", "x1", "x2", "x3", "x4", "x5", "x6", "memory");
    }
    g_after_fault = 1;
    sys::Message m;
    m.info = abi::MessageInfo(0x77, 0, 0, 1);
    m.mr[0] = 5;
    sys::call(CapPtr(g_call_ep), m);
    g_reply_word = m.mr[0];
}

}  // namespace

// Finding 8: CancelBadgedSends left a cancelled faulting sender's fault in place, so its next
// ordinary Call went out as the old fault and the reply set its pc.
USER_TEST(isolation, cancelled_fault_is_forgotten) {
    uint64_t ut = new_untyped(12);
    uint64_t eps = ut == 0 ? 0 : make_objects(ut, ObjectType::kEndpoint, 0, 2);
    CHECK(eps != 0);
    uint64_t fault_ep = new_slot();
    CHECK(cnode_mint(kRootCNode, fault_ep, kRootDepth, kRootCNode, eps, kRootDepth, abi::kRightsAll,
                     0x33)
              .ok());
    g_call_ep = eps + 1;
    g_reply_word = 0;
    g_after_fault = 0;
    TestThread th = start_thread(fault_then_call, 0, kTestPriority, fault_ep);
    CHECK(th.tcb != 0);
    let_others_run();  // it faults; nobody receives, so it waits on the fault endpoint
    CHECK_EQ(g_after_fault, uint64_t{0});
    const uint64_t cancel_args[] = {fault_ep, kRootDepth};
    CHECK(invoke(kRootCNode, abi::InvocationLabel::kCNodeCancelBadgedSends, cancel_args).ok());
    let_others_run();  // it goes on and calls g_call_ep
    sys::Message m;
    sys::nb_recv(CapPtr(g_call_ep), m);
    bool own_message = m.info.label() == 0x77 && m.mr[0] == 5;
    sys::Message reply;
    reply.info = abi::MessageInfo(0, 0, 0, 1);
    reply.mr[0] = 0xabc;
    sys::reply(reply);
    let_others_run();
    uint64_t seen = g_reply_word;
    stop_thread(th);
    CHECK(own_message);
    CHECK_EQ(seen, uint64_t{0xabc});
}

namespace {

uint64_t g_wake = 0;

// CPtrs in the attacker's CSpace C (guard 58, radix 2) whose slot 2 holds CNode E (guard 2,
// radix 2): C[1] is the thread's own TCB, E[0] a VSpace, E[1] a CNode.
constexpr uint64_t kSelf = 1 << 4;
constexpr uint64_t kEVSpace = (2 << 4) | 0;
constexpr uint64_t kECNode = (2 << 4) | 1;

// Replaces its own CSpace: deleting the old root (the last capability to C) destroys C and, with
// it, the last capability to this very TCB.
void set_own_space(uint64_t) {
    (void)sys::wait(CapPtr(g_wake));
    const uint64_t args[] = {0, 0, 0};
    const CapPtr caps[] = {CapPtr(kECNode), CapPtr(kEVSpace)};
    (void)invoke(CapPtr(kSelf), abi::InvocationLabel::kTcbSetSpace, args, caps);
    for (;;) {
        sys::yield();  // never reached: the thread is gone
    }
}

}  // namespace

// Finding 6: a TCB invocation that deletes the TCB's old CSpace root may destroy the TCB itself;
// the kernel then linked new capabilities into the dead TCB's slots, whose memory the attacker
// later retypes into a frame and watches the kernel write its own pointers into.
USER_TEST(isolation, tcb_destroyed_by_its_own_set_space) {
    uint64_t victim_ut = new_untyped(14);  // holds C and the TCB, reused as frames afterwards
    uint64_t other_ut = new_untyped(14);   // holds E and the CNode E[1] names
    CHECK(victim_ut != 0 && other_ut != 0);
    uint64_t ntfn = make_objects(other_ut, ObjectType::kNotification, 0);
    uint64_t e = make_objects(other_ut, ObjectType::kCNode, 2);
    uint64_t g = make_objects(other_ut, ObjectType::kCNode, 2);
    uint64_t c = make_objects(victim_ut, ObjectType::kCNode, 2);
    CHECK(ntfn != 0 && e != 0 && g != 0 && c != 0);
    g_wake = ntfn;
    CHECK(cnode_copy(CapPtr(e), 0, 2, kRootCNode, kOwnVSpace.value(), kRootDepth, abi::kRightsAll)
              .ok());
    CHECK(cnode_copy(CapPtr(e), 1, 2, kRootCNode, g, kRootDepth, abi::kRightsAll).ok());
    CHECK(cnode_mint(CapPtr(c), 2, 2, kRootCNode, e, kRootDepth, abi::kRightsAll, 2).ok());

    TestThread th = start_thread(set_own_space, 0, kTestPriority, 0, kOwnVSpace.value(), victim_ut);
    CHECK(th.tcb != 0);
    let_others_run();  // it waits for the signal
    // Its CSpace becomes C (guard 58), its TCB capability moves into C[1], and the root's own
    // capability to C goes: the thread's CSpace root is now the last capability to C.
    const uint64_t space_args[] = {0, 58, 0};
    const CapPtr space_caps[] = {CapPtr(c), kOwnVSpace};
    CHECK(invoke(CapPtr(th.tcb), abi::InvocationLabel::kTcbSetSpace, space_args, space_caps).ok());
    CHECK(cnode_move(CapPtr(c), 1, 2, kRootCNode, th.tcb, kRootDepth).ok());
    CHECK(cnode_delete(kRootCNode, c, kRootDepth).ok());
    sys::signal(CapPtr(ntfn));
    let_others_run();
    release_thread(th);  // its TCB is gone: only its stack is left to free

    // The thread's deletion of its own CSpace may have been preempted after the thread itself
    // was destroyed: nobody restarts its call, so the creator's revoke of the untyped finishes
    // it (it reaches the zombies through the derivation tree), as a creator's teardown does.
    CHECK(cnode_revoke(kRootCNode, victim_ut, kRootDepth).ok());
    // The victim untyped has no live objects left: its memory becomes four frames, all zero.
    uint64_t frames = make_objects(victim_ut, ObjectType::kFrame4K, 0, 4);
    CHECK(frames != 0);
    uint64_t va = kAttackBase + 0x40'0000;
    CHECK(map_tables(kOwnVSpace, va));
    CHECK(vspace_map_frames(kOwnVSpace, CapPtr(frames), 4, va, kRW, abi::MapAttributes::kCached)
              .ok());
    // Deleting E's capabilities unlinks them from the derivation tree: no kernel write may land
    // in the frames.
    CHECK(cnode_delete(kRootCNode, e, kRootDepth).ok());
    CHECK(cnode_delete(kRootCNode, g, kRootDepth).ok());
    const volatile uint64_t* words = reinterpret_cast<const volatile uint64_t*>(va);
    for (uint64_t i = 0; i < 4 * 4096 / 8; ++i) {
        if (words[i] != 0) {
            t.fail("word {} of the dead TCB's memory is {:#x}", i, words[i]);
            break;
        }
    }
    (void)vspace_unmap_frames(kOwnVSpace, CapPtr(frames), 4);
}

}  // namespace tessera::test

namespace tessera::test {
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

namespace tessera::test {
namespace {

constexpr uint64_t kChainLength = 8000;
uint64_t g_chain_top = 0;
uint64_t g_chain_untyped = 0;
volatile uint64_t g_chain_deleted = 0;
volatile uint64_t g_zombie_sightings = 0;
volatile uint64_t g_revoked_mid_delete = 0;

volatile uint64_t g_chain_ticks = 0;

uint64_t virtual_count() {
    uint64_t v;
    asm volatile("isb; mrs %0, cntvct_el0" : "=r"(v));
    return v;
}

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
    for (uint64_t at = 0; at < kChainLength; at += 256) {
        uint64_t batch = kChainLength - at < 256 ? kChainLength - at : 256;
        CHECK(untyped_retype(CapPtr(g_chain_untyped), ObjectType::kCNode, 1, kRootCNode, hold,
                             kRootDepth, at, batch)
                  .ok());
    }
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

}  // namespace tessera::test

namespace tessera::test {
namespace {

uint64_t g_old_call = 0;

// The numbers 8-12 were ambient debug calls (DebugHalt was 9): now unknown system calls.
void old_debug_call(uint64_t) {
    register uint64_t x0 asm("x0") = 0;
    register uint64_t x7 asm("x7") = g_old_call;
    asm volatile("svc %[imm]"
                 : "+r"(x0), "+r"(x7)
                 : [imm] "i"(abi::kSvcImmediate)
                 : "x1", "x2", "x3", "x4", "x5", "x6", "memory");
    for (;;) {
        sys::yield();
    }
}

}  // namespace

// Finding 9: no system call needs no capability but IPC on one's own endpoints: the old debug
// numbers (put-char, halt, identify, translate, write) fault as unknown system calls.
USER_TEST(isolation, old_debug_call_numbers_are_unknown_system_calls) {
    uint64_t ut = new_untyped(12);
    uint64_t ep = ut == 0 ? 0 : make_objects(ut, ObjectType::kEndpoint, 0);
    CHECK(ep != 0);
    uint64_t fault_ep = new_slot();
    CHECK(cnode_mint(kRootCNode, fault_ep, kRootDepth, kRootCNode, ep, kRootDepth, abi::kRightsAll,
                     0x9)
              .ok());
    for (uint64_t number = 8; number <= 12; ++number) {
        g_old_call = number;
        TestThread th = start_thread(old_debug_call, 0, kTestPriority, fault_ep);
        CHECK(th.tcb != 0);
        let_others_run();
        sys::Message m;
        sys::nb_recv(CapPtr(ep), m);
        stop_thread(th);
        CHECK_EQ(m.info.label(), static_cast<uint64_t>(abi::FaultType::kUnknownSyscall));
        CHECK_EQ(m.mr[0], number);
    }
}

}  // namespace tessera::test

namespace tessera::test {
namespace {

uint64_t g_foreign_ep = 0;
volatile uint64_t g_foreign_resumed = 0;

// A Linux-style system call: `svc #0`, number in x8 (64: write) - but with x0 and x7 set as a
// native Call on an endpoint would have them. Only the native immediate makes a system call.
void foreign_call(uint64_t) {
    register uint64_t x0 asm("x0") = g_foreign_ep;
    register uint64_t x1 asm("x1") = 0;
    register uint64_t x7 asm("x7") = static_cast<uint64_t>(abi::Syscall::kCall);
    register uint64_t x8 asm("x8") = 64;
    asm volatile("svc #0"
                 : "+r"(x0), "+r"(x1), "+r"(x7), "+r"(x8)::"x2", "x3", "x4", "x5", "memory");
    g_foreign_resumed = x0 == g_foreign_ep && x8 == 64 ? 1 : 2;  // its registers as they were
}

}  // namespace

// A foreign binary's `svc #0` ran as a native system call selected by x7. Now it is an
// unknown-system-call fault carrying the immediate, delivered to the thread's handler, and
// resuming it leaves its registers as they were.
USER_TEST(isolation, foreign_svc_is_a_fault_not_a_native_call) {
    uint64_t ut = new_untyped(12);
    uint64_t eps = ut == 0 ? 0 : make_objects(ut, ObjectType::kEndpoint, 0, 2);
    CHECK(eps != 0);
    uint64_t fault_ep = new_slot();
    CHECK(cnode_mint(kRootCNode, fault_ep, kRootDepth, kRootCNode, eps, kRootDepth, abi::kRightsAll,
                     0xf0)
              .ok());
    g_foreign_ep = eps + 1;
    g_foreign_resumed = 0;
    TestThread th = start_thread(foreign_call, 0, kTestPriority, fault_ep);
    CHECK(th.tcb != 0);
    let_others_run();
    sys::Message call;
    sys::nb_recv(CapPtr(g_foreign_ep), call);  // a native Call would be waiting here
    sys::Message fault;
    sys::nb_recv(CapPtr(eps), fault);
    bool no_call = call.info.label() == 0 && call.badge_or_cap == 0;
    bool is_fault = fault.info.label() == static_cast<uint64_t>(abi::FaultType::kUnknownSyscall) &&
                    fault.badge_or_cap == 0xf0 && ipc_buffer()->msg[4] == 0;
    sys::Message reply;
    reply.info = abi::MessageInfo(0, 0, 0, 0);
    sys::reply(reply);  // resume after the SVC
    let_others_run();
    uint64_t resumed = g_foreign_resumed;
    stop_thread(th);
    CHECK(no_call);
    CHECK(is_fault);
    CHECK_EQ(resumed, uint64_t{1});
}

}  // namespace tessera::test

namespace tessera::test {
namespace {

volatile uint64_t g_counter_read = 0;

void read_virtual_count(uint64_t) {
    uint64_t v;
    asm volatile("mrs %0, cntvct_el0" : "=r"(v));
    g_counter_read = v != 0 ? 1 : 2;
}
void read_physical_count(uint64_t) {
    uint64_t v;
    asm volatile("mrs %0, cntpct_el0" : "=r"(v));
    g_counter_read = v;
}
void program_virtual_timer(uint64_t) {
    asm volatile("msr cntv_ctl_el0, %0" ::"r"(uint64_t{1}));
    g_counter_read = 3;
}

}  // namespace

// Finding 11: CNTKCTL_EL1 is set at boot: EL0 may read the virtual count (a clock) but not the
// physical one, and may not touch the kernel's timer. The refused accesses are the thread's
// own user exceptions.
USER_TEST(isolation, el0_reads_the_virtual_count_but_not_the_timers) {
    uint64_t ut = new_untyped(12);
    uint64_t ep = ut == 0 ? 0 : make_objects(ut, ObjectType::kEndpoint, 0);
    CHECK(ep != 0);
    uint64_t fault_ep = new_slot();
    CHECK(cnode_mint(kRootCNode, fault_ep, kRootDepth, kRootCNode, ep, kRootDepth, abi::kRightsAll,
                     0xc7)
              .ok());
    g_counter_read = 0;
    TestThread reader = start_thread(read_virtual_count, 0, kTestPriority, fault_ep);
    CHECK(reader.tcb != 0);
    let_others_run();
    stop_thread(reader);
    CHECK_EQ(g_counter_read, uint64_t{1});
    for (void (*body)(uint64_t) : {read_physical_count, program_virtual_timer}) {
        g_counter_read = 0;
        TestThread th = start_thread(body, 0, kTestPriority, fault_ep);
        CHECK(th.tcb != 0);
        let_others_run();
        sys::Message m;
        sys::nb_recv(CapPtr(ep), m);
        stop_thread(th);
        CHECK_EQ(m.info.label(), static_cast<uint64_t>(abi::FaultType::kUserException));
        CHECK_EQ(g_counter_read, uint64_t{0});  // it never got past the access
    }
}

}  // namespace tessera::test

namespace tessera::test {

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

}  // namespace tessera::test

namespace tessera::test {
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
    for (uint64_t at = 0; at < kRingLength; at += 256) {
        uint64_t batch = kRingLength - at < 256 ? kRingLength - at : 256;
        CHECK(untyped_retype(CapPtr(g_ring_untyped), ObjectType::kCNode, 1, kRootCNode, hold,
                             kRootDepth, at, batch)
                  .ok());
    }
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

namespace tessera::test {

// A VSpace whose ASID pool is gone keeps its ASID number but no live ASID: no thread is given
// it (nothing would keep its tables and the TLB in step), and DebugTranslate does not walk it.
USER_TEST(isolation, vspace_of_a_dead_pool_is_refused) {
    uint64_t pool = new_asid_pool();
    CHECK(pool != 0);
    uint64_t ut = new_untyped(14);
    uint64_t vs = ut == 0 ? 0 : make_objects(ut, ObjectType::kVSpace, 0);
    uint64_t tcb = ut == 0 ? 0 : make_objects(ut, ObjectType::kTcb, 0);
    CHECK(vs != 0 && tcb != 0);
    CHECK(asid_pool_assign(CapPtr(pool), CapPtr(vs)).ok());
    CHECK(tcb_configure(CapPtr(tcb), CapPtr(0), kRootCNode, 0, CapPtr(vs), 0, CapPtr(0)).ok());
    CHECK(cnode_delete(kRootCNode, pool, kRootDepth).ok());
    InvocationResult r =
        tcb_configure(CapPtr(tcb), CapPtr(0), kRootCNode, 0, CapPtr(vs), 0, CapPtr(0));
    CHECK(r.error == Error::kInvalidCapability);
    CHECK_EQ(r.detail[0], uint64_t{2});
    CHECK(cnode_delete(kRootCNode, tcb, kRootDepth).ok());
}

}  // namespace tessera::test
