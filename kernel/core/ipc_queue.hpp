// Intrusive wait queues of endpoints and notifications (the TCB's ipc_prev/ipc_next links),
// shared by the IPC slow path and the fastpath.
#pragma once

#include "object/endpoint.hpp"
#include "object/tcb.hpp"

namespace tessera {

template <typename Queue>
inline void ipc_enqueue(Queue& q, Tcb& t) {
    t.ipc_prev = q.tail;
    t.ipc_next = nullptr;
    if (q.tail != nullptr) {
        q.tail->ipc_next = &t;
    } else {
        q.head = &t;
    }
    q.tail = &t;
    t.blocked_on = &q;
}

template <typename Queue>
inline void ipc_dequeue(Queue& q, Tcb& t) {
    if (t.ipc_prev != nullptr) {
        t.ipc_prev->ipc_next = t.ipc_next;
    } else {
        q.head = t.ipc_next;
    }
    if (t.ipc_next != nullptr) {
        t.ipc_next->ipc_prev = t.ipc_prev;
    } else {
        q.tail = t.ipc_prev;
    }
    t.ipc_prev = nullptr;
    t.ipc_next = nullptr;
    t.blocked_on = nullptr;
}

}  // namespace tessera
