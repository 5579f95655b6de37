// What a root task reads from its boot info (abi/bootinfo.hpp) before anything else: the
// largest RAM untypeds, the pools roots carve their memory from.
#pragma once

#include <cstddef>

#include "abi/bootinfo.hpp"
#include "abi/capability_pointer.hpp"

namespace tessera {

struct BootUntyped {
    abi::CapPtr slot;   // 0 if the boot info lists no RAM untyped
    unsigned bits = 0;  // log2 of its size
};

// The N largest RAM untypeds, largest first (entries past the last are slot 0, bits 0).
template <size_t N>
void largest_ram_untypeds(const abi::BootInfo& info, BootUntyped (&out)[N]) {
    for (BootUntyped& o : out) {
        o = BootUntyped{};
    }
    for (uint64_t i = 0; i < info.untyped_count; ++i) {
        const abi::UntypedDescriptor& d = info.untyped_list[i];
        if (d.is_device != 0) {
            continue;
        }
        BootUntyped candidate{abi::CapPtr(info.untyped.start + i), d.size_bits};
        for (BootUntyped& o : out) {
            if (candidate.bits > o.bits) {
                const BootUntyped displaced = o;
                o = candidate;
                candidate = displaced;
            }
        }
    }
}

inline BootUntyped largest_ram_untyped(const abi::BootInfo& info) {
    BootUntyped best[1];
    largest_ram_untypeds(info, best);
    return best[0];
}

}  // namespace tessera
