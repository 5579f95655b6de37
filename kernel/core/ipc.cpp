// IPC mechanics. Invariants: a thread is in at most one endpoint/notification queue (blocked_on
// names it); all threads in one endpoint queue are blocked the same way; reply_to/reply_from
// links are symmetric and cleared whenever either side stops waiting or dies.
#include "core/ipc.hpp"

#include "core/ipc_queue.hpp"

#include "abi/fault.hpp"
#include "abi/ipc_buffer.hpp"
#include "core/capability_derive.hpp"
#include "core/cspace.hpp"
#include "core/kernel_memory.hpp"
#include "core/thread_switch.hpp"
#include "syscall/invocation.hpp"

namespace tessera {
namespace {

uint64_t& reg(Tcb& t, unsigned i) {
    return t.context.x[i];
}

// Completes a blocked operation of t with an error message (label = error, no words).
void wake_with_error(Tcb& t, abi::Error error) {
    reg(t, arch::kCapRegister) = 0;
    reg(t, arch::kInfoRegister) = abi::MessageInfo(static_cast<uint64_t>(error), 0, 0, 0).raw();
    make_runnable(t);
}

void link_reply(Tcb& receiver, Tcb& caller, bool can_grant) {
    if (receiver.reply_to != nullptr) {
        receiver.reply_to->reply_from = nullptr;  // an unanswered earlier caller stays blocked
    }
    receiver.reply_to = &caller;
    caller.reply_from = &receiver;
    receiver.reply_can_grant = can_grant;
    caller.state = ThreadState::kBlockedOnReply;
}

unsigned fault_length(uint8_t kind) {
    switch (static_cast<abi::FaultType>(kind)) {
        case abi::FaultType::kVmFault:
            return abi::kVmFaultLength;
        case abi::FaultType::kUnknownSyscall:
            return abi::kUnknownSyscallFaultLength;
        case abi::FaultType::kUserException:
            return abi::kUserExceptionFaultLength;
        default:
            return 0;
    }
}

// Writes message word i of receiver (registers, then its IPC buffer). False if it has no room.
bool put_word(Tcb& to, abi::IpcBuffer* to_buffer, unsigned i, uint64_t value) {
    if (i < abi::kMessageRegistersInCpu) {
        reg(to, arch::kFirstMessageRegister + i) = value;
        return true;
    }
    if (to_buffer == nullptr) {
        return false;
    }
    to_buffer->msg[i] = value;
    return true;
}

// Moves up to one capability (plus any number of unwrapped badges) from sender to receiver.
unsigned transfer_caps(Tcb& from, Tcb& to, unsigned count, const Endpoint* endpoint,
                       abi::IpcBuffer* from_buffer, abi::IpcBuffer* to_buffer,
                       unsigned& unwrapped) {
    unsigned transferred = 0;
    bool slot_used = false;
    for (unsigned i = 0; i < count && i < abi::kMaxExtraCaps; ++i) {
        auto src = lookup_slot(from.cspace_root.cap(), abi::CapPtr(from_buffer->caps_or_badges[i]));
        if (!src || src.value()->is_empty()) {
            break;
        }
        const Capability& cap = src.value()->cap();
        // A badged capability to the endpoint the message travels through arrives as its badge.
        if (endpoint != nullptr && cap.type() == CapType::kEndpoint &&
            cap.object() == physical_address_of(endpoint) && cap.badge() != 0) {
            to_buffer->caps_or_badges[i] = cap.badge();
            unwrapped |= 1u << i;
            ++transferred;
            continue;
        }
        if (slot_used) {
            break;  // one receive slot per message
        }
        auto root = lookup_slot(to.cspace_root.cap(), to_buffer->receive_cnode);
        if (!root || root.value()->cap().type() != CapType::kCNode ||
            to_buffer->receive_depth < 1 || to_buffer->receive_depth > abi::kWordBits) {
            break;
        }
        auto dest = lookup_slot_at_depth(root.value()->cap(), abi::CapPtr(to_buffer->receive_index),
                                         static_cast<unsigned>(to_buffer->receive_depth));
        if (!dest || !dest.value()->is_empty()) {
            break;
        }
        auto derived = derive_capability(*src.value());
        if (!derived) {
            break;
        }
        DerivationTree::insert_derived(*src.value(), *dest.value(), derived.value());
        slot_used = true;
        ++transferred;
    }
    return transferred;
}

// Copies sender's message (or its fault) into receiver's registers and buffer.
void transfer_message(Tcb& from, Tcb& to, uint64_t badge, bool can_grant,
                      const Endpoint* endpoint) {
    abi::IpcBuffer* to_buffer = ipc_buffer_of(to);
    abi::MessageInfo info;
    if (from.has_fault) {
        unsigned length = fault_length(from.fault_kind);
        for (unsigned i = 0; i < length; ++i) {
            if (!put_word(to, to_buffer, i, from.fault_data[i])) {
                length = i;
                break;
            }
        }
        info = abi::MessageInfo(from.fault_kind, 0, 0, length);
    } else {
        abi::MessageInfo sent(reg(from, arch::kInfoRegister));
        abi::IpcBuffer* from_buffer = ipc_buffer_of(from);
        unsigned length =
            sent.length() > abi::kMaxMessageLength ? abi::kMaxMessageLength : sent.length();
        for (unsigned i = 0; i < length; ++i) {
            uint64_t word = 0;
            if (i < abi::kMessageRegistersInCpu) {
                word = reg(from, arch::kFirstMessageRegister + i);
            } else if (from_buffer != nullptr) {
                word = from_buffer->msg[i];
            } else {
                length = i;
                break;
            }
            if (!put_word(to, to_buffer, i, word)) {
                length = i;
                break;
            }
        }
        unsigned unwrapped = 0;
        unsigned caps = 0;
        if (can_grant && sent.extra_caps() > 0 && from_buffer != nullptr && to_buffer != nullptr) {
            caps = transfer_caps(from, to, sent.extra_caps(), endpoint, from_buffer, to_buffer,
                                 unwrapped);
        }
        info = abi::MessageInfo(sent.label(), unwrapped, caps, length);
    }
    reg(to, arch::kCapRegister) = badge;
    reg(to, arch::kInfoRegister) = info.raw();
}

// A fault handler's reply: label 0 resumes the thread (with a new pc/sp if given).
void handle_fault_reply(Tcb& replier, Tcb& faulter) {
    abi::MessageInfo info(reg(replier, arch::kInfoRegister));
    auto kind = static_cast<abi::FaultType>(faulter.fault_kind);
    faulter.has_fault = false;
    if (info.label() != 0) {
        faulter.state = ThreadState::kInactive;
        return;
    }
    if (kind != abi::FaultType::kVmFault) {
        if (info.length() >= 1) {
            faulter.context.pc = reg(replier, arch::kFirstMessageRegister);
        }
        if (info.length() >= 2) {
            faulter.context.sp = reg(replier, arch::kFirstMessageRegister + 1);
        }
    }
    make_runnable(faulter);
}

}  // namespace

void send_ipc(Tcb& sender, Endpoint& ep, const SendOptions& options) {
    Tcb* receiver = ep.head;
    if (receiver != nullptr && receiver->state == ThreadState::kBlockedOnReceive) {
        ipc_dequeue(ep, *receiver);
        transfer_message(sender, *receiver, options.badge, options.can_grant, &ep);
        make_runnable(*receiver);
        if (options.is_call || sender.has_fault) {
            if (options.can_grant || options.can_grant_reply) {
                link_reply(*receiver, sender, receiver->ipc_can_grant);
                scheduler().dequeue(sender);
            } else {
                // Without a reply right the caller would wait forever: leave it inactive.
                suspend(sender);
            }
        }
        return;
    }
    if (!options.blocking) {
        return;
    }
    sender.state = ThreadState::kBlockedOnSend;
    sender.ipc_badge = options.badge;
    sender.ipc_can_grant = options.can_grant;
    sender.ipc_can_grant_reply = options.can_grant_reply;
    sender.ipc_is_call = options.is_call;
    scheduler().dequeue(sender);
    ipc_enqueue(ep, sender);
}

void receive_ipc(Tcb& receiver, Endpoint& ep, bool blocking, bool can_grant) {
    // A pending signal on the bound notification is delivered first.
    if (Notification* n = receiver.bound_notification; n != nullptr && n->word != 0) {
        reg(receiver, arch::kCapRegister) = n->word;
        reg(receiver, arch::kInfoRegister) = abi::MessageInfo(0, 0, 0, 0).raw();
        n->word = 0;
        return;
    }
    Tcb* sender = ep.head;
    if (sender != nullptr && sender->state == ThreadState::kBlockedOnSend) {
        ipc_dequeue(ep, *sender);
        transfer_message(*sender, receiver, sender->ipc_badge, sender->ipc_can_grant, &ep);
        if (sender->ipc_is_call || sender->has_fault) {
            if (sender->ipc_can_grant || sender->ipc_can_grant_reply) {
                link_reply(receiver, *sender, can_grant);
            } else {
                sender->state = ThreadState::kInactive;
            }
        } else {
            make_runnable(*sender);
        }
        return;
    }
    if (!blocking) {
        reg(receiver, arch::kCapRegister) = 0;
        reg(receiver, arch::kInfoRegister) = abi::MessageInfo(0, 0, 0, 0).raw();
        return;
    }
    receiver.state = ThreadState::kBlockedOnReceive;
    receiver.ipc_can_grant = can_grant;  // decides whether its reply may carry capabilities
    scheduler().dequeue(receiver);
    ipc_enqueue(ep, receiver);
}

void reply_ipc(Tcb& replier) {
    Tcb* caller = replier.reply_to;
    if (caller == nullptr) {
        return;  // nobody to reply to, or the caller is gone
    }
    replier.reply_to = nullptr;
    caller->reply_from = nullptr;
    if (caller->state != ThreadState::kBlockedOnReply) {
        return;
    }
    if (caller->has_fault) {
        handle_fault_reply(replier, *caller);
        return;
    }
    transfer_message(replier, *caller, 0, replier.reply_can_grant, nullptr);
    make_runnable(*caller);
}

bool save_caller(Tcb& replier, Cte& slot) {
    Tcb* caller = replier.reply_to;
    if (caller == nullptr || caller->state != ThreadState::kBlockedOnReply) {
        return false;
    }
    replier.reply_to = nullptr;
    caller->reply_from = nullptr;
    DerivationTree::insert_original(
        slot, Capability::reply(physical_address_of(caller), replier.reply_can_grant));
    caller->reply_cap_slot = &slot;
    return true;
}

void reply_through_capability(Tcb& replier, Cte& reply_slot) {
    Tcb* caller = object_at<Tcb>(reply_slot.cap().object());
    bool can_grant = reply_slot.cap().has_rights(abi::kRightGrant);
    bool live =
        caller->reply_cap_slot == &reply_slot && caller->state == ThreadState::kBlockedOnReply;
    caller->reply_cap_slot = nullptr;
    DerivationTree::remove(reply_slot);  // one reply per capability
    if (!live) {
        return;
    }
    if (caller->has_fault) {
        handle_fault_reply(replier, *caller);
        return;
    }
    transfer_message(replier, *caller, 0, can_grant, nullptr);
    make_runnable(*caller);
}

void reply_capability_moved(const Capability& reply, const Cte* from, Cte* to) {
    Tcb* caller = object_at<Tcb>(reply.object());
    if (caller->reply_cap_slot == from) {
        caller->reply_cap_slot = to;
    }
}

void signal_notification(Notification& n, uint64_t badge) {
    if (Tcb* waiter = n.head; waiter != nullptr) {
        ipc_dequeue(n, *waiter);
        reg(*waiter, arch::kCapRegister) = badge;
        reg(*waiter, arch::kInfoRegister) = abi::MessageInfo(0, 0, 0, 0).raw();
        make_runnable(*waiter);
        return;
    }
    // A bound thread blocked receiving on an endpoint takes the signal instead of its message.
    if (Tcb* bound = n.bound; bound != nullptr && bound->state == ThreadState::kBlockedOnReceive) {
        cancel_ipc(*bound);
        reg(*bound, arch::kCapRegister) = badge;
        reg(*bound, arch::kInfoRegister) = abi::MessageInfo(0, 0, 0, 0).raw();
        make_runnable(*bound);
        return;
    }
    n.word |= badge;
}

void wait_notification(Tcb& t, Notification& n, bool blocking) {
    if (n.word != 0 || !blocking) {
        reg(t, arch::kCapRegister) = n.word;
        reg(t, arch::kInfoRegister) = abi::MessageInfo(0, 0, 0, 0).raw();
        n.word = 0;
        return;
    }
    t.state = ThreadState::kBlockedOnNotification;
    scheduler().dequeue(t);
    ipc_enqueue(n, t);
}

void bind_notification(Tcb& t, Notification& n) {
    t.bound_notification = &n;
    n.bound = &t;
}

void unbind_notification(Tcb& t) {
    if (t.bound_notification != nullptr) {
        t.bound_notification->bound = nullptr;
        t.bound_notification = nullptr;
    }
}

void cancel_ipc(Tcb& t) {
    switch (t.state) {
        case ThreadState::kBlockedOnSend:
            // A fault waiting to be delivered is dropped with the send: resumed later (by exec,
            // say), the thread's next call must carry its own message, not the stale fault.
            t.has_fault = false;
            ipc_dequeue(*static_cast<Endpoint*>(t.blocked_on), t);
            break;
        case ThreadState::kBlockedOnReceive:
            ipc_dequeue(*static_cast<Endpoint*>(t.blocked_on), t);
            break;
        case ThreadState::kBlockedOnNotification:
            ipc_dequeue(*static_cast<Notification*>(t.blocked_on), t);
            break;
        case ThreadState::kBlockedOnReply:
            if (t.reply_from != nullptr) {
                t.reply_from->reply_to = nullptr;
                t.reply_from = nullptr;
            }
            if (t.reply_cap_slot != nullptr) {  // a saved reply to it can no longer be used
                DerivationTree::remove(*t.reply_cap_slot);
                t.reply_cap_slot = nullptr;
            }
            t.has_fault = false;
            break;
        default:
            break;
    }
}

// A thread whose send is cancelled: a system call returns Cancelled; a fault waiting to be
// delivered is forgotten and the thread restarts with its registers as they were, so it
// repeats the faulting instruction (or goes on after an unknown system call) as in seL4's
// Restart. Either way its next message is its own.
namespace {
void cancel_send(Tcb& t) {
    if (t.has_fault) {
        t.has_fault = false;
        make_runnable(t);
        return;
    }
    wake_with_error(t, abi::Error::kCancelled);
}
}  // namespace

void cancel_all_ipc(Endpoint& ep) {
    while (Tcb* t = ep.head) {
        ipc_dequeue(ep, *t);
        cancel_send(*t);
    }
}

void cancel_all_signals(Notification& n) {
    while (Tcb* t = n.head) {
        ipc_dequeue(n, *t);
        wake_with_error(*t, abi::Error::kCancelled);
    }
    if (n.bound != nullptr) {
        n.bound->bound_notification = nullptr;
        n.bound = nullptr;
    }
}

void cancel_badged_sends(Endpoint& ep, uint64_t badge) {
    for (Tcb* t = ep.head; t != nullptr;) {
        Tcb* next = t->ipc_next;
        if (t->state == ThreadState::kBlockedOnSend && t->ipc_badge == badge) {
            ipc_dequeue(ep, *t);
            cancel_send(*t);
        }
        t = next;
    }
}

bool deliver_fault(Tcb& t) {
    if (t.fault_endpoint.value() == 0) {
        return false;
    }
    auto slot = lookup_slot(t.cspace_root.cap(), t.fault_endpoint);
    if (!slot) {
        return false;
    }
    const Capability& cap = slot.value()->cap();
    // The handler must be able to reply: Write plus Grant or GrantReply, as in seL4.
    if (cap.type() != CapType::kEndpoint || !cap.has_rights(abi::kRightWrite) ||
        !(cap.has_rights(abi::kRightGrant) || cap.has_rights(abi::kRightGrantReply))) {
        return false;
    }
    SendOptions options;
    options.badge = cap.badge();
    options.can_grant = cap.has_rights(abi::kRightGrant);
    options.can_grant_reply = true;
    options.is_call = true;
    send_ipc(t, *object_at<Endpoint>(cap.object()), options);
    return true;
}

}  // namespace tessera
