// The one configuration object of a protection domain (PdConfig) and its parts: the capabilities
// it is given, its fault policy and the regions of the creator it may share by kind alone.
// Plain data checked by the build plan (pd/build_plan.hpp) before anything is allocated.
#pragma once

#include <cstdint>
#include <span>

#include "abi/object_type.hpp"
#include "abi/startup.hpp"
#include "base/string_view.hpp"
#include "pd/pd_layout.hpp"

namespace tessera::pd {

// A region of the creator's own address space whose frame capabilities it holds (in consecutive
// slots of its CNode): what a configuration's shared region can name by its kind alone.
struct OwnRegion {
    StringView name;
    uint64_t address = 0;
    uint64_t size = 0;    // bytes
    uint64_t frames = 0;  // first of size / page consecutive frame capabilities
    abi::RegionKind kind = abi::RegionKind::kShared;
    PageSize page_size = PageSize::k4K;
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

// See docs/ARCHITECTURE.md, "Life of a protection domain".
struct PdConfig {
    StringView name;
    uint64_t priority = 100;
    uint64_t max_priority = 0;                // highest priority it may give threads (its MCP)
    unsigned cnode_radix = 8;                 // its CSpace: 2^radix slots (6 to 14)
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
    std::span<const RegionSpec> regions;
    uint64_t stack_size = uint64_t{64} * 1024;  // 0: the ELF's PT_GNU_STACK size, else 64 KiB
    uint64_t heap_size = uint64_t{64} * 1024;   // 0: no heap
};

}  // namespace tessera::pd
