// Thread control block: a thread's registers, scheduling state and the capabilities that define
// its environment (CSpace root, VSpace root, IPC buffer, reply). Lives in retyped memory,
// 2^kTcbSizeBits bytes; the UserContext is first so the entry path finds it via TPIDR_EL1.
#pragma once

#include <cstddef>
#include <cstdint>

#include "abi/capability_pointer.hpp"
#include "abi/object_type.hpp"
#include "arch/user_context.hpp"
#include "core/derivation_tree.hpp"

namespace tessera {

struct Notification;

enum class ThreadState : uint8_t {
    kInactive,  // suspended or never started
    kRunning,   // runnable (in a ready queue)
    kRestart,   // runnable; restarts its interrupted system call
    kBlockedOnReceive,
    kBlockedOnSend,
    kBlockedOnReply,
    kBlockedOnNotification,
};

const char* to_string(ThreadState state);

constexpr unsigned kPriorityCount = 256;
constexpr unsigned kThreadNameLength = 24;

class Tcb {
  public:
    arch::UserContext context;  // first: see file comment
    arch::FpuContext fpu;
    // Two words here fill the gap before the 32-byte-aligned slots.
    abi::CapPtr fault_endpoint;
    uint64_t ipc_badge = 0;  // badge of the capability it sends with (IPC)

    // Capability slots owned by the thread (children of the caps they were configured from).
    alignas(32) Cte cspace_root;
    Cte vspace_root;
    Cte ipc_buffer_frame;

    uint32_t timeslice_ticks = 0;  // ticks left before round-robin moves it back
    ThreadState state = ThreadState::kInactive;
    uint8_t priority = 0;
    uint8_t max_controlled_priority = 0;
    uint8_t fault_kind = 0;   // with has_fault below
    uint64_t ipc_buffer = 0;  // user address of its IPC buffer (0: none)

    // Ready-queue links (intrusive).
    Tcb* ready_prev = nullptr;
    Tcb* ready_next = nullptr;

    // IPC: the endpoint or notification queue it waits in, and what it is sending.
    Tcb* ipc_prev = nullptr;
    Tcb* ipc_next = nullptr;
    void* blocked_on = nullptr;  // Endpoint* or Notification* while blocked
    // Replies: a receiver remembers the caller it owes a reply; the caller, who holds that.
    Tcb* reply_to = nullptr;
    Tcb* reply_from = nullptr;
    Cte* reply_cap_slot = nullptr;  // (caller) where SaveCaller put the reply capability to it
    Notification* bound_notification = nullptr;
    // Its VSpace as last checked for running (0: never) and the VSpace epoch of that check
    // (object/vspace.hpp): the check stands while the epoch has not moved.
    uint64_t user_root = 0;
    uint64_t user_root_epoch = 0;

    // A fault waiting to be (or being) handled; its message replaces the thread's own.
    uint64_t fault_data[5] = {};

    // Flags, packed together.
    bool in_ready_queue = false;
    bool ipc_can_grant = false;  // sending: its cap has Grant; receiving: its cap has Grant
    bool ipc_can_grant_reply = false;
    bool ipc_is_call = false;
    bool reply_can_grant = false;
    bool has_fault = false;

    char name[kThreadNameLength] = {};

    void set_name(const char* text);
    [[nodiscard]] bool is_runnable() const {
        return state == ThreadState::kRunning || state == ThreadState::kRestart;
    }
};

static_assert(offsetof(Tcb, context) == 0, "the entry path relies on this");
static_assert(sizeof(Tcb) <= (size_t{1} << abi::kTcbSizeBits), "a TCB fits its object size");

}  // namespace tessera
