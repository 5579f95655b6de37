// The PD builder: an ELF image and one configuration object (PdConfig) become a new protection
// domain — address space, CSpace and thread — carved from untyped budgets, so that destroying
// the PD is a revoke that returns every byte. User-level code on the kernel's object API.
//
// Its parts: the build plan (pd/build_plan.hpp: pure, decides everything before anything is
// allocated), the budgets (budget.hpp: where every object and capability goes), the image
// builder (image_builder.hpp: frames, tables and mappings, the ELF's pages in runs planned by
// pd/image_runs.hpp), the capability staging (capability_staging.hpp) and the lifecycle below
// (pd_lifecycle.cpp: spawn, exec, destroy). Errors are SpawnError values (pd/build_error.hpp).
#pragma once

#include <cstdint>
#include <span>

#include "abi/bootinfo.hpp"
#include "abi/capability_pointer.hpp"
#include "abi/error.hpp"
#include "alloc/slot_allocator.hpp"
#include "base/result.hpp"
#include "base/string_view.hpp"
#include "pd/budget_blocks.hpp"
#include "pd/build_error.hpp"
#include "pd/build_profile.hpp"
#include "pd/cow_ledger.hpp"
#include "pd/pd_config.hpp"
#include "pd/pd_layout.hpp"
#include "tessera/bookkeeping_space.hpp"
#include "tessera/startup.hpp"
#include "tessera/untyped_allocator.hpp"

namespace tessera {

using pd::BulkGrant;
using pd::CapGrant;
using pd::ConfigError;
using pd::FaultPolicy;
using pd::PdConfig;
using pd::SpawnError;
using pd::SpawnPhase;
using pd::SpawnProfile;
using pd::SpawnStep;

struct CowSpace;

// What the parent provides: its own CNode (with a guard so depth 64 addresses any slot) and its
// radix, VSpace and TCB (the authority for its children's priorities), its fault endpoint, an
// ASID pool, the untyped allocator budgets are taken from, its slot allocator, and a scratch
// virtual range (with its tables) where it maps pages while filling them. The defaults are the
// root task's slots; a PD creating PDs passes its self-caps (abi::kPdSlotSelf*). Its CSpace
// becomes two-level (tessera/bookkeeping_space.hpp) when the builder is first prepared: the
// PDs' capabilities live there, not in its own slots.
struct BuilderEnvironment {
    abi::CapPtr cnode{abi::kSlotInitThreadCNode};
    unsigned cnode_radix = abi::kRootCNodeRadix;
    abi::CapPtr vspace{abi::kSlotInitThreadVSpace};
    abi::CapPtr tcb{abi::kSlotInitThreadTcb};
    abi::CapPtr fault_endpoint;  // the creator's own (kept when its CSpace changes; 0: none)
    // ASID pools its PDs' VSpaces get ASIDs from (512 each): the first is given; with the ASID
    // control capability (0: none) the builder makes another from its memory when all are full.
    abi::CapPtr asid_pool;
    abi::CapPtr asid_control;
    static constexpr unsigned kMaxAsidPools = 128;  // every ASID a 16-bit CPU has
    uint64_t more_asid_pools[kMaxAsidPools] = {};
    unsigned more_asid_pool_count = 0;
    uint64_t kept_bytes = 0;      // of its memory the builder keeps for good (those ASID pools)
    unsigned asid_pool_hint = 0;  // the pool that gave the last ASID (0: asid_pool)
    // The creator's console and debug capabilities (0: it has none), which a PD receives in
    // abi::kPdSlotConsole and abi::kPdSlotDebug when its configuration says so.
    abi::CapPtr console{abi::kSlotConsole};
    abi::CapPtr debug{abi::kSlotDebug};
    UntypedAllocator* memory = nullptr;  // the budgets are blocks of it
    SlotAllocator* slots = nullptr;
    uint64_t scratch_address = 0x7e00'0000'0000;  // 8 MiB: two small and two large windows
    SpawnProfile* profile = nullptr;              // null: no profiling
    std::span<const OwnRegion> own_regions;       // what regions shared by kind resolve to
    // The creator thread's bookkeeping space (null: the process's own, bookkeeping_space()).
    BookkeepingSpace* book = nullptr;
    // Where the frames its forked PDs share are kept track of (null: it cannot fork PDs).
    CowSpace* cow = nullptr;
};

// Memory a PD's objects come from: one or two blocks of the environment's untyped allocator
// (pd/budget_blocks.hpp: at most 4/3 of what the plan needs) and how full they are; for an
// image also its bookkeeping CNode (a node of the creator's bookkeeping space), which holds
// every capability of the PD, and the next free slot of it.
struct Budget {
    uint64_t untyped[pd::kMaxBudgetBlocks] = {};  // the blocks' slots in the creator's CNode
    pd::BudgetBlocks blocks;
    pd::BlockFill fill;
    uint64_t node = 0;  // bookkeeping CNode (0: none)
    unsigned radix = 0;
    uint64_t next = 0;
};

// What backs a run of a PD's pages: `count` frames in consecutive bookkeeping slots from `slot`
// (the capabilities that map them), mapped from va with rights. Fork reads them to share the
// private pages copy-on-write; a pager to find a page's frame.
enum class PageKind : uint8_t {
    kPrivate,    // the PD's own (ELF, stack, heap, private and deep-copied regions, startup record)
    kShared,     // the creator's frames or device memory, shared as they are
    kIpcBuffer,  // the IPC buffer (a fork's child gets its own copy at once)
};
struct PageRun {
    uint64_t va = 0;
    uint64_t slot = 0;
    uint32_t count = 0;
    uint8_t rights = 0;  // abi::kMap* bits
    PageKind kind = PageKind::kPrivate;
    bool large = false;   // 2 MiB pages
    bool device = false;  // mapped as device memory
    [[nodiscard]] uint64_t page_bytes() const { return large ? pd::kLargePage : pd::kSmallPage; }
    [[nodiscard]] uint64_t end() const { return va + count * page_bytes(); }
};
constexpr unsigned kMaxPageRuns = 16;

// The PD's runs, merged where both the addresses and the slots follow on (so their number
// depends on the image's segments and regions, not its size); `overflowed` if a PD had more (it
// runs, but cannot be forked). All zero when empty, so tables of handles stay in .bss.
struct PageRuns {
    PageRun run[kMaxPageRuns];
    uint8_t count = 0;
    bool overflowed = false;

