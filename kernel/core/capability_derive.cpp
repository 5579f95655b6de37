// Copy rules: reply and IRQ-control capabilities are never copied; an untyped with children
// cannot be (its watermark belongs to the original); frame and table copies start unmapped.
#include "core/capability_derive.hpp"

namespace tessera {

SysResult<Capability> derive_capability(const Cte& src) {
    const Capability& cap = src.cap();
    switch (cap.type()) {
        case CapType::kNull:
            return fail(SyscallError::failed_lookup(abi::LookupFailure::kMissingCapability, 0));
        case CapType::kReply:
        case CapType::kIrqControl:
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
            return Capability::page_table(cap.object(), cap.table_level());
        default:
            return cap;
    }
}

}  // namespace tessera
