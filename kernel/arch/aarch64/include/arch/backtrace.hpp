// Frame-pointer backtraces on AArch64 (the kernel is built with frame pointers). Every step is
// validated against the kernel stack bounds so a corrupt chain ends the walk, never faults.
#pragma once

#include <cstdint>

extern "C" {
extern char __boot_stack_bottom[];
extern char __boot_stack_top[];
}

namespace tessera::arch {

constexpr unsigned kMaxBacktraceDepth = 32;

inline bool in_kernel_stack(uint64_t address, uint64_t bytes) {
    uint64_t lo = reinterpret_cast<uint64_t>(__boot_stack_bottom);
    uint64_t hi = reinterpret_cast<uint64_t>(__boot_stack_top);
    return address >= lo && address <= hi - bytes;
}

// Calls visit(pc) for each return address in the chain starting at frame record fp.
template <typename Visit>
void walk_frames(uint64_t fp, Visit&& visit) {
    for (unsigned depth = 0; depth < kMaxBacktraceDepth; ++depth) {
        if (fp == 0 || fp % 16 != 0 || !in_kernel_stack(fp, 16)) {
            return;
        }
        const auto* record = reinterpret_cast<const uint64_t*>(fp);
        uint64_t next = record[0];
        uint64_t pc = record[1];
        if (pc == 0) {
            return;
        }
        visit(pc);
        if (next <= fp) {
            return;  // frames grow towards higher addresses; anything else is corrupt
        }
        fp = next;
    }
}

}  // namespace tessera::arch
