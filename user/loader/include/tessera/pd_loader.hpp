// Creating protection domains at run time: an ELF image and one configuration object (PdConfig)
// become a new address space, CSpace and thread, all carved from untyped budgets so that
// destroying the PD is a revoke that returns every byte. Everything here is user-level code on
// the kernel's object API.
#pragma once

#include <cstdint>
#include <span>

#include "abi/bootinfo.hpp"
#include "abi/capability_pointer.hpp"
#include "abi/error.hpp"
#include "abi/object_type.hpp"
#include "abi/startup.hpp"
#include "alloc/slot_allocator.hpp"
#include "base/result.hpp"
#include "base/string_view.hpp"
#include "elf/elf_reader.hpp"
#include "pd/pd_layout.hpp"
#include "tessera/startup.hpp"
#include "tessera/untyped_allocator.hpp"

namespace tessera {

enum class SpawnStep : uint8_t {
    kParse,    // the ELF was rejected (see elf_error)
    kConfig,   // the configuration was refused before anything was allocated (see config_error)
    kBudget,   // no untyped memory for the PD's budget
    kObjects,  // creating the TCB, CNode or VSpace
    kImage,    // loading a page of the image
    kRegions,  // stack, heap, IPC buffer, startup record and the configured regions
    kCapabilities,
    kThread,  // configuring and starting the thread
};

enum class ConfigError : uint8_t {
    kNone,
    kLayout,            // see layout_error; index is the region
    kSourceSlotEmpty,   // a grant names an empty slot of the creator; index is the grant
    kChildSlotInvalid,  // a grant's slot is reserved or outside the child's CNode
    kChildSlotTaken,    // two grants name the same child slot
    kTooManyCaps,       // the grants do not fit the child's CNode or directory
    kNameTooLong,       // a grant's or the PD's name
    kArgumentsTooLong,  // argv and environment do not fit the startup record
    kNotFrames,         // a region's frames are not frame capabilities of its page size
    kNoFaultEndpoint,   // fault policy kCreatorEndpoint without an endpoint
    kBadNumber,         // CNode radix or priority out of range
    kNoOwnRegion,       // a region shared by kind: the creator has no region of that kind
    kOwnFramesSplit,    // give_own_frames: the image's code or data is not one run of pages
};

const char* to_string(SpawnStep step);
const char* to_string(ConfigError error);

struct SpawnError {
    SpawnStep step = SpawnStep::kParse;
    elf::ElfError elf_error = elf::ElfError::kTruncatedHeader;
    abi::Error kernel_error = abi::Error::kOk;
    ConfigError config_error = ConfigError::kNone;
    pd::LayoutError layout_error = pd::LayoutError::kOverlap;
    int index = -1;  // the grant or region at fault, where that applies
};

// The specific cause in words: the ELF error, the kernel error's name, or the config error.
const char* detail(const SpawnError& error);

// Where a spawn or exec spends its time, for benchmarks: each phase's share of clock() (the
// PMU instruction counter, say) accumulates in `phase` across calls.
enum class SpawnPhase : uint8_t {
    kPlan,           // parsing the ELF, planning the layout, checking grants
    kIdentity,       // identity budget, CNode and TCB (exec: suspending and pruning the CSpace)
    kImageObjects,   // image budget, VSpace, ASID, the first batch of frames
    kImagePages,     // filling and mapping the ELF's pages (with their tables)
    kRegions,        // stack, heap and configured regions
    kStartupRecord,  // the startup record and the IPC buffer
    kCapabilities,   // parent, fault and granted capabilities
    kThread,         // priority, name, registers, resume
    kReclaim,        // exec only: releasing the old image
    kCount,
};

struct SpawnProfile {
    uint64_t (*clock)() = nullptr;
    uint64_t last = 0;
    uint64_t phase[static_cast<size_t>(SpawnPhase::kCount)] = {};

