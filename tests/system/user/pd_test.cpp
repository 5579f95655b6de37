// Protection domains created at run time from the image archive: the seL4 dynamic-3 scenario
// (badged endpoint minted into the child's CSpace, the child calls, the parent sees the badge
// and replies), exit, teardown with every byte returned, rejected images and rollback, and a
// program written in C against the C library.
#include "abi/fault.hpp"
#include "abi/process.hpp"
#include "service/service_protocol.hpp"
#include "tessera/debug_print.hpp"
#include "tessera/fault.hpp"
#include "tessera/pd_builder.hpp"
#include "tessera/service_call.hpp"
#include "tessera/syscall.hpp"
#include "user_test.hpp"

namespace tessera::test {
namespace {

using abi::ObjectType;

BuilderEnvironment g_loader;
bool g_loader_ready = false;

// The builder's environment: its own ASID pool and slots above the ones the other cases use.
bool loader_ready() {
    if (g_loader_ready) {
        return true;
    }
    uint64_t pool_ut = new_untyped(12);
    uint64_t pool = new_slot();
    if (!asid_control_make_pool(abi::CapPtr(abi::kSlotAsidControl), abi::CapPtr(pool_ut),
                                kRootCNode, pool, kRootDepth)
             .ok()) {
        return false;
    }
    g_loader.asid_pool = abi::CapPtr(pool);
    // Only for what the builder keeps: the scratch tables and the bookkeeping space.
    static UntypedAllocator scratch;
    if (!scratch.init(kRootCNode, new_untyped(19), 19, &env().slots)) {
        return false;
    }
    g_loader.memory = &scratch;
    g_loader.slots = &env().slots;
    g_loader_ready = pd_builder_init(g_loader).ok();
    return g_loader_ready;
}

uint64_t new_endpoint() {
    uint64_t ut = new_untyped(12);
    return make_objects(ut, ObjectType::kEndpoint, 0);
}

// An untyped of 2^bits the PDs of one case draw from; "free" means it has no children.
UntypedAllocator g_memory;
uint8_t g_pool_bits[SlotAllocator::kMaxSlots] = {};

uint64_t budget_pool(unsigned bits) {
    uint64_t pool = new_untyped(bits);
    g_pool_bits[pool] = static_cast<uint8_t>(bits);
    return pool;
}

// The builder takes its budgets from pool (a buddy allocator over it, fresh for each case).
void use_pool(uint64_t pool) {
    (void)g_memory.init(kRootCNode, pool, g_pool_bits[pool], &env().slots);
    g_loader.memory = &g_memory;
}

// The pool most cases share (see user_test.hpp); the budgets' allocator needs its size.
uint64_t pd_pool() {
    uint64_t pool = test::shared_pool();
    g_pool_bits[pool] = static_cast<uint8_t>(kSharedPoolBits);
    return pool;
}

// Free root slots once the budgets' allocator has merged its free blocks (it merges lazily; a
// split holds two slots).
uint64_t settled_free_slots() {
    (void)g_memory.whole();
    return env().slots.free_count();
}

bool pool_is_whole(uint64_t pool, unsigned bits) {
    if (!g_memory.whole() || g_memory.free_bytes() != g_memory.size()) {
        return false;
    }
    // With no children left the untyped restarts at 0: one object of its full size fits.
    uint64_t slot = new_slot();
    if (!untyped_retype(abi::CapPtr(pool), ObjectType::kUntyped, bits, kRootCNode, 0, 0, slot, 1)
             .ok()) {
        return false;
    }
    return cnode_delete(kRootCNode, slot, kRootDepth).ok() &&
           cnode_revoke(kRootCNode, pool, kRootDepth).ok();
}

// The configuration of a child that calls ep (with badge) when it starts: argv is its name and
// `argument` in decimal.
struct Child {
    char number[24] = {};
    StringView arguments[2];
    PdConfig config;

