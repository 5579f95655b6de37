// Endpoint and notification objects: the rendezvous points of IPC. An endpoint is a queue of
// threads all blocked the same way (all sending or all receiving); a notification is a word of
// signal bits plus a queue of waiters and an optional bound thread.
#pragma once

#include <cstdint>

#include "abi/object_type.hpp"

namespace tessera {

class Tcb;

struct Endpoint {
    Tcb* head = nullptr;
    Tcb* tail = nullptr;
};

struct Notification {
    Tcb* head = nullptr;
    Tcb* tail = nullptr;
    uint64_t word = 0;     // pending signal bits (badges ORed)
    Tcb* bound = nullptr;  // thread bound with TCB BindNotification
};

static_assert(sizeof(Endpoint) <= (1u << abi::kEndpointSizeBits));
static_assert(sizeof(Notification) <= (1u << abi::kNotificationSizeBits));

}  // namespace tessera
