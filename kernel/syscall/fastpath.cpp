// The fastpath moves at most four message words in registers, no capabilities, and switches
// directly to the partner when it is the thread the scheduler would choose anyway (its
// priority is at least the current thread's, which is the highest runnable) and its address
// space check still stands. Everything else - long messages, capability transfer, faults,
// lower-priority partners, queued senders, pending notification signals, CSpaces of more than
// one level, a VSpace changed since its thread last ran - takes the general path in
// core/ipc.cpp. Both functions call nothing (their helpers are always inlined), so they need
// no frame (see kernel/CMakeLists.txt).
#include "syscall/fastpath.hpp"

#include "abi/syscall.hpp"
#include "core/ipc_queue.hpp"
#include "core/kernel_memory.hpp"
#include "core/thread_switch.hpp"

namespace tessera {
namespace {

constexpr unsigned kFirstMr = arch::kFirstMessageRegister;

// No extra capabilities and at most kMessageRegistersInCpu words: the low nine bits of the
// message info (length, then extra caps) read as a number no larger than that.
[[gnu::always_inline]] inline bool fits_in_registers(abi::MessageInfo info) {
    static_assert(abi::MessageInfo(0, 0, 1, 0).raw() == 0x80 &&
                  abi::MessageInfo(0, 7, 0, 0).raw() == 0xe00);
    return (info.raw() & 0x1ff) <= abi::kMessageRegistersInCpu;
}

// The capability x0 names if t's CSpace is a single CNode whose guard and radix consume all 64
// bits (every CSpace Tessera builds); null otherwise, and the general lookup decides.
[[gnu::always_inline]] inline const Capability* fast_lookup(const Tcb& t) {
    const Capability& root = t.cspace_root.cap();
    uint64_t cptr = t.context.x[arch::kCapRegister];
    unsigned radix = root.cnode_radix();
    // radix + guard size == 64 with both below 64 bits: 1 <= radix <= 63, a valid shift.
    if (root.type() != CapType::kCNode || radix + root.cnode_guard_size() != abi::kWordBits ||
        (cptr >> radix) != root.cnode_guard()) {
        return nullptr;
    }
    return &object_at<Cte>(root.object())[cptr & ((uint64_t{1} << radix) - 1)].cap();
}

// The endpoint x0 names, if t holds it with every right in `wanted`.
[[gnu::always_inline]] inline Endpoint* fast_endpoint(const Tcb& t, Rights wanted,
                                                      const Capability*& cap) {
    cap = fast_lookup(t);
    if (cap == nullptr || cap->type() != CapType::kEndpoint || !cap->has_rights(wanted)) {
        return nullptr;
    }
    return object_at<Endpoint>(cap->object());
}

// The words, the badge and the message info as transfer_message in core/ipc.cpp writes them
// for a message of registers only.
[[gnu::always_inline]] inline void copy_message(const Tcb& from, Tcb& to, abi::MessageInfo info,
                                                uint64_t badge) {
    unsigned length = info.length();
    for (unsigned i = 0; i < length; ++i) {
        to.context.x[kFirstMr + i] = from.context.x[kFirstMr + i];
    }
    to.context.x[arch::kCapRegister] = badge;
    to.context.x[arch::kInfoRegister] = abi::MessageInfo(info.label(), 0, 0, length).raw();
}

// The running thread `out` blocks and `in` (at least as high a priority, not queued) runs:
// at equal priority `in` takes `out`'s place in the ready queue; above it, `in` is alone in a
// queue that was empty, since `out` was the head of the highest non-empty one.
[[gnu::always_inline]] inline void hand_over(Tcb& out, Tcb& in, uint64_t in_root) {
    if (in.priority == out.priority) {
        scheduler().replace(out, in);
    } else {
        scheduler().dequeue(out);
        scheduler().enqueue(in);
    }
    make_current(in, in_root);
}

}  // namespace
}  // namespace tessera

using namespace tessera;

Tcb* fast_call(Tcb* caller) {
    abi::MessageInfo info(caller->context.x[arch::kInfoRegister]);
    if (!fits_in_registers(info) || caller->has_fault) {
        return nullptr;
    }
    const Capability* cap;
    Endpoint* ep = fast_endpoint(*caller, abi::kRightWrite, cap);
    // Without Grant or GrantReply the caller could never be answered: the general path
    // delivers the message and suspends it.
    if (ep == nullptr || (cap->rights() & (abi::kRightGrant | abi::kRightGrantReply)) == 0) {
        return nullptr;
    }
    Tcb* server = ep->head;
    if (server == nullptr || server->state != ThreadState::kBlockedOnReceive ||
        server->priority < caller->priority) {
        return nullptr;
    }
    uint64_t server_root = cached_user_root(*server);
    if (server_root == 0) {
        return nullptr;
    }

    // Everything checked: deliver, link the reply, block the caller and run the server.
    ipc_dequeue(*ep, *server);
    copy_message(*caller, *server, info, cap->badge());
    if (server->reply_to != nullptr) {
        server->reply_to->reply_from = nullptr;  // an unanswered earlier caller stays blocked
    }
    server->reply_to = caller;
    server->reply_can_grant = server->ipc_can_grant;  // its receive capability's Grant right
    caller->reply_from = server;
    caller->state = ThreadState::kBlockedOnReply;
    server->state = ThreadState::kRunning;
    hand_over(*caller, *server, server_root);
    return server;
}

Tcb* fast_reply_recv(Tcb* server) {
    abi::MessageInfo info(server->context.x[arch::kInfoRegister]);
    if (!fits_in_registers(info)) {
        return nullptr;
    }
    // A caller waiting for this reply, not for a fault handler's verdict.
    Tcb* caller = server->reply_to;
    if (caller == nullptr || caller->state != ThreadState::kBlockedOnReply || caller->has_fault ||
        caller->priority < server->priority) {
        return nullptr;
    }
    const Capability* cap;
    Endpoint* ep = fast_endpoint(*server, abi::kRightRead, cap);
    // A queued sender or a pending signal would be received at once: the general path.
    if (ep == nullptr || (ep->head != nullptr && ep->head->state == ThreadState::kBlockedOnSend)) {
        return nullptr;
    }
    if (const Notification* n = server->bound_notification; n != nullptr && n->word != 0) {
        return nullptr;
    }
    uint64_t caller_root = cached_user_root(*caller);
    if (caller_root == 0) {
        return nullptr;
    }

    // Everything checked: reply, wait for the next request and run the caller.
    copy_message(*server, *caller, info, 0);
    server->reply_to = nullptr;
    caller->reply_from = nullptr;
    server->state = ThreadState::kBlockedOnReceive;
    server->ipc_can_grant = cap->has_rights(abi::kRightGrant);  // decides its next reply's caps
    ipc_enqueue(*ep, *server);
    caller->state = ThreadState::kRunning;
    hand_over(*server, *caller, caller_root);
    return caller;
}
