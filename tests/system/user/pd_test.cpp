// Protection domains created at run time from the image archive: the seL4 dynamic-3 scenario
// (badged endpoint minted into the child's CSpace, the child calls, the parent sees the badge
// and replies), exit, teardown with every byte returned, rejected images and rollback, and a
// program written in C against the C library.
#include "abi/fault.hpp"
#include "abi/process.hpp"
#include "cpio/cpio_reader.hpp"
#include "tessera/pd_loader.hpp"
#include "tessera/syscall.hpp"
#include "user_test.hpp"

namespace tessera::test {
namespace {

using abi::ObjectType;

LoaderEnvironment g_loader;
bool g_loader_ready = false;

// The loader's environment: its own ASID pool and slots above the ones the other cases use.
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
    g_loader.memory_pool = abi::CapPtr(new_untyped(16));  // only for the scratch tables
    g_loader.slots = &env().slots;
    g_loader_ready = loader_init(g_loader).ok();
    return g_loader_ready;
}

std::span<const uint8_t> image(StringView name) {
    auto archive =
        cpio::Archive::parse(std::span<const uint8_t>(env().archive, env().archive_size));
    if (!archive) {
        return {};
    }
    auto entry = archive.value().find(name);
    return entry ? entry->data : std::span<const uint8_t>();
}

uint64_t new_endpoint() {
    uint64_t ut = new_untyped(12);
    return make_objects(ut, ObjectType::kEndpoint, 0);
}

// An untyped of 2^bits the PDs of one case draw from; "free" means it has no children.
uint64_t budget_pool(unsigned bits) {
    return new_untyped(bits);
}

bool pool_is_whole(uint64_t pool, unsigned bits) {
    // With no children left the untyped restarts at 0: one object of its full size fits.
    uint64_t slot = new_slot();
    if (!untyped_retype(abi::CapPtr(pool), ObjectType::kUntyped, bits, kRootCNode, 0, 0, slot, 1)
             .ok()) {
        return false;
    }
    return cnode_delete(kRootCNode, slot, kRootDepth).ok() &&
           cnode_revoke(kRootCNode, pool, kRootDepth).ok();
}

// Options for a child that calls ep (with badge) when it starts.
SpawnOptions child_options(const char* name, uint64_t argument, uint64_t ep, uint64_t badge) {
    SpawnOptions options;
    options.name = name;
    options.argument = argument;
    options.parent_endpoint = ep;
    options.badge = badge;
    return options;
}

// What hello-c exits with when all its checks pass: its heap words i * i + argument summed.
uint64_t hello_c_status(uint64_t argument) {
    uint64_t checksum = 0;
    for (uint64_t i = 0; i < 1024; ++i) {
        checksum += i * i + argument;
    }
    return (checksum & 0xfffff) << 8;
}

}  // namespace

USER_TEST(pd, archive_lists_programs) {
    CHECK(env().archive != nullptr);
    CHECK(image("hello").size() > 0);
    CHECK(image("no-such-program").empty());
}

USER_TEST(pd, spawn_call_with_badge_reply_exit_teardown) {
    CHECK(loader_ready());
    constexpr unsigned kPoolBits = 21;
    uint64_t pool = budget_pool(kPoolBits);
    g_loader.memory_pool = abi::CapPtr(pool);
    uint64_t ep = new_endpoint();
    SpawnOptions options = child_options("hello", 41, ep, 0xd1);
    auto pd = spawn_pd(g_loader, image("hello"), options);
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
    CHECK(pool_is_whole(pool, kPoolBits));  // every byte came back
}

USER_TEST(pd, malformed_images_are_rejected_without_allocating) {
    CHECK(loader_ready());
    uint64_t pool = budget_pool(20);
    g_loader.memory_pool = abi::CapPtr(pool);
    std::span<const uint8_t> hello = image("hello");
    CHECK(hello.size() > 64);
    SpawnOptions options;
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
    g_loader.memory_pool = abi::CapPtr(pool);
    uint64_t slots_before = env().slots.free_count();
    SpawnOptions options;
    auto pd = spawn_pd(g_loader, image("hello"), options);
    CHECK(!pd.ok());
    CHECK(pd.error().step == SpawnStep::kBudget);
    CHECK_EQ(env().slots.free_count(), slots_before);
    CHECK(pool_is_whole(pool, 14));
}

