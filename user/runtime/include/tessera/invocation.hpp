// Typed wrappers for object invocations. Each marshals its arguments into message registers and
// the IPC buffer, performs a Call on the capability, and returns the kernel's error with its
// detail words.
#pragma once

#include <cstdint>
#include <span>

#include "abi/capability_pointer.hpp"
#include "abi/error.hpp"
#include "abi/invocation.hpp"
#include "abi/ipc_buffer.hpp"
#include "abi/object_type.hpp"

namespace tessera {

struct InvocationResult {
    abi::Error error = abi::Error::kOk;
    uint64_t detail[3] = {};

    [[nodiscard]] bool ok() const { return error == abi::Error::kOk; }
};

// The calling thread's IPC buffer (kept in its thread block; set at thread start).
void set_ipc_buffer(abi::IpcBuffer* buffer);
abi::IpcBuffer* ipc_buffer();

// Generic invocation: args beyond the first four and all caps travel in the IPC buffer.
InvocationResult invoke(abi::CapPtr cap, abi::InvocationLabel label, std::span<const uint64_t> args,
                        std::span<const abi::CapPtr> caps = {});

InvocationResult untyped_retype(abi::CapPtr untyped, abi::ObjectType type, uint64_t size_bits,
                                abi::CapPtr root, uint64_t node_index, uint64_t node_depth,
                                uint64_t node_offset, uint64_t num_objects);

InvocationResult cnode_copy(abi::CapPtr dest_root, uint64_t dest_index, uint64_t dest_depth,
                            abi::CapPtr src_root, uint64_t src_index, uint64_t src_depth,
                            uint64_t rights);
InvocationResult cnode_mint(abi::CapPtr dest_root, uint64_t dest_index, uint64_t dest_depth,
                            abi::CapPtr src_root, uint64_t src_index, uint64_t src_depth,
                            uint64_t rights, uint64_t data);
InvocationResult cnode_move(abi::CapPtr dest_root, uint64_t dest_index, uint64_t dest_depth,
                            abi::CapPtr src_root, uint64_t src_index, uint64_t src_depth);
InvocationResult cnode_mutate(abi::CapPtr dest_root, uint64_t dest_index, uint64_t dest_depth,
                              abi::CapPtr src_root, uint64_t src_index, uint64_t src_depth,
                              uint64_t data);
InvocationResult cnode_delete(abi::CapPtr root, uint64_t index, uint64_t depth);
// Empties count consecutive slots of one CNode from (index, depth).
InvocationResult cnode_delete_range(abi::CapPtr root, uint64_t index, uint64_t depth,
                                    uint64_t count);
InvocationResult cnode_revoke(abi::CapPtr root, uint64_t index, uint64_t depth);
// Copies count (1..512) consecutive capabilities of one CNode into as many empty slots.
InvocationResult cnode_copy_range(abi::CapPtr dest_root, uint64_t dest_index, uint64_t dest_depth,
                                  abi::CapPtr src_root, uint64_t src_index, uint64_t src_depth,
                                  uint64_t rights, uint64_t count);

InvocationResult tcb_suspend(abi::CapPtr tcb);
InvocationResult tcb_resume(abi::CapPtr tcb);
InvocationResult tcb_configure(abi::CapPtr tcb, abi::CapPtr fault_ep, abi::CapPtr cspace,
                               uint64_t cspace_data, abi::CapPtr vspace, uint64_t buffer,
                               abi::CapPtr buffer_frame);
// Replaces the thread's CSpace root (cspace_data: a new guard, 0 keeps the capability's) and
// VSpace; its fault endpoint becomes fault_ep.
InvocationResult tcb_set_space(abi::CapPtr tcb, abi::CapPtr fault_ep, abi::CapPtr cspace,
                               uint64_t cspace_data, abi::CapPtr vspace);
InvocationResult tcb_set_priority(abi::CapPtr tcb, abi::CapPtr authority, uint64_t priority,
                                  uint64_t max_controlled_priority);
// Registers in abi order (pc, sp, spsr, x0..x30, tpidr); count <= kUserRegisterCount.
InvocationResult tcb_write_registers(abi::CapPtr tcb, bool resume, const uint64_t* registers,
                                     unsigned count);
InvocationResult tcb_read_registers(abi::CapPtr tcb, bool suspend, uint64_t* registers,
                                    unsigned count);
InvocationResult tcb_bind_notification(abi::CapPtr tcb, abi::CapPtr notification);

// CNodeIdentify: what the capability in slot (index, depth) of cnode is (kNull with the
// lookup's error if the slot cannot be named).
struct CapIdentity {
    abi::CapType type;
    uint64_t rights;
    uint64_t data;
};
CapIdentity cnode_identify(abi::CapPtr cnode, uint64_t index, uint64_t depth);

}  // namespace tessera

