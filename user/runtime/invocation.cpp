// Invocation marshalling for user programs (see tessera/invocation.hpp).
#include "tessera/invocation.hpp"

#include "tessera/syscall.hpp"

namespace tessera {
namespace {

abi::IpcBuffer* g_ipc_buffer = nullptr;

using abi::CapPtr;
using abi::InvocationLabel;

}  // namespace

void set_ipc_buffer(abi::IpcBuffer* buffer) {
    g_ipc_buffer = buffer;
}
abi::IpcBuffer* ipc_buffer() {
    return g_ipc_buffer;
}

InvocationResult invoke(CapPtr cap, InvocationLabel label, std::span<const uint64_t> args,
                        std::span<const CapPtr> caps) {
    sys::Message m;
    unsigned length = static_cast<unsigned>(args.size());
    for (unsigned i = 0; i < length && i < abi::kMaxMessageLength; ++i) {
        if (i < abi::kMessageRegistersInCpu) {
            m.mr[i] = args[i];
        } else if (g_ipc_buffer != nullptr) {
            g_ipc_buffer->msg[i] = args[i];
        }
    }
    unsigned cap_count = 0;
    for (; cap_count < caps.size() && cap_count < abi::kMaxExtraCaps && g_ipc_buffer != nullptr;
         ++cap_count) {
        g_ipc_buffer->caps_or_badges[cap_count] = caps[cap_count].value();
    }
    m.info = abi::MessageInfo(static_cast<uint64_t>(label), 0, cap_count, length);
    sys::call(cap, m);
    InvocationResult r;
    r.error = static_cast<abi::Error>(m.info.label());
    for (unsigned i = 0; i < 3; ++i) {
        r.detail[i] = m.mr[i];
    }
    return r;
}

InvocationResult untyped_retype(CapPtr untyped, abi::ObjectType type, uint64_t size_bits,
                                CapPtr root, uint64_t node_index, uint64_t node_depth,
                                uint64_t node_offset, uint64_t num_objects) {
    const uint64_t args[] = {
        static_cast<uint64_t>(type), size_bits, node_index, node_depth, node_offset, num_objects};
    const CapPtr caps[] = {root};
    return invoke(untyped, InvocationLabel::kUntypedRetype, args, caps);
}

InvocationResult cnode_copy(CapPtr dest_root, uint64_t dest_index, uint64_t dest_depth,
                            CapPtr src_root, uint64_t src_index, uint64_t src_depth,
                            uint64_t rights) {
    const uint64_t args[] = {dest_index, dest_depth, src_index, src_depth, rights};
    const CapPtr caps[] = {src_root};
    return invoke(dest_root, InvocationLabel::kCNodeCopy, args, caps);
}

InvocationResult cnode_mint(CapPtr dest_root, uint64_t dest_index, uint64_t dest_depth,
                            CapPtr src_root, uint64_t src_index, uint64_t src_depth,
                            uint64_t rights, uint64_t data) {
    const uint64_t args[] = {dest_index, dest_depth, src_index, src_depth, rights, data};
    const CapPtr caps[] = {src_root};
    return invoke(dest_root, InvocationLabel::kCNodeMint, args, caps);
}

InvocationResult cnode_move(CapPtr dest_root, uint64_t dest_index, uint64_t dest_depth,
                            CapPtr src_root, uint64_t src_index, uint64_t src_depth) {
    const uint64_t args[] = {dest_index, dest_depth, src_index, src_depth};
    const CapPtr caps[] = {src_root};
    return invoke(dest_root, InvocationLabel::kCNodeMove, args, caps);
}

InvocationResult cnode_mutate(CapPtr dest_root, uint64_t dest_index, uint64_t dest_depth,
                              CapPtr src_root, uint64_t src_index, uint64_t src_depth,
                              uint64_t data) {
    const uint64_t args[] = {dest_index, dest_depth, src_index, src_depth, data};
    const CapPtr caps[] = {src_root};
    return invoke(dest_root, InvocationLabel::kCNodeMutate, args, caps);
}

InvocationResult cnode_delete(CapPtr root, uint64_t index, uint64_t depth) {
    const uint64_t args[] = {index, depth};
    return invoke(root, InvocationLabel::kCNodeDelete, args);
}

InvocationResult cnode_revoke(CapPtr root, uint64_t index, uint64_t depth) {
    const uint64_t args[] = {index, depth};
    return invoke(root, InvocationLabel::kCNodeRevoke, args);
}

InvocationResult tcb_suspend(CapPtr tcb) {
    return invoke(tcb, InvocationLabel::kTcbSuspend, {});
}

InvocationResult tcb_resume(CapPtr tcb) {
    return invoke(tcb, InvocationLabel::kTcbResume, {});
}

CapIdentity debug_cap_identify(CapPtr cap) {
    register uint64_t x0 asm("x0") = cap.value();
    register uint64_t x1 asm("x1");
    register uint64_t x2 asm("x2");
    register uint64_t x7 asm("x7") = static_cast<uint64_t>(abi::Syscall::kDebugCapIdentify);
    asm volatile("svc #0" : "+r"(x0), "=r"(x1), "=r"(x2) : "r"(x7) : "memory");
    return CapIdentity{static_cast<abi::CapType>(x0), x1, x2};
}

}  // namespace tessera
