// CNode operations from user level: copy, mint, move, mutate, delete, revoke, their errors, and
// capability addresses with any bit flipped.
#include "tessera/debug_print.hpp"
#include "user_test.hpp"

namespace tessera::test {
namespace {

using abi::CapType;
using abi::Error;
using abi::ObjectType;

uint64_t endpoint() {
    uint64_t ut = new_untyped(12);
    return ut == 0 ? 0 : make_objects(ut, ObjectType::kEndpoint, 0);
}

CapType type_at(uint64_t slot) {
    return identify(abi::CapPtr(slot)).type;
}

}  // namespace

USER_TEST(cnode, copy_makes_a_second_capability) {
    uint64_t ep = endpoint();
    CHECK(ep != 0);
    uint64_t copy = new_slot();
    CHECK(
        cnode_copy(kRootCNode, copy, kRootDepth, kRootCNode, ep, kRootDepth, abi::kRightsAll).ok());
    CHECK(type_at(copy) == CapType::kEndpoint);
    CHECK(type_at(ep) == CapType::kEndpoint);
}

USER_TEST(cnode, copy_diminishes_rights) {
    uint64_t ep = endpoint();
    uint64_t copy = new_slot();
    CHECK(
        cnode_copy(kRootCNode, copy, kRootDepth, kRootCNode, ep, kRootDepth, abi::kRightRead).ok());
    CHECK_EQ(identify(abi::CapPtr(copy)).rights, uint64_t{abi::kRightRead});
    // Rights never grow back.
    uint64_t again = new_slot();
    CHECK(cnode_copy(kRootCNode, again, kRootDepth, kRootCNode, copy, kRootDepth, abi::kRightsAll)
              .ok());
    CHECK_EQ(identify(abi::CapPtr(again)).rights, uint64_t{abi::kRightRead});
}

USER_TEST(cnode, mint_sets_badge_once) {
    uint64_t ep = endpoint();
    uint64_t badged = new_slot();
    CHECK(cnode_mint(kRootCNode, badged, kRootDepth, kRootCNode, ep, kRootDepth, abi::kRightsAll,
                     0x1234)
              .ok());
    CHECK_EQ(identify(abi::CapPtr(badged)).data, uint64_t{0x1234});
    uint64_t rebadged = new_slot();
    CHECK(cnode_mint(kRootCNode, rebadged, kRootDepth, kRootCNode, badged, kRootDepth,
                     abi::kRightsAll, 0x9999)
              .error == abi::Error::kIllegalOperation);
    // Data 0 keeps the badge: a copy with fewer rights.
    CHECK(cnode_mint(kRootCNode, rebadged, kRootDepth, kRootCNode, badged, kRootDepth,
                     abi::kRightRead, 0)
              .ok());
    CHECK_EQ(identify(abi::CapPtr(rebadged)).data, uint64_t{0x1234});
}

USER_TEST(cnode, move_empties_the_source) {
    uint64_t ep = endpoint();
    uint64_t dest = new_slot();
    CHECK(cnode_move(kRootCNode, dest, kRootDepth, kRootCNode, ep, kRootDepth).ok());
    CHECK(type_at(dest) == CapType::kEndpoint);
    CHECK(type_at(ep) == CapType::kNull);
}

USER_TEST(cnode, mutate_sets_cnode_guard) {
    uint64_t ut = new_untyped(16);
    uint64_t cn = make_objects(ut, ObjectType::kCNode, 4);
    CHECK(cn != 0);
    uint64_t dest = new_slot();
    uint64_t guard_data = (uint64_t{0x5} << 6) | 3;  // 3-bit guard 0b101
    CHECK(cnode_mutate(kRootCNode, dest, kRootDepth, kRootCNode, cn, kRootDepth, guard_data).ok());
    CHECK_EQ(identify(abi::CapPtr(dest)).data, guard_data);
    CHECK(type_at(cn) == CapType::kNull);
    // A guard that does not fit its size is refused, naming the data argument (word 4).
    uint64_t other = new_slot();
    InvocationResult r =
        cnode_mutate(kRootCNode, other, kRootDepth, kRootCNode, dest, kRootDepth, (0xf << 6) | 2);
    CHECK(r.error == Error::kInvalidArgument);
    CHECK_EQ(r.detail[0], uint64_t{4});
}

USER_TEST(cnode, destination_must_be_empty) {
    uint64_t ep = endpoint();
    uint64_t other = endpoint();
    InvocationResult r =
        cnode_copy(kRootCNode, other, kRootDepth, kRootCNode, ep, kRootDepth, abi::kRightsAll);
    CHECK(r.error == Error::kDeleteFirst);
    r = cnode_move(kRootCNode, ep, kRootDepth, kRootCNode, ep, kRootDepth);
    CHECK(r.error == Error::kDeleteFirst);
}

USER_TEST(cnode, empty_source_is_failed_lookup) {
    uint64_t empty = new_slot();
    uint64_t dest = new_slot();
    InvocationResult r =
        cnode_copy(kRootCNode, dest, kRootDepth, kRootCNode, empty, kRootDepth, abi::kRightsAll);
    CHECK(r.error == Error::kFailedLookup);
    CHECK_EQ(r.detail[0], static_cast<uint64_t>(abi::LookupFailure::kMissingCapability));
}

USER_TEST(cnode, bad_depths) {
    uint64_t ep = endpoint();
    InvocationResult r = cnode_delete(kRootCNode, ep, 0);
    CHECK(r.error == Error::kRangeError);
    r = cnode_delete(kRootCNode, ep, 65);
    CHECK(r.error == Error::kRangeError);
    r = cnode_delete(kRootCNode, ep, 32);  // shorter than the root's guard + radix
    CHECK(r.error == Error::kFailedLookup);
    CHECK_EQ(r.detail[0], static_cast<uint64_t>(abi::LookupFailure::kGuardMismatch));
}

USER_TEST(cnode, delete_empties_and_is_idempotent) {
    uint64_t ep = endpoint();
    CHECK(cnode_delete(kRootCNode, ep, kRootDepth).ok());
    CHECK(type_at(ep) == CapType::kNull);
    CHECK(cnode_delete(kRootCNode, ep, kRootDepth).ok());
}

USER_TEST(cnode, revoke_removes_every_descendant) {
    uint64_t ep = endpoint();
    uint64_t copies[4];
    for (uint64_t& c : copies) {
        c = new_slot();
        CHECK(cnode_mint(kRootCNode, c, kRootDepth, kRootCNode, ep, kRootDepth, abi::kRightsAll, 7)
                  .ok());
    }
    CHECK(cnode_revoke(kRootCNode, ep, kRootDepth).ok());
    for (uint64_t c : copies) {
        CHECK(type_at(c) == CapType::kNull);
    }
    CHECK(type_at(ep) == CapType::kEndpoint);
}

USER_TEST(cnode, revoke_of_badged_keeps_other_badges) {
    uint64_t ep = endpoint();
    uint64_t a = new_slot();
    uint64_t b = new_slot();
    CHECK(
        cnode_mint(kRootCNode, a, kRootDepth, kRootCNode, ep, kRootDepth, abi::kRightsAll, 1).ok());
    CHECK(
        cnode_mint(kRootCNode, b, kRootDepth, kRootCNode, ep, kRootDepth, abi::kRightsAll, 2).ok());
    uint64_t a_copy = new_slot();
    CHECK(cnode_copy(kRootCNode, a_copy, kRootDepth, kRootCNode, a, kRootDepth, abi::kRightsAll)
              .ok());
    CHECK(cnode_revoke(kRootCNode, a, kRootDepth).ok());
    CHECK(type_at(a_copy) == CapType::kNull);
    CHECK(type_at(a) == CapType::kEndpoint);
    CHECK(type_at(b) == CapType::kEndpoint);
}

USER_TEST(cspace, any_single_bit_flip_is_invalid_capability) {
    // A capability high in the root CNode, so flips of the index bits land on empty slots.
    // (An untyped: a Call on an endpoint would be IPC and wait for a receiver.) The slot is not
    // the slot allocator's to hand out, so it is emptied again before the case ends.
    uint64_t ut = new_untyped(12);
    constexpr uint64_t kSlot = 4000;
    CHECK(type_at(kSlot) == CapType::kNull);
    CHECK(cnode_move(kRootCNode, kSlot, kRootDepth, kRootCNode, ut, kRootDepth).ok());
    // Unknown label on the real capability: IllegalOperation (the capability itself is valid).
    bool real_ok = invoke(abi::CapPtr(kSlot), abi::InvocationLabel::kInvalid, {}).error ==
                   Error::kIllegalOperation;
    int bad_bit = -1;
    InvocationResult bad;
    for (unsigned bit = 0; bit < 64 && bad_bit < 0; ++bit) {
        abi::CapPtr flipped(kSlot ^ (uint64_t{1} << bit));
        InvocationResult r = invoke(flipped, abi::InvocationLabel::kInvalid, {});
        if (r.error != Error::kInvalidCapability || r.detail[0] != 0) {
            bad_bit = static_cast<int>(bit);
            bad = r;
        }
    }
    CHECK(cnode_move(kRootCNode, ut, kRootDepth, kRootCNode, kSlot, kRootDepth).ok());
    CHECK(real_ok);
    if (bad_bit >= 0) {
        t.fail("bit {}: {} (detail {})", bad_bit, abi::error_name(bad.error), bad.detail[0]);
    }
}

USER_TEST(cnode, cyclic_cnodes_are_reclaimed) {
    uint64_t ut = new_untyped(16);
    uint64_t a = make_objects(ut, ObjectType::kCNode, 2);
    uint64_t b = make_objects(ut, ObjectType::kCNode, 2);
    CHECK(a != 0 && b != 0);
    // a holds the only cap to b and b a copy of the cap to a: after the root's cap to a goes,
    // the pair only refers to itself; revoking their untyped must still destroy both.
    abi::CapPtr a_cnode(a);
    abi::CapPtr b_cnode(b);
    CHECK(cnode_copy(b_cnode, 0, 2, kRootCNode, a, kRootDepth, abi::kRightsAll).ok());
    CHECK(cnode_move(a_cnode, 1, 2, kRootCNode, b, kRootDepth).ok());
    CHECK(cnode_delete(kRootCNode, a, kRootDepth).ok());
    CHECK(type_at(a) == CapType::kNull);
    // Every object is gone: the untyped can be used in full again.
    CHECK(cnode_revoke(kRootCNode, ut, kRootDepth).ok());
    CHECK(make_objects(ut, ObjectType::kFrame4K, 0, 16) != 0);
}

USER_TEST(cnode, deep_cnode_chain_is_destroyed) {
    // 64 CNodes, each holding the only capability to the next: destroying the head must not
    // depend on kernel stack depth.
    constexpr unsigned kDepth = 64;
    uint64_t ut = new_untyped(16);
    uint64_t first = make_objects(ut, ObjectType::kCNode, 1, kDepth);
    CHECK(first != 0);
    for (unsigned i = kDepth - 1; i > 0; --i) {
        // Move CNode i into slot 0 of CNode i-1.
        CHECK(cnode_move(abi::CapPtr(first + i - 1), 0, 1, kRootCNode, first + i, kRootDepth).ok());
    }
    CHECK(cnode_delete(kRootCNode, first, kRootDepth).ok());
    CHECK(cnode_revoke(kRootCNode, ut, kRootDepth).ok());
    CHECK(make_objects(ut, ObjectType::kFrame4K, 0, 16) != 0);
}

}  // namespace tessera::test

