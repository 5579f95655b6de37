// Creating protection domains at run time: an ELF image becomes a new address space, CSpace and
// thread, all carved from one untyped budget so that destroying the PD is one revoke that
// returns every byte. Everything here is user-level code on the kernel's object API.
#pragma once

#include <cstdint>
#include <span>

#include "abi/capability_pointer.hpp"
#include "abi/error.hpp"
#include "base/result.hpp"
#include "base/string_view.hpp"
#include "elf/elf_reader.hpp"
#include "tessera/slot_allocator.hpp"

namespace tessera {

enum class SpawnStep : uint8_t {
    kParse,    // the ELF was rejected (see elf_error)
    kBudget,   // no untyped memory for the PD's budget
    kObjects,  // creating the TCB, CNode or VSpace
    kImage,    // loading a page of the image
    kStack,    // stack and IPC buffer
    kCapabilities,
    kThread,  // configuring and starting the thread
};

const char* to_string(SpawnStep step);

struct SpawnError {
    SpawnStep step = SpawnStep::kParse;
    elf::ElfError elf_error = elf::ElfError::kTruncatedHeader;
    abi::Error kernel_error = abi::Error::kOk;
};

// What the parent provides: its root CNode and VSpace (fixed root-task slots), an ASID pool,
// an untyped pool to carve budgets from, its slot allocator, and a scratch virtual address
// (with its tables) where it maps pages while filling them.
struct LoaderEnvironment {
    abi::CapPtr asid_pool;
    abi::CapPtr memory_pool;  // untyped the budgets are retyped from
    SlotAllocator* slots = nullptr;
    uint64_t scratch_address = 0x7e00'0000'0000;
};

struct SpawnOptions {
    StringView name;
    uint64_t priority = 100;
    uint64_t argument = 0;
    uint64_t parent_endpoint = 0;  // root CNode slot of the endpoint to mint for the child
    uint64_t badge = 0;
    // Faults: root CNode slot of the endpoint that receives them (0: the kernel reports and
    // suspends the thread), and the badge identifying this PD's faults.
    uint64_t fault_endpoint = 0;
    uint64_t fault_badge = 0;
    uint64_t stack_pages = 16;
};

// Memory a PD's objects come from: one untyped (in the parent's root CNode) and the root slots
// holding the capabilities made from it, as ranges (freed when the budget is revoked).
struct Budget {
    uint64_t untyped = 0;
    unsigned bits = 0;
    static constexpr unsigned kMaxSlotRanges = 64;
    struct SlotRange {
        uint64_t start;
        uint64_t end;
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
    uint64_t vspace = 0;
    uint64_t ipc_frame = 0;
    uint64_t pages = 0;   // frames mapped for the image, stack and IPC buffer
    uint64_t tables = 0;  // translation tables made for its VSpace
    uint64_t fault_slot = 0;
};

// Prepares the scratch mapping; call once before spawning.
Result<void, SpawnError> loader_init(LoaderEnvironment& env);

Result<PdHandle, SpawnError> spawn_pd(LoaderEnvironment& env, std::span<const uint8_t> elf,
                                      const SpawnOptions& options);

// Re-images a running PD (R4, exec): builds a new address space from elf whole, then swaps it
// in, restarting the thread at the new entry with the same CSpace (its capabilities and
// channels stay), and only then reclaims the old image. On failure the PD is left as it was.
Result<void, SpawnError> exec_pd(LoaderEnvironment& env, PdHandle& pd, std::span<const uint8_t> elf,
                                 const SpawnOptions& options);

// Revokes the PD's budgets (destroying every object of the PD) and frees its slots.
void destroy_pd(LoaderEnvironment& env, PdHandle& pd);

}  // namespace tessera
