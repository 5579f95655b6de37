// A PD's address space built whole from its plan, in the image budget: the VSpace with its
// ASID, the ELF's pages filled through the creator's scratch window, the stack, heap and
// configured regions, the startup record and the IPC buffer. Invariant: nothing here touches a
// running PD; on failure the caller releases the budget and nothing of the image remains.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "base/result.hpp"
#include "budget.hpp"
#include "pd/build_plan.hpp"
#include "tessera/pd_builder.hpp"

namespace tessera {

struct Image {
    uint64_t vspace = 0;
    uint64_t ipc_frame = 0;
    uint64_t pages = 0;
    uint64_t tables = 0;
    // Copies of frames the child is given: count from creator slot `from` to child slot `to`,
    // moved into the child with its other capabilities.
    struct GivenRun {
        uint64_t from;
        uint64_t to;
        uint64_t count;
    };
    GivenRun given[pd::kMaxRegions + pd::kOwnKinds] = {};
    size_t given_count = 0;
    uint64_t own_given[pd::kOwnKinds] = {};  // where the copies of the PD's own frames go
    PageRuns runs;
};

// An ASID for the VSpace from the first pool with one free, making a new pool (from the
// creator's memory, with its ASID control capability) when every pool is full.
Result<void, SpawnError> assign_asid(BuilderEnvironment& env, abi::CapPtr vspace);

// Capability rights for a copy of a frame mapped with `map`: read, and write if it is writable.
inline uint64_t frame_cap_rights(uint64_t map) {
    return abi::kRightRead | ((map & abi::kMapWrite) != 0 ? abi::kRightWrite : 0);
}

// Reserves the image budget and builds the image into it.
Result<Image, SpawnError> build_image(BuilderEnvironment& env, Budget& budget,
                                      const pd::BuildPlan& plan, std::span<const uint8_t> elf,
                                      const PdConfig& config);

}  // namespace tessera
