// Capability comparisons used by the derivation tree, and type names for reports.
// Object sizes follow the ABI (abi/object_type.hpp).
#include "core/capability.hpp"

#include "core/zombie.hpp"

namespace tessera {

const char* to_string(CapType type) {
    switch (type) {
        case CapType::kNull:
            return "null";
        case CapType::kUntyped:
            return "untyped";
        case CapType::kEndpoint:
            return "endpoint";
        case CapType::kNotification:
            return "notification";
        case CapType::kReply:
            return "reply";
        case CapType::kCNode:
            return "cnode";
        case CapType::kTcb:
            return "tcb";
        case CapType::kIrqControl:
            return "irq-control";
        case CapType::kIrqHandler:
            return "irq-handler";
        case CapType::kFrame:
            return "frame";
        case CapType::kPageTable:
            return "page-table";
        case CapType::kVSpace:
            return "vspace";
        case CapType::kAsidControl:
            return "asid-control";
        case CapType::kAsidPool:
            return "asid-pool";
        case CapType::kZombie:
            return "zombie";
        case CapType::kDebug:
            return "debug";
        case CapType::kConsole:
            return "console";
        case CapType::kCount:
            break;
    }
    return "invalid";
}

uint64_t Capability::object_size() const {
    switch (type()) {
        case CapType::kUntyped:
            return uint64_t{1} << untyped_size_bits();
        case CapType::kEndpoint:
            return uint64_t{1} << abi::kEndpointSizeBits;
        case CapType::kNotification:
            return uint64_t{1} << abi::kNotificationSizeBits;
        case CapType::kCNode:
            return uint64_t{1} << (cnode_radix() + abi::kSlotSizeBits);
        case CapType::kTcb:
            return uint64_t{1} << abi::kTcbSizeBits;
        case CapType::kFrame:
            return uint64_t{1} << (frame_is_large() ? abi::kLargePageSizeBits : abi::kPageSizeBits);
        case CapType::kPageTable:
            return uint64_t{1} << abi::kPageTableSizeBits;
        case CapType::kVSpace:
        case CapType::kAsidPool:
            return uint64_t{1} << abi::kVSpaceSizeBits;
        case CapType::kZombie:
            return zombie_object_size(*this);
        default:
            return 0;
    }
}

bool same_region_as(const Capability& a, const Capability& b) {
    switch (a.type()) {
        case CapType::kNull:
            return false;
        case CapType::kUntyped: {
            if (b.is_null() || b.type() == CapType::kIrqControl ||
                b.type() == CapType::kIrqHandler || b.type() == CapType::kAsidControl ||
                b.type() == CapType::kReply || b.type() == CapType::kDebug ||
                b.type() == CapType::kConsole) {
                return false;  // these name no memory of their own
            }
            uint64_t a_base = a.object().value();
            uint64_t a_end = a_base + a.object_size();
            uint64_t b_base = b.object().value();
            uint64_t b_size = b.object_size();
            uint64_t b_last = b_base + (b_size == 0 ? 0 : b_size - 1);
            return b_base >= a_base && b_last < a_end && b_last >= b_base;
        }
        case CapType::kIrqControl:
            return b.type() == CapType::kIrqControl || b.type() == CapType::kIrqHandler;
        case CapType::kIrqHandler:
            return b.type() == CapType::kIrqHandler && b.irq() == a.irq();
        case CapType::kAsidControl:
            return b.type() == CapType::kAsidControl || b.type() == CapType::kAsidPool;
        case CapType::kCNode:
            return b.type() == CapType::kCNode && a.object() == b.object() &&
                   a.cnode_radix() == b.cnode_radix();
        case CapType::kZombie:
            return false;  // a zombie parents nothing and is no other capability's object
        default:
            return a.type() == b.type() && a.object() == b.object();
    }
}

bool same_object_as(const Capability& a, const Capability& b) {
    if (a.type() == CapType::kUntyped) {
        return b.type() == CapType::kUntyped && a.object() == b.object() &&
               a.untyped_size_bits() == b.untyped_size_bits();
    }
    if (a.type() == CapType::kIrqControl && b.type() == CapType::kIrqHandler) {
        return false;
    }
    if (a.type() == CapType::kAsidControl && b.type() == CapType::kAsidPool) {
        return false;
    }
    return same_region_as(a, b);
}

}  // namespace tessera
