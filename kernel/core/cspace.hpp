// Capability-space lookup: resolving a CapPtr through guarded, multi-level CNodes to a slot.
// Every bit of the address is checked; a wrong guard, a missing CNode or a depth that does not
// land on a slot is a FailedLookup with the reason, never a fault.
#pragma once

#include <cstdint>

#include "abi/capability_pointer.hpp"
#include "core/derivation_tree.hpp"
#include "core/syscall_error.hpp"

namespace tessera {

struct ResolvedSlot {
    Cte* slot = nullptr;
    unsigned bits_remaining = 0;  // address bits left when a non-CNode capability ended the walk
    unsigned radix = 0;           // radix of the CNode holding slot
};

// Resolves the top `depth` bits of cptr (1..64) starting at the CNode capability root.
SysResult<ResolvedSlot> resolve_address_bits(const Capability& root, abi::CapPtr cptr,
                                             unsigned depth);

// CNode operations: exactly `depth` bits must resolve to a slot.
SysResult<Cte*> lookup_slot_at_depth(const Capability& root, abi::CapPtr cptr, unsigned depth);

// Invocations: all 64 bits; the walk may end early at a slot holding a non-CNode capability.
SysResult<Cte*> lookup_slot(const Capability& root, abi::CapPtr cptr);

}  // namespace tessera
