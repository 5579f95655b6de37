// Virtual memory from user level: ASID pools, mapping tables and frames with every refusal
// (missing table, double map, W+X, misalignment, kernel half), zero-filled distinct frames,
// unmapping on capability deletion, and a thread running in a second address space.
#include "abi/fault.hpp"
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
        g_pool = new_asid_pool();
    }
    return g_pool;
}

// A fresh VSpace with an ASID from pool (0: the shared one).
uint64_t new_vspace(uint64_t pool = 0) {
    uint64_t ut = new_untyped(12);
    uint64_t vs = ut == 0 ? 0 : make_objects(ut, ObjectType::kVSpace, 0);
    if (vs == 0 ||
        !asid_pool_assign(abi::CapPtr(pool != 0 ? pool : asid_pool()), abi::CapPtr(vs)).ok()) {
        return 0;
    }
    return vs;
}

}  // namespace

uint64_t new_asid_pool() {
    uint64_t ut = new_untyped(12);
    uint64_t slot = new_slot();
    if (ut == 0 || !asid_control_make_pool(abi::CapPtr(abi::kSlotAsidControl), abi::CapPtr(ut),
                                           kRootCNode, slot, kRootDepth)
                        .ok()) {
        return 0;
    }
    return slot;
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

USER_TEST(vspace, asid_pool_assigns_once) {
    uint64_t vs = new_vspace();
    CHECK(vs != 0);
    CHECK((identify(abi::CapPtr(vs)).data & 0xffff) != 0);
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
        CHECK(frame_map(abi::CapPtr(frames[i]), kOwnVSpace, kVa + uint64_t{i} * 0x1000, kRW,
                        abi::MapAttributes::kCached)
                  .ok());
    }
    auto* words = reinterpret_cast<volatile uint64_t*>(kVa);
    for (unsigned i = 0; i < 4; ++i) {
        for (unsigned w = 0; w < 512; ++w) {
            CHECK_EQ(words[i * 512 + w], uint64_t{0});
        }
        words[size_t{i} * 512] = 0xf00d + i;
    }
    for (unsigned i = 0; i < 4; ++i) {
        CHECK_EQ(words[size_t{i} * 512], uint64_t{0xf00d + i});
        CHECK(frame_get_address(abi::CapPtr(frames[i])) != 0);
    }
    // Unmap and map elsewhere: the contents travel with the frame.
    CHECK(frame_unmap(abi::CapPtr(frames[0])).ok());
    CHECK(frame_map(abi::CapPtr(frames[0]), kOwnVSpace, kVa + 0x8000, kRW,
                    abi::MapAttributes::kCached)
              .ok());
    CHECK_EQ(words[size_t{8} * 512], uint64_t{0xf00d});
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
    for (unsigned i = 0; i < 10000; ++i) {
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
    uint64_t asid = identify(abi::CapPtr(vs)).data & 0xffff;
    CHECK(cnode_delete(kRootCNode, vs, kRootDepth).ok());
    uint64_t again = new_vspace();
    CHECK_EQ(identify(abi::CapPtr(again)).data & 0xffff, asid);
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

uint64_t new_shared_vspace(uint64_t pool) {
    uint64_t vs = new_vspace(pool);
    const abi::BootInfo* info = env().info;
    for (uint64_t s = info->image_frames.start; vs != 0 && s < info->image_frames.end; ++s) {
        CapIdentity id = identify(abi::CapPtr(s));
        uint64_t va = id.data & 0xffff'ffff'ffff;
        uint64_t copy = new_slot();
        uint64_t rights = (id.rights & abi::kRightWrite) != 0 ? kRW : kRX;
        if (!cnode_copy(kRootCNode, copy, kRootDepth, kRootCNode, s, kRootDepth, abi::kRightsAll)
                 .ok()) {
            return 0;
        }
        // Tables only where they are missing: most frames share the tables of their neighbours,
        // and every attempt at a table would cost slots the later cases need.
        InvocationResult r =
            frame_map(abi::CapPtr(copy), abi::CapPtr(vs), va, rights, abi::MapAttributes::kCached);
        if (r.error == Error::kFailedLookup && map_tables(abi::CapPtr(vs), va)) {
            r = frame_map(abi::CapPtr(copy), abi::CapPtr(vs), va, rights,
                          abi::MapAttributes::kCached);
        }
        if (!r.ok()) {
            return 0;
        }
    }
    return vs;
}

USER_TEST(vspace, thread_in_second_address_space) {
    uint64_t vs = new_shared_vspace();
    CHECK(vs != 0);
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

USER_TEST(vspace, reused_asid_never_sees_stale_translations) {
    // Thread 1 reads a page in VSpace X (the translation is now cached under X's ASID). X is
    // deleted; VSpace Y gets the same ASID and a different frame at the same address. A thread
    // in Y must read Y's frame, never X's through a stale TLB entry. (QEMU's TLB model drops
    // everything when the ASID in TTBR0 changes, so under QEMU this guards the kernel's
    // bookkeeping; on hardware it also guards the TLB invalidation on ASID retirement.)
    uint64_t ut = new_untyped(12);
    uint64_t ep = make_objects(ut, ObjectType::kEndpoint, 0);
    uint64_t values[2] = {0x1111, 0x2222};
    uint64_t asids[2] = {0, 0};
    uint64_t seen[2] = {0, 0};
    for (unsigned round = 0; round < 2; ++round) {
        uint64_t vs = new_shared_vspace();
        CHECK(vs != 0);
        asids[round] = identify(abi::CapPtr(vs)).data & 0xffff;
        CHECK(map_tables(abi::CapPtr(vs), kPrivateVa));
        uint64_t frame = new_frame();
        CHECK(frame_map(abi::CapPtr(frame), abi::CapPtr(vs), kPrivateVa, kRW,
                        abi::MapAttributes::kCached)
                  .ok());
        // Fill the frame through a mapping of our own.
        constexpr uint64_t kFill = 0x74'0000'0000;
        CHECK(map_tables(kOwnVSpace, kFill));
        uint64_t alias = new_slot();
        CHECK(cnode_copy(kRootCNode, alias, kRootDepth, kRootCNode, frame, kRootDepth,
                         abi::kRightsAll)
                  .ok());
        CHECK(frame_map(abi::CapPtr(alias), kOwnVSpace, kFill, kRW, abi::MapAttributes::kCached)
                  .ok());
        *reinterpret_cast<volatile uint64_t*>(kFill) = values[round];
        CHECK(cnode_delete(kRootCNode, alias, kRootDepth).ok());
        TestThread th = start_thread(remote_server, ep, kTestPriority, 0, vs);
        let_others_run();
        sys::Message m;
        m.info = abi::MessageInfo(0, 0, 0, 1);
        sys::call(abi::CapPtr(ep), m);
        seen[round] = m.mr[1];
        stop_thread(th);
        CHECK(cnode_delete(kRootCNode, vs, kRootDepth).ok());  // retires the ASID
    }
    CHECK_EQ(asids[0], asids[1]);
    CHECK_EQ(seen[0], values[0]);
    CHECK_EQ(seen[1], values[1]);
}

}  // namespace tessera::test

namespace tessera::test {

USER_TEST(vspace, kernel_walk_agrees_with_mmu) {
    constexpr uint64_t kVa = 0x70'0000'0000;
    CHECK(map_tables(kOwnVSpace, kVa));
    uint64_t frame = new_frame();
    CHECK(frame_map(abi::CapPtr(frame), kOwnVSpace, kVa, kRW, abi::MapAttributes::kCached).ok());
    static uint64_t data_word = 1;
    uint64_t samples[] = {
        0x400000,                                      // text
        reinterpret_cast<uint64_t>(&data_word),        // data
        abi::kRootStackTop - 8,                        // stack
        abi::kRootStackTop - abi::kRootStackSize - 8,  // guard page below the stack
        abi::kRootIpcBufferAddress + 0x123,            // IPC buffer
        kVa + 0x456,                                   // the new frame
        kVa + 0x1000,                                  // beside it
        0x0,                                           // null
        0x7fff'ffff'f000,                              // top of the user half
        0xffff'0000'4020'0000,                         // kernel half
    };
    for (uint64_t va : samples) {
        Translation tr = translate(va);
        if (tr.walked != tr.hardware) {
            t.fail("{:#x}: kernel walk {:#x}, AT S1E0R {:#x}", va, tr.walked, tr.hardware);
            return;
        }
    }
    CHECK_EQ(translate(kVa + 0x456).walked, frame_get_address(abi::CapPtr(frame)) + 0x456);
    CHECK_EQ(translate(0).walked, ~uint64_t{0});
}

USER_TEST(vspace, cache_maintenance_checks_its_frame) {
    constexpr uint64_t kVa = 0x71'0000'0000;
    CHECK(map_tables(kOwnVSpace, kVa));
    uint64_t frame = new_frame();
    InvocationResult r = frame_cache_op(abi::CapPtr(frame), abi::CacheOp::kClean, 0, 64);
    CHECK(r.error == Error::kIllegalOperation);  // not mapped
    CHECK(frame_map(abi::CapPtr(frame), kOwnVSpace, kVa, kRW, abi::MapAttributes::kUncached).ok());
    for (uint64_t op = 0; op <= 3; ++op) {
        CHECK(frame_cache_op(abi::CapPtr(frame), static_cast<abi::CacheOp>(op), 0, 4096).ok());
    }
    CHECK(frame_cache_op(abi::CapPtr(frame), abi::CacheOp::kClean, 4000, 200).error ==
          Error::kRangeError);
    CHECK(frame_cache_op(abi::CapPtr(frame), abi::CacheOp::kClean, 0, 0).error ==
          Error::kRangeError);
    CHECK(frame_cache_op(abi::CapPtr(frame), static_cast<abi::CacheOp>(9), 0, 64).error ==
          Error::kInvalidArgument);
    // Invalidating needs a writable capability.
    uint64_t ro = new_slot();
    CHECK(cnode_copy(kRootCNode, ro, kRootDepth, kRootCNode, frame, kRootDepth, abi::kRightRead)
              .ok());
    constexpr uint64_t kVa2 = kVa + 0x1000;
    CHECK(frame_map(abi::CapPtr(ro), kOwnVSpace, kVa2, abi::kMapRead, abi::MapAttributes::kCached)
              .ok());
    CHECK(frame_cache_op(abi::CapPtr(ro), abi::CacheOp::kInvalidate, 0, 64).error ==
          Error::kInvalidCapability);
    CHECK(frame_cache_op(abi::CapPtr(ro), abi::CacheOp::kClean, 0, 64).ok());
    // A stale capability (its mapping removed by unmapping through the original) is refused.
    CHECK(frame_unmap(abi::CapPtr(frame)).ok());
    CHECK(frame_cache_op(abi::CapPtr(frame), abi::CacheOp::kClean, 0, 64).error ==
          Error::kIllegalOperation);
}

USER_TEST(vspace, frames_of_every_size_until_memory_runs_out) {
    constexpr uint64_t kBase = 0x72'0000'0000;
    uint64_t ut = new_untyped(23);  // 8 MiB: some 2 MiB frames, the rest 4 KiB
    CHECK(ut != 0);
    CHECK(map_tables(kOwnVSpace, kBase));
    // Two 2 MiB frames at 2 MiB-aligned addresses in the same 1 GiB region.
    uint64_t mapped = 0;
    for (unsigned i = 0; i < 2; ++i) {
        uint64_t large = make_objects(ut, ObjectType::kFrame2M, 0);
        CHECK(large != 0);
        uint64_t va = kBase + (uint64_t{4} + i) * 0x20'0000;
        CHECK(frame_map(abi::CapPtr(large), kOwnVSpace, va, kRW, abi::MapAttributes::kCached).ok());
        auto* p = reinterpret_cast<volatile uint64_t*>(va);
        CHECK_EQ(p[0], uint64_t{0});
        CHECK_EQ(p[0x20'0000 / 8 - 1], uint64_t{0});
        p[0] = 0xb16 + i;
        ++mapped;
    }
    // Then 4 KiB frames until the untyped is exhausted.
    unsigned small = 0;
    for (;;) {
        uint64_t slot = new_slot();
        InvocationResult r =
            untyped_retype(abi::CapPtr(ut), ObjectType::kFrame4K, 0, kRootCNode, 0, 0, slot, 1);
        if (r.error == Error::kNotEnoughMemory) {
            break;
        }
        CHECK(r.ok());
        uint64_t va = kBase + uint64_t{small} * 0x1000;
        if (va % 0x20'0000 == 0) {
            CHECK(map_tables(kOwnVSpace, va));  // a new 2 MiB region needs its own table
        }
        CHECK(frame_map(abi::CapPtr(slot), kOwnVSpace, va, kRW, abi::MapAttributes::kCached).ok());
        auto* p = reinterpret_cast<volatile uint64_t*>(va);
        CHECK_EQ(p[0], uint64_t{0});
        p[0] = 0x5a11 + small;
        ++small;
    }
    CHECK_EQ(small, 1024u);  // 8 MiB - 4 MiB of large frames = 1024 pages
    for (unsigned i = 0; i < small; ++i) {
        CHECK_EQ(*reinterpret_cast<volatile uint64_t*>(kBase + uint64_t{i} * 0x1000),
                 uint64_t{0x5a11 + i});
    }
    CHECK_EQ(*reinterpret_cast<volatile uint64_t*>(kBase + uint64_t{4} * 0x20'0000),
             uint64_t{0xb16});
    CHECK_EQ(mapped, uint64_t{2});
    CHECK(cnode_revoke(kRootCNode, ut, kRootDepth).ok());  // unmaps them all
    CHECK_EQ(translate(kBase).walked, ~uint64_t{0});
}

USER_TEST(vspace, asid_pool_exhaustion) {
    uint64_t ut = new_untyped(12);
    uint64_t pool = new_slot();
    CHECK(asid_control_make_pool(abi::CapPtr(abi::kSlotAsidControl), abi::CapPtr(ut), kRootCNode,
                                 pool, kRootDepth)
              .ok());
    uint64_t spaces = new_untyped(22);  // 1024 pages: enough VSpaces
    unsigned assigned = 0;
    for (unsigned i = 0; i < 600; ++i) {
        uint64_t vs = make_objects(spaces, ObjectType::kVSpace, 0);
        CHECK(vs != 0);
        InvocationResult r = asid_pool_assign(abi::CapPtr(pool), abi::CapPtr(vs));
        if (r.error == Error::kNotEnoughMemory) {
            break;
        }
        CHECK(r.ok());
        ++assigned;
    }
    CHECK_EQ(assigned, 512u);  // a pool holds 512 ASIDs (this one does not start at 0)
    CHECK(cnode_revoke(kRootCNode, spaces, kRootDepth).ok());
}

namespace {
// The PL011 on QEMU virt: data register and flag register (bit 5: transmit FIFO full).
constexpr uint64_t kUartPhysical = 0x0900'0000;

// A frame capability for the device page at physical, carved from the device untyped that
// covers it: child untypeds of decreasing size step the watermark to exactly that address.
uint64_t device_frame_at(uint64_t physical) {
    const abi::BootInfo* info = env().info;
    for (uint64_t i = 0; i < info->untyped_count; ++i) {
        const abi::UntypedDescriptor& d = info->untyped_list[i];
        uint64_t size = uint64_t{1} << d.size_bits;
        if (d.is_device == 0 || physical < d.physical_address ||
            physical >= d.physical_address + size) {
            continue;
        }
        uint64_t ut = info->untyped.start + i;
        uint64_t offset = physical - d.physical_address;
        for (unsigned bit = d.size_bits; bit-- > 12;) {
            if ((offset >> bit) & 1) {
                if (make_objects(ut, ObjectType::kUntyped, bit) == 0) {
                    return 0;
                }
            }
        }
        return make_objects(ut, ObjectType::kFrame4K, 0);
    }
    return 0;
}
}  // namespace

USER_TEST(vspace, user_prints_through_its_own_uart_mapping) {
    constexpr uint64_t kVa = 0x73'0000'0000;
    uint64_t frame = device_frame_at(kUartPhysical);
    CHECK(frame != 0);
    CHECK_EQ(frame_get_address(abi::CapPtr(frame)), kUartPhysical);
    CHECK(map_tables(kOwnVSpace, kVa));
    // Device memory maps only as device memory, never executable.
    CHECK(frame_map(abi::CapPtr(frame), kOwnVSpace, kVa, kRW, abi::MapAttributes::kCached).error ==
          Error::kInvalidArgument);
    CHECK(frame_map(abi::CapPtr(frame), kOwnVSpace, kVa, kRW, abi::MapAttributes::kDevice).ok());
    auto* dr = reinterpret_cast<volatile uint32_t*>(kVa);
    auto* fr = reinterpret_cast<volatile uint32_t*>(kVa + 0x18);
    for (const char* c = "user-uart: written through a user mapping\n"; *c != '\0'; ++c) {
        while ((*fr & (1u << 5)) != 0) {
        }
        *dr = static_cast<uint8_t>(*c);
    }
    // A device frame cannot be a thread's IPC buffer.
    uint64_t ut = new_untyped(12);
    uint64_t tcb = make_objects(ut, ObjectType::kTcb, 0);
    InvocationResult r = tcb_configure(abi::CapPtr(tcb), abi::CapPtr(0), kRootCNode, 0, kOwnVSpace,
                                       kVa, abi::CapPtr(frame));
    CHECK(r.error == Error::kInvalidCapability);
    // Nor can a device frame be copied from or into (a read of a device register has effects).
    uint64_t ram_ut = new_untyped(12);
    uint64_t ram = ram_ut == 0 ? 0 : make_objects(ram_ut, ObjectType::kFrame4K, 0);
    CHECK(ram != 0);
    CHECK(frame_copy(abi::CapPtr(ram), abi::CapPtr(frame)).error == Error::kInvalidCapability);
    CHECK(frame_copy(abi::CapPtr(frame), abi::CapPtr(ram)).error == Error::kInvalidCapability);
    CHECK(cnode_revoke(kRootCNode, ram_ut, kRootDepth).ok());
    CHECK(cnode_delete(kRootCNode, frame, kRootDepth).ok());
}

}  // namespace tessera::test

namespace tessera::test {
namespace {
volatile uint64_t g_pool_spins = 0;
void count_forever(uint64_t) {
    for (;;) {
        g_pool_spins = g_pool_spins + 1;
        sys::yield();
    }
}
}  // namespace

USER_TEST(vspace, deleting_asid_pool_stops_its_threads) {
    // A thread whose VSpace loses its ASID (the pool is deleted) must never run again on it.
    uint64_t pool = new_asid_pool();
    CHECK(pool != 0);
    uint64_t vs = new_shared_vspace(pool);
    CHECK(vs != 0);
    g_pool_spins = 0;
    TestThread th = start_thread(count_forever, 0, 1, 0, vs);
    (void)tcb_set_priority(abi::CapPtr(abi::kSlotInitThreadTcb),
                           abi::CapPtr(abi::kSlotInitThreadTcb), 1, 255);
    while (g_pool_spins < 10) {
        sys::yield();
    }
    CHECK(cnode_delete(kRootCNode, pool, kRootDepth).ok());
    uint64_t before = g_pool_spins;
    for (int i = 0; i < 50; ++i) {
        sys::yield();
    }
    (void)tcb_set_priority(abi::CapPtr(abi::kSlotInitThreadTcb),
                           abi::CapPtr(abi::kSlotInitThreadTcb), 255, 255);
    CHECK(g_pool_spins <= before + 1);
    stop_thread(th);
}

}  // namespace tessera::test

namespace tessera::test {

// VSpaceMapFrames maps a run of frames with one call and VSpaceUnmapFrames takes them out;
// the contents travel with the frames.
USER_TEST(vspace, frame_runs_map_and_unmap_together) {
    constexpr uint64_t kVa = 0x7a'0000'0000;
    constexpr uint64_t kCount = 8;
    CHECK(map_tables(kOwnVSpace, kVa));
    uint64_t ut = new_untyped(15);
    uint64_t frames = ut == 0 ? 0 : make_objects(ut, ObjectType::kFrame4K, 0, kCount);
    CHECK(frames != 0);
    CHECK(vspace_map_frames(kOwnVSpace, abi::CapPtr(frames), kCount, kVa, kRW,
                            abi::MapAttributes::kCached)
              .ok());
    auto* words = reinterpret_cast<volatile uint64_t*>(kVa);
    for (uint64_t i = 0; i < kCount; ++i) {
        CHECK_EQ(translate(kVa + i * 0x1000 + 8).walked,
                 frame_get_address(abi::CapPtr(frames + i)) + 8);
        CHECK_EQ(words[i * 512], uint64_t{0});
        words[i * 512] = 0xbee0 + i;
    }
    CHECK(vspace_unmap_frames(kOwnVSpace, abi::CapPtr(frames), kCount).ok());
    for (uint64_t i = 0; i < kCount; ++i) {
        CHECK_EQ(translate(kVa + i * 0x1000).hardware, ~uint64_t{0});
    }
    // Unmapping again is harmless; the frames map again one page further on, in order.
    CHECK(vspace_unmap_frames(kOwnVSpace, abi::CapPtr(frames), kCount).ok());
    CHECK(vspace_map_frames(kOwnVSpace, abi::CapPtr(frames), kCount, kVa + 0x1000, abi::kMapRead,
                            abi::MapAttributes::kCached)
              .ok());
    for (uint64_t i = 0; i < kCount; ++i) {
        CHECK_EQ(words[(i + 1) * 512], 0xbee0 + i);
    }
    // Deleting a frame of the run unmaps that page alone.
    CHECK(cnode_delete(kRootCNode, frames + 3, kRootDepth).ok());
    CHECK_EQ(translate(kVa + uint64_t{4} * 0x1000).hardware, ~uint64_t{0});
    CHECK_EQ(words[size_t{5} * 512], uint64_t{0xbee4});
    // The run with a hole in it is refused as a whole: the hole is frame 3.
    InvocationResult r = vspace_unmap_frames(kOwnVSpace, abi::CapPtr(frames), kCount);
    CHECK(r.error == Error::kInvalidCapability);
    CHECK_EQ(r.detail[1], uint64_t{3});
    CHECK_EQ(words[size_t{1} * 512], uint64_t{0xbee0});
    CHECK(vspace_unmap_frames(kOwnVSpace, abi::CapPtr(frames), 3).ok());
    CHECK(vspace_unmap_frames(kOwnVSpace, abi::CapPtr(frames + 4), kCount - 4).ok());
    CHECK_EQ(translate(kVa + 0x1000).hardware, ~uint64_t{0});
}

// Every refusal is checked before anything is written: after each, the run maps whole.
USER_TEST(vspace, bad_frame_runs_refused_whole) {
    constexpr uint64_t kVa = 0x7c'0000'0000;
    constexpr uint64_t kCount = 4;
    CHECK(map_tables(kOwnVSpace, kVa));
    uint64_t ut = new_untyped(14);
    uint64_t frames = ut == 0 ? 0 : make_objects(ut, ObjectType::kFrame4K, 0, kCount);
    CHECK(frames != 0);
    const abi::CapPtr first(frames);
    auto map = [&](uint64_t count, uint64_t va, uint64_t rights) {
        return vspace_map_frames(kOwnVSpace, first, count, va, rights, abi::MapAttributes::kCached);
    };
    auto nothing_mapped = [&] {
        for (uint64_t i = 0; i < kCount; ++i) {
            if (identify(abi::CapPtr(frames + i)).data != 0 ||
                translate(kVa + i * 0x1000).walked != ~uint64_t{0}) {
                return false;
            }
        }
        return true;
    };
    InvocationResult r = map(0, kVa, kRW);
    CHECK(r.error == Error::kRangeError);
    r = map(abi::kMaxFramesPerCall + 1, kVa, kRW);
    CHECK(r.error == Error::kRangeError);
    // A run may not cross into the next last-level table.
    r = map(kCount, kVa + 0x200000 - 0x2000, kRW);
    CHECK(r.error == Error::kRangeError);
    CHECK_EQ(r.detail[1], uint64_t{2});
    r = map(kCount, kVa, kRW | abi::kMapExecute);
    CHECK(r.error == Error::kInvalidArgument);  // W+X
    CHECK_EQ(r.detail[0], uint64_t{3});
    r = map(kCount, kVa + 8, kRW);
    CHECK(r.error == Error::kAlignmentError);
    r = map(kCount, 0xffff'0000'0000'0000, kRW);
    CHECK(r.error == Error::kInvalidArgument);
    r = map(kCount, 0x7d'0000'0000, kRW);
    CHECK(r.error == Error::kFailedLookup);  // no tables there
    CHECK(nothing_mapped());
    // A page already in use at index 2.
    uint64_t other = new_frame();
    CHECK(frame_map(abi::CapPtr(other), kOwnVSpace, kVa + 0x2000, kRW, abi::MapAttributes::kCached)
              .ok());
    r = map(kCount, kVa, kRW);
    CHECK(r.error == Error::kDeleteFirst);
    CHECK_EQ(r.detail[1], uint64_t{2});
    CHECK(frame_unmap(abi::CapPtr(other)).ok());
    CHECK(nothing_mapped());
    // A frame already mapped elsewhere (index 1), read-only (index 3), not a frame, the end of
    // the CNode.
    CHECK(frame_map(abi::CapPtr(frames + 1), kOwnVSpace, kVa + 0x10000, kRW,
                    abi::MapAttributes::kCached)
              .ok());
    r = map(kCount, kVa, kRW);
    CHECK(r.error == Error::kInvalidCapability);
    CHECK_EQ(r.detail[1], uint64_t{1});
    CHECK(frame_unmap(abi::CapPtr(frames + 1)).ok());
    uint64_t ro = new_slot();
    CHECK(cnode_move(kRootCNode, ro, kRootDepth, kRootCNode, frames + 3, kRootDepth).ok());
    CHECK(
        cnode_copy(kRootCNode, frames + 3, kRootDepth, kRootCNode, ro, kRootDepth, abi::kRightRead)
            .ok());
    r = map(kCount, kVa, kRW);
    CHECK(r.error == Error::kInvalidCapability);
    CHECK_EQ(r.detail[1], uint64_t{3});
    CHECK(nothing_mapped());
    CHECK(map(kCount, kVa, abi::kMapRead).ok());  // read-only is within every frame's rights
    CHECK(vspace_unmap_frames(kOwnVSpace, first, kCount).ok());
    r = vspace_map_frames(kOwnVSpace, abi::CapPtr(asid_pool()), 1, kVa, kRW,
                          abi::MapAttributes::kCached);
    CHECK(r.error == Error::kInvalidCapability);
    r = vspace_map_frames(kOwnVSpace, abi::CapPtr((uint64_t{1} << abi::kRootCNodeRadix) - 1), 2,
                          kVa, kRW, abi::MapAttributes::kCached);
    CHECK(r.error == Error::kInvalidCapability);
    // Mixed sizes: a 2 MiB frame after 4 KiB ones (made from the shared pool, returned whole).
    uint64_t pool = shared_pool();
    uint64_t large = make_objects(pool, ObjectType::kFrame2M, 0);
    CHECK(large != 0);
    uint64_t mixed = new_slot();
    uint64_t mixed_large = new_slot();
    CHECK(mixed_large == mixed + 1);
    CHECK(cnode_copy(kRootCNode, mixed, kRootDepth, kRootCNode, frames, kRootDepth, abi::kRightsAll)
              .ok());
    CHECK(cnode_move(kRootCNode, mixed_large, kRootDepth, kRootCNode, large, kRootDepth).ok());
    r = vspace_map_frames(kOwnVSpace, abi::CapPtr(mixed), 2, kVa, abi::kMapRead,
                          abi::MapAttributes::kCached);
    CHECK(r.error == Error::kInvalidCapability);
    CHECK_EQ(r.detail[1], uint64_t{1});
    CHECK(cnode_revoke(kRootCNode, pool, kRootDepth).ok());
    // A VSpace without an ASID maps nothing; neither does a run mapped in another VSpace unmap.
    uint64_t vut = new_untyped(12);
    uint64_t bare = vut == 0 ? 0 : make_objects(vut, ObjectType::kVSpace, 0);
    CHECK(bare != 0);
    r = vspace_map_frames(abi::CapPtr(bare), first, kCount, kVa, kRW, abi::MapAttributes::kCached);
    CHECK(r.error == Error::kInvalidCapability);
    CHECK_EQ(r.detail[0], uint64_t{0});
    uint64_t vs = new_vspace();
    CHECK(map_tables(abi::CapPtr(vs), kVa));
    CHECK(vspace_map_frames(abi::CapPtr(vs), first, 2, kVa, abi::kMapRead,
                            abi::MapAttributes::kCached)
              .ok());
    r = vspace_unmap_frames(kOwnVSpace, first, 2);
    CHECK(r.error == Error::kInvalidCapability);
    CHECK_EQ(r.detail[1], uint64_t{0});
    CHECK(vspace_unmap_frames(abi::CapPtr(vs), first, 2).ok());
    CHECK(nothing_mapped());
}

// Two 2 MiB frames as one run (from the shared pool, returned whole).
USER_TEST(vspace, large_frame_runs) {
    constexpr uint64_t kVa = 0x7e'0000'0000;
    uint64_t pool = shared_pool();
    uint64_t large = make_objects(pool, ObjectType::kFrame2M, 0, 2);
    CHECK(large != 0);
    // Only the tables down to level 2: the frames are its blocks.
    InvocationResult r;
    for (unsigned tables = 0; tables < 3; ++tables) {
        r = vspace_map_frames(kOwnVSpace, abi::CapPtr(large), 2, kVa, kRW,
                              abi::MapAttributes::kCached);
        if (r.error != Error::kFailedLookup) {
            break;
        }
        CHECK(r.detail[1] <= 2);  // never a level-3 table
        uint64_t ut = new_untyped(12);
        uint64_t table = ut == 0 ? 0 : make_objects(ut, ObjectType::kPageTable, 0);
        CHECK(table != 0);
        CHECK(page_table_map(abi::CapPtr(table), kOwnVSpace, kVa).ok());
    }
    CHECK(r.ok());
    auto* words = reinterpret_cast<volatile uint64_t*>(kVa);
    words[0] = 1;
    words[(2 << 20) / 8] = 2;
    CHECK_EQ(translate(kVa + (2 << 20)).walked, frame_get_address(abi::CapPtr(large + 1)));
    CHECK(vspace_unmap_frames(kOwnVSpace, abi::CapPtr(large), 2).ok());
    CHECK_EQ(translate(kVa).hardware, ~uint64_t{0});
    CHECK(cnode_revoke(kRootCNode, pool, kRootDepth).ok());
}

}  // namespace tessera::test

namespace tessera::test {
namespace {

uint64_t g_tables_asked = 0;  // tables the manager under test asked for

uint64_t tables_from_pool(void* /*context*/, uint64_t count) {
    g_tables_asked += count;
    return make_objects(env().pool.value(), ObjectType::kPageTable, 0, count);
}

uint64_t no_tables(void* /*context*/, uint64_t /*count*/) {
    return 0;
}

}  // namespace

// The runtime's VSpace manager: a run of 300 frames mapped across a last-level table boundary
// with the tables made on the way, reservations respected, map_anywhere, unmap and release.
USER_TEST(vspace, manager_maps_runs_with_their_tables) {
    constexpr uint64_t kLow = 0x6100'0000'0000;
    constexpr uint64_t kHigh = 0x6100'4000'0000;  // 1 GiB
    constexpr uint64_t kCount = 300;
    VSpaceManager m;
    g_tables_asked = 0;
    CHECK(m.init(kOwnVSpace, TableSource{&tables_from_pool, nullptr}, kLow, kHigh));
    uint64_t ut = shared_pool();  // left without children at the end
    uint64_t frames = make_objects(ut, ObjectType::kFrame4K, 0, 256);
    uint64_t more = frames == 0 ? 0 : make_objects(ut, ObjectType::kFrame4K, 0, kCount - 256);
    CHECK(frames != 0 && more == frames + 256);
    // 100 pages below a 2 MiB boundary and 200 above it: two last-level tables.
    const uint64_t base = kLow + (uint64_t{2} << 20) - uint64_t{100} * 0x1000;
    InvocationResult r = m.map(abi::CapPtr(frames), kCount, base, kRW);
    CHECK(r.error == Error::kInvalidArgument);  // not reserved yet
    CHECK_EQ(r.detail[0], uint64_t{2});
    CHECK(m.reserve(base, kCount * 0x1000));
    CHECK(!m.reserve(base + 0x1000, 0x1000));  // taken
    CHECK(m.map(abi::CapPtr(frames), kCount, base, kRW).ok());
    CHECK_EQ(m.tables_made(), g_tables_asked);
    CHECK(m.tables_made() >= 2);  // at least the two last-level tables
    auto* words = reinterpret_cast<volatile uint64_t*>(base);
    for (uint64_t i = 0; i < kCount; ++i) {
        words[i * 512] = 0xa000 + i;
        CHECK_EQ(translate(base + i * 0x1000).walked, frame_get_address(abi::CapPtr(frames + i)));
    }
    // Elsewhere in the window: the next free 2 MiB-aligned range after the reservation.
    uint64_t frame = new_frame();
    uint64_t va = m.map_anywhere(abi::CapPtr(frame), 1, abi::kMapRead);
    CHECK(va >= kLow && va < kHigh && (va < base || va >= base + kCount * 0x1000));
    CHECK_EQ(translate(va).walked, frame_get_address(abi::CapPtr(frame)));
    uint64_t guarded = m.reserve_any(0x4000, 0x10000, 0x10000);
    CHECK(guarded != 0 && guarded % 0x10000 == 0);
    CHECK(!m.reserve(guarded - 0x1000, 0x1000));  // its guard is reserved too
    // Unmapped and released, the same frames map again and still hold what was written.
    CHECK(m.unmap(abi::CapPtr(frames), kCount).ok());
    CHECK_EQ(translate(base).hardware, ~uint64_t{0});
    CHECK(m.release(base, kCount * 0x1000));
    uint64_t again = m.map_anywhere(abi::CapPtr(frames), kCount, abi::kMapRead);
    CHECK(again != 0);
    auto* back = reinterpret_cast<volatile uint64_t*>(again);
    for (uint64_t i = 0; i < kCount; ++i) {
        CHECK_EQ(back[i * 512], 0xa000 + i);
    }
    CHECK(m.unmap(abi::CapPtr(frames), kCount).ok());
    CHECK(m.unmap(abi::CapPtr(frame), 1).ok());
    // A table source that has nothing: NotEnoughMemory, nothing mapped.
    VSpaceManager starved;
    CHECK(starved.init(kOwnVSpace, TableSource{&no_tables, nullptr}, 0x6200'0000'0000,
                       0x6200'4000'0000));
    CHECK_EQ(starved.map_anywhere(abi::CapPtr(frame), 1, abi::kMapRead), uint64_t{0});
    CHECK(identify(abi::CapPtr(frame)).data == 0);          // left unmapped
    CHECK_EQ(starved.free_bytes(), uint64_t{0x4000'0000});  // and the range released
    CHECK(cnode_revoke(kRootCNode, ut, kRootDepth).ok());
}

}  // namespace tessera::test

namespace tessera::test {
namespace {

constexpr uint64_t kRemapVa = 0x79'0000'0000;

void write_remapped(uint64_t) {
    *reinterpret_cast<volatile uint64_t*>(kRemapVa) = 1;
}

// Runs a thread that writes the first remapped page; true if its write faulted as a permission
// fault on that address (the fault is taken and the thread stopped).
bool write_faults() {
    uint64_t ut = new_untyped(12);
    uint64_t ep = ut == 0 ? 0 : make_objects(ut, ObjectType::kEndpoint, 0);
    if (ep == 0) {
        return false;
    }
    TestThread th = start_thread(write_remapped, 0, kTestPriority, ep);
    let_others_run();
    sys::Message m;
    sys::nb_recv(abi::CapPtr(ep), m);
    const bool faulted = m.info.label() == static_cast<uint64_t>(abi::FaultType::kVmFault) &&
                         m.mr[0] == kRemapVa &&
                         m.mr[2] == static_cast<uint64_t>(abi::FaultAccess::kWrite) &&
                         (m.mr[3] & 0x3c) == 0x0c;  // permission fault
    stop_thread(th);
    return faulted;
}

}  // namespace

// Changing the rights of existing mappings (what copy-on-write needs): a run made read-only
// keeps its contents and refuses writes; one page made writable again takes them; W+X, rights
// beyond the capability's, a frame not mapped or mapped elsewhere are refused, all or nothing.
USER_TEST(vspace, remap_changes_rights_of_existing_mappings) {
    constexpr uint64_t kCount = 4;
    CHECK(map_tables(kOwnVSpace, kRemapVa));
    uint64_t ut = new_untyped(15);
    uint64_t frames = ut == 0 ? 0 : make_objects(ut, ObjectType::kFrame4K, 0, kCount + 1);
    CHECK(frames != 0);
    CHECK(vspace_map_frames(kOwnVSpace, abi::CapPtr(frames), kCount, kRemapVa, kRW,
                            abi::MapAttributes::kCached)
              .ok());
    auto* words = reinterpret_cast<volatile uint64_t*>(kRemapVa);
    for (uint64_t i = 0; i < kCount; ++i) {
        words[i * 512] = 0xc0a0 + i;
    }
    CHECK(!write_faults());  // writable: the thread's write went through
    CHECK(vspace_remap_frames(kOwnVSpace, abi::CapPtr(frames), kCount, abi::kMapRead).ok());
    for (uint64_t i = 1; i < kCount; ++i) {
        CHECK_EQ(words[i * 512], 0xc0a0 + i);  // same frames, same contents
    }
    CHECK(write_faults());
    // Refusals leave every mapping as it is.
    InvocationResult r = vspace_remap_frames(kOwnVSpace, abi::CapPtr(frames), kCount,
                                             abi::kMapRead | abi::kMapWrite | abi::kMapExecute);
    CHECK(r.error == Error::kInvalidArgument);
    r = vspace_remap_frames(kOwnVSpace, abi::CapPtr(frames), kCount + 1, kRW);  // last unmapped
    CHECK(r.error == Error::kInvalidCapability);
    CHECK_EQ(r.detail[1], kCount);
    CHECK(frame_remap(abi::CapPtr(frames + kCount), kRW).error == Error::kInvalidCapability);
    uint64_t other = new_vspace();
    CHECK(other != 0);
    r = vspace_remap_frames(abi::CapPtr(other), abi::CapPtr(frames), kCount, kRW);
    CHECK(r.error == Error::kInvalidCapability);  // mapped, but in another VSpace
    CHECK(write_faults());
    // A read-only capability to the first frame cannot make its mapping writable.
    uint64_t read_only = new_slot();
    CHECK(cnode_mint(kRootCNode, read_only, kRootDepth, kRootCNode, frames, kRootDepth,
                     abi::kRightRead, 0)
              .ok());
    CHECK(frame_remap(abi::CapPtr(read_only), kRW).error == Error::kInvalidCapability);
    // The copy is not the mapped capability: only the one that mapped it may remap it.
    CHECK(frame_remap(abi::CapPtr(frames), kRW).ok());
    CHECK(!write_faults());
    CHECK_EQ(words[0], uint64_t{1});  // the thread's write
    CHECK(vspace_unmap_frames(kOwnVSpace, abi::CapPtr(frames), kCount).ok());
    CHECK(frame_remap(abi::CapPtr(frames), abi::kMapRead).error == Error::kInvalidCapability);
}

}  // namespace tessera::test

namespace tessera::test {

// FrameCopy (what a copy-on-write pager uses): the destination takes the source's contents
// through the kernel's mappings, neither mapped; refused without the write right on the
// destination or the read right on the source, for frames of different sizes, for a source
// that is not a frame, and for device frames; a refusal changes nothing.
USER_TEST(vspace, frame_copy_copies_contents_within_the_rights) {
    constexpr uint64_t kVa = 0x79'0040'0000;
    CHECK(map_tables(kOwnVSpace, kVa));
    uint64_t ut = new_untyped(16);
    uint64_t frames = ut == 0 ? 0 : make_objects(ut, ObjectType::kFrame4K, 0, 3);
    CHECK(frames != 0);
    const uint64_t source = frames;
    const uint64_t dest = frames + 1;
    CHECK(
        vspace_map_frames(kOwnVSpace, abi::CapPtr(source), 2, kVa, kRW, abi::MapAttributes::kCached)
            .ok());
    auto* from = reinterpret_cast<volatile uint64_t*>(kVa);
    auto* to = reinterpret_cast<volatile uint64_t*>(kVa + 0x1000);
    for (uint64_t i = 0; i < 512; ++i) {
        from[i] = 0x5eed'0000 + i;
    }
    // Read-only copies of each: the destination's refuses, the source's is enough.
    uint64_t ro_dest = new_slot();
    uint64_t ro_source = new_slot();
    uint64_t wo_source = new_slot();
    CHECK(cnode_mint(kRootCNode, ro_dest, kRootDepth, kRootCNode, dest, kRootDepth, abi::kRightRead,
                     0)
              .ok());
    CHECK(cnode_mint(kRootCNode, ro_source, kRootDepth, kRootCNode, source, kRootDepth,
                     abi::kRightRead, 0)
              .ok());
    CHECK(cnode_mint(kRootCNode, wo_source, kRootDepth, kRootCNode, source, kRootDepth,
                     abi::kRightWrite, 0)
              .ok());
    CHECK(frame_copy(abi::CapPtr(ro_dest), abi::CapPtr(source)).error == Error::kInvalidCapability);
    CHECK(frame_copy(abi::CapPtr(dest), abi::CapPtr(wo_source)).error == Error::kInvalidCapability);
    CHECK(frame_copy(abi::CapPtr(dest), abi::CapPtr(kOwnVSpace)).error ==
          Error::kInvalidCapability);  // not a frame
    CHECK_EQ(to[7], uint64_t{0});      // refused: untouched
    CHECK(frame_copy(abi::CapPtr(dest), abi::CapPtr(ro_source)).ok());
    for (uint64_t i = 0; i < 512; ++i) {
        CHECK_EQ(to[i], 0x5eed'0000 + i);
    }
    // An unmapped destination takes a copy too.
    CHECK(frame_copy(abi::CapPtr(frames + 2), abi::CapPtr(source)).ok());
    CHECK(vspace_unmap_frames(kOwnVSpace, abi::CapPtr(source), 2).ok());
    CHECK(frame_map(abi::CapPtr(frames + 2), kOwnVSpace, kVa, abi::kMapRead,
                    abi::MapAttributes::kCached)
              .ok());
    CHECK_EQ(from[511], uint64_t{0x5eed'0000 + 511});
    CHECK(frame_unmap(abi::CapPtr(frames + 2)).ok());
    // Sizes must match: a 2 MiB frame and a 4 KiB one.
    uint64_t big_ut = new_untyped(21);
    uint64_t big = big_ut == 0 ? 0 : make_objects(big_ut, ObjectType::kFrame2M, 0);
    if (big != 0) {
        CHECK(frame_copy(abi::CapPtr(big), abi::CapPtr(source)).error == Error::kInvalidCapability);
        CHECK(frame_copy(abi::CapPtr(dest), abi::CapPtr(big)).error == Error::kInvalidCapability);
        CHECK(cnode_revoke(kRootCNode, big_ut, kRootDepth).ok());
    }
    CHECK(cnode_revoke(kRootCNode, ut, kRootDepth).ok());
}

}  // namespace tessera::test