    void add(const PageRun& r);
    [[nodiscard]] std::span<const PageRun> list() const { return {run, count}; }
};

// A PD's part in copy-on-write sharing, once it has forked or been forked: its page records in
// the ledger (one per private page, in the order of its private runs), where its copies of
// shared pages go (page n's to bookkeeping slot copy_base + n), and the store its original
// image budget became (plus one; 0: none).
struct CowState {
    uint32_t first = 0;
    uint32_t pages = 0;  // 0: it shares nothing
    uint32_t store_plus_one = 0;
    uint64_t copy_base = 0;
    Budget copies;  // the budget of those slots when they are not in the image's (the parent's)
    // The chunk its 4 KiB copies are made from now (a ledger store, plus one; 0: none yet), its
    // block and how many frames it has given.
    uint32_t chunk_plus_one = 0;
    uint32_t chunk_used = 0;
    uint64_t chunk_block = 0;
};

// A running PD as the parent sees it. Its identity (TCB and CNode, hence its channels) and its
// image (VSpace, frames, tables, stack, IPC buffer) have separate budgets, so exec can replace
// the image and keep the identity. Its capabilities are all in the image's bookkeeping CNode;
// the fields below are capability pointers into it.
struct PdHandle {
    Budget identity;
    Budget image;
    uint64_t tcb = 0;
    uint64_t cnode = 0;
    unsigned radix = 0;  // of its CNode
    uint64_t vspace = 0;
    uint64_t ipc_frame = 0;
    uint64_t pages = 0;       // frames mapped for the image, stack, heap, regions and IPC buffer
    uint64_t tables = 0;      // translation tables made for its VSpace
    uint64_t fault_slot = 0;  // in the child's CSpace
    uint64_t fault_endpoint = 0;  // with FaultPolicy::kNewEndpoint: the creator's cap to it
    uint64_t entry = 0;
    pd::Layout layout;
    PageRuns runs;
    CowState cow;
};

// A creator's copy-on-write state: the ledger, and the image budgets kept as stores while the
// frames of a PD that is gone are still mapped by its forks. Large (a few MiB): a creator keeps
// one in .bss for good, all zero until used.
struct CowSpace {
    pd::CowLedger ledger;
    Budget stores[pd::CowLedger::kStores];
    uint64_t scratch_slot = 0;  // a creator slot for a copy being made
};

// What a fork does with a slot of the parent's CNode (from abi::kPdSlotFirstFree up); every
// slot no rule names is dropped. The parent and fault endpoints are the fork's own, as for spawn.
struct ForkRule {
    enum class Action : uint8_t { kCopy, kMint, kDrop };
    uint64_t slot = 0;
    Action action = Action::kDrop;
    uint64_t badge = 0;  // kMint: the new badge (on an unbadged endpoint or notification)
};

// A register the child starts with instead of the parent's (what its fork call returns).
struct RegisterValue {
    unsigned index = 0;
    uint64_t value = 0;
};

struct ForkConfig {
    StringView name;
    uint8_t priority = 100;
    uint8_t max_priority = 0;
    uint64_t parent_endpoint = 0;  // creator slot (0: none), minted with badge
    uint64_t badge = 0;
    FaultPolicy fault = FaultPolicy::kReport;  // kReport or kCreatorEndpoint
    uint64_t fault_endpoint = 0;
    uint64_t fault_badge = 0;
    std::span<const ForkRule> rules;
    std::span<const RegisterValue> registers;
    // Copy every private page at once instead of sharing it (for comparison; no faults later).
    bool eager = false;
};

// The process's bookkeeping space, shared by every builder environment of its thread.
BookkeepingSpace& bookkeeping_space();

// Makes the creator's CSpace two-level (once per process) and prepares the scratch mapping;
// call once per environment before building.
Result<void, SpawnError> pd_builder_init(BuilderEnvironment& env);

// Checks the configuration against the image without allocating anything.
Result<void, SpawnError> check_config(const BuilderEnvironment& env, std::span<const uint8_t> elf,
                                      const PdConfig& config);

Result<PdHandle, SpawnError> spawn_pd(BuilderEnvironment& env, std::span<const uint8_t> elf,
                                      const PdConfig& config);

// Re-images a running PD (R4, exec): builds a new address space from elf and config whole, then
// swaps it in and restarts the thread at the new entry with a fresh stack and startup record.
// The CSpace stays, pruned to what config declares: the parent and fault endpoints, and the
// slots config's grants name (kept if occupied, installed if empty); every other slot is
// emptied. Only then is the old image reclaimed. Every step that can be refused (building the
// image, copying or minting each capability it gets: staged in the creator's slots) comes
// before the PD is touched, so on failure it is left as it was, running.
Result<void, SpawnError> exec_pd(BuilderEnvironment& env, PdHandle& pd,
                                 std::span<const uint8_t> elf, const PdConfig& config);

// Revokes the PD's budgets (destroying every object of the PD) and frees its slots. A frame it
// shares with forks stays until the last of them is gone.
void destroy_pd(BuilderEnvironment& env, PdHandle& pd);

// Forks a PD whose thread is stopped (waiting for its creator's reply): the child gets a new
// address space that maps every private page of the parent read-only on the same frames (both
// sides: the first write to one faults to the creator, see resolve_cow_fault), the shared
// regions as they are and its own copy of the IPC buffer; a CSpace of the parent's size with the
// parent and fault endpoints of `config` and what its rules keep; and a thread with the
// parent's registers (but config's) and stack, started. Everything of the child is built, and
// everything that can run out is taken, before the parent's pages become read-only: on failure
// the parent is as it was.
Result<PdHandle, SpawnError> fork_pd(BuilderEnvironment& env, PdHandle& parent,
                                     const ForkConfig& config);

// A write fault of the PD at address: if it hit a copy-on-write page, makes it the PD's own (a
// copy in a new frame of the creator's memory, or the frame itself when nobody else maps it any
// more), maps it writable and returns true (resume the thread). False: a real fault.
Result<bool, SpawnError> resolve_cow_fault(BuilderEnvironment& env, PdHandle& pd, uint64_t address);

// Takes the PD's pages out of image budgets kept only because forks map frames of them (their
// own PD is gone): each such page the PD alone still maps becomes a copy of its own, mapped
// writable, when that lets go of more memory than the copies take (the budget is released with
// the last of its frames). Call for the remaining forks after a PD whose pages they share has
// ended or been re-imaged. Stops, keeping what it did, when memory runs short. Returns the pages
// copied.
uint64_t reclaim_orphaned_pages(BuilderEnvironment& env, PdHandle& pd);

// Frames and bytes of the PD's pages that it shares with forks, and that it owns.
struct CowFigures {
    uint64_t shared = 0;
    uint64_t own = 0;
    uint64_t own_bytes = 0;  // its copies and the rest of its current chunk: beyond its budgets
};
CowFigures cow_figures(const BuilderEnvironment& env, const PdHandle& pd);

// Bytes the PD holds: its budgets (kernel objects, tables, CNodes and pages).
uint64_t pd_memory(const PdHandle& pd);
// Bytes of the objects made in them (what it uses of what it holds).
uint64_t pd_used(const PdHandle& pd);

}  // namespace tessera
