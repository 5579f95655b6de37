// Invocation marshalling for user programs (see tessera/invocation.hpp).
#include "tessera/invocation.hpp"

#include "tessera/syscall.hpp"
#include "tessera/thread_block.hpp"

namespace tessera {
namespace {

using abi::CapPtr;
using abi::InvocationLabel;

}  // namespace

// Each thread's IPC buffer address is the first word of its thread block, which TPIDR_EL0
// (user-writable, saved and restored by the kernel per thread) points at, so threads sharing an
// address space find their own (see tessera/thread_block.hpp).
void set_ipc_buffer(abi::IpcBuffer* buffer) {
    reinterpret_cast<ThreadBlockHeader*>(thread_pointer())->ipc_buffer = buffer;
}

abi::IpcBuffer* ipc_buffer() {
    return reinterpret_cast<const ThreadBlockHeader*>(thread_pointer())->ipc_buffer;
}

InvocationResult invoke(CapPtr cap, InvocationLabel label, std::span<const uint64_t> args,
                        std::span<const CapPtr> caps) {
    abi::IpcBuffer* buffer = ipc_buffer();
    sys::Message m;
    unsigned length = static_cast<unsigned>(args.size());
    for (unsigned i = 0; i < length && i < abi::kMaxMessageLength; ++i) {
        if (i < abi::kMessageRegistersInCpu) {
            m.mr[i] = args[i];
        } else if (buffer != nullptr) {
            buffer->msg[i] = args[i];
        }
    }
    unsigned cap_count = 0;
    for (; cap_count < caps.size() && cap_count < abi::kMaxExtraCaps && buffer != nullptr;
         ++cap_count) {
        buffer->caps_or_badges[cap_count] = caps[cap_count].value();
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

InvocationResult cnode_delete_range(abi::CapPtr root, uint64_t index, uint64_t depth,
                                    uint64_t count) {
    const uint64_t args[] = {index, depth, count};
    return invoke(root, abi::InvocationLabel::kCNodeDeleteRange, args);
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

InvocationResult tcb_configure(CapPtr tcb, CapPtr fault_ep, CapPtr cspace, uint64_t cspace_data,
                               CapPtr vspace, uint64_t buffer, CapPtr buffer_frame) {
    const uint64_t args[] = {fault_ep.value(), cspace_data, 0, buffer};
    const CapPtr caps[] = {cspace, vspace, buffer_frame};
    return invoke(tcb, InvocationLabel::kTcbConfigure, args, caps);
}

InvocationResult tcb_set_space(CapPtr tcb, CapPtr fault_ep, CapPtr cspace, uint64_t cspace_data,
                               CapPtr vspace) {
    const uint64_t args[] = {fault_ep.value(), cspace_data, 0};
    const CapPtr caps[] = {cspace, vspace};
    return invoke(tcb, InvocationLabel::kTcbSetSpace, args, caps);
}

InvocationResult tcb_set_priority(CapPtr tcb, CapPtr authority, uint64_t priority,
                                  uint64_t max_controlled_priority) {
    const uint64_t args[] = {priority, max_controlled_priority};
    const CapPtr caps[] = {authority};
    return invoke(tcb, InvocationLabel::kTcbSetPriority, args, caps);
}

InvocationResult tcb_write_registers(CapPtr tcb, bool resume, const uint64_t* registers,
                                     unsigned count) {
    uint64_t args[3 + abi::kUserRegisterCount] = {resume ? 1u : 0u, 0, count};
    for (unsigned i = 0; i < count && i < abi::kUserRegisterCount; ++i) {
        args[3 + i] = registers[i];
    }
    return invoke(tcb, InvocationLabel::kTcbWriteRegisters,
                  std::span<const uint64_t>(args, 3 + count));
}

InvocationResult tcb_read_registers(CapPtr tcb, bool suspend, uint64_t* registers, unsigned count) {
    const uint64_t args[] = {suspend ? 1u : 0u, 0, count};
    sys::Message m;
    abi::IpcBuffer* buffer = ipc_buffer();
    m.info = abi::MessageInfo(static_cast<uint64_t>(InvocationLabel::kTcbReadRegisters), 0, 0, 3);
    for (unsigned i = 0; i < 3; ++i) {
        m.mr[i] = args[i];
    }
    sys::call(tcb, m);
    InvocationResult r;
    r.error = static_cast<abi::Error>(m.info.label());
    if (!r.ok()) {
        for (unsigned i = 0; i < 3; ++i) {
            r.detail[i] = m.mr[i];
        }
        return r;
    }
    for (unsigned i = 0; i < count && i < m.info.length(); ++i) {
        registers[i] = i < abi::kMessageRegistersInCpu ? m.mr[i] : buffer->msg[i];
    }
    return r;
}

InvocationResult tcb_bind_notification(CapPtr tcb, CapPtr notification) {
    const CapPtr caps[] = {notification};
    return invoke(tcb, InvocationLabel::kTcbBindNotification, {}, caps);
}

CapIdentity cnode_identify(CapPtr cnode, uint64_t index, uint64_t depth) {
    const uint64_t args[] = {index, depth};
    InvocationResult r = invoke(cnode, InvocationLabel::kCNodeIdentify, args);
    if (!r.ok()) {
        return CapIdentity{abi::CapType::kNull, 0, 0};
    }
    return CapIdentity{static_cast<abi::CapType>(r.detail[0]), r.detail[1], r.detail[2]};
}

}  // namespace tessera

namespace tessera {

InvocationResult irq_control_get(abi::CapPtr irq_control, uint64_t irq, abi::CapPtr root,
                                 uint64_t index, uint64_t depth) {
    const uint64_t args[] = {irq, index, depth};
    const abi::CapPtr caps[] = {root};
    return invoke(irq_control, abi::InvocationLabel::kIrqControlGet, args, caps);
}

InvocationResult irq_handler_set_notification(abi::CapPtr handler, abi::CapPtr notification) {
    const abi::CapPtr caps[] = {notification};
    return invoke(handler, abi::InvocationLabel::kIrqHandlerSetNotification, {}, caps);
}

InvocationResult irq_handler_ack(abi::CapPtr handler) {
    return invoke(handler, abi::InvocationLabel::kIrqHandlerAck, {});
}

InvocationResult irq_handler_clear(abi::CapPtr handler) {
    return invoke(handler, abi::InvocationLabel::kIrqHandlerClear, {});
}

}  // namespace tessera

namespace tessera {

InvocationResult asid_control_make_pool(abi::CapPtr asid_control, abi::CapPtr untyped,
                                        abi::CapPtr root, uint64_t index, uint64_t depth) {
    const uint64_t args[] = {index, depth};
    const abi::CapPtr caps[] = {untyped, root};
    return invoke(asid_control, abi::InvocationLabel::kAsidControlMakePool, args, caps);
}

InvocationResult asid_pool_assign(abi::CapPtr pool, abi::CapPtr vspace) {
    const abi::CapPtr caps[] = {vspace};
    return invoke(pool, abi::InvocationLabel::kAsidPoolAssign, {}, caps);
}

InvocationResult page_table_map(abi::CapPtr table, abi::CapPtr vspace, uint64_t vaddr) {
    const uint64_t args[] = {vaddr};
    const abi::CapPtr caps[] = {vspace};
    return invoke(table, abi::InvocationLabel::kPageTableMap, args, caps);
}

InvocationResult page_table_unmap(abi::CapPtr table) {
    return invoke(table, abi::InvocationLabel::kPageTableUnmap, {});
}

InvocationResult frame_map(abi::CapPtr frame, abi::CapPtr vspace, uint64_t vaddr, uint64_t rights,
                           abi::MapAttributes attributes) {
    const uint64_t args[] = {vaddr, rights, static_cast<uint64_t>(attributes)};
    const abi::CapPtr caps[] = {vspace};
    return invoke(frame, abi::InvocationLabel::kFrameMap, args, caps);
}

InvocationResult frame_unmap(abi::CapPtr frame) {
    return invoke(frame, abi::InvocationLabel::kFrameUnmap, {});
}

InvocationResult vspace_map_frames(abi::CapPtr vspace, abi::CapPtr first, uint64_t count,
                                   uint64_t vaddr, uint64_t rights, abi::MapAttributes attributes) {
    const uint64_t args[] = {first.value(), count, vaddr, rights,
                             static_cast<uint64_t>(attributes)};
    return invoke(vspace, abi::InvocationLabel::kVSpaceMapFrames, args);
}

InvocationResult vspace_unmap_frames(abi::CapPtr vspace, abi::CapPtr first, uint64_t count) {
    const uint64_t args[] = {first.value(), count};
    return invoke(vspace, abi::InvocationLabel::kVSpaceUnmapFrames, args);
}

InvocationResult vspace_remap_frames(abi::CapPtr vspace, abi::CapPtr first, uint64_t count,
                                     uint64_t rights) {
    const uint64_t args[] = {first.value(), count, rights};
    return invoke(vspace, abi::InvocationLabel::kVSpaceRemapFrames, args);
}

InvocationResult frame_remap(abi::CapPtr frame, uint64_t rights) {
    const uint64_t args[] = {rights};
    return invoke(frame, abi::InvocationLabel::kFrameRemap, args);
}

InvocationResult cnode_copy_range(CapPtr dest_root, uint64_t dest_index, uint64_t dest_depth,
                                  CapPtr src_root, uint64_t src_index, uint64_t src_depth,
                                  uint64_t rights, uint64_t count) {
    const uint64_t args[] = {dest_index, dest_depth, src_index, src_depth, rights, count};
    const CapPtr caps[] = {src_root};
    return invoke(dest_root, InvocationLabel::kCNodeCopyRange, args, caps);
}

InvocationResult frame_copy(abi::CapPtr frame, abi::CapPtr source) {
    const CapPtr caps[] = {source};
    return invoke(frame, abi::InvocationLabel::kFrameCopy, {}, caps);
}

uint64_t frame_get_address(abi::CapPtr frame) {
    sys::Message m;
    m.info =
        abi::MessageInfo(static_cast<uint64_t>(abi::InvocationLabel::kFrameGetAddress), 0, 0, 0);
    sys::call(frame, m);
    return m.info.label() == 0 ? m.mr[0] : 0;
}

}  // namespace tessera

namespace tessera {

InvocationResult frame_cache_op(abi::CapPtr frame, abi::CacheOp op, uint64_t offset,
                                uint64_t size) {
    const uint64_t args[] = {static_cast<uint64_t>(op), offset, size};
    return invoke(frame, abi::InvocationLabel::kFrameCacheOp, args);
}

Translation debug_translate(CapPtr debug, uint64_t address) {
    const uint64_t args[] = {address};
    InvocationResult r = invoke(debug, InvocationLabel::kDebugTranslate, args);
    if (!r.ok()) {
        return Translation{~uint64_t{0}, ~uint64_t{0}};
    }
    return Translation{r.detail[0], r.detail[1]};
}

InvocationResult debug_halt(CapPtr debug, uint64_t status) {
    const uint64_t args[] = {status};
    return invoke(debug, InvocationLabel::kDebugHalt, args);
}

}  // namespace tessera
