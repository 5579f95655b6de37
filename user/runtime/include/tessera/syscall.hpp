// System-call stubs for user programs: one inline SVC per call, registers as in abi/syscall.hpp
// (x7 number, x0 capability/badge, x1 message info, x2-x5 message registers).
#pragma once

#include <cstddef>
#include <cstdint>

#include "abi/capability_pointer.hpp"
#include "abi/syscall.hpp"

namespace tessera::sys {

// The registers of a message as exchanged with the kernel.
struct Message {
    uint64_t badge_or_cap = 0;
    abi::MessageInfo info;
    uint64_t mr[abi::kMessageRegistersInCpu] = {};
};

inline void yield() {
    register uint64_t x7 asm("x7") = static_cast<uint64_t>(abi::Syscall::kYield);
    asm volatile("svc %[imm]" : : "r"(x7), [imm] "i"(abi::kSvcImmediate) : "memory");
}

// One IPC system call: x0/x1/x2-x5 in and out (m is replaced by what the kernel returns).
inline void ipc(abi::Syscall number, Message& m) {
    register uint64_t x0 asm("x0") = m.badge_or_cap;
    register uint64_t x1 asm("x1") = m.info.raw();
    register uint64_t x2 asm("x2") = m.mr[0];
    register uint64_t x3 asm("x3") = m.mr[1];
    register uint64_t x4 asm("x4") = m.mr[2];
    register uint64_t x5 asm("x5") = m.mr[3];
    register uint64_t x7 asm("x7") = static_cast<uint64_t>(number);
    asm volatile("svc %[imm]"
                 : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3), "+r"(x4), "+r"(x5)
                 : "r"(x7), [imm] "i"(abi::kSvcImmediate)
                 : "memory");
    m.badge_or_cap = x0;
    m.info = abi::MessageInfo(x1);
    m.mr[0] = x2;
    m.mr[1] = x3;
    m.mr[2] = x4;
    m.mr[3] = x5;
}

// Call: sends m to cap and waits for the reply, which replaces m.
inline void call(abi::CapPtr cap, Message& m) {
    m.badge_or_cap = cap.value();
    ipc(abi::Syscall::kCall, m);
}
inline void send(abi::CapPtr cap, Message& m) {
    m.badge_or_cap = cap.value();
    ipc(abi::Syscall::kSend, m);
}
inline void nb_send(abi::CapPtr cap, Message& m) {
    m.badge_or_cap = cap.value();
    ipc(abi::Syscall::kNBSend, m);
}
// Recv / NBRecv: on return m holds the message and badge_or_cap the sender's badge.
inline void recv(abi::CapPtr cap, Message& m) {
    m.badge_or_cap = cap.value();
    ipc(abi::Syscall::kRecv, m);
}
inline void nb_recv(abi::CapPtr cap, Message& m) {
    m.badge_or_cap = cap.value();
    ipc(abi::Syscall::kNBRecv, m);
}
inline void reply(Message& m) {
    ipc(abi::Syscall::kReply, m);
}
// ReplyRecv: replies with m, then waits on cap; m receives the next message.
inline void reply_recv(abi::CapPtr cap, Message& m) {
    m.badge_or_cap = cap.value();
    ipc(abi::Syscall::kReplyRecv, m);
}
// Notifications: Signal is a Send, Wait a Recv, Poll an NBRecv; the badge bits come back.
inline void signal(abi::CapPtr cap) {
    Message m;
    send(cap, m);
}
inline uint64_t wait(abi::CapPtr cap) {
    Message m;
    recv(cap, m);
    return m.badge_or_cap;
}
inline uint64_t poll(abi::CapPtr cap) {
    Message m;
    nb_recv(cap, m);
    return m.badge_or_cap;
}

}  // namespace tessera::sys
