// UntypedRetype: decode (every argument, the destination slots), zero the new objects' memory
// in chunks with a preemption point between them, then perform (construct objects, insert
// capabilities as children of the untyped, advance the watermark). An interrupted zeroing
// returns "restart": the thread runs the call again after the interrupt, and its TCB remembers
// how far the zeroing got. That record is trusted only for the same region and while no
// untyped has been reset (a reset can hand out memory that objects have since dirtied).
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

constexpr uint64_t kZeroChunk = uint64_t{64} * 1024;  // bytes zeroed between preemption points

uint64_t g_reset_epoch = 1;  // advances whenever a retype reuses an untyped from its start

// Zeroes [pa, pa + bytes) unless the caller's record says part of it already is. False (and
// the record updated) when an interrupt is pending before the end.
bool zero_preemptibly(Tcb& caller, PhysAddr pa, uint64_t bytes, bool frames) {
    Tcb::RetypeProgress& p = caller.retype_progress;
    uint64_t done = 0;
    if (p.region == pa.value() && p.bytes == bytes && p.epoch == g_reset_epoch) {
        done = p.zeroed;
    }
    while (done < bytes) {
        uint64_t chunk = bytes - done < kZeroChunk ? bytes - done : kZeroChunk;
        VirtAddr at = arch::phys_to_virt(pa.offset(done));
        if (frames) {
            // User mappings may be non-cacheable: the zeros must reach memory.
            arch::zero_to_coherency(at, chunk);
        } else {
            arch::zero_memory(at, chunk);
        }
        done += chunk;
        if (done < bytes && arch::interrupt_pending()) {
            p = Tcb::RetypeProgress{pa.value(), bytes, done, g_reset_epoch};
            return false;
        }
    }
    p = Tcb::RetypeProgress{};
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

    // Zero the objects' memory (preemptible; nothing has changed yet if it is interrupted).
    // Untyped children are not zeroed here: each object made from them later is.
    bool device = untyped.untyped_is_device();
    uint64_t object_size = uint64_t{1} << plan.object_size_bits;
    PhysAddr base = untyped.object().offset(plan.first_offset);
    bool frames = plan.type == abi::ObjectType::kFrame4K || plan.type == abi::ObjectType::kFrame2M;
    if (!device && plan.type != abi::ObjectType::kUntyped &&
        !zero_preemptibly(inv.caller(), base, count * object_size, frames)) {
        return fail(SyscallError::restart());
    }

    // Perform: nothing below can fail.
    if (!DerivationTree::has_children(untyped_slot) && untyped.untyped_free_index() != 0) {
        ++g_reset_epoch;  // memory objects used before is handed out again
    }
    untyped_slot.update_cap(untyped.with_free_index(plan.new_free_index));
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