namespace tessera::test {
namespace {

InvocationResult rotate(uint64_t dest, uint64_t pivot, uint64_t src) {
    const uint64_t args[] = {dest, kRootDepth, 0, pivot, kRootDepth, 0, src, kRootDepth};
    const abi::CapPtr caps[] = {kRootCNode, kRootCNode};
    return invoke(kRootCNode, abi::InvocationLabel::kCNodeRotate, args, caps);
}

}  // namespace

USER_TEST(cnode, rotate_moves_two_capabilities) {
    uint64_t ut = new_untyped(12);
    uint64_t ep = make_objects(ut, abi::ObjectType::kEndpoint, 0);
    uint64_t ntfn = make_objects(ut, abi::ObjectType::kNotification, 0);
    uint64_t dest = new_slot();
    // pivot (ep) -> dest, src (ntfn) -> pivot.
    CHECK(rotate(dest, ep, ntfn).ok());
    CHECK(identify(abi::CapPtr(dest)).type == abi::CapType::kEndpoint);
    CHECK(identify(abi::CapPtr(ep)).type == abi::CapType::kNotification);
    CHECK(identify(abi::CapPtr(ntfn)).type == abi::CapType::kNull);
    // dest == src swaps: now dest holds the notification and the pivot the endpoint.
    CHECK(rotate(dest, ep, dest).ok());
    CHECK(identify(abi::CapPtr(dest)).type == abi::CapType::kNotification);
    CHECK(identify(abi::CapPtr(ep)).type == abi::CapType::kEndpoint);
    // Occupied destination, and a pivot equal to the source, are refused.
    CHECK(rotate(new_slot(), ep, ep).error == abi::Error::kIllegalOperation);
    uint64_t other = make_objects(ut, abi::ObjectType::kEndpoint, 0);
    CHECK(rotate(other, ep, dest).error == abi::Error::kDeleteFirst);
}

USER_TEST(cnode, large_revoke_completes) {
    // Thousands of capabilities in a CNode of their own; the revoke may be preempted by timer
    // interrupts and restarted, and must still remove every one.
    uint64_t ut = new_untyped(18);
    uint64_t cn = make_objects(ut, abi::ObjectType::kCNode, 12);
    uint64_t ep = make_objects(ut, abi::ObjectType::kEndpoint, 0);
    CHECK(cn != 0 && ep != 0);
    for (uint64_t i = 0; i < 4096; ++i) {
        if (!cnode_mint(abi::CapPtr(cn), i, 12, kRootCNode, ep, kRootDepth, abi::kRightsAll, 1 + i)
                 .ok()) {
            t.fail("mint {} failed", i);
            return;
        }
    }
    CHECK(cnode_revoke(kRootCNode, ep, kRootDepth).ok());
    // Every child is gone: slot 0 (and any other) of the CNode is empty again.
    CHECK(cnode_mint(abi::CapPtr(cn), 0, 12, kRootCNode, ep, kRootDepth, abi::kRightsAll, 9).ok());
}

}  // namespace tessera::test

