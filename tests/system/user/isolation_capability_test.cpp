// Isolation attacks on capabilities and threads (docs/SECURITY.md, findings 6, 8 and 11): badges
// are set once, rights only shrink, CopyRegisters refuses the caller, a cancelled fault is
// forgotten, and a TCB destroyed by its own SetSpace is written to no more.
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
    uint64_t fault_ep = 0;
    uint64_t eps = endpoints_with_fault_cap(2, 0x33, fault_ep);
    CHECK(eps != 0);
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
