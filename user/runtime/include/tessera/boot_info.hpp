// What a root task reads from its boot info (abi/bootinfo.hpp) before anything else: the
// largest RAM untyped, the pool most roots carve their memory from.
#pragma once

#include "abi/bootinfo.hpp"
#include "abi/capability_pointer.hpp"

namespace tessera {

struct BootUntyped {
    abi::CapPtr slot;   // 0 if the boot info lists no RAM untyped
    unsigned bits = 0;  // log2 of its size
};

inline BootUntyped largest_ram_untyped(const abi::BootInfo& info) {
    BootUntyped best;
    for (uint64_t i = 0; i < info.untyped_count; ++i) {
        const abi::UntypedDescriptor& d = info.untyped_list[i];
        if (d.is_device == 0 && d.size_bits > best.bits) {
            best = BootUntyped{abi::CapPtr(info.untyped.start + i), d.size_bits};
        }
    }
    return best;
}

}  // namespace tessera
