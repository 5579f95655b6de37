// User-level system tests: USER_TEST(suite, name) registers a case the systest root task runs
// at EL0 against the real kernel, with the environment below.
#pragma once

#include <span>

#include "abi/bootinfo.hpp"
#include "abi/capability_pointer.hpp"
#include "alloc/slot_allocator.hpp"
#include "base/string_view.hpp"
#include "tessera/invocation.hpp"
#include "tessera/vspace_manager.hpp"
#include "test_case.hpp"

#define USER_TEST(suite, name) TESSERA_TEST_CASE(user_tests, suite, name)

namespace tessera::test {

// What every case may use: the boot info, the root CNode, and fresh slots and memory.
struct Environment {
    const abi::BootInfo* info = nullptr;
    SlotAllocator slots;  // the root CNode's free slots (shared with the PD loader)
    abi::CapPtr pool;     // a large RAM untyped the cases carve their budgets from
    // The image archive (boot module), mapped read-only; empty if none was loaded.
    const uint8_t* archive = nullptr;
    uint64_t archive_size = 0;
    // The test program's own mappings (the archive) in [kMappingsLow, kMappingsHigh), with
    // page tables from the pool.
    VSpaceManager mappings;
};

constexpr uint64_t kMappingsLow = 0x7d00'0000'0000;
constexpr uint64_t kMappingsHigh = 0x7e00'0000'0000;

Environment& env();

constexpr abi::CapPtr kRootCNode{abi::kSlotInitThreadCNode};
constexpr uint64_t kRootDepth = 64;
constexpr abi::CapPtr kDebugCap{abi::kSlotDebug};

// What the capability at root slot cap is (CNodeIdentify on the root CNode).
inline CapIdentity identify(abi::CapPtr cap) {
    return cnode_identify(kRootCNode, cap.value(), kRootDepth);
}
// DebugTranslate through the root task's debug capability.
inline Translation translate(uint64_t address) {
    return debug_translate(kDebugCap, address);
}

// A free slot of the root CNode (0 if none is left).
uint64_t new_slot();
// Maps the boot module's frames read-only at a fixed address; called once at start-up.
void map_archive();
// The image `name` from the archive, or an empty span.
std::span<const uint8_t> archive_image(StringView name);
// A fresh untyped of 2^size_bits bytes carved from the pool, or slot 0 on failure.
uint64_t new_untyped(unsigned size_bits);
// An 8 MiB untyped cases share: each case that uses it must leave it without children (it is
// whole again then), so the memory serves every case instead of being used up.
constexpr unsigned kSharedPoolBits = 23;
uint64_t shared_pool();
// Retypes `count` objects of type from untyped into fresh slots; returns the first slot or 0.
uint64_t make_objects(uint64_t untyped, abi::ObjectType type, uint64_t size_bits,
                      uint64_t count = 1);

// A thread in the test program's own address space and CSpace, with its own stack and IPC
// buffer. entry(argument) runs at `priority`; returning from entry suspends the thread.
struct TestThread {
    uint64_t tcb = 0;    // root CNode slot of its TCB
    unsigned index = 0;  // which stack / IPC page it uses
};
constexpr unsigned kMaxTestThreads = 4;
constexpr uint64_t kTestPriority = 100;  // the systest root task runs at 255

// fault_ep: slot of the thread's fault endpoint in the root CNode (0: none); vspace: slot of
// its VSpace (default: the test program's own); tcb_untyped: the untyped its TCB is made from
// (0: a fresh one).
TestThread start_thread(void (*entry)(uint64_t), uint64_t argument, uint64_t priority,
                        uint64_t fault_ep = 0, uint64_t vspace = abi::kSlotInitThreadVSpace,
                        uint64_t tcb_untyped = 0);
// Deletes the thread (its TCB capability) and frees its stack for the next case.
void stop_thread(TestThread& thread);
// Frees the stack of a thread whose TCB is already gone (a case destroyed it another way).
void release_thread(TestThread& thread);
// Lets lower-priority threads run until they block (the root task sleeps on a notification).
void let_others_run();

// Address spaces for cases that run threads outside the test program's own (vspace_test.cpp).
// A fresh ASID pool (0 on failure).
uint64_t new_asid_pool();
// A new VSpace sharing this program's image: every image frame mapped at its own address with
// its own rights (data writable, everything else read-execute), so globals are shared. Its ASID
// comes from pool (0: one pool shared by the cases). 0 on failure.
uint64_t new_shared_vspace(uint64_t pool = 0);
// Maps whatever tables are still missing below vaddr in vspace.
bool map_tables(abi::CapPtr vspace, uint64_t vaddr);
// A fresh 4 KiB frame.
uint64_t new_frame();

}  // namespace tessera::test
