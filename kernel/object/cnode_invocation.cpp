// CNode invocations: Copy, Mint, Move, Mutate, Delete, DeleteRange, Revoke, Rotate, SaveCaller. The
// invoked CNode capability is the root in which the destination (or target) slot is looked up;
// Copy/Mint/Move/Mutate take the source root as extra capability 0. Message: dest_index, dest_depth
// [, src_index, src_depth [, rights] [, data]].
#include "arch/cpu.hpp"
#include "core/capability_delete.hpp"
#include "core/capability_derive.hpp"
#include "core/cspace.hpp"
#include "core/ipc.hpp"
#include "core/kernel_memory.hpp"
#include "syscall/invocation.hpp"

namespace tessera {
namespace {

using abi::InvocationLabel;

// Applies Mint/Mutate data: a badge (Mint only, on an unbadged capability) or a CNode guard.
// A badge, once given, never changes, and Mutate never sets one (changing a badge in place would
// split a badge's derivation run): data 0 leaves the badge as it is, any other value is refused
// rather than silently ignored (seL4 refuses both).
SysResult<Capability> with_data(const Capability& cap, uint64_t data, unsigned arg_index,
                                bool preserve_badge) {
    switch (cap.type()) {
        case CapType::kEndpoint:
        case CapType::kNotification:
            if (data == 0) {
                return cap;
            }
            if (preserve_badge || cap.badge() != 0) {
                return fail(SyscallError::of(abi::Error::kIllegalOperation));
            }
            return cap.with_data(data);
        case CapType::kCNode: {
            // data: guard size in bits 5:0, guard value above (as abi documents).
            unsigned guard_size = data & 0x3f;
            uint64_t guard = data >> 6;
            if (guard_size + cap.cnode_radix() > abi::kWordBits || guard_size > 58 ||
                (guard_size < 58 && (guard >> guard_size) != 0)) {
                return fail(SyscallError::invalid_argument(arg_index));
            }
            return Capability::cnode(cap.object(), cap.cnode_radix(), guard_size, guard);
        }
        default:
            return cap;
    }
}

SysResult<Cte*> slot_at(const Capability& root, uint64_t index, uint64_t depth) {
    if (depth < 1 || depth > abi::kWordBits) {
        return fail(SyscallError::range(1, abi::kWordBits));
    }
    return lookup_slot_at_depth(root, abi::CapPtr(index), static_cast<unsigned>(depth));
}

SysResult<void> copy_or_move(const tessera::Invocation& inv, Cte& dest, InvocationLabel op) {
    bool with_rights = op == InvocationLabel::kCNodeCopy || op == InvocationLabel::kCNodeMint;
    bool with_data_word = op == InvocationLabel::kCNodeMint || op == InvocationLabel::kCNodeMutate;
    unsigned words = 4 + (with_rights ? 1 : 0) + (with_data_word ? 1 : 0);
    TRY(inv.require(words, 1));
    Cte* src_root = TRY(inv.extra_cap(0));
    if (src_root->cap().type() != CapType::kCNode) {
        return fail(SyscallError::invalid_capability(1));
    }
    Cte* src = TRY(slot_at(src_root->cap(), TRY(inv.arg(2)), TRY(inv.arg(3))));
    if (src->is_empty()) {
        return fail(SyscallError::failed_lookup(abi::LookupFailure::kMissingCapability, 0));
    }
    if (!dest.is_empty()) {
        return fail(SyscallError::of(abi::Error::kDeleteFirst));
    }
    if (src->cap().type() == CapType::kZombie) {
        return fail(SyscallError::of(abi::Error::kIllegalOperation));  // only deleted, in place
    }
    Capability cap = src->cap();
    if (with_rights) {
        cap = TRY(derive_capability(*src));
        cap = cap.with_rights_masked(static_cast<Rights>(TRY(inv.arg(4)) & abi::kRightsAll));
    }
    if (with_data_word) {
        unsigned index = with_rights ? 5 : 4;
        cap = TRY(with_data(cap, TRY(inv.arg(index)), index, op == InvocationLabel::kCNodeMutate));
    }
    if (with_rights) {
        DerivationTree::insert_derived(*src, dest, cap);
    } else {
        if (src == &dest) {
            return fail(SyscallError::of(abi::Error::kDeleteFirst));
        }
        DerivationTree::move(*src, dest, cap);
        if (cap.type() == CapType::kReply) {
            reply_capability_moved(cap, src, &dest);
        }
    }
    return {};
}

// Rotate: dest_index, dest_depth, dest_data, pivot_index, pivot_depth, pivot_data, src_index,
// src_depth; caps: pivot root, src root. Moves pivot to dest and src to pivot (dest may equal
// src: then the two capabilities are swapped). Data changes guards only (badges are kept).
SysResult<void> rotate(const tessera::Invocation& inv, Cte& dest) {
    TRY(inv.require(8, 2));
    uint64_t dest_data = TRY(inv.arg(2));
    uint64_t pivot_data = TRY(inv.arg(5));
    Cte* pivot_root = TRY(inv.extra_cap(0));
    Cte* src_root = TRY(inv.extra_cap(1));
    if (pivot_root->cap().type() != CapType::kCNode) {
        return fail(SyscallError::invalid_capability(1));
    }
    if (src_root->cap().type() != CapType::kCNode) {
        return fail(SyscallError::invalid_capability(2));
    }
    Cte* pivot = TRY(slot_at(pivot_root->cap(), TRY(inv.arg(3)), TRY(inv.arg(4))));
    Cte* src = TRY(slot_at(src_root->cap(), TRY(inv.arg(6)), TRY(inv.arg(7))));
    if (pivot == src || pivot == &dest) {
        return fail(SyscallError::of(abi::Error::kIllegalOperation));
    }
    if (src->is_empty() || pivot->is_empty()) {
        return fail(SyscallError::failed_lookup(abi::LookupFailure::kMissingCapability, 0));
    }
    if (src != &dest && !dest.is_empty()) {
        return fail(SyscallError::of(abi::Error::kDeleteFirst));
    }
    if (src->cap().type() == CapType::kReply || pivot->cap().type() == CapType::kReply ||
        src->cap().type() == CapType::kZombie || pivot->cap().type() == CapType::kZombie) {
        return fail(SyscallError::of(abi::Error::kIllegalOperation));
    }
    Capability new_dest = TRY(with_data(pivot->cap(), dest_data, 2, true));
    Capability new_pivot = TRY(with_data(src->cap(), pivot_data, 5, true));
    if (src == &dest) {
        DerivationTree::swap(*pivot, new_dest, *src, new_pivot);  // each cap changes slot
    } else {
        DerivationTree::move(*pivot, dest, new_dest);
        DerivationTree::move(*src, *pivot, new_pivot);
    }
    return {};
}

// DeleteRange: index, depth, count. Empties `count` consecutive slots of one CNode, starting at
// the slot (index, depth). A deletion that may cascade (the final capability to a CNode or TCB)
// ends the pass: the call restarts and looks everything up again, since the cascade may have
// destroyed the CNode itself. So does a pending interrupt. Slots already emptied stay empty, so
// every pass makes progress.
SysResult<void> delete_range(const tessera::Invocation& inv) {
    TRY(inv.require(3, 0));
    uint64_t index = TRY(inv.arg(0));
    uint64_t depth = TRY(inv.arg(1));
    uint64_t count = TRY(inv.arg(2));
    if (depth < 1 || depth > abi::kWordBits) {
        return fail(SyscallError::range(1, abi::kWordBits));
    }
    ResolvedSlot first =
        TRY(resolve_address_bits(inv.cap(), abi::CapPtr(index), static_cast<unsigned>(depth)));
    if (first.bits_remaining != 0) {
        return fail(
            SyscallError::failed_lookup(abi::LookupFailure::kDepthMismatch, first.bits_remaining));
    }
    // Resolved to the last bit: index's low `radix` bits pick the slot in its CNode.
    const uint64_t slots = uint64_t{1} << first.radix;
    const uint64_t left = slots - (index & (slots - 1));
    if (count == 0 || count > left) {
        return fail(SyscallError::range(1, left));
    }
    for (uint64_t i = 0; i < count; ++i) {
        Cte& slot = first.slot[i];
        if (slot.is_empty()) {
            continue;
        }
        bool cascades = deletion_may_cascade(slot);
        if (!delete_capability(slot)) {
            return fail(SyscallError::restart());  // preempted inside a cascade: goes on there
        }
        if (i + 1 < count && (cascades || arch::interrupt_pending())) {
            return fail(SyscallError::restart());
        }
    }
    return {};
}

// The `count` consecutive slots of one CNode from (index, depth), or a range error on `word`.
SysResult<Cte*> slot_run(const Capability& root, uint64_t index, uint64_t depth, uint64_t count,
                         unsigned word) {
    if (depth < 1 || depth > abi::kWordBits) {
        return fail(SyscallError::range(word + 1, abi::kWordBits));
    }
    ResolvedSlot first =
        TRY(resolve_address_bits(root, abi::CapPtr(index), static_cast<unsigned>(depth)));
    if (first.bits_remaining != 0) {
        return fail(
            SyscallError::failed_lookup(abi::LookupFailure::kDepthMismatch, first.bits_remaining));
    }
    const uint64_t slots = uint64_t{1} << first.radix;
    const uint64_t left = slots - (index & (slots - 1));
    if (count > left) {
        return fail(SyscallError::range(5, left));
    }
    return first.slot;
}

// CopyRange: dest_index, dest_depth, src_index, src_depth, rights, count (1..512); cap: source
// root. Copies count consecutive capabilities of one CNode into count consecutive empty slots of
// one CNode, each derived as Copy derives it (so a mapped frame's copy is unmapped, an untyped
// with children is refused) with its rights masked. Everything is checked before the first
// copy, so the call copies all or nothing (an occupied destination is DeleteFirst and an empty
// or zombie source InvalidCapability, with the index in the second detail word); the two runs
// may not overlap.
SysResult<void> copy_range(const tessera::Invocation& inv) {
    TRY(inv.require(6, 1));
    const uint64_t count = TRY(inv.arg(5));
    if (count == 0 || count > abi::kMaxFramesPerCall) {
        return fail(SyscallError::range(5, abi::kMaxFramesPerCall));
    }
    Cte* src_root = TRY(inv.extra_cap(0));
    if (src_root->cap().type() != CapType::kCNode) {
        return fail(SyscallError::invalid_capability(1));
    }
    Cte* dest = TRY(slot_run(inv.cap(), TRY(inv.arg(0)), TRY(inv.arg(1)), count, 0));
    Cte* src = TRY(slot_run(src_root->cap(), TRY(inv.arg(2)), TRY(inv.arg(3)), count, 2));
    const auto d = reinterpret_cast<uintptr_t>(dest);
    const auto s = reinterpret_cast<uintptr_t>(src);
    if (d < s + count * sizeof(Cte) && s < d + count * sizeof(Cte)) {
        return fail(SyscallError::of(abi::Error::kIllegalOperation));
    }
    const auto rights = static_cast<Rights>(TRY(inv.arg(4)) & abi::kRightsAll);
    for (uint64_t i = 0; i < count; ++i) {
        if (!dest[i].is_empty()) {
            return fail(SyscallError::make(abi::Error::kDeleteFirst, 0, i));
        }
        if (src[i].is_empty() || src[i].cap().type() == CapType::kZombie) {
            return fail(SyscallError::make(abi::Error::kInvalidCapability, 1, i));
        }
        TRY(derive_capability(src[i]));  // refused as Copy would refuse it
    }
    for (uint64_t i = 0; i < count; ++i) {
        const Capability cap = derive_capability(src[i]).value().with_rights_masked(rights);
        DerivationTree::insert_derived(src[i], dest[i], cap);
    }
    return {};
}

}  // namespace

SysResult<void> invoke_cnode(const tessera::Invocation& inv) {
    auto op = static_cast<InvocationLabel>(inv.label());
    if (op == InvocationLabel::kCNodeDeleteRange) {
        return delete_range(inv);
    }
    if (op == InvocationLabel::kCNodeCopyRange) {
        return copy_range(inv);
    }
    switch (op) {
        case InvocationLabel::kCNodeCopy:
        case InvocationLabel::kCNodeMint:
        case InvocationLabel::kCNodeMove:
        case InvocationLabel::kCNodeMutate:
        case InvocationLabel::kCNodeDelete:
        case InvocationLabel::kCNodeRevoke:
        case InvocationLabel::kCNodeCancelBadgedSends:
        case InvocationLabel::kCNodeRotate:
        case InvocationLabel::kCNodeSaveCaller:
        case InvocationLabel::kCNodeIdentify:
            break;
        default:
            return fail(SyscallError::of(abi::Error::kIllegalOperation));
    }
    TRY(inv.require(2, 0));
    Cte* target = TRY(slot_at(inv.cap(), TRY(inv.arg(0)), TRY(inv.arg(1))));
    switch (op) {
        case InvocationLabel::kCNodeDelete:
            if (!delete_capability(*target)) {
                return fail(SyscallError::restart());  // the slot holds a zombie: goes on
            }
            return {};
        case InvocationLabel::kCNodeRevoke:
            if (!revoke_capability(*target)) {
                return fail(SyscallError::restart());
            }
            return {};
        case InvocationLabel::kCNodeCancelBadgedSends: {
            // Needs the right to revoke the badge: a badged, revocable endpoint capability.
            const Capability& cap = target->cap();
            if (cap.type() != CapType::kEndpoint || cap.badge() == 0 || !target->revocable()) {
                return fail(SyscallError::of(abi::Error::kIllegalOperation));
            }
            cancel_badged_sends(*object_at<Endpoint>(cap.object()), cap.badge());
            return {};
        }
        case InvocationLabel::kCNodeRotate:
            return rotate(inv, *target);
        case InvocationLabel::kCNodeIdentify: {
            // What the holder of this CNode may know of a slot in it: the capability's type,
            // rights and data word (badge, guard, watermark or mapping; never a physical
            // address).
            const Capability& cap = target->cap();
            bool zombie = cap.type() == CapType::kZombie;  // its record is the kernel's own
            inv.set_reply(0, static_cast<uint64_t>(cap.type()));
            inv.set_reply(1, zombie ? 0 : cap.rights());
            inv.set_reply(2, zombie ? 0 : cap.data());
            return {};
        }
        case InvocationLabel::kCNodeSaveCaller:
            if (!target->is_empty()) {
                return fail(SyscallError::of(abi::Error::kDeleteFirst));
            }
            if (!save_caller(inv.caller(), *target)) {
                return fail(SyscallError::of(abi::Error::kIllegalOperation));  // no reply owed
            }
            return {};
        default:
            return copy_or_move(inv, *target, op);
    }
}

}  // namespace tessera