USER_TEST(pd, repeated_spawn_and_kill_returns_all_memory) {
    CHECK(loader_ready());
    constexpr unsigned kPoolBits = 21;
    uint64_t pool = budget_pool(kPoolBits);
    g_loader.memory_pool = abi::CapPtr(pool);
    uint64_t ep = new_endpoint();
    uint64_t slots_before = env().slots.free_count();
    for (unsigned i = 0; i < 100; ++i) {
        SpawnOptions options = child_options("hello", i, ep, 1 + i);
        auto pd = spawn_pd(g_loader, image("hello"), options);
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
    CHECK_EQ(env().slots.free_count(), slots_before);
    CHECK(pool_is_whole(pool, kPoolBits));
}

USER_TEST(pd, crashing_pd_is_contained) {
    CHECK(loader_ready());
    constexpr unsigned kPoolBits = 22;  // the budgets of five PDs, one after another
    uint64_t pool = budget_pool(kPoolBits);
    g_loader.memory_pool = abi::CapPtr(pool);
    uint64_t ep = new_endpoint();
    constexpr uint64_t kFaultBit = uint64_t{1} << 63;
    // A well-behaved PD, waiting for our reply while the others crash.
    SpawnOptions hello;
    hello.name = "hello";
    hello.argument = 1;
    hello.parent_endpoint = ep;
    hello.badge = 1;
    auto good = spawn_pd(g_loader, image("hello"), hello);
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
        abi::FaultAccess access;
    } crashes[] = {
        {0, abi::FaultAccess::kRead},
        {1, abi::FaultAccess::kWrite},
        {2, abi::FaultAccess::kExecute},
        {3, abi::FaultAccess::kWrite},
    };
    for (const auto& c : crashes) {
        SpawnOptions options = child_options("crasher", c.kind, ep, 10 + c.kind);
        options.fault_endpoint = ep;
        options.fault_badge = kFaultBit | (10 + c.kind);
        auto bad = spawn_pd(g_loader, image("crasher"), options);
        CHECK(bad.ok());
        sys::Message f;
        sys::recv(abi::CapPtr(ep), f);
        CHECK_EQ(f.badge_or_cap, kFaultBit | (10 + c.kind));
        CHECK_EQ(f.info.label(), static_cast<uint64_t>(abi::FaultType::kVmFault));
        CHECK_EQ(f.mr[2], static_cast<uint64_t>(c.access));
        if (c.kind == 0) {
            CHECK_EQ(f.mr[0], uint64_t{0});
        }
        if (c.kind == 3) {  // just below the lowest stack page: the guard
            uint64_t guard = abi::kPdStackTop - (SpawnOptions{}.stack_pages + 1) * 4096;
            CHECK(f.mr[0] >= guard && f.mr[0] < guard + 4096);
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
    CHECK(pool_is_whole(pool, kPoolBits));
}

USER_TEST(pd, exec_keeps_capabilities_and_resets_data) {
    CHECK(loader_ready());
    constexpr unsigned kPoolBits = 21;
    uint64_t pool = budget_pool(kPoolBits);
    g_loader.memory_pool = abi::CapPtr(pool);
    uint64_t ep = new_endpoint();
    SpawnOptions options = child_options("hello", 10, ep, 0xe1);
    auto pd = spawn_pd(g_loader, image("hello"), options);
    CHECK(pd.ok());
    PdHandle handle = pd.value();
    sys::Message m;
    sys::recv(abi::CapPtr(ep), m);  // first life: argument 10, .data fresh
    CHECK_EQ(m.mr[0], uint64_t{11});
    CHECK_EQ(m.mr[1], uint64_t{5});
    uint64_t old_vspace = handle.vspace;
    // Re-image it (without answering): a new address space, the same CSpace and badge.
    options.argument = 20;
    CHECK(exec_pd(g_loader, handle, image("hello"), options).ok());
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
    auto failed = exec_pd(g_loader, handle, std::span<const uint8_t>(junk), options);
    CHECK(!failed.ok());
    CHECK(failed.error().step == SpawnStep::kParse);
    destroy_pd(g_loader, handle);
    CHECK(pool_is_whole(pool, kPoolBits));
}

USER_TEST(pd, c_program_uses_printf_and_malloc) {
    CHECK(loader_ready());
    uint64_t ep = new_endpoint();  // before the pool: memory is tight in the 128 MiB system
    constexpr unsigned kPoolBits = 20;
    uint64_t pool = budget_pool(kPoolBits);
    g_loader.memory_pool = abi::CapPtr(pool);
    constexpr uint64_t kAbortArgument = 0xab;
    constexpr uint64_t kAbortStatus = 128 + 6;  // SIGABRT
    const struct {
        uint64_t argument;
        uint64_t status;
    } runs[] = {{5, hello_c_status(5)}, {kAbortArgument, kAbortStatus}};
    for (const auto& run : runs) {
        SpawnOptions options = child_options("hello-c", run.argument, ep, 0xc0);
        auto pd = spawn_pd(g_loader, image("hello-c"), options);
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
    CHECK(pool_is_whole(pool, kPoolBits));
}

}  // namespace tessera::test
