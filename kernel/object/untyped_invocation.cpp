// UntypedRetype: decode (every argument, the destination slots) and perform (zero memory,
// construct objects, insert capabilities as children of the untyped, advance the watermark).
// Message: type, size_bits, node_index, node_depth, node_offset, num_objects; extra cap 0 is
// the CSpace root in which (node_index, node_depth) names the destination CNode.
#include <new>

#include "arch/cache.hpp"
#include "arch/layout.hpp"
#include "core/cspace.hpp"
#include "core/kernel_memory.hpp"
#include "object/tcb.hpp"
#include "object/untyped.hpp"
#include "syscall/invocation.hpp"

extern "C" void* memset(void* dest, int value, size_t n);

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

    // Perform: nothing below can fail.
    bool device = untyped.untyped_is_device();
    uint64_t object_size = uint64_t{1} << plan.object_size_bits;
    PhysAddr base = untyped.object().offset(plan.first_offset);
    untyped_slot.update_cap(untyped.with_free_index(plan.new_free_index));
    for (uint64_t i = 0; i < count; ++i) {
        PhysAddr pa = base.offset(i * object_size);
        // Untyped children are not zeroed here: each object made from them later is.
        if (!device && plan.type != abi::ObjectType::kUntyped) {
            arch::zero_memory(arch::phys_to_virt(pa), object_size);
            // User mappings may be non-cacheable: the zeros must reach memory.
            if (plan.type == abi::ObjectType::kFrame4K || plan.type == abi::ObjectType::kFrame2M) {
                arch::clean_invalidate_to_coherency(arch::phys_to_virt(pa), object_size);
            }
        }
        if (plan.type == abi::ObjectType::kTcb) {
            new (object_at<void>(pa)) Tcb();
        }
        DerivationTree::insert_new_object(untyped_slot, dest_slots[i],
                                          object_capability(plan.type, pa, plan, device));
    }
    return {};
}

}  // namespace tessera