namespace tessera::test {

// DeleteRange empties a run of slots of one CNode with one call, destroying objects whose last
// capability was there (a nested CNode's destruction restarts the pass) and touching nothing
// outside the run.
USER_TEST(cnode, delete_range_empties_a_run_of_slots) {
    constexpr uint64_t kRadix = 4;
    uint64_t ut = new_untyped(16);
    uint64_t cn = make_objects(ut, abi::ObjectType::kCNode, kRadix);
    uint64_t ep = make_objects(ut, abi::ObjectType::kEndpoint, 0);
    uint64_t inner = make_objects(ut, abi::ObjectType::kCNode, 2);
    CHECK(cn != 0 && ep != 0 && inner != 0);
    const abi::CapPtr node(cn);
    for (uint64_t i = 0; i < 16; ++i) {
        if (i == 7) {
            continue;
        }
        CHECK(cnode_mint(node, i, kRadix, kRootCNode, ep, kRootDepth, abi::kRightsAll, 1 + i).ok());
    }
    // Slot 7 holds the only capability to a CNode that holds an endpoint of its own.
    CHECK(
        cnode_mint(abi::CapPtr(inner), 0, 2, kRootCNode, ep, kRootDepth, abi::kRightsAll, 77).ok());
    CHECK(cnode_move(node, 7, kRadix, kRootCNode, inner, kRootDepth).ok());
    CHECK(cnode_delete_range(node, 2, kRadix, 12).ok());  // slots 2..13
    auto occupied = [&](uint64_t i) {
        // Minting into an occupied slot is DeleteFirst; an empty one takes it (emptied again).
        InvocationResult r =
            cnode_mint(node, i, kRadix, kRootCNode, ep, kRootDepth, abi::kRightsAll, 99);
        if (r.ok()) {
            (void)cnode_delete(node, i, kRadix);
        }
        return r.error == abi::Error::kDeleteFirst;
    };
    for (uint64_t i = 0; i < 16; ++i) {
        bool inside = i >= 2 && i < 14;
        if (occupied(i) == inside) {
            t.fail("slot {} is {}", i, inside ? "still occupied" : "empty");
            return;
        }
    }
    // Refusals: nothing in range, past the CNode's end, a depth that does not end at a slot.
    InvocationResult r = cnode_delete_range(node, 0, kRadix, 0);
    CHECK(r.error == abi::Error::kRangeError);
    r = cnode_delete_range(node, 10, kRadix, 7);
    CHECK(r.error == abi::Error::kRangeError);
    CHECK_EQ(r.detail[1], uint64_t{6});
    r = cnode_delete_range(node, 0, 0, 1);
    CHECK(r.error == abi::Error::kRangeError);
    r = cnode_delete_range(node, 0, kRadix - 1, 1);
    CHECK(r.error == abi::Error::kFailedLookup);
    CHECK(occupied(0) && occupied(15));
    // Whole CNode; the endpoint's derivation is intact: a revoke finds nothing left but itself.
    CHECK(cnode_delete_range(node, 0, kRadix, 16).ok());
    CHECK(!occupied(0) && !occupied(15));
    CHECK(cnode_revoke(kRootCNode, ep, kRootDepth).ok());
}

}  // namespace tessera::test

