// UntypedRetype: decode (every argument, the destination slots), reset the untyped if it is
// reused, then perform (construct objects, insert capabilities as children of the untyped,
// advance the watermark).
// Invariant (as seL4's): the RAM of an untyped at and above its watermark is zero at the point of
// coherency, with no dirty cache line, so new objects need no zeroing. Boot hands out RAM
// untypeds full (watermark at the top); an untyped with no children left is reset before reuse:
// [0, watermark) is zeroed and cleaned from the top down in chunks, the watermark following each
// chunk down, with a preemption point between chunks. The progress lives in the capability
// itself, so a restarted call - or another thread invoking the same capability meanwhile - goes
// on from memory that is already zero, and nothing a racing thread does can be skipped.
// Message: type, size_bits, node_index, node_depth, node_offset, num_objects; extra cap 0 is
// the CSpace root in which (node_index, node_depth) names the destination CNode.
#include <new>

#include "arch/cache.hpp"
#include "arch/cpu.hpp"
#include "arch/layout.hpp"
#include "core/cspace.hpp"
#include "core/kernel_memory.hpp"
#include "object/tcb.hpp"
#include "object/untyped.hpp"
#include "syscall/invocation.hpp"

namespace tessera {
namespace {

Capability object_capability(abi::ObjectType type, PhysAddr pa, const RetypePlan& plan,
                             bool device) {
    switch (type) {
        case abi::ObjectType::kUntyped:
            return Capability::untyped(pa, plan.object_size_bits, device, 0);
        case abi::ObjectType::kTcb:
            return Capability::tcb(pa);
        case abi::ObjectType::kEndpoint:
            return Capability::endpoint(pa, 0, abi::kRightsAll);
        case abi::ObjectType::kNotification:
            return Capability::notification(pa, 0, abi::kRightsAll);
        case abi::ObjectType::kCNode:
            return Capability::cnode(pa, plan.user_size_bits, 0, 0);
        case abi::ObjectType::kFrame4K:
            return Capability::frame(pa, false, device, abi::kRightsAll);
        case abi::ObjectType::kFrame2M:
            return Capability::frame(pa, true, device, abi::kRightsAll);
        case abi::ObjectType::kPageTable:
            return Capability::page_table(pa, 0);
        case abi::ObjectType::kVSpace:
        case abi::ObjectType::kCount:
            break;
    }
    return Capability::vspace(pa, 0);
}

// Resets the untyped in slot towards watermark 0; false (with the watermark showing the
// progress) when an interrupt is pending before the end.
bool reset_preemptibly(Cte& slot) {
    const Capability cap = slot.cap();
    uint64_t index = cap.untyped_free_index();
    while (index > 0) {
        uint64_t start = reset_chunk_start(index);
        // Kernel objects were written through cacheable mappings and frames may have been
        // mapped uncached: the zeros must reach memory and no dirty line may survive.
        arch::zero_to_coherency(arch::phys_to_virt(cap.object().offset(start)), index - start);
        index = start;
        slot.update_cap(cap.with_free_index(index));
        if (index > 0 && arch::interrupt_pending()) {
            return false;
        }
    }
    return true;
}

}  // namespace

SysResult<void> invoke_untyped(const Invocation& inv) {
    if (inv.label() != static_cast<uint64_t>(abi::InvocationLabel::kUntypedRetype)) {
        return fail(SyscallError::of(abi::Error::kIllegalOperation));
    }
    TRY(inv.require(6, 1));
    uint64_t type = TRY(inv.arg(kRetypeArgType));
    uint64_t size_bits = TRY(inv.arg(kRetypeArgSizeBits));
    uint64_t node_index = TRY(inv.arg(kRetypeArgNodeIndex));
    uint64_t node_depth = TRY(inv.arg(kRetypeArgNodeDepth));
    uint64_t node_offset = TRY(inv.arg(kRetypeArgNodeOffset));
    uint64_t count = TRY(inv.arg(kRetypeArgNumObjects));
    Cte* root_slot = TRY(inv.extra_cap(0));
    if (root_slot->cap().type() != CapType::kCNode) {
        return fail(SyscallError::invalid_capability(1));
    }

    // The destination CNode: the root itself at depth 0, else the CNode capability found there.
    Capability dest = root_slot->cap();
    if (node_depth != 0) {
        if (node_depth > abi::kWordBits) {
            return fail(SyscallError::range(0, abi::kWordBits));
        }
        Cte* node_slot = TRY(lookup_slot_at_depth(root_slot->cap(), abi::CapPtr(node_index),
                                                  static_cast<unsigned>(node_depth)));
        if (node_slot->cap().type() != CapType::kCNode) {
            return fail(SyscallError::failed_lookup(abi::LookupFailure::kMissingCapability, 0));
        }
        dest = node_slot->cap();
    }

    Cte& untyped_slot = inv.slot();
    const Capability& untyped = untyped_slot.cap();
    RetypePlan plan = TRY(
        plan_retype(untyped, DerivationTree::has_children(untyped_slot), type, size_bits, count));
    uint64_t slots = uint64_t{1} << dest.cnode_radix();
    if (node_offset >= slots) {
        return fail(SyscallError::range(0, slots - 1));
    }
    if (count > slots - node_offset) {
        return fail(SyscallError::range(1, slots - node_offset));
    }
    Cte* dest_slots = object_at<Cte>(dest.object()) + node_offset;
    for (uint64_t i = 0; i < count; ++i) {
        if (!dest_slots[i].is_empty()) {
            return fail(SyscallError::make(abi::Error::kDeleteFirst, node_offset + i));
        }
    }

    // Reuse after every child has gone: reset first (preemptible; an interrupted reset has
    // changed nothing but how much of the region is known to be zero).
    bool device = untyped.untyped_is_device();
    if (!DerivationTree::has_children(untyped_slot) && untyped.untyped_free_index() != 0) {
        if (device) {
            untyped_slot.update_cap(untyped.with_free_index(0));  // device memory is not zeroed
        } else if (!reset_preemptibly(untyped_slot)) {
            return fail(SyscallError::restart());
        }
    }

    // Perform: nothing below can fail. The objects' memory is above the watermark: zero.
    uint64_t object_size = uint64_t{1} << plan.object_size_bits;
    PhysAddr base = untyped_slot.cap().object().offset(plan.first_offset);
    untyped_slot.update_cap(untyped_slot.cap().with_free_index(plan.new_free_index));
    for (uint64_t i = 0; i < count; ++i) {
        PhysAddr pa = base.offset(i * object_size);
        if (plan.type == abi::ObjectType::kTcb) {
            new (object_at<void>(pa)) Tcb();
        }
        DerivationTree::insert_new_object(untyped_slot, dest_slots[i],
                                          object_capability(plan.type, pa, plan, device));
    }
    return {};
}

}  // namespace tessera
