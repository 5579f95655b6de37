// Virtual memory from user level: ASID pools, mapping tables and frames with every refusal
// (missing table, double map, W+X, misalignment, kernel half), zero-filled distinct frames,
// unmapping on capability deletion, and a thread running in a second address space.
#include "tessera/syscall.hpp"
#include "user_test.hpp"

namespace tessera::test {
namespace {

using abi::Error;
using abi::ObjectType;
constexpr abi::CapPtr kOwnVSpace{abi::kSlotInitThreadVSpace};
constexpr uint64_t kRW = abi::kMapRead | abi::kMapWrite;
constexpr uint64_t kRX = abi::kMapRead | abi::kMapExecute;

uint64_t g_pool = 0;  // one ASID pool shared by the cases

uint64_t asid_pool() {
    if (g_pool == 0) {
        uint64_t ut = new_untyped(12);
        uint64_t slot = new_slot();
        if (ut != 0 && asid_control_make_pool(abi::CapPtr(abi::kSlotAsidControl), abi::CapPtr(ut),
                                              kRootCNode, slot, kRootDepth)
                           .ok()) {
            g_pool = slot;
        }
    }
    return g_pool;
}

// A fresh VSpace with an ASID.
uint64_t new_vspace() {
    uint64_t ut = new_untyped(12);
    uint64_t vs = ut == 0 ? 0 : make_objects(ut, ObjectType::kVSpace, 0);
    if (vs == 0 || !asid_pool_assign(abi::CapPtr(asid_pool()), abi::CapPtr(vs)).ok()) {
        return 0;
    }
    return vs;
}

// Maps whatever tables are still missing below vaddr in vspace (the kernel places each new
// table at the first missing level and answers DeleteFirst once every level is present).
bool map_tables(abi::CapPtr vspace, uint64_t vaddr) {
    for (unsigned i = 0; i < 4; ++i) {
        uint64_t ut = new_untyped(12);
        uint64_t table = ut == 0 ? 0 : make_objects(ut, ObjectType::kPageTable, 0);
        if (table == 0) {
            return false;
        }
        InvocationResult r = page_table_map(abi::CapPtr(table), vspace, vaddr);
        if (r.error == Error::kDeleteFirst) {
            return true;
        }
        if (!r.ok()) {
            return false;
        }
    }
    return false;
}

uint64_t new_frame() {
    uint64_t ut = new_untyped(12);
    return ut == 0 ? 0 : make_objects(ut, ObjectType::kFrame4K, 0);
}

}  // namespace

USER_TEST(vspace, asid_pool_assigns_once) {
    uint64_t vs = new_vspace();
    CHECK(vs != 0);
    CHECK((debug_cap_identify(abi::CapPtr(vs)).data & 0xffff) != 0);
    InvocationResult r = asid_pool_assign(abi::CapPtr(asid_pool()), abi::CapPtr(vs));
    CHECK(r.error == Error::kInvalidCapability);
    // MakePool wants exactly one page of untyped.
    uint64_t big = new_untyped(13);
    r = asid_control_make_pool(abi::CapPtr(abi::kSlotAsidControl), abi::CapPtr(big), kRootCNode,
                               new_slot(), kRootDepth);
    CHECK(r.error == Error::kInvalidCapability);
}

USER_TEST(vspace, frame_map_needs_tables) {
    uint64_t vs = new_vspace();
    uint64_t frame = new_frame();
    constexpr uint64_t kVa = 0x10'0000'0000;
    InvocationResult r =
        frame_map(abi::CapPtr(frame), abi::CapPtr(vs), kVa, kRW, abi::MapAttributes::kCached);
    CHECK(r.error == Error::kFailedLookup);
    CHECK_EQ(r.detail[1], uint64_t{1});  // the level-1 table is missing
    CHECK(map_tables(abi::CapPtr(vs), kVa));
    CHECK(
        frame_map(abi::CapPtr(frame), abi::CapPtr(vs), kVa, kRW, abi::MapAttributes::kCached).ok());
    // Mapping over it, or mapping the same capability twice, is refused.
    uint64_t other = new_frame();
    r = frame_map(abi::CapPtr(other), abi::CapPtr(vs), kVa, kRW, abi::MapAttributes::kCached);
    CHECK(r.error == Error::kDeleteFirst);
    r = frame_map(abi::CapPtr(frame), abi::CapPtr(vs), kVa + 0x1000, kRW,
                  abi::MapAttributes::kCached);
    CHECK(r.error == Error::kInvalidCapability);
    // Another table where every level already exists is refused too.
    uint64_t ut = new_untyped(12);
    uint64_t extra = make_objects(ut, ObjectType::kPageTable, 0);
    CHECK(page_table_map(abi::CapPtr(extra), abi::CapPtr(vs), kVa).error == Error::kDeleteFirst);
}

USER_TEST(vspace, bad_mappings_refused) {
    uint64_t vs = new_vspace();
    constexpr uint64_t kVa = 0x20'0000'0000;
    CHECK(map_tables(abi::CapPtr(vs), kVa));
    uint64_t frame = new_frame();
    InvocationResult r = frame_map(abi::CapPtr(frame), abi::CapPtr(vs), kVa, kRW | abi::kMapExecute,
                                   abi::MapAttributes::kCached);
    CHECK(r.error == Error::kInvalidArgument);  // W+X
    CHECK_EQ(r.detail[0], uint64_t{1});
    r = frame_map(abi::CapPtr(frame), abi::CapPtr(vs), kVa + 8, kRW, abi::MapAttributes::kCached);
    CHECK(r.error == Error::kAlignmentError);
    r = frame_map(abi::CapPtr(frame), abi::CapPtr(vs), 0xffff'0000'0000'0000, kRW,
                  abi::MapAttributes::kCached);
    CHECK(r.error == Error::kInvalidArgument);  // kernel half
    r = frame_map(abi::CapPtr(frame), abi::CapPtr(vs), 0x0000'8000'0000'0000, kRW,
                  abi::MapAttributes::kCached);
    CHECK(r.error == Error::kInvalidArgument);  // beyond the user half
    r = frame_map(abi::CapPtr(frame), abi::CapPtr(vs), 0, kRW, abi::MapAttributes::kCached);
    CHECK(r.error == Error::kInvalidArgument);  // the null page
    // A 2 MiB frame must be 2 MiB aligned.
    uint64_t ut = new_untyped(21);
    uint64_t large = make_objects(ut, ObjectType::kFrame2M, 0);
    r = frame_map(abi::CapPtr(large), abi::CapPtr(vs), kVa + 0x1000, kRW,
                  abi::MapAttributes::kCached);
    CHECK(r.error == Error::kAlignmentError);
    // A read-only frame capability cannot be mapped writable.
    uint64_t ro = new_slot();
    CHECK(cnode_copy(kRootCNode, ro, kRootDepth, kRootCNode, frame, kRootDepth, abi::kRightRead)
              .ok());
    r = frame_map(abi::CapPtr(ro), abi::CapPtr(vs), kVa, kRW, abi::MapAttributes::kCached);
    CHECK(r.error == Error::kInvalidCapability);
    CHECK(
        frame_map(abi::CapPtr(ro), abi::CapPtr(vs), kVa, abi::kMapRead, abi::MapAttributes::kCached)
            .ok());
}

USER_TEST(vspace, frames_are_zeroed_distinct_and_unmapped_on_delete) {
    constexpr uint64_t kVa = 0x30'0000'0000;
    CHECK(map_tables(kOwnVSpace, kVa));
    uint64_t frames[4];
    for (unsigned i = 0; i < 4; ++i) {
        frames[i] = new_frame();
        CHECK(frame_map(abi::CapPtr(frames[i]), kOwnVSpace, kVa + i * 0x1000, kRW,
                        abi::MapAttributes::kCached)
                  .ok());
    }
    auto* words = reinterpret_cast<volatile uint64_t*>(kVa);
    for (unsigned i = 0; i < 4; ++i) {
        for (unsigned w = 0; w < 512; ++w) {
            CHECK_EQ(words[i * 512 + w], uint64_t{0});
        }
        words[i * 512] = 0xf00d + i;
    }
    for (unsigned i = 0; i < 4; ++i) {
        CHECK_EQ(words[i * 512], uint64_t{0xf00d + i});
        CHECK(frame_get_address(abi::CapPtr(frames[i])) != 0);
    }
    // Unmap and map elsewhere: the contents travel with the frame.
    CHECK(frame_unmap(abi::CapPtr(frames[0])).ok());
    CHECK(frame_map(abi::CapPtr(frames[0]), kOwnVSpace, kVa + 0x8000, kRW,
                    abi::MapAttributes::kCached)
              .ok());
    CHECK_EQ(words[8 * 512], uint64_t{0xf00d});
    // Deleting a mapped capability unmaps it: the address can be mapped again.
    CHECK(cnode_delete(kRootCNode, frames[1], kRootDepth).ok());
    uint64_t fresh = new_frame();
    CHECK(frame_map(abi::CapPtr(fresh), kOwnVSpace, kVa + 0x1000, kRW, abi::MapAttributes::kCached)
              .ok());
    CHECK_EQ(words[512], uint64_t{0});
}

USER_TEST(vspace, map_unmap_cycles_do_not_leak) {
    constexpr uint64_t kVa = 0x40'0000'0000;
    CHECK(map_tables(kOwnVSpace, kVa));
    uint64_t frame = new_frame();
    for (unsigned i = 0; i < 2000; ++i) {
        if (!frame_map(abi::CapPtr(frame), kOwnVSpace, kVa, kRW, abi::MapAttributes::kCached)
                 .ok() ||
            !frame_unmap(abi::CapPtr(frame)).ok()) {
            t.fail("cycle {} failed", i);
            return;
        }
    }
}

USER_TEST(vspace, asid_reuse_sees_no_stale_mapping) {
    // A VSpace maps a frame at kVa and is deleted; a new VSpace that receives the same ASID
    // must not see that mapping (checked through the kernel's view of the new tables).
    constexpr uint64_t kVa = 0x50'0000'0000;
    uint64_t vs = new_vspace();
    CHECK(map_tables(abi::CapPtr(vs), kVa));
    uint64_t frame = new_frame();
    CHECK(
        frame_map(abi::CapPtr(frame), abi::CapPtr(vs), kVa, kRW, abi::MapAttributes::kCached).ok());
    uint64_t asid = debug_cap_identify(abi::CapPtr(vs)).data & 0xffff;
    CHECK(cnode_delete(kRootCNode, vs, kRootDepth).ok());
    uint64_t again = new_vspace();
    CHECK_EQ(debug_cap_identify(abi::CapPtr(again)).data & 0xffff, asid);
    // The old frame capability is stale: unmapping it must not touch the new VSpace.
    CHECK(frame_unmap(abi::CapPtr(frame)).ok());
    InvocationResult r = frame_map(abi::CapPtr(new_frame()), abi::CapPtr(again), kVa, kRW,
                                   abi::MapAttributes::kCached);
    CHECK(r.error == Error::kFailedLookup);  // fresh tables: nothing there
}

namespace {

// Runs in the second address space (code and data shared with this program at the same
// addresses) and serves one call; a private page at kPrivateVa shows whose tables it uses.
constexpr uint64_t kPrivateVa = 0x60'0000'0000;

void remote_server(uint64_t ep) {
    sys::Message m;
    sys::recv(abi::CapPtr(ep), m);
    m.mr[0] = m.mr[0] * 2;
    m.mr[1] = *reinterpret_cast<volatile uint64_t*>(kPrivateVa);
    m.info = abi::MessageInfo(0, 0, 0, 2);
    sys::reply(m);
}

}  // namespace

USER_TEST(vspace, thread_in_second_address_space) {
    uint64_t vs = new_vspace();
    CHECK(vs != 0);
    // Share the program's image: map a copy of every image frame at the same address, with
    // the rights of the original capability (writable data, read-execute otherwise).
    const abi::BootInfo* info = env().info;
    for (uint64_t s = info->image_frames.start; s < info->image_frames.end; ++s) {
        CapIdentity id = debug_cap_identify(abi::CapPtr(s));
        uint64_t va = id.data & 0xffff'ffff'ffff;
        uint64_t copy = new_slot();
        CHECK(cnode_copy(kRootCNode, copy, kRootDepth, kRootCNode, s, kRootDepth, abi::kRightsAll)
                  .ok());
        uint64_t rights = (id.rights & abi::kRightWrite) != 0 ? kRW : kRX;
        CHECK(map_tables(abi::CapPtr(vs), va));
        CHECK(frame_map(abi::CapPtr(copy), abi::CapPtr(vs), va, rights, abi::MapAttributes::kCached)
                  .ok());
    }
    // A page only the second address space has.
    CHECK(map_tables(abi::CapPtr(vs), kPrivateVa));
    uint64_t priv = new_frame();
    CHECK(
        frame_map(abi::CapPtr(priv), abi::CapPtr(vs), kPrivateVa, kRW, abi::MapAttributes::kCached)
            .ok());
    uint64_t ut = new_untyped(12);
    uint64_t ep = make_objects(ut, ObjectType::kEndpoint, 0);
    TestThread th = start_thread(remote_server, ep, kTestPriority, 0, vs);
    CHECK(th.tcb != 0);
    let_others_run();
    sys::Message m;
    m.info = abi::MessageInfo(0, 0, 0, 1);
    m.mr[0] = 21;
    sys::call(abi::CapPtr(ep), m);
    CHECK_EQ(m.mr[0], uint64_t{42});
    CHECK_EQ(m.mr[1], uint64_t{0});  // its private page is zero-filled
    stop_thread(th);
}

}  // namespace tessera::test