namespace tessera::test {

// CopyRange copies a run of capabilities at once, each derived as Copy derives it, with the
// rights masked: all or nothing. Refused: an occupied destination or an empty source anywhere
// in the run (the index comes back), a count of 0 or beyond 512 or past the CNode's end,
// overlapping runs, a source root that is not a CNode, an untyped with children (which Copy
// refuses too); after each refusal no destination slot holds anything.
USER_TEST(cnode, copy_range_copies_all_or_nothing) {
    constexpr uint64_t kCount = 4;
    uint64_t ut = new_untyped(15);
    uint64_t frames = ut == 0 ? 0 : make_objects(ut, ObjectType::kFrame4K, 0, kCount + 1);
    CHECK(frames != 0);
    CHECK(cnode_delete(kRootCNode, frames + kCount, kRootDepth).ok());  // an empty slot after
    uint64_t dest = env().slots.allocate_run(kCount + 1);
    CHECK(dest != 0);
    auto all_empty = [&]() {
        for (uint64_t i = 0; i <= kCount; ++i) {
            if (identify(abi::CapPtr(dest + i)).type != abi::CapType::kNull) {
                return false;
            }
        }
        return true;
    };
    // An occupied destination in the middle: DeleteFirst at index 2, nothing copied.
    CHECK(cnode_copy(kRootCNode, dest + 2, kRootDepth, kRootCNode, frames, kRootDepth,
                     abi::kRightsAll)
              .ok());
    InvocationResult r = cnode_copy_range(kRootCNode, dest, kRootDepth, kRootCNode, frames,
                                          kRootDepth, abi::kRightsAll, kCount);
    CHECK(r.error == Error::kDeleteFirst);
    CHECK_EQ(r.detail[1], uint64_t{2});
    CHECK(cnode_delete(kRootCNode, dest + 2, kRootDepth).ok());
    CHECK(all_empty());
    // An empty source at the end of the run.
    r = cnode_copy_range(kRootCNode, dest, kRootDepth, kRootCNode, frames, kRootDepth,
                         abi::kRightsAll, kCount + 1);
    CHECK(r.error == Error::kInvalidCapability);
    CHECK_EQ(r.detail[1], kCount);
    CHECK(all_empty());
    // Counts out of range, overlapping runs, a source root that is no CNode.
    CHECK(cnode_copy_range(kRootCNode, dest, kRootDepth, kRootCNode, frames, kRootDepth,
                           abi::kRightsAll, 0)
              .error == Error::kRangeError);
    CHECK(cnode_copy_range(kRootCNode, dest, kRootDepth, kRootCNode, frames, kRootDepth,
                           abi::kRightsAll, 513)
              .error == Error::kRangeError);
    CHECK(cnode_copy_range(kRootCNode, frames + 1, kRootDepth, kRootCNode, frames, kRootDepth,
                           abi::kRightsAll, 2)
              .error == Error::kIllegalOperation);
    CHECK(cnode_copy_range(kRootCNode, dest, kRootDepth, abi::CapPtr(frames), 0, kRootDepth,
                           abi::kRightsAll, 1)
              .error == Error::kInvalidCapability);
    const uint64_t last = (uint64_t{1} << abi::kRootCNodeRadix) - 1;  // the CNode's last slot
    CHECK(cnode_copy_range(kRootCNode, dest, kRootDepth, kRootCNode, last, kRootDepth,
                           abi::kRightsAll, 2)
              .error == Error::kRangeError);
    CHECK(all_empty());
    // An untyped with children is not copied (Copy refuses it too).
    uint64_t dest_ut = new_slot();
    CHECK(cnode_copy_range(kRootCNode, dest_ut, kRootDepth, kRootCNode, ut, kRootDepth,
                           abi::kRightsAll, 1)
              .error != Error::kOk);
    CHECK(identify(abi::CapPtr(dest_ut)).type == abi::CapType::kNull);
    // Read-only copies of the run: the frames map read-only but never writable.
    CHECK(cnode_copy_range(kRootCNode, dest, kRootDepth, kRootCNode, frames, kRootDepth,
                           abi::kRightRead, kCount)
              .ok());
    for (uint64_t i = 0; i < kCount; ++i) {
        const CapIdentity id = identify(abi::CapPtr(dest + i));
        CHECK(id.type == abi::CapType::kFrame);
        CHECK_EQ(id.rights, uint64_t{abi::kRightRead});
    }
    constexpr abi::CapPtr kOwnVSpace{abi::kSlotInitThreadVSpace};
    CHECK(map_tables(kOwnVSpace, 0x79'0080'0000));
    CHECK(frame_map(abi::CapPtr(dest), kOwnVSpace, 0x79'0080'0000, abi::kMapRead | abi::kMapWrite,
                    abi::MapAttributes::kCached)
              .error == Error::kInvalidCapability);
    // The copies are derived: revoking the untyped takes them with it.
    CHECK(cnode_revoke(kRootCNode, ut, kRootDepth).ok());
    CHECK(all_empty());
}

}  // namespace tessera::test
