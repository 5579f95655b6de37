// The fastpath moves at most four message words in registers, no capabilities, and switches
// directly to the partner when it is the thread the scheduler would choose anyway (its
// priority is at least the current thread's, which is the highest runnable). Everything else
// - long messages, capability transfer, faults, lower-priority partners, bound notifications -
// takes the general path in core/ipc.cpp.
#include "syscall/fastpath.hpp"

#include "abi/syscall.hpp"
#include "core/cspace.hpp"
#include "core/ipc_queue.hpp"
#include "core/kernel_memory.hpp"
#include "core/thread_switch.hpp"

namespace tessera {
namespace {

constexpr unsigned kFirstMr = arch::kFirstMessageRegister;

// The slot x0 names, for the common single-level CSpace (one CNode whose guard and radix
// consume all 64 bits) computed directly; anything else goes through the general lookup.
const Cte* fast_lookup(const Tcb& t) {
    const Capability& root = t.cspace_root.cap();
    uint64_t cptr = t.context.x[arch::kCapRegister];
    unsigned radix = root.cnode_radix();
    if (root.type() == CapType::kCNode && radix + root.cnode_guard_size() == abi::kWordBits &&
        radix != 0 && radix < abi::kWordBits) {
        if ((cptr >> radix) != root.cnode_guard()) {
            return nullptr;
        }
        return object_at<Cte>(root.object()) + (cptr & ((uint64_t{1} << radix) - 1));
    }
    auto slot = lookup_slot(root, abi::CapPtr(cptr));
    return slot ? slot.value() : nullptr;
}

// The endpoint capability named by x0, if it has all the wanted rights.
Endpoint* endpoint_for(Tcb& t, Rights wanted, Capability& cap_out) {
    const Cte* slot = fast_lookup(t);
    if (slot == nullptr) {
        return nullptr;
    }
    const Capability& cap = slot->cap();
    if (cap.type() != CapType::kEndpoint || !cap.has_rights(wanted)) {
        return nullptr;
    }
    cap_out = cap;
    return object_at<Endpoint>(cap.object());
}

void copy_message(Tcb& from, Tcb& to, abi::MessageInfo info, uint64_t badge) {
    unsigned length = info.length();
    for (unsigned i = 0; i < length; ++i) {
        to.context.x[kFirstMr + i] = from.context.x[kFirstMr + i];
    }
    to.context.x[arch::kCapRegister] = badge;
    to.context.x[arch::kInfoRegister] = abi::MessageInfo(info.label(), 0, 0, length).raw();
}

bool fast_call(Tcb& caller, abi::MessageInfo info) {
    Capability cap;
    Endpoint* ep = endpoint_for(caller, abi::kRightWrite, cap);
    if (ep == nullptr ||
        !(cap.has_rights(abi::kRightGrant) || cap.has_rights(abi::kRightGrantReply))) {
        return false;
    }
    Tcb* server = ep->head;
    if (server == nullptr || server->state != ThreadState::kBlockedOnReceive ||
        server->priority < caller.priority) {
        return false;
    }
    ipc_dequeue(*ep, *server);
    copy_message(caller, *server, info, cap.badge());
    // The server owes the caller a reply; the caller waits for it.
    if (server->reply_to != nullptr) {
        server->reply_to->reply_from = nullptr;
    }
    server->reply_to = &caller;
    server->reply_can_grant = server->ipc_can_grant;  // its receive capability's Grant right
    caller.reply_from = server;
    caller.state = ThreadState::kBlockedOnReply;
    server->state = ThreadState::kRunning;
    if (server->priority == caller.priority && caller.in_ready_queue) {
        scheduler().replace(caller, *server);
    } else {
        scheduler().dequeue(caller);
        scheduler().enqueue(*server);
    }
    switch_to(*server);
}

bool fast_reply_recv(Tcb& server, abi::MessageInfo info) {
    Tcb* caller = server.reply_to;
    if (caller == nullptr || caller->state != ThreadState::kBlockedOnReply || caller->has_fault ||
        caller->priority < server.priority) {
        return false;
    }
    Capability cap;
    Endpoint* ep = endpoint_for(server, abi::kRightRead, cap);
    if (ep == nullptr || (ep->head != nullptr && ep->head->state == ThreadState::kBlockedOnSend)) {
        return false;  // a queued sender: the general path delivers it
    }
    if (server.bound_notification != nullptr && server.bound_notification->word != 0) {
        return false;
    }
    copy_message(server, *caller, info, 0);
    server.reply_to = nullptr;
    caller->reply_from = nullptr;
    // The server waits for its next request; the caller resumes with the reply.
    server.state = ThreadState::kBlockedOnReceive;
    server.ipc_can_grant = cap.has_rights(abi::kRightGrant);
    ipc_enqueue(*ep, server);
    caller->state = ThreadState::kRunning;
    if (caller->priority == server.priority && server.in_ready_queue) {
        scheduler().replace(server, *caller);
    } else {
        scheduler().dequeue(server);
        scheduler().enqueue(*caller);
    }
    switch_to(*caller);
}

}  // namespace

bool try_fastpath(Tcb& t) {
    auto number = static_cast<abi::Syscall>(t.context.x[arch::kSyscallNumberRegister]);
    if (number != abi::Syscall::kCall && number != abi::Syscall::kReplyRecv) {
        return false;
    }
    abi::MessageInfo info(t.context.x[arch::kInfoRegister]);
    if (info.extra_caps() != 0 || info.length() > abi::kMessageRegistersInCpu) {
        return false;
    }
    if (number == abi::Syscall::kCall) {
        return fast_call(t, info);
    }
    if (number == abi::Syscall::kReplyRecv) {
        return fast_reply_recv(t, info);
    }
    return false;
}

}  // namespace tessera
