// Where a PD build spends its time, for benchmarks: each phase's share of a clock (the PMU
// instruction counter, say) accumulated across builds. Pure bookkeeping; the builder marks the
// end of each phase it goes through.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tessera::pd {

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

constexpr const char* to_string(SpawnPhase phase) {
    switch (phase) {
        case SpawnPhase::kPlan:
            return "parse ELF, plan layout, check grants";
        case SpawnPhase::kIdentity:
            return "identity: budget, CNode, TCB";
        case SpawnPhase::kImageObjects:
            return "image budget, VSpace, ASID, frames";
        case SpawnPhase::kImagePages:
            return "ELF pages: fill and map";
        case SpawnPhase::kRegions:
            return "stack, heap and regions";
        case SpawnPhase::kStartupRecord:
            return "startup record and IPC buffer";
        case SpawnPhase::kCapabilities:
            return "capabilities";
        case SpawnPhase::kThread:
            return "configure and start the thread";
        case SpawnPhase::kReclaim:
            return "reclaim the old image (exec)";
        case SpawnPhase::kCount:
            break;
    }
    return "unknown phase";
}

struct SpawnProfile {
    uint64_t (*clock)() = nullptr;
    uint64_t last = 0;
    uint64_t phase[static_cast<size_t>(SpawnPhase::kCount)] = {};

    void start() { last = clock(); }
    void mark(SpawnPhase p) {
        const uint64_t now = clock();
        phase[static_cast<size_t>(p)] += now - last;
        last = now;
    }
};

}  // namespace tessera::pd
