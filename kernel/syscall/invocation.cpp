// Invocation plumbing: message access and the switch on capability type. Thin by design:
// each object's decode/perform lives in object/*_invocation.cpp.
#include "syscall/invocation.hpp"

#include "core/cspace.hpp"
#include "core/kernel_memory.hpp"

namespace tessera {

abi::IpcBuffer* ipc_buffer_of(const Tcb& t) {
    const Capability& frame = t.ipc_buffer_frame.cap();
    if (frame.type() != CapType::kFrame || t.ipc_buffer == 0) {
        return nullptr;
    }
    uint64_t offset = t.ipc_buffer & (frame.object_size() - 1);
    if (offset + sizeof(abi::IpcBuffer) > frame.object_size()) {
        return nullptr;
    }
    return object_at<abi::IpcBuffer>(frame.object().offset(offset));
}

Invocation::Invocation(Tcb& caller, Cte& slot, abi::MessageInfo info)
    : caller_(caller),
      slot_(slot),
      info_(info),
      length_(info.length() > abi::kMaxMessageLength ? abi::kMaxMessageLength : info.length()),
      buffer_(ipc_buffer_of(caller)) {}

SysResult<uint64_t> Invocation::arg(unsigned i) const {
    if (i >= length_) {
        return fail(SyscallError::of(abi::Error::kTruncatedMessage));
    }
    if (i < abi::kMessageRegistersInCpu) {
        return caller_.context.x[arch::kFirstMessageRegister + i];
    }
    if (buffer_ == nullptr) {
        return fail(SyscallError::of(abi::Error::kTruncatedMessage));
    }
    return buffer_->msg[i];
}

SysResult<void> Invocation::require(unsigned words, unsigned caps) const {
    if (length_ < words || info_.extra_caps() < caps ||
        (words > abi::kMessageRegistersInCpu && buffer_ == nullptr) ||
        (caps > 0 && buffer_ == nullptr)) {
        return fail(SyscallError::make(abi::Error::kTruncatedMessage, words, caps));
    }
    return {};
}

SysResult<Cte*> Invocation::extra_cap(unsigned i) const {
    if (i >= info_.extra_caps() || buffer_ == nullptr) {
        return fail(SyscallError::of(abi::Error::kTruncatedMessage));
    }
    auto slot = lookup_slot(caller_.cspace_root.cap(), abi::CapPtr(buffer_->caps_or_badges[i]));
    if (!slot || slot.value()->is_empty()) {
        return fail(SyscallError::invalid_capability(1 + i));
    }
    return slot.value();
}

SysResult<Cte*> Invocation::empty_destination(unsigned root_cap, uint64_t index,
                                              uint64_t depth) const {
    Cte* root = TRY(extra_cap(root_cap));
    if (root->cap().type() != CapType::kCNode) {
        return fail(SyscallError::invalid_capability(1 + root_cap));
    }
    if (depth < 1 || depth > abi::kWordBits) {
        return fail(SyscallError::range(1, abi::kWordBits));
    }
    Cte* dest =
        TRY(lookup_slot_at_depth(root->cap(), abi::CapPtr(index), static_cast<unsigned>(depth)));
    if (!dest->is_empty()) {
        return fail(SyscallError::of(abi::Error::kDeleteFirst));
    }
    return dest;
}

bool Invocation::set_reply(unsigned i, uint64_t value) const {
    if (i < abi::kMessageRegistersInCpu) {
        caller_.context.x[arch::kFirstMessageRegister + i] = value;
    } else if (buffer_ != nullptr && i < abi::kMaxMessageLength) {
        buffer_->msg[i] = value;
    } else {
        return false;
    }
    if (i + 1 > reply_length_) {
        reply_length_ = i + 1;
    }
    return true;
}

SysResult<void> invoke(const Invocation& inv) {
    switch (inv.cap().type()) {
        case CapType::kUntyped:
            return invoke_untyped(inv);
        case CapType::kCNode:
            return invoke_cnode(inv);
        case CapType::kTcb:
            return invoke_tcb(inv);
        case CapType::kIrqControl:
            return invoke_irq_control(inv);
        case CapType::kIrqHandler:
            return invoke_irq_handler(inv);
        case CapType::kAsidControl:
            return invoke_asid_control(inv);
        case CapType::kAsidPool:
            return invoke_asid_pool(inv);
        case CapType::kPageTable:
            return invoke_page_table(inv);
        case CapType::kFrame:
            return invoke_frame(inv);
        case CapType::kVSpace:
            return invoke_vspace(inv);
        case CapType::kDebug:
            return invoke_debug(inv);
        case CapType::kConsole:
            return invoke_console(inv);
        default:
            return fail(SyscallError::of(abi::Error::kIllegalOperation));
    }
}

}  // namespace tessera