namespace tessera {

InvocationResult irq_control_get(abi::CapPtr irq_control, uint64_t irq, abi::CapPtr root,
                                 uint64_t index, uint64_t depth);
InvocationResult irq_handler_set_notification(abi::CapPtr handler, abi::CapPtr notification);
InvocationResult irq_handler_ack(abi::CapPtr handler);
InvocationResult irq_handler_clear(abi::CapPtr handler);

}  // namespace tessera

namespace tessera {

InvocationResult asid_control_make_pool(abi::CapPtr asid_control, abi::CapPtr untyped,
                                        abi::CapPtr root, uint64_t index, uint64_t depth);
InvocationResult asid_pool_assign(abi::CapPtr pool, abi::CapPtr vspace);
InvocationResult page_table_map(abi::CapPtr table, abi::CapPtr vspace, uint64_t vaddr);
InvocationResult page_table_unmap(abi::CapPtr table);
InvocationResult frame_map(abi::CapPtr frame, abi::CapPtr vspace, uint64_t vaddr, uint64_t rights,
                           abi::MapAttributes attributes);
InvocationResult frame_unmap(abi::CapPtr frame);
// New rights (read, read-write or read-execute) for the frame's mapping.
InvocationResult frame_remap(abi::CapPtr frame, uint64_t rights);
// Copies source's contents into frame (same size; write right on frame, read right on source).
InvocationResult frame_copy(abi::CapPtr frame, abi::CapPtr source);
// Physical address of the frame (for drivers); 0 on error.
uint64_t frame_get_address(abi::CapPtr frame);

}  // namespace tessera

namespace tessera {

InvocationResult frame_cache_op(abi::CapPtr frame, abi::CacheOp op, uint64_t offset, uint64_t size);

// VSpaceMapFrames: the frames at first .. first + count - 1 (consecutive slots of one CNode, all
// 4 KiB or all 2 MiB) mapped at vaddr, vaddr + size, ... in one last-level table; all or none.
InvocationResult vspace_map_frames(abi::CapPtr vspace, abi::CapPtr first, uint64_t count,
                                   uint64_t vaddr, uint64_t rights, abi::MapAttributes attributes);
// VSpaceUnmapFrames: unmaps each of the frames mapped in vspace (unmapped ones are skipped).
InvocationResult vspace_unmap_frames(abi::CapPtr vspace, abi::CapPtr first, uint64_t count);
// New rights for the mappings of frames first .. first + count - 1, all mapped in vspace.
InvocationResult vspace_remap_frames(abi::CapPtr vspace, abi::CapPtr first, uint64_t count,
                                     uint64_t rights);

// DebugTranslate (on the debug capability): the kernel's software walk and the MMU's
// translation of a user address in the caller's address space (~0 where either faults, or both
// ~0 without the capability).
struct Translation {
    uint64_t walked;
    uint64_t hardware;
};
Translation debug_translate(abi::CapPtr debug, uint64_t address);
// DebugHalt: ends the whole system with status; returns (with the error) only if debug is not
// the debug capability.
InvocationResult debug_halt(abi::CapPtr debug, uint64_t status);
// ConsoleWrite: writes up to abi::kConsoleWriteMax characters as one piece; returns how many
// were written (0 without a console capability).
uint64_t console_write(abi::CapPtr console, const char* chars, uint64_t count);

}  // namespace tessera