    void start() { last = clock(); }
    void mark(SpawnPhase p) {
        uint64_t now = clock();
        phase[static_cast<size_t>(p)] += now - last;
        last = now;
    }
};

const char* to_string(SpawnPhase phase);

// What the parent provides: its own CNode (with a guard so depth 64 addresses any slot),
// VSpace and TCB (the authority for its children's priorities), an ASID pool, the untyped
// allocator budgets are taken from, its slot allocator, and a scratch virtual range (with its
// tables) where it maps pages while filling them. The defaults are the root task's slots; a PD
// creating PDs passes its self-caps (abi::kPdSlotSelf*).
struct LoaderEnvironment {
    abi::CapPtr cnode{abi::kSlotInitThreadCNode};
    abi::CapPtr vspace{abi::kSlotInitThreadVSpace};
    abi::CapPtr tcb{abi::kSlotInitThreadTcb};
    abi::CapPtr asid_pool;
    // The creator's console and debug capabilities (0: it has none), which a PD receives in
    // abi::kPdSlotConsole and abi::kPdSlotDebug when its configuration says so.
    abi::CapPtr console{abi::kSlotConsole};
    abi::CapPtr debug{abi::kSlotDebug};
    UntypedAllocator* memory = nullptr;  // the budgets are blocks of it
    SlotAllocator* slots = nullptr;
    uint64_t scratch_address = 0x7e00'0000'0000;  // 8 MiB: two small and two large windows
    SpawnProfile* profile = nullptr;              // null: no profiling
    std::span<const OwnRegion> own_regions;       // what regions shared by kind resolve to
};

// A capability placed in the child's CSpace: copied, or minted with a badge and fewer rights,
// or moved (the creator's slot is empty afterwards: an untyped pool handed over whole).
struct CapGrant {
    StringView name;      // its entry in the child's directory (empty: not listed)
    uint64_t source = 0;  // slot in the creator's root CNode
    uint64_t slot = 0;    // slot in the child's CNode (0: the next free one)
    uint64_t rights = abi::kRightsAll;
    uint64_t badge = 0;  // 0: copy (no new badge)
    bool move = false;   // move instead of copy (rights and badge stay as they are)
};

// Every capability of one type found in the creator's slots [first, end), copied into
// consecutive child slots and listed as one directory entry.
struct BulkGrant {
    StringView name;
    abi::CapType type = abi::CapType::kFrame;
    uint64_t first = 0;
    uint64_t end = 0;
    uint64_t rights = abi::kRightsAll;
};

enum class FaultPolicy : uint8_t {
    kReport,           // the kernel reports the fault on the console and suspends the thread
    kCreatorEndpoint,  // faults go to fault_endpoint (the creator's), badged fault_badge
    kNewEndpoint,      // a new endpoint is made; the creator gets it back in PdHandle
};

// The one configuration object of a PD (see docs/ARCHITECTURE.md, "Life of a protection
// domain").
struct PdConfig {
    StringView name;
    uint64_t priority = 100;
    uint64_t max_priority = 0;                // highest priority it may give threads (its MCP)
    unsigned cnode_radix = 8;                 // its CSpace: 2^radix slots (8 to 12)
    std::span<const StringView> arguments;    // argv; by convention argv[0] is the name
    std::span<const StringView> environment;  // "NAME=value"
    // Root-CNode slot of the endpoint minted (with badge) into the child as its parent endpoint.
    uint64_t parent_endpoint = 0;
    uint64_t badge = 0;
    FaultPolicy fault = FaultPolicy::kReport;
    uint64_t fault_endpoint = 0;
    uint64_t fault_badge = 0;
    bool self_caps = false;  // give the PD caps to its own CNode, VSpace and TCB
    // Give the PD the creator's console capability (its printf and println reach the console;
    // without it their output is dropped) and its debug capability (it may then halt the whole
    // system and learn physical addresses: for tests only).
    bool console = true;
    bool debug = false;
    // Give the PD capabilities to the frames of its own code, data, stack, heap and IPC buffer,
    // listed as regions and in its directory under "code", "data", "stack", "heap" and
    // "ipc-buffer": it can share them with PDs it creates by naming the kind alone.
    bool give_own_frames = false;
    std::span<const CapGrant> caps;
    std::span<const BulkGrant> bulk;
    std::span<const pd::RegionSpec> regions;
    uint64_t stack_size = uint64_t{64} * 1024;  // 0: the ELF's PT_GNU_STACK size, else 64 KiB
    uint64_t heap_size = uint64_t{64} * 1024;   // 0: no heap
};

// Memory a PD's objects come from: one block of the environment's untyped allocator and the
// root slots holding the capabilities made from it, as ranges freed when the budget is
// released. Ranges marked `copies` hold capabilities derived from the creator's (shared frames)
// rather than from the budget, so releasing deletes them one by one.
struct Budget {
    uint64_t untyped = 0;
    unsigned bits = 0;
    static constexpr unsigned kMaxSlotRanges = 64;
    struct SlotRange {
        uint64_t start;
        uint64_t end;
        bool copies;
    };
    SlotRange slot_ranges[kMaxSlotRanges] = {};
    unsigned slot_range_count = 0;
};

// A running PD as the parent sees it. Its identity (TCB and CNode, hence its channels) and its
// image (VSpace, frames, tables, stack, IPC buffer) have separate budgets, so exec can replace
// the image and keep the identity.
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
};

// Prepares the scratch mapping; call once before spawning.
Result<void, SpawnError> loader_init(LoaderEnvironment& env);

// Checks the configuration against the image without allocating anything.
Result<void, SpawnError> check_config(const LoaderEnvironment& env, std::span<const uint8_t> elf,
                                      const PdConfig& config);

Result<PdHandle, SpawnError> spawn_pd(LoaderEnvironment& env, std::span<const uint8_t> elf,
                                      const PdConfig& config);

// Re-images a running PD (R4, exec): builds a new address space from elf and config whole, then
// swaps it in and restarts the thread at the new entry with a fresh stack and startup record.
// The CSpace stays, pruned to what config declares: the parent and fault endpoints, and the
// slots config's grants name (kept if occupied, installed if empty); every other slot is
// emptied. Only then is the old image reclaimed. Every step that can be refused (building the
// image, copying or minting each capability it gets: staged in the creator's slots) comes
// before the PD is touched, so on failure it is left as it was, running.
Result<void, SpawnError> exec_pd(LoaderEnvironment& env, PdHandle& pd, std::span<const uint8_t> elf,
                                 const PdConfig& config);

// Revokes the PD's budgets (destroying every object of the PD) and frees its slots.
void destroy_pd(LoaderEnvironment& env, PdHandle& pd);

// Bytes the PD holds: its budgets (kernel objects, tables, CNode and pages).
uint64_t pd_memory(const PdHandle& pd);

}  // namespace tessera
