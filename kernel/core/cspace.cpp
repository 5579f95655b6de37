// Guarded CNode address resolution, as in seL4's resolveAddressBits: each CNode consumes
// guard_size bits that must equal its guard, then radix bits that index a slot.
#include "core/cspace.hpp"

#include "core/kernel_memory.hpp"

namespace tessera {
namespace {

constexpr uint64_t low_bits(unsigned n) {
    return n >= 64 ? ~uint64_t{0} : (uint64_t{1} << n) - 1;
}

// The n bits of value that end `end` bits above bit 0: bits [end - n, end).
constexpr uint64_t bits_below(uint64_t value, unsigned end, unsigned n) {
    unsigned shift = end - n;
    return (shift >= 64 ? 0 : value >> shift) & low_bits(n);
}

}  // namespace

SysResult<ResolvedSlot> resolve_address_bits(const Capability& root, abi::CapPtr cptr,
                                             unsigned depth) {
    if (depth < 1 || depth > abi::kWordBits) {
        return fail(SyscallError::range(1, abi::kWordBits));
    }
    if (root.type() != CapType::kCNode) {
        return fail(SyscallError::failed_lookup(abi::LookupFailure::kInvalidRoot, depth));
    }
    Capability node = root;
    unsigned remaining = depth;
    for (;;) {
        unsigned radix = node.cnode_radix();
        unsigned guard_size = node.cnode_guard_size();
        unsigned level_bits = radix + guard_size;
        if (guard_size > remaining ||
            bits_below(cptr.value(), remaining, guard_size) != node.cnode_guard()) {
            return fail(SyscallError::failed_lookup(abi::LookupFailure::kGuardMismatch, remaining));
        }
        if (level_bits > remaining || radix == 0) {
            return fail(SyscallError::failed_lookup(abi::LookupFailure::kDepthMismatch, remaining));
        }
        uint64_t index = bits_below(cptr.value(), remaining - guard_size, radix);
        Cte* slot = object_at<Cte>(node.object()) + index;
        remaining -= level_bits;
        if (remaining == 0) {
            return ResolvedSlot{slot, 0, radix};
        }
        if (slot->cap().type() != CapType::kCNode) {
            return ResolvedSlot{slot, remaining, radix};
        }
        node = slot->cap();
    }
}

SysResult<Cte*> lookup_slot_at_depth(const Capability& root, abi::CapPtr cptr, unsigned depth) {
    ResolvedSlot r = TRY(resolve_address_bits(root, cptr, depth));
    if (r.bits_remaining != 0) {
        return fail(
            SyscallError::failed_lookup(abi::LookupFailure::kDepthMismatch, r.bits_remaining));
    }
    return r.slot;
}

SysResult<Cte*> lookup_slot(const Capability& root, abi::CapPtr cptr) {
    ResolvedSlot r = TRY(resolve_address_bits(root, cptr, abi::kWordBits));
    return r.slot;
}

}  // namespace tessera
