// Synchronous IPC through endpoints, signals through notifications, replies, and cancelling a
// thread's IPC when it is suspended or destroyed. Messages and capabilities move directly from
// sender to receiver; nothing is buffered in the kernel.
#pragma once

#include <cstdint>

#include "abi/syscall.hpp"
#include "object/endpoint.hpp"
#include "object/tcb.hpp"

namespace tessera {

struct SendOptions {
    uint64_t badge = 0;
    bool can_grant = false;
    bool can_grant_reply = false;
    bool blocking = true;
    bool is_call = false;
};

// The sender's message is in its registers / IPC buffer (or its pending fault).
void send_ipc(Tcb& sender, Endpoint& ep, const SendOptions& options);
// can_grant: the receive capability has Grant, so the reply to a call received may carry
// capabilities (seL4's rule: the receiver's right decides, not the caller's).
void receive_ipc(Tcb& receiver, Endpoint& ep, bool blocking, bool can_grant);
// Replies to the caller the replier owes a reply to (no-op if none, or if it died).
void reply_ipc(Tcb& replier);
// SaveCaller: turns the replier's pending reply into a reply capability stored in slot.
// False if it owes no reply.
bool save_caller(Tcb& replier, Cte& slot);
// Send on a reply capability: replies to its caller (if it still waits) and consumes the cap.
void reply_through_capability(Tcb& replier, Cte& reply_slot);
// A reply capability leaves its slot (deleted or moved): keep the caller's link right.
void reply_capability_moved(const Capability& reply, const Cte* from, Cte* to);

void signal_notification(Notification& n, uint64_t badge);
void wait_notification(Tcb& t, Notification& n, bool blocking);
void bind_notification(Tcb& t, Notification& n);
void unbind_notification(Tcb& t);

// Takes t out of whatever IPC it is blocked in (or owed a reply by) and clears its links.
void cancel_ipc(Tcb& t);
// Object destruction: every waiter is woken with a Cancelled message.
void cancel_all_ipc(Endpoint& ep);
void cancel_all_signals(Notification& n);
// Senders queued with badge are woken with Cancelled (CNode CancelBadgedSends).
void cancel_badged_sends(Endpoint& ep, uint64_t badge);

// Starts fault delivery for t (t's fault fields already set). False if t has no usable fault
// endpoint, in which case the caller reports and suspends it.
bool deliver_fault(Tcb& t);

}  // namespace tessera
