// The two-level creator CSpace (tessera/bookkeeping_space.hpp).
#include "tessera/bookkeeping_space.hpp"

#include "tessera/invocation.hpp"

namespace tessera {

using abi::CapPtr;
using abi::kWordBits;

Result<void, abi::Error> BookkeepingSpace::adopt(const Adoption& a) {
    if (adopted() || a.slots == nullptr || a.radix == 0 || a.radix > kNodeBits - 1) {
        return fail(abi::Error::kInvalidArgument);
    }
    const uint64_t top = a.slots->allocate();
    if (top == 0) {
        return fail(abi::Error::kNotEnoughMemory);
    }
    InvocationResult r = untyped_retype(CapPtr(a.top_untyped), abi::ObjectType::kCNode, kTopRadix,
                                        a.cnode, 0, 0, top, 1);
    // Top slot 0: the old CNode, its guard taking the bits between the top's and its index.
    if (r.ok()) {
        r = cnode_mint(CapPtr(top), 0, kTopRadix, a.cnode, a.cnode.value(), kWordBits,
                       abi::kRightsAll, kNodeBits - a.radix);
    }
    if (r.ok()) {
        r = tcb_set_space(a.tcb, a.fault_endpoint, CapPtr(top), 0, a.vspace);
    }
    if (!r.ok()) {
        (void)cnode_delete(a.cnode, top, kWordBits);
        a.slots->free(top);
        return fail(r.error);
    }
    top_ = CapPtr(top);
    cnode_ = a.cnode;
    slots_ = a.slots;
    nodes_.init(1, uint64_t{1} << kTopRadix);
    return {};
}

Result<uint64_t, abi::Error> BookkeepingSpace::make_node(uint64_t untyped, unsigned radix) {
    if (!adopted() || radix < abi::kMinCNodeRadix || radix > abi::kMaxCNodeRadix) {
        return fail(abi::Error::kInvalidArgument);
    }
    const uint64_t node = nodes_.allocate();
    const uint64_t temp = slots_->allocate();
    if (node == 0 || temp == 0) {
        nodes_.free(node);
        slots_->free(temp);
        return fail(abi::Error::kNotEnoughMemory);
    }
    // Made in an old slot, then moved into the top CNode with the guard that makes its index
    // the low `radix` bits of a capability pointer.
    InvocationResult r =
        untyped_retype(CapPtr(untyped), abi::ObjectType::kCNode, radix, cnode_, 0, 0, temp, 1);
    if (r.ok()) {
        r = cnode_mutate(top_, node_index(node), kNodeDepth, top_, temp, kWordBits,
                         kNodeBits - radix);
        if (!r.ok()) {
            (void)cnode_delete(top_, temp, kWordBits);
        }
    }
    slots_->free(temp);
    if (!r.ok()) {
        nodes_.free(node);
        return fail(r.error);
    }
    return node;
}

void BookkeepingSpace::free_node(uint64_t node) {
    if (node == 0 || node >= (uint64_t{1} << kTopRadix)) {
        return;
    }
    (void)cnode_delete(top_, node_index(node), kNodeDepth);  // empty already if revoked
    nodes_.free(node);
}

}  // namespace tessera
