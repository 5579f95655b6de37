// Copy rules (seL4's deriveCap and Arch_deriveCap): reply and IRQ-control capabilities are never
// copied; an untyped with children cannot be (its watermark belongs to the original, and
// inserting a copy marks the source full: derivation_tree.cpp); a frame's copy starts unmapped
// (each frame capability owns at most one mapping of its own); a page table or VSpace can be
// copied only once it is mapped or has an ASID, and the copy shares that one mapping or ASID,
// so an object that can be mapped or assigned has exactly one capability that can do it.
#include "core/capability_derive.hpp"

namespace tessera {

SysResult<Capability> derive_capability(const Cte& src) {
    const Capability& cap = src.cap();
    switch (cap.type()) {
        case CapType::kNull:
            return fail(SyscallError::failed_lookup(abi::LookupFailure::kMissingCapability, 0));
        case CapType::kReply:
        case CapType::kIrqControl:
        case CapType::kZombie:
            return fail(SyscallError::of(abi::Error::kIllegalOperation));
        case CapType::kUntyped:
            if (DerivationTree::has_children(src)) {
                return fail(SyscallError::of(abi::Error::kRevokeFirst));
            }
            return cap;
        case CapType::kFrame:
            return Capability::frame(cap.object(), cap.frame_is_large(), cap.frame_is_device(),
                                     cap.rights());
        case CapType::kPageTable:
            if (!cap.is_mapped()) {
                return fail(SyscallError::of(abi::Error::kIllegalOperation));
            }
            return cap;
        case CapType::kVSpace:
            if (cap.vspace_asid() == 0) {
                return fail(SyscallError::of(abi::Error::kIllegalOperation));
            }
            return cap;
        default:
            return cap;
    }
}

}  // namespace tessera