    Child(const char* name, uint64_t argument, uint64_t ep, uint64_t badge) {
        char digits[24];
        size_t n = 0;
        do {
            digits[n++] = static_cast<char>('0' + argument % 10);
            argument /= 10;
        } while (argument != 0);
        for (size_t i = 0; i < n; ++i) {
            number[i] = digits[n - 1 - i];
        }
        arguments[0] = name;
        arguments[1] = StringView(number, n);
        config.name = name;
        config.arguments = arguments;
        config.parent_endpoint = ep;
        config.badge = badge;
    }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
};

// Maps `count` frames from `first` into the test program's own VSpace at va (tables made as
// needed) and returns the words there.
volatile uint64_t* map_own(uint64_t first, uint64_t count, uint64_t va) {
    for (uint64_t i = 0; i < count; ++i) {
        for (;;) {
            InvocationResult r = frame_map(
                abi::CapPtr(first + i), abi::CapPtr(abi::kSlotInitThreadVSpace), va + i * 4096,
                abi::kMapRead | abi::kMapWrite, abi::MapAttributes::kCached);
            if (r.error != abi::Error::kFailedLookup) {
                if (!r.ok()) {
                    return nullptr;
                }
                break;
            }
            uint64_t table = make_objects(new_untyped(12), ObjectType::kPageTable, 0);
            if (table == 0 ||
                !page_table_map(abi::CapPtr(table), abi::CapPtr(abi::kSlotInitThreadVSpace),
                                va + i * 4096)
                     .ok()) {
                return nullptr;
            }
        }
    }
    return reinterpret_cast<volatile uint64_t*>(va);
}

// Receives the next message on ep and checks it is the exit report with `status`.
bool exits_with(uint64_t ep, uint64_t status) {
    sys::Message m;
    sys::recv(abi::CapPtr(ep), m);
    return m.info.label() == static_cast<uint64_t>(abi::ProcessLabel::kExit) && m.mr[0] == status;
}

// The probe program's checksum of its argv (see user/programs/probe).
uint64_t argv_checksum(std::span<const StringView> arguments) {
    uint64_t sum = 0;
    for (StringView a : arguments) {
        for (char c : a) {
            sum = sum * 31 + static_cast<uint8_t>(c);
        }
    }
    return sum;
}

}  // namespace

USER_TEST(pd, archive_lists_programs) {
    CHECK(env().archive != nullptr);
    CHECK(archive_image("hello").size() > 0);
    CHECK(archive_image("no-such-program").empty());
}

USER_TEST(pd, spawn_call_with_badge_reply_exit_teardown) {
    CHECK(loader_ready());
    uint64_t pool = pd_pool();
    use_pool(pool);
    uint64_t ep = new_endpoint();
    Child child("hello", 41, ep, 0xd1);
    auto pd = spawn_pd(g_loader, archive_image("hello"), child.config);
    CHECK(pd.ok());
    // The child calls its parent: badge, label and its fresh .data / .bss.
    sys::Message m;
    sys::recv(abi::CapPtr(ep), m);
    CHECK_EQ(m.badge_or_cap, uint64_t{0xd1});
    CHECK_EQ(m.info.label(), uint64_t{0x4e110});
    CHECK_EQ(m.mr[0], uint64_t{42});
    CHECK_EQ(m.mr[1], uint64_t{5});
    CHECK_EQ(m.mr[2], uint64_t{0});
    m.info = abi::MessageInfo(0, 0, 0, 1);
    m.mr[0] = 77;
    sys::reply(m);
    // Its exit report.
    sys::recv(abi::CapPtr(ep), m);
    CHECK_EQ(m.info.label(), static_cast<uint64_t>(abi::ProcessLabel::kExit));
    CHECK_EQ(m.mr[0], uint64_t{77});
    PdHandle handle = pd.value();
    CHECK(handle.pages >= 4);
    destroy_pd(g_loader, handle);
    CHECK(pool_is_whole(pool, kSharedPoolBits));  // every byte came back
}

USER_TEST(pd, malformed_images_are_rejected_without_allocating) {
    CHECK(loader_ready());
    uint64_t pool = budget_pool(20);
    use_pool(pool);
    std::span<const uint8_t> hello = archive_image("hello");
    CHECK(hello.size() > 64);
    PdConfig options;
    auto truncated = spawn_pd(g_loader, hello.first(20), options);
    CHECK(!truncated.ok());
    CHECK(truncated.error().step == SpawnStep::kParse);
    CHECK(truncated.error().elf_error == elf::ElfError::kTruncatedHeader);
    static uint8_t not_elf[128] = {'N', 'O', 'T', ' ', 'E', 'L', 'F'};
    auto bad_magic = spawn_pd(g_loader, std::span<const uint8_t>(not_elf), options);
    CHECK(!bad_magic.ok());
    CHECK(bad_magic.error().elf_error == elf::ElfError::kBadMagic);
    CHECK(pool_is_whole(pool, 20));
}

USER_TEST(pd, out_of_memory_half_way_rolls_back) {
    CHECK(loader_ready());
    // A budget pool too small for the whole PD: the spawn fails and returns everything.
    uint64_t pool = budget_pool(14);
    use_pool(pool);
    uint64_t slots_before = env().slots.free_count();
    PdConfig options;
    auto pd = spawn_pd(g_loader, archive_image("hello"), options);
    CHECK(!pd.ok());
    CHECK(pd.error().step == SpawnStep::kBudget);
    CHECK_EQ(settled_free_slots(), slots_before);
    CHECK(pool_is_whole(pool, 14));
}

USER_TEST(pd, thousand_spawn_and_kill_cycles_return_all_memory) {
    CHECK(loader_ready());
    uint64_t pool = pd_pool();
    use_pool(pool);
    uint64_t ep = new_endpoint();
    uint64_t slots_before = env().slots.free_count();
    for (unsigned i = 0; i < 1000; ++i) {
        Child child("hello", i, ep, 1 + i);
        auto pd = spawn_pd(g_loader, archive_image("hello"), child.config);
        if (!pd.ok()) {
            t.fail("spawn {} failed while {}", i, to_string(pd.error().step));
            return;
        }
        sys::Message m;
        sys::recv(abi::CapPtr(ep), m);  // its call: leave it unanswered and kill it
        if (m.badge_or_cap != 1 + i || m.mr[0] != i + 1 || m.mr[1] != 5) {
            t.fail("instance {}: badge {} words {} {}", i, m.badge_or_cap, m.mr[0], m.mr[1]);
            return;
        }
        PdHandle handle = pd.value();
        destroy_pd(g_loader, handle);
    }
    CHECK_EQ(settled_free_slots(), slots_before);
    CHECK(pool_is_whole(pool, kSharedPoolBits));
}

// The creator's own slots hold a PD's memory blocks, not its pages: a PD with a 2 MiB heap
// (512 frames and their tables) costs the creator no more slots than one with none, and the
// bookkeeping space reaches every capability of it.
USER_TEST(pd, creator_slots_do_not_grow_with_the_pd) {
    CHECK(loader_ready());
    uint64_t pool = pd_pool();
    use_pool(pool);
    uint64_t ep = new_endpoint();
    uint64_t used[2] = {};
    for (unsigned big = 0; big < 2; ++big) {
        const StringView arguments[] = {"probe", "args"};
        PdConfig config;
        config.name = "probe";
        config.arguments = arguments;
        config.parent_endpoint = ep;
        config.heap_size = big != 0 ? uint64_t{2} << 20 : 0;
        const uint64_t before = settled_free_slots();
        auto pd = spawn_pd(g_loader, archive_image("probe"), config);
        if (!pd.ok()) {
            t.fail("spawn failed while {}: {}", to_string(pd.error().step), detail(pd.error()));
            return;
        }
        PdHandle handle = pd.value();
        used[big] = before - env().slots.free_count();
        CHECK(handle.pages >= (big != 0 ? 512u : 1u));
        const abi::CapPtr root = bookkeeping_space().root();
        CHECK(cnode_identify(root, handle.tcb, kRootDepth).type == abi::CapType::kTcb);
        CHECK(cnode_identify(root, handle.cnode, kRootDepth).type == abi::CapType::kCNode);
        CHECK(cnode_identify(root, handle.vspace, kRootDepth).type == abi::CapType::kVSpace);
        CHECK(cnode_identify(root, handle.ipc_frame, kRootDepth).type == abi::CapType::kFrame);
        sys::Message m;
        sys::recv(abi::CapPtr(ep), m);  // the probe's first report: leave it and end the PD
        const uint64_t tcb = handle.tcb;
        destroy_pd(g_loader, handle);
        CHECK(cnode_identify(root, tcb, kRootDepth).type == abi::CapType::kNull);
    }
    // Budget blocks and the buddy allocator's splits only: a few slots, not a thousand.
    CHECK(used[1] <= used[0] + 4);
    CHECK(pool_is_whole(pool, kSharedPoolBits));
}

// What a PD's budgets reserve is at most 1.5 times what its objects take, for small and large
// PDs alike (budgets are one or two buddy blocks, not one rounded up to a power of two).
USER_TEST(pd, budgets_reserve_at_most_one_and_a_half_times_the_objects) {
    CHECK(loader_ready());
    uint64_t pool = pd_pool();
    use_pool(pool);
    uint64_t ep = new_endpoint();
    // The last: a tiny PD (one stack page, no heap, a 64-slot CNode).
    const uint64_t heaps[] = {0, uint64_t{64} << 10, uint64_t{200} << 10, uint64_t{1} << 20, 0};
    for (size_t i = 0; i < 5; ++i) {
        const uint64_t heap = heaps[i];
        const StringView arguments[] = {"probe", "args"};
        PdConfig config;
        config.name = "probe";
        config.arguments = arguments;
        config.parent_endpoint = ep;
        config.heap_size = heap;
        if (i == 4) {
            config.stack_size = 4096;
            config.cnode_radix = abi::kPdMinCNodeRadix;
        }
        auto pd = spawn_pd(g_loader, archive_image("probe"), config);
        if (!pd.ok()) {
            t.fail("PD {} failed while {}: {}", i, to_string(pd.error().step), detail(pd.error()));
            return;
        }
        PdHandle handle = pd.value();
        const uint64_t used = pd_used(handle);
        const uint64_t reserved = pd_memory(handle);
        if (used == 0 || reserved * 2 > used * 3) {
            t.fail("heap {}: {} bytes reserved for {} bytes of objects", heap, reserved, used);
        }
        sys::Message m;
        sys::recv(abi::CapPtr(ep), m);
        CHECK_EQ(m.info.label(), uint64_t{1});  // it ran and reported its arguments
        destroy_pd(g_loader, handle);
    }
    CHECK(pool_is_whole(pool, kSharedPoolBits));
}

// A creator with the ASID control capability gets a new ASID pool when its pools are full;
// without it, a PD it cannot give an ASID is refused (and leaves nothing behind).
USER_TEST(pd, asid_pools_are_made_when_full) {
    CHECK(loader_ready());
    // A pool of its own: the new ASID pool's page stays allocated from it.
    use_pool(budget_pool(22));
    uint64_t ep = new_endpoint();
    // A pool with every ASID taken by bare VSpaces.
    uint64_t full = new_slot();
    CHECK(asid_control_make_pool(abi::CapPtr(abi::kSlotAsidControl), abi::CapPtr(new_untyped(12)),
                                 kRootCNode, full, kRootDepth)
              .ok());
    const uint64_t untyped = new_untyped(21);
    unsigned assigned = 0;
    for (unsigned batch = 0; batch < 2; ++batch) {  // 256 objects per retype at most
        const uint64_t vspaces = make_objects(untyped, ObjectType::kVSpace, 0, 256);
        CHECK(vspaces != 0);
        for (unsigned i = 0; i < 256; ++i) {
            assigned += asid_pool_assign(abi::CapPtr(full), abi::CapPtr(vspaces + i)).ok() ? 1 : 0;
        }
    }
    CHECK(assigned >= 255u);  // 511 with 16-bit ASIDs (ASID 0 is never given), fewer with 8
    const abi::CapPtr saved_pool = g_loader.asid_pool;
    g_loader.asid_pool = abi::CapPtr(full);
    const StringView arguments[] = {"probe", "args"};
    PdConfig config;
    config.name = "probe";
    config.arguments = arguments;
    config.parent_endpoint = ep;
    auto refused = spawn_pd(g_loader, archive_image("probe"), config);
    CHECK(!refused.ok() && refused.error().step == SpawnStep::kObjects &&
          refused.error().kernel_error == abi::Error::kNotEnoughMemory);
    g_loader.asid_control = abi::CapPtr(abi::kSlotAsidControl);
    auto pd = spawn_pd(g_loader, archive_image("probe"), config);
    CHECK(pd.ok());
    CHECK_EQ(g_loader.more_asid_pool_count, 1u);
    if (pd.ok()) {
        PdHandle handle = pd.value();
        sys::Message m;
        sys::recv(abi::CapPtr(ep), m);  // it runs in the new pool's address space
        CHECK_EQ(m.info.label(), uint64_t{1});
        destroy_pd(g_loader, handle);
    }
    g_loader.asid_pool = saved_pool;
    g_loader.asid_control = abi::CapPtr();
    g_loader.more_asid_pool_count = 0;
    // Every byte back but the new ASID pool's page.
    CHECK_EQ(g_memory.free_bytes(), g_memory.size() - (uint64_t{1} << g_memory.min_bits()));
}

USER_TEST(pd, crashing_pd_is_contained) {
    CHECK(loader_ready());
    uint64_t pool = pd_pool();
    use_pool(pool);
    uint64_t ep = new_endpoint();
    constexpr uint64_t kFaultBit = uint64_t{1} << 63;
    // A well-behaved PD, waiting for our reply while the others crash.
    Child hello("hello", 1, ep, 1);
    auto good = spawn_pd(g_loader, archive_image("hello"), hello.config);
    CHECK(good.ok());
    sys::Message call;
    sys::recv(abi::CapPtr(ep), call);
    CHECK_EQ(call.badge_or_cap, uint64_t{1});
    // Keep the right to answer it: the faults below arrive as calls too.
    uint64_t hello_reply = new_slot();
    const uint64_t save_args[] = {hello_reply, kRootDepth};
    CHECK(invoke(kRootCNode, abi::InvocationLabel::kCNodeSaveCaller, save_args).ok());
    struct {
        uint64_t kind;
        const char* name;
        abi::FaultAccess access;
    } crashes[] = {
        {0, "null", abi::FaultAccess::kRead},
        {1, "code", abi::FaultAccess::kWrite},
        {2, "data", abi::FaultAccess::kExecute},
        {3, "stack", abi::FaultAccess::kWrite},
    };
    for (const auto& c : crashes) {
        const StringView arguments[] = {"crasher", c.name};
        PdConfig options;
        options.name = "crasher";
        options.arguments = arguments;
        options.parent_endpoint = ep;
        options.badge = 10 + c.kind;
        options.fault = FaultPolicy::kCreatorEndpoint;
        options.fault_endpoint = ep;
        options.fault_badge = kFaultBit | (10 + c.kind);
        auto bad = spawn_pd(g_loader, archive_image("crasher"), options);
        CHECK(bad.ok());
        sys::Message f;
        sys::recv(abi::CapPtr(ep), f);
        CHECK_EQ(f.badge_or_cap, kFaultBit | (10 + c.kind));
        CHECK_EQ(f.info.label(), static_cast<uint64_t>(abi::FaultType::kVmFault));
        CHECK_EQ(f.mr[2], static_cast<uint64_t>(c.access));
        if (c.kind == 0) {
            CHECK_EQ(f.mr[0], uint64_t{0});
        }
        if (c.kind == 3) {  // below the lowest stack page: in the guard
            uint64_t low = abi::kPdStackTop - PdConfig{}.stack_size;
            CHECK(f.mr[0] >= low - pd::kStackGuardSize && f.mr[0] < low);
        }
        PdHandle handle = bad.value();
        destroy_pd(g_loader, handle);  // never replied to: torn down instead
    }
    // The well-behaved PD is unaffected.
    call.info = abi::MessageInfo(0, 0, 0, 1);
    call.mr[0] = 5;
    sys::send(abi::CapPtr(hello_reply), call);
    sys::recv(abi::CapPtr(ep), call);
    CHECK_EQ(call.info.label(), static_cast<uint64_t>(abi::ProcessLabel::kExit));
    CHECK_EQ(call.mr[0], uint64_t{5});
    PdHandle handle = good.value();
    destroy_pd(g_loader, handle);
    CHECK(pool_is_whole(pool, kSharedPoolBits));
}

USER_TEST(pd, exec_keeps_capabilities_and_resets_data) {
    CHECK(loader_ready());
    uint64_t pool = pd_pool();
    use_pool(pool);
    uint64_t ep = new_endpoint();
    Child child("hello", 10, ep, 0xe1);
    auto pd = spawn_pd(g_loader, archive_image("hello"), child.config);
    CHECK(pd.ok());
    PdHandle handle = pd.value();
    sys::Message m;
    sys::recv(abi::CapPtr(ep), m);  // first life: argument 10, .data fresh
    CHECK_EQ(m.mr[0], uint64_t{11});
    CHECK_EQ(m.mr[1], uint64_t{5});
    uint64_t old_vspace = handle.vspace;
    // Re-image it (without answering): a new address space, the same CSpace and badge.
    Child second("hello", 20, ep, 0xe1);
    CHECK(exec_pd(g_loader, handle, archive_image("hello"), second.config).ok());
    (void)old_vspace;
    sys::recv(abi::CapPtr(ep), m);
    CHECK_EQ(m.badge_or_cap, uint64_t{0xe1});  // the parent endpoint in its CSpace survived
    CHECK_EQ(m.mr[0], uint64_t{21});
    CHECK_EQ(m.mr[1], uint64_t{5});  // .data reset by the new image
    CHECK_EQ(m.mr[2], uint64_t{0});  // .bss zero again
    m.info = abi::MessageInfo(0, 0, 0, 1);
    m.mr[0] = 3;
    sys::reply(m);
    sys::recv(abi::CapPtr(ep), m);
    CHECK_EQ(m.info.label(), static_cast<uint64_t>(abi::ProcessLabel::kExit));
    CHECK_EQ(m.mr[0], uint64_t{3});
    // A bad image leaves the PD as it was.
    static uint8_t junk[64] = {0x7f, 'E', 'L', 'F'};
    auto failed = exec_pd(g_loader, handle, std::span<const uint8_t>(junk), second.config);
    CHECK(!failed.ok());
    CHECK(failed.error().step == SpawnStep::kParse);
    destroy_pd(g_loader, handle);
    CHECK(pool_is_whole(pool, kSharedPoolBits));
}

// Build everything, then commit: an exec whose capabilities cannot all be given (here a
// second badge on a badged endpoint, which the kernel refuses) fails before the PD is touched,
// which goes on running its old image as if nothing had happened.
USER_TEST(pd, failed_exec_leaves_the_pd_running) {
    CHECK(loader_ready());
    uint64_t pool = pd_pool();
    use_pool(pool);
    uint64_t ep = new_endpoint();
    Child first("hello", 7, ep, 0xe7);
    auto pd = spawn_pd(g_loader, archive_image("hello"), first.config);
    CHECK(pd.ok());
    sys::Message m;
    sys::recv(abi::CapPtr(ep), m);  // it waits for our answer
    CHECK_EQ(m.mr[0], uint64_t{8});
    uint64_t badged = new_slot();
    CHECK(cnode_mint(kRootCNode, badged, kRootDepth, kRootCNode, ep, kRootDepth, abi::kRightsAll,
                     0x11)
              .ok());
    const CapGrant rebadge[] = {{"channel", badged, 0, abi::kRightsAll, 0x22, false}};
    Child second("hello", 20, ep, 0xe7);
    second.config.caps = rebadge;
    PdHandle handle = pd.value();
    auto failed = exec_pd(g_loader, handle, archive_image("hello"), second.config);
    CHECK(!failed.ok());
    CHECK(failed.error().step == SpawnStep::kCapabilities);
    CHECK(failed.error().kernel_error == abi::Error::kIllegalOperation);
    // The old image still runs: answered, it exits with our answer.
    m.info = abi::MessageInfo(0, 0, 0, 1);
    m.mr[0] = 61;
    sys::reply(m);
    CHECK(exits_with(ep, 61));
    destroy_pd(g_loader, handle);
    CHECK(pool_is_whole(pool, kSharedPoolBits));
}

USER_TEST(pd, arguments_and_environment_reach_main) {
    CHECK(loader_ready());
    uint64_t pool = pd_pool();
    use_pool(pool);
    uint64_t ep = new_endpoint();
    const StringView arguments[] = {"probe", "args", "", "a longer third argument"};
    const StringView environment[] = {"OTHER=x", "PROBE=1234", "PROBE2=5"};
    PdConfig config;
    config.name = "probe";
    config.arguments = arguments;
    config.environment = environment;
    config.parent_endpoint = ep;
    auto pd = spawn_pd(g_loader, archive_image("probe"), config);
    CHECK(pd.ok());
    sys::Message m;
    sys::recv(abi::CapPtr(ep), m);
    CHECK_EQ(m.info.label(), uint64_t{1});
    CHECK_EQ(m.mr[0], uint64_t{4});
    CHECK_EQ(m.mr[1], argv_checksum(arguments));
    CHECK_EQ(m.mr[2], uint64_t{3});
    CHECK_EQ(m.mr[3], uint64_t{1234});
    m.info = abi::MessageInfo(0, 0, 0, 0);
    sys::reply(m);
    CHECK(exits_with(ep, 0));
    PdHandle handle = pd.value();
    destroy_pd(g_loader, handle);
    CHECK(pool_is_whole(pool, kSharedPoolBits));
}

// Finding 9: a PD spawned with no capabilities at all could end the whole system with a debug
// system call. Now halting needs the debug capability (never given by default) and console
// output the console capability its creator chooses to give.
USER_TEST(pd, authority_beyond_the_cspace_is_given_not_ambient) {
    CHECK(loader_ready());
    uint64_t pool = pd_pool();
    use_pool(pool);
    uint64_t ep = new_endpoint();
    const StringView arguments[] = {"probe", "authority"};
    for (bool console : {true, false}) {
        PdConfig config;
        config.name = "probe";
        config.arguments = arguments;
        config.parent_endpoint = ep;
        config.console = console;
        auto pd = spawn_pd(g_loader, archive_image("probe"), config);
        CHECK(pd.ok());
        // Bit 2: DebugHalt refused (the system would have ended otherwise); bit 0: it printed.
        CHECK(exits_with(ep, console ? 5 : 4));
        PdHandle handle = pd.value();
        destroy_pd(g_loader, handle);
    }
    CHECK(pool_is_whole(pool, kSharedPoolBits));
}

USER_TEST(pd, shared_region_is_seen_by_both_sides) {
    CHECK(loader_ready());
    uint64_t pool = pd_pool();
    use_pool(pool);
    uint64_t ep = new_endpoint();
    uint64_t frames = make_objects(new_untyped(13), ObjectType::kFrame4K, 0, 2);
    volatile uint64_t* mine = map_own(frames, 2, 0x7a00'0000'0000);
    CHECK(mine != nullptr);
    mine[0] = 0x5555;
    const StringView arguments[] = {"probe", "region", "window"};
    pd::RegionSpec region;
    region.name = "window";
    region.kind = abi::RegionKind::kShared;
    region.sharing = pd::Sharing::kShared;
    region.address = 0x1000'0000;
    region.size = 0x2000;
    region.frames = frames;
    PdConfig config;
    config.name = "probe";
    config.arguments = arguments;
    config.parent_endpoint = ep;
    config.regions = std::span<const pd::RegionSpec>(&region, 1);
    auto pd = spawn_pd(g_loader, archive_image("probe"), config);
    CHECK(pd.ok());
    sys::Message m;
    sys::recv(abi::CapPtr(ep), m);
    CHECK_EQ(m.info.label(), uint64_t{2});
    CHECK_EQ(m.mr[0], uint64_t{0x1000'0000});
    CHECK_EQ(m.mr[1], uint64_t{0x5555});  // our write, seen by the child
    CHECK_EQ(m.mr[2], uint64_t{0x2000});
    sys::reply(m);
    sys::recv(abi::CapPtr(ep), m);
    CHECK_EQ(m.info.label(), uint64_t{3});
    CHECK_EQ(mine[1], uint64_t{0x5555 + 0xc0ffee});  // the child's writes, seen by us
    CHECK_EQ(mine[0x2000 / 8 - 1], uint64_t{0x1a57});
    sys::reply(m);
    CHECK(exits_with(ep, 0));
    PdHandle handle = pd.value();
    destroy_pd(g_loader, handle);
    CHECK(pool_is_whole(pool, kSharedPoolBits));
    mine[0] = 1;  // our own mapping is untouched by the teardown
    CHECK_EQ(mine[0], uint64_t{1});
}

// A region shared by kind alone: the builder finds the frames among the creator's own regions.
// With give_frames the child also holds its region's frames, listed under the region's name,
// and its runtime finds the region among its own (what it would share by kind in turn).
USER_TEST(pd, regions_shared_by_kind_and_their_frames_given) {
    CHECK(loader_ready());
    uint64_t pool = pd_pool();
    use_pool(pool);
    uint64_t ep = new_endpoint();
    constexpr uint64_t kMine = 0x7a10'0000'0000;
    uint64_t frames_ut = new_untyped(14);
    uint64_t frames = make_objects(frames_ut, ObjectType::kFrame4K, 0, 4);
    volatile uint64_t* mine = map_own(frames, 4, kMine);
    CHECK(mine != nullptr);
    mine[0] = 0x6666;
    const OwnRegion own[] = {
        {"mine", kMine, 0x4000, frames, abi::RegionKind::kShared, pd::PageSize::k4K}};
    g_loader.own_regions = own;
    pd::RegionSpec region;
    region.name = "common";
    region.kind = abi::RegionKind::kShared;
    region.sharing = pd::Sharing::kShared;  // no frames, no size: the creator's by kind
    region.give_frames = true;
    const StringView arguments[] = {"probe", "frames", "common"};
    PdConfig config;
    config.name = "probe";
    config.arguments = arguments;
    config.parent_endpoint = ep;
    config.regions = std::span<const pd::RegionSpec>(&region, 1);
    config.debug = true;  // the probe checks its frames with DebugTranslate
    auto pd = spawn_pd(g_loader, archive_image("probe"), config);
    CHECK(pd.ok());
    sys::Message m;
    sys::recv(abi::CapPtr(ep), m);
    CHECK_EQ(m.info.label(), uint64_t{6});
    CHECK_EQ(m.mr[0], uint64_t{4});       // four frame capabilities, one per page
    CHECK_EQ(m.mr[1], uint64_t{0x6666});  // our memory: shared by kind
    sys::reply(m);
    CHECK(exits_with(ep, 0));
    PdHandle handle = pd.value();
    destroy_pd(g_loader, handle);
    CHECK(pool_is_whole(pool, kSharedPoolBits));
    mine[0] = 2;  // our frames and mapping outlive the child's copies
    CHECK_EQ(mine[0], uint64_t{2});

    // Fresh pages given to the child: its frames, not ours.
    use_pool(pool);
    pd::RegionSpec fresh;
    fresh.name = "fresh";
    fresh.kind = abi::RegionKind::kAnonymous;
    fresh.size = 0x2000;
    fresh.give_frames = true;
    const StringView fresh_arguments[] = {"probe", "frames", "fresh"};
    config.arguments = fresh_arguments;
    config.regions = std::span<const pd::RegionSpec>(&fresh, 1);
    auto second = spawn_pd(g_loader, archive_image("probe"), config);
    CHECK(second.ok());
    sys::recv(abi::CapPtr(ep), m);
    CHECK_EQ(m.info.label(), uint64_t{6});
    CHECK_EQ(m.mr[0], uint64_t{2});
    CHECK_EQ(m.mr[1], uint64_t{0});  // zeroed, not ours
    sys::reply(m);
    CHECK(exits_with(ep, 0));
    handle = second.value();
    destroy_pd(g_loader, handle);
    CHECK(pool_is_whole(pool, kSharedPoolBits));

    // A kind the creator has no region of is refused before anything is allocated.
    use_pool(pool);
    region.kind = abi::RegionKind::kAnonymous;
    config.regions = std::span<const pd::RegionSpec>(&region, 1);
    auto refused = spawn_pd(g_loader, archive_image("probe"), config);
    CHECK(!refused.ok());
    CHECK(refused.error().config_error == ConfigError::kNoOwnRegion);
    CHECK_EQ(refused.error().index, 0);
    g_loader.own_regions = {};
    CHECK(pool_is_whole(pool, kSharedPoolBits));
}

// The special regions: a PD given its own frames finds its code, data, stack, heap and IPC
// buffer among its own regions (each listed, each frame the page mapped there); and a creator's
// special region (a stack here) is shared by naming its kind alone.
USER_TEST(pd, special_regions_given_and_shared_by_kind) {
    CHECK(loader_ready());
    uint64_t pool = pd_pool();
    use_pool(pool);
    uint64_t ep = new_endpoint();
    const StringView own_arguments[] = {"probe", "own"};
    PdConfig config;
    config.name = "probe";
    config.arguments = own_arguments;
    config.parent_endpoint = ep;
    config.give_own_frames = true;
    config.debug = true;
    auto pd = spawn_pd(g_loader, archive_image("probe"), config);
    CHECK(pd.ok());
    sys::Message m;
    sys::recv(abi::CapPtr(ep), m);
    CHECK_EQ(m.info.label(), uint64_t{7});
    CHECK_EQ(m.mr[0], uint64_t{5});  // code, data, stack, heap, IPC buffer
    sys::reply(m);
    CHECK(exits_with(ep, 0));
    PdHandle handle = pd.value();
    destroy_pd(g_loader, handle);
    CHECK(pool_is_whole(pool, kSharedPoolBits));

    // Our "stack" (two pages standing in for it), shared with the child by kind.
    use_pool(pool);
    constexpr uint64_t kMine = 0x7a20'0000'0000;
    uint64_t frames = make_objects(new_untyped(13), ObjectType::kFrame4K, 0, 2);
    volatile uint64_t* mine = map_own(frames, 2, kMine);
    CHECK(mine != nullptr);
    mine[0] = 0x57ac;
    const OwnRegion own[] = {
        {"stack", kMine, 0x2000, frames, abi::RegionKind::kStack, pd::PageSize::k4K}};
    g_loader.own_regions = own;
    pd::RegionSpec region;
    region.name = "their-stack";
    region.kind = abi::RegionKind::kStack;
    region.sharing = pd::Sharing::kShared;
    const StringView region_arguments[] = {"probe", "region", "their-stack"};
    config.arguments = region_arguments;
    config.give_own_frames = false;
    config.regions = std::span<const pd::RegionSpec>(&region, 1);
    auto second = spawn_pd(g_loader, archive_image("probe"), config);
    g_loader.own_regions = {};
    CHECK(second.ok());
    sys::recv(abi::CapPtr(ep), m);
    CHECK_EQ(m.info.label(), uint64_t{2});
    CHECK_EQ(m.mr[1], uint64_t{0x57ac});  // our word, seen by the child
    CHECK_EQ(m.mr[2], uint64_t{0x2000});
    sys::reply(m);
    sys::recv(abi::CapPtr(ep), m);
    CHECK_EQ(m.info.label(), uint64_t{3});
    CHECK_EQ(mine[1], uint64_t{0x57ac + 0xc0ffee});  // and its write, seen by us
    sys::reply(m);
    CHECK(exits_with(ep, 0));
    handle = second.value();
    destroy_pd(g_loader, handle);
    CHECK(pool_is_whole(pool, kSharedPoolBits));
    // A startup region is never configured, shared or not.
    use_pool(pool);
    region.kind = abi::RegionKind::kStartup;
    region.frames = frames;
    region.size = 0x1000;
    auto refused = spawn_pd(g_loader, archive_image("probe"), config);
    CHECK(!refused.ok());
    CHECK(refused.error().layout_error == pd::LayoutError::kReservedKind);
    CHECK(pool_is_whole(pool, kSharedPoolBits));
}

namespace {

// An image whose code is two runs of pages with read-only data between: three one-page
// PT_LOAD segments, r-x, r--, r-x, at 0x400000 (its bytes are zero; it is only planned).
std::span<const uint8_t> split_code_image() {
    alignas(8) static uint8_t image[0x4000];
    auto put = [](size_t at, uint64_t value, size_t bytes) {
        for (size_t i = 0; i < bytes; ++i) {
            image[at + i] = static_cast<uint8_t>(value >> (8 * i));
        }
    };
    const uint8_t ident[] = {0x7f, 'E', 'L', 'F', 2, 1, 1};
    for (size_t i = 0; i < sizeof(ident); ++i) {
        image[i] = ident[i];
    }
    put(16, 2, 2);                       // ET_EXEC
    put(18, 183, 2);                     // EM_AARCH64
    put(20, 1, 4);                       // version
    put(24, 0x400000, 8);                // entry
    put(32, 64, 8);                      // program headers right after this header
    put(52, 64, 2);                      // header size
    put(54, 56, 2);                      // program header size
    put(56, 3, 2);                       // three of them
    const uint32_t flags[] = {5, 4, 5};  // r-x, r--, r-x
    for (size_t i = 0; i < 3; ++i) {
        const size_t ph = 64 + i * 56;
        put(ph, 1, 4);  // PT_LOAD
        put(ph + 4, flags[i], 4);
        put(ph + 8, 0x1000 * (i + 1), 8);        // offset
        put(ph + 16, 0x400000 + 0x1000 * i, 8);  // vaddr
        put(ph + 24, 0x400000 + 0x1000 * i, 8);  // paddr
        put(ph + 32, 0x1000, 8);                 // filesz
        put(ph + 40, 0x1000, 8);                 // memsz
        put(ph + 48, 0x1000, 8);                 // align
    }
    return std::span<const uint8_t>(image, sizeof(image));
}

}  // namespace

// A PD given its own frames gets its code as one region: an image whose code is split is
// refused before anything is allocated (and planned as usual without give_own_frames).
USER_TEST(pd, own_frames_of_split_code_are_refused) {
    CHECK(loader_ready());
    PdConfig config;
    config.name = "split";
    CHECK(check_config(g_loader, split_code_image(), config).ok());
    config.give_own_frames = true;
    auto refused = check_config(g_loader, split_code_image(), config);
    CHECK(!refused.ok());
    CHECK(refused.error().config_error == ConfigError::kOwnFramesSplit);
    CHECK_EQ(refused.error().index, 0);  // the code
}

USER_TEST(pd, disjoint_and_deep_copied_regions_are_private) {
    CHECK(loader_ready());
    uint64_t pool = pd_pool();
    use_pool(pool);
    uint64_t ep = new_endpoint();
    uint64_t frames = make_objects(new_untyped(13), ObjectType::kFrame4K, 0, 2);
    volatile uint64_t* mine = map_own(frames, 2, 0x7a01'0000'0000);
    CHECK(mine != nullptr);
    mine[0] = 0x7777;
    // A deep copy holds our contents in its own pages; a fresh disjoint region holds zeros.
    for (pd::Sharing sharing : {pd::Sharing::kDeepCopy, pd::Sharing::kDisjoint}) {
        bool copy = sharing == pd::Sharing::kDeepCopy;
        const StringView arguments[] = {"probe", "region", "private"};
        pd::RegionSpec region;
        region.name = "private";
        region.sharing = sharing;
        region.size = 0x2000;  // address 0: the first free range
        region.frames = copy ? frames : 0;
        PdConfig config;
        config.name = "probe";
        config.arguments = arguments;
        config.parent_endpoint = ep;
        config.regions = std::span<const pd::RegionSpec>(&region, 1);
        auto pd = spawn_pd(g_loader, archive_image("probe"), config);
        CHECK(pd.ok());
        sys::Message m;
        sys::recv(abi::CapPtr(ep), m);
        CHECK_EQ(m.info.label(), uint64_t{2});
        CHECK(m.mr[0] > 0x40'0000 && m.mr[0] < abi::kPdStackTop);
        CHECK_EQ(m.mr[1], copy ? uint64_t{0x7777} : uint64_t{0});
        sys::reply(m);
        sys::recv(abi::CapPtr(ep), m);
        CHECK_EQ(m.info.label(), uint64_t{3});
        CHECK_EQ(m.mr[0], (copy ? uint64_t{0x7777} : 0) + 0xc0ffee);
        CHECK_EQ(mine[1], uint64_t{0});  // its writes stay in its own pages
        CHECK_EQ(mine[0x2000 / 8 - 1], uint64_t{0});
        sys::reply(m);
        CHECK(exits_with(ep, 0));
        PdHandle handle = pd.value();
        destroy_pd(g_loader, handle);
    }
    CHECK_EQ(mine[0], uint64_t{0x7777});
    CHECK(pool_is_whole(pool, kSharedPoolBits));
}

// seL4's dynamic-3: the parent mints a badged endpoint into a free slot of the child's CSpace
// and tells it which in the startup record; the child calls, the parent sees the badge and
// replies granting a frame, which the child maps and reads, and writes for the parent to read.
USER_TEST(pd, dynamic3_badged_endpoint_and_frame_grant) {
    CHECK(loader_ready());
    uint64_t pool = pd_pool();
    use_pool(pool);
    uint64_t ep = new_endpoint();
    uint64_t server = new_endpoint();
    uint64_t frame = make_objects(new_untyped(12), ObjectType::kFrame4K, 0);
    volatile uint64_t* mine = map_own(frame, 1, 0x7a02'0000'0000);
    CHECK(mine != nullptr);
    mine[0] = 0xfeed;
    const StringView arguments[] = {"probe", "server"};
    const CapGrant grant{"server", server, 0, abi::kRightWrite | abi::kRightGrantReply, 0xd3};
    PdConfig config;
    config.name = "probe";
    config.arguments = arguments;
    config.parent_endpoint = ep;
    config.self_caps = true;
    config.caps = std::span<const CapGrant>(&grant, 1);
    auto pd = spawn_pd(g_loader, archive_image("probe"), config);
    CHECK(pd.ok());
    sys::Message m;
    sys::recv(abi::CapPtr(server), m);
    CHECK_EQ(m.badge_or_cap, uint64_t{0xd3});
    CHECK_EQ(m.info.label(), uint64_t{4});
    CHECK_EQ(m.mr[0], uint64_t{42});
    ipc_buffer()->caps_or_badges[0] = frame;
    m.info = abi::MessageInfo(0, 0, 1, 0);
    sys::reply(m);
    sys::recv(abi::CapPtr(ep), m);
    CHECK_EQ(m.info.label(), uint64_t{5});
    CHECK_EQ(m.mr[0], uint64_t{0xfeed});      // the child read our page
    CHECK_EQ(mine[1], uint64_t{0xfeed} * 2);  // and we read its write
    sys::reply(m);
    CHECK(exits_with(ep, 0));
    PdHandle handle = pd.value();
    destroy_pd(g_loader, handle);
    CHECK(pool_is_whole(pool, kSharedPoolBits));
    CHECK_EQ(mine[0], uint64_t{0xfeed});
}

USER_TEST(pd, bad_configurations_are_refused_before_allocating) {
    CHECK(loader_ready());
    uint64_t pool = pd_pool();
    use_pool(pool);
    uint64_t ep = new_endpoint();
    uint64_t empty_slot = new_slot();
    uint64_t slots_before = env().slots.free_count();
    auto refused = [&](const PdConfig& config, ConfigError error, int index) {
        auto pd = spawn_pd(g_loader, archive_image("probe"), config);
        if (pd.ok()) {
            PdHandle handle = pd.value();
            destroy_pd(g_loader, handle);
            return false;
        }
        return pd.error().step == SpawnStep::kConfig && pd.error().config_error == error &&
               pd.error().index == index;
    };
    auto layout_error = [&](const PdConfig& config) {
        auto pd = spawn_pd(g_loader, archive_image("probe"), config);
        return pd.ok() ? pd::LayoutError::kCount : pd.error().layout_error;
    };
    pd::RegionSpec regions[2];
    regions[0].name = "a";
    regions[0].address = 0x1000'0000;
    regions[0].size = 0x1000;
    regions[1] = regions[0];
    regions[1].name = "b";
    PdConfig config;
    config.parent_endpoint = ep;
    config.regions = regions;
    CHECK(refused(config, ConfigError::kLayout, 1));  // b overlaps a
    CHECK(layout_error(config) == pd::LayoutError::kOverlap);
    regions[1].address = 0x1100'0000;
    regions[1].rights = abi::kMapRead | abi::kMapWrite | abi::kMapExecute;
    CHECK(refused(config, ConfigError::kLayout, 1));
    CHECK(layout_error(config) == pd::LayoutError::kWriteExecute);
    regions[1].rights = abi::kMapRead;
    regions[1].address = abi::kPdStackTop - config.stack_size - 0x1000;  // in the stack guard
    CHECK(layout_error(config) == pd::LayoutError::kOverlap);
    regions[1].address = 0x1100'0000;
    regions[1].sharing = pd::Sharing::kShared;  // shared by kind, and the creator has none
    CHECK(refused(config, ConfigError::kNoOwnRegion, 1));
    regions[1].sharing = pd::Sharing::kDeepCopy;  // a copy of nothing
    CHECK(layout_error(config) == pd::LayoutError::kNeedsFrames);
    regions[1].sharing = pd::Sharing::kDisjoint;
    regions[1].frames = ep;  // not a frame
    CHECK(refused(config, ConfigError::kNotFrames, 1));
    config.regions = {};

    CapGrant grants[2] = {{"one", ep, 0, abi::kRightsAll, 0}, {"two", ep, 0, abi::kRightsAll, 0}};
    config.caps = grants;
    grants[1].source = empty_slot;
    CHECK(refused(config, ConfigError::kSourceSlotEmpty, 1));
    grants[1].source = ep;
    grants[1].slot = abi::kPdSlotSelfVSpace;  // reserved
    CHECK(refused(config, ConfigError::kChildSlotInvalid, 1));
    grants[1].slot = 256;  // outside the CNode
    CHECK(refused(config, ConfigError::kChildSlotInvalid, 1));
    grants[0].slot = grants[1].slot = 40;
    CHECK(refused(config, ConfigError::kChildSlotTaken, 1));
    config.caps = {};

    static char long_argument[4000];
    for (char& c : long_argument) {
        c = 'x';
    }
    const StringView arguments[] = {"probe", StringView(long_argument, sizeof(long_argument))};
    config.arguments = arguments;
    CHECK(refused(config, ConfigError::kArgumentsTooLong, -1));
    config.arguments = {};
    config.name = "a-name-of-twenty-four-ch";
    CHECK(refused(config, ConfigError::kNameTooLong, -1));
    config.name = "probe";
    config.fault = FaultPolicy::kCreatorEndpoint;  // no endpoint given
    CHECK(refused(config, ConfigError::kNoFaultEndpoint, -1));
    CHECK_EQ(settled_free_slots(), slots_before);
    CHECK(pool_is_whole(pool, kSharedPoolBits));  // nothing was ever allocated
}

USER_TEST(pd, large_page_region_and_new_fault_endpoint) {
    CHECK(loader_ready());
    uint64_t pool = pd_pool();
    use_pool(pool);
    uint64_t ep = new_endpoint();
    const StringView arguments[] = {"probe", "region", "big"};
    pd::RegionSpec region;
    region.name = "big";
    region.size = 2 << 20;
    region.page_size = pd::PageSize::k2M;
    PdConfig config;
    config.name = "probe";
    config.arguments = arguments;
    config.parent_endpoint = ep;
    config.fault = FaultPolicy::kNewEndpoint;
    config.regions = std::span<const pd::RegionSpec>(&region, 1);
    auto pd = spawn_pd(g_loader, archive_image("probe"), config);
    CHECK(pd.ok());
    PdHandle handle = pd.value();
    // The PD's capabilities are in the builder's bookkeeping space, not the root CNode.
    CHECK(cnode_identify(bookkeeping_space().root(), handle.fault_endpoint, kRootDepth).type ==
          abi::CapType::kEndpoint);
    sys::Message m;
    sys::recv(abi::CapPtr(ep), m);
    CHECK_EQ(m.info.label(), uint64_t{2});
    CHECK_EQ(m.mr[0] % (2 << 20), uint64_t{0});
    CHECK_EQ(m.mr[2], uint64_t{2 << 20});
    sys::reply(m);
    sys::recv(abi::CapPtr(ep), m);  // it wrote the first and the last word of 2 MiB
    CHECK_EQ(m.mr[0], uint64_t{0xc0ffee});
    sys::reply(m);
    CHECK(exits_with(ep, 0));
    destroy_pd(g_loader, handle);
    CHECK(pool_is_whole(pool, kSharedPoolBits));
}

USER_TEST(pd, exec_keeps_declared_slots_and_drops_the_rest) {
    CHECK(loader_ready());
    uint64_t pool = pd_pool();
    use_pool(pool);
    uint64_t ep = new_endpoint();
    uint64_t server = new_endpoint();
    uint64_t other = new_endpoint();
    const CapGrant grants[] = {
        {"server", server, 9, abi::kRightWrite | abi::kRightGrantReply, 0x99},
        {"other", other, 10, abi::kRightWrite, 0}};
    const StringView first_args[] = {"probe", "args"};
    PdConfig config;
    config.name = "probe";
    config.arguments = first_args;
    config.parent_endpoint = ep;
    config.caps = grants;
    auto pd = spawn_pd(g_loader, archive_image("probe"), config);
    CHECK(pd.ok());
    PdHandle handle = pd.value();
    sys::Message m;
    sys::recv(abi::CapPtr(ep), m);
    CHECK_EQ(m.info.label(), uint64_t{1});
    // Re-image as the dynamic-3 client, declaring only slot 9: it keeps that channel (same
    // badge, not re-minted: the grant's own badge differs), slot 10 is emptied.
    const CapGrant kept[] = {{"server", server, 9, abi::kRightWrite, 0x55}};
    const StringView second_args[] = {"probe", "server"};
    config.arguments = second_args;
    config.caps = kept;
    config.self_caps = true;
    CHECK(exec_pd(g_loader, handle, archive_image("probe"), config).ok());
    sys::recv(abi::CapPtr(server), m);
    CHECK_EQ(m.badge_or_cap, uint64_t{0x99});
    uint64_t probe = new_slot();
    InvocationResult r = cnode_copy(kRootCNode, probe, kRootDepth, abi::CapPtr(handle.cnode), 10,
                                    abi::kPdCNodeRadix, abi::kRightsAll);
    CHECK(!r.ok());  // slot 10 is empty now
    r = cnode_copy(kRootCNode, probe, kRootDepth, abi::CapPtr(handle.cnode), 9, abi::kPdCNodeRadix,
                   abi::kRightsAll);
    CHECK(r.ok());
    CHECK(cnode_delete(kRootCNode, probe, kRootDepth).ok());
    destroy_pd(g_loader, handle);
    CHECK(pool_is_whole(pool, kSharedPoolBits));
}

USER_TEST(pd, c_program_uses_printf_and_malloc) {
    CHECK(loader_ready());
    uint64_t ep = new_endpoint();
    uint64_t pool = pd_pool();
    use_pool(pool);
    constexpr uint64_t kAbortArgument = 0xab;
    constexpr uint64_t kAbortStatus = 128 + 6;  // SIGABRT
    const struct {
        uint64_t argument;
        uint64_t status;
    } runs[] = {{5, 0}, {kAbortArgument, kAbortStatus}};  // 0: every check held
    for (const auto& run : runs) {
        Child child("hello-c", run.argument, ep, 0xc0);
        auto pd = spawn_pd(g_loader, archive_image("hello-c"), child.config);
        CHECK(pd.ok());
        // Its only message is the exit report: printf, malloc and abort need nobody else.
        sys::Message m;
        sys::recv(abi::CapPtr(ep), m);
        CHECK_EQ(m.badge_or_cap, uint64_t{0xc0});
        CHECK_EQ(m.info.label(), static_cast<uint64_t>(abi::ProcessLabel::kExit));
        CHECK_EQ(m.mr[0], run.status);
        PdHandle handle = pd.value();
        destroy_pd(g_loader, handle);
    }
    CHECK(pool_is_whole(pool, kSharedPoolBits));
}

}  // namespace tessera::test

namespace tessera::test {
namespace {

CowSpace g_cow;  // .bss: the copy-on-write ledger of the forks this file makes

}  // namespace

// Fork of a PD with 2 MiB pages, this test being the parent and pager (as the controller is):
// the child maps the parent's 2 MiB frames read-only, each side's first write to one copies
// the 2 MiB (or, for the last to map it, takes it back without a copy), each sees its own
// values, and both gone the pool is whole.
USER_TEST(pd, fork_shares_two_mib_pages_copy_on_write) {
    CHECK(loader_ready());
    uint64_t pool = pd_pool();  // 8 MiB: the PD, the child and a 2 MiB copy
    use_pool(pool);
    g_loader.cow = &g_cow;
    const uint64_t ep = new_endpoint();
    constexpr uint64_t kFault = uint64_t{1} << 63;
    pd::RegionSpec big;
    big.name = "big";
    big.kind = abi::RegionKind::kAnonymous;
    big.size = uint64_t{2} << 20;
    big.page_size = pd::PageSize::k2M;
    const StringView arguments[] = {"fork", "large"};
    PdConfig config;
    config.name = "fork";
    config.arguments = arguments;
    config.parent_endpoint = ep;
    config.badge = 1;
    config.fault = FaultPolicy::kCreatorEndpoint;
    config.fault_endpoint = ep;
    config.fault_badge = kFault | 1;
    config.regions = std::span<const pd::RegionSpec>(&big, 1);
    auto spawned = spawn_pd(g_loader, archive_image("fork"), config);
    CHECK(spawned.ok());
    PdHandle parent = spawned.value();
    PdHandle child;
    unsigned exited = 0;
    unsigned large_faults = 0;
    bool failed = false;
    sys::Message m;
    sys::recv(abi::CapPtr(ep), m);
    while (exited < 2 && !failed) {
        PdHandle& who = (m.badge_or_cap & ~kFault) == 2 ? child : parent;
        bool answer = true;
        if ((m.badge_or_cap & kFault) != 0) {
            const abi::FaultMessage f = received_fault(m);
            auto resolved = resolve_cow_fault(g_loader, who, f.address);
            failed = !resolved || !resolved.value();
            large_faults += f.address >= parent.layout.addresses[0] ? 1 : 0;
            m.info = abi::MessageInfo(0, 0, 0, 0);
        } else if (m.info.label() == static_cast<uint64_t>(service::ControllerLabel::kFork)) {
            const RegisterValue registers[] = {
                {abi::kRegisterIndexX0, 0},
                {abi::kRegisterIndexX0 + 1, abi::MessageInfo(0, 0, 0, 2).raw()},
                {abi::kRegisterIndexX0 + 2, 1},
                {abi::kRegisterIndexX0 + 3, 1},
            };
            ForkConfig fork;
            fork.name = "fork-child";
            fork.parent_endpoint = ep;
            fork.badge = 2;
            fork.fault = FaultPolicy::kCreatorEndpoint;
            fork.fault_endpoint = ep;
            fork.fault_badge = kFault | 2;
            fork.registers = registers;
            auto forked = fork_pd(g_loader, parent, fork);
            failed = !forked.ok();
            if (forked.ok()) {
                child = forked.value();
            }
            service::reply(m, service::ForkReply{1, 0});
        } else if (m.info.label() == static_cast<uint64_t>(abi::ProcessLabel::kExit)) {
            ++exited;
            failed = m.mr[0] != 0;
            if (failed) {
                println("fork large: a side exited with {}", m.mr[0]);
            }
            answer = false;
        }
        if (exited == 2 || failed) {
            break;
        }
        if (answer) {
            sys::reply_recv(abi::CapPtr(ep), m);
        } else {
            sys::recv(abi::CapPtr(ep), m);
        }
    }
    CHECK(!failed);
    CHECK_EQ(exited, 2u);
    CHECK(large_faults >= 2);  // each side wrote the 2 MiB page
    destroy_pd(g_loader, child);
    destroy_pd(g_loader, parent);
    CHECK_EQ(g_cow.ledger.frames_in_use(), 0u);
    CHECK_EQ(g_cow.ledger.stores_in_use(), 0u);
    CHECK(pool_is_whole(pool, kSharedPoolBits));
    g_loader.cow = nullptr;
}

}  // namespace tessera::test
