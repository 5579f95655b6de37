// Endpoint IPC from user level, between threads of one address space: Call/Reply, ReplyRecv,
// Send/Recv, non-blocking variants, long messages, badges, rights, capability transfer and
// unwrapping, and what happens to blocked threads when objects are deleted.
#include "tessera/syscall.hpp"
#include "user_test.hpp"

namespace tessera::test {
namespace {

using abi::CapType;
using abi::Error;
using abi::ObjectType;

uint64_t new_endpoint() {
    uint64_t ut = new_untyped(12);
    return ut == 0 ? 0 : make_objects(ut, ObjectType::kEndpoint, 0);
}

uint64_t mint(uint64_t src, uint64_t rights, uint64_t badge) {
    uint64_t slot = new_slot();
    if (!cnode_mint(kRootCNode, slot, kRootDepth, kRootCNode, src, kRootDepth, rights, badge)
             .ok()) {
        return 0;
    }
    return slot;
}

volatile uint64_t g_seen_badge = 0;
volatile uint64_t g_seen_label = 0;
volatile uint64_t g_seen_words[8];
volatile uint64_t g_seen_caps = 0;
volatile uint64_t g_progress = 0;

// Serves one request on the endpoint: replies with each word plus one.
void echo_server(uint64_t ep) {
    sys::Message m;
    sys::recv(abi::CapPtr(ep), m);
    g_seen_badge = m.badge_or_cap;
    g_seen_label = m.info.label();
    unsigned length = m.info.length();
    abi::IpcBuffer* buffer = ipc_buffer();
    for (unsigned i = 0; i < length && i < 8; ++i) {
        g_seen_words[i] = i < 4 ? m.mr[i] : buffer->msg[i];
    }
    for (unsigned i = 0; i < 4; ++i) {
        m.mr[i] += 1;
    }
    for (unsigned i = 4; i < length; ++i) {
        buffer->msg[i] += 1;
    }
    m.info = abi::MessageInfo(0x77, 0, 0, length);
    sys::reply(m);
}

}  // namespace

USER_TEST(ipc, call_reply_with_badge) {
    uint64_t ep = new_endpoint();
    uint64_t badged = mint(ep, abi::kRightsAll, 0xbad9e);
    TestThread server = start_thread(echo_server, ep, kTestPriority);
    CHECK(server.tcb != 0);
    let_others_run();  // the server blocks in Recv
    sys::Message m;
    m.info = abi::MessageInfo(0x55, 0, 0, 2);
    m.mr[0] = 41;
    m.mr[1] = 99;
    sys::call(abi::CapPtr(badged), m);
    CHECK_EQ(g_seen_badge, uint64_t{0xbad9e});
    CHECK_EQ(g_seen_label, uint64_t{0x55});
    CHECK_EQ(m.info.label(), uint64_t{0x77});
    CHECK_EQ(m.info.length(), 2u);
    CHECK_EQ(m.mr[0], uint64_t{42});
    CHECK_EQ(m.mr[1], uint64_t{100});
    stop_thread(server);
}

USER_TEST(ipc, long_message_through_ipc_buffers) {
    uint64_t ep = new_endpoint();
    TestThread server = start_thread(echo_server, ep, kTestPriority);
    let_others_run();
    sys::Message m;
    m.info = abi::MessageInfo(1, 0, 0, 8);
    abi::IpcBuffer* buffer = ipc_buffer();
    for (unsigned i = 0; i < 8; ++i) {
        if (i < 4) {
            m.mr[i] = 100 + i;
        } else {
            buffer->msg[i] = 100 + i;
        }
    }
    sys::call(abi::CapPtr(ep), m);
    CHECK_EQ(m.info.length(), 8u);
    for (unsigned i = 0; i < 8; ++i) {
        CHECK_EQ(g_seen_words[i], uint64_t{100 + i});
        uint64_t got = i < 4 ? m.mr[i] : buffer->msg[i];
        CHECK_EQ(got, uint64_t{101 + i});
    }
    stop_thread(server);
}

namespace {
void receive_once(uint64_t ep) {
    sys::Message m;
    sys::recv(abi::CapPtr(ep), m);
    g_seen_badge = m.badge_or_cap;
    g_seen_words[0] = m.mr[0];
    g_progress = g_progress + 1;
}
}  // namespace

USER_TEST(ipc, send_wakes_waiting_receiver) {
    uint64_t ep = new_endpoint();
    g_progress = 0;
    TestThread receiver = start_thread(receive_once, ep, kTestPriority);
    let_others_run();
    CHECK_EQ(g_progress, uint64_t{0});  // blocked in Recv
    sys::Message m;
    m.info = abi::MessageInfo(0, 0, 0, 1);
    m.mr[0] = 0x5e4d;
    sys::send(abi::CapPtr(mint(ep, abi::kRightWrite, 3)), m);
    let_others_run();
    CHECK_EQ(g_progress, uint64_t{1});
    CHECK_EQ(g_seen_words[0], uint64_t{0x5e4d});
    CHECK_EQ(g_seen_badge, uint64_t{3});
    stop_thread(receiver);
}

USER_TEST(ipc, nonblocking_variants_return_at_once) {
    uint64_t ep = new_endpoint();
    sys::Message m;
    m.info = abi::MessageInfo(0, 0, 0, 1);
    sys::nb_send(abi::CapPtr(ep), m);  // nobody listening: dropped
    sys::Message r;
    sys::nb_recv(abi::CapPtr(ep), r);  // nobody sending: empty
    CHECK_EQ(r.badge_or_cap, uint64_t{0});
    CHECK_EQ(r.info.length(), 0u);
}

USER_TEST(ipc, rights_are_enforced) {
    uint64_t ep = new_endpoint();
    uint64_t read_only = mint(ep, abi::kRightRead, 0);
    uint64_t write_only = mint(ep, abi::kRightWrite, 0);
    sys::Message m;
    m.info = abi::MessageInfo(0, 0, 0, 0);
    sys::send(abi::CapPtr(read_only), m);
    CHECK_EQ(m.info.label(), static_cast<uint64_t>(Error::kInvalidCapability));
    sys::Message r;
    sys::nb_recv(abi::CapPtr(write_only), r);
    CHECK_EQ(r.info.label(), static_cast<uint64_t>(Error::kInvalidCapability));
    sys::Message bad;
    sys::recv(abi::CapPtr(new_slot()), bad);  // an empty slot
    CHECK_EQ(bad.info.label(), static_cast<uint64_t>(Error::kInvalidCapability));
}

namespace {
// Receives one message with a capability, into the slot given as argument.
void receive_cap(uint64_t slot_and_ep) {
    uint64_t ep = slot_and_ep & 0xffff;
    uint64_t dest = slot_and_ep >> 16;
    abi::IpcBuffer* buffer = ipc_buffer();
    buffer->receive_cnode = kRootCNode;
    buffer->receive_index = dest;
    buffer->receive_depth = kRootDepth;
    sys::Message m;
    sys::recv(abi::CapPtr(ep), m);
    g_seen_caps = m.info.extra_caps() | (uint64_t{m.info.caps_unwrapped()} << 8);
    g_seen_words[0] = buffer->caps_or_badges[0];
    g_progress = g_progress + 1;
}

void send_cap(uint64_t ep, uint64_t cap) {
    ipc_buffer()->caps_or_badges[0] = cap;
    sys::Message m;
    m.info = abi::MessageInfo(0, 0, 1, 0);
    sys::send(abi::CapPtr(ep), m);
}
}  // namespace

USER_TEST(ipc, capability_transfer_needs_grant) {
    uint64_t ep = new_endpoint();
    uint64_t gift = new_endpoint();
    uint64_t dest = new_slot();
    g_progress = 0;
    TestThread receiver = start_thread(receive_cap, ep | (dest << 16), kTestPriority);
    let_others_run();
    send_cap(mint(ep, abi::kRightWrite, 0), gift);  // no Grant: no capability moves
    let_others_run();
    CHECK_EQ(g_progress, uint64_t{1});
    CHECK_EQ(g_seen_caps, uint64_t{0});
    CHECK(identify(abi::CapPtr(dest)).type == CapType::kNull);
    stop_thread(receiver);

    receiver = start_thread(receive_cap, ep | (dest << 16), kTestPriority);
    let_others_run();
    send_cap(mint(ep, abi::kRightWrite | abi::kRightGrant, 0), gift);
    let_others_run();
    CHECK_EQ(g_progress, uint64_t{2});
    CHECK_EQ(g_seen_caps, uint64_t{1});
    CHECK(identify(abi::CapPtr(dest)).type == CapType::kEndpoint);
    stop_thread(receiver);
}

USER_TEST(ipc, badged_cap_to_same_endpoint_is_unwrapped) {
    uint64_t ep = new_endpoint();
    uint64_t badged = mint(ep, abi::kRightsAll, 0x42);
    uint64_t dest = new_slot();
    g_progress = 0;
    TestThread receiver = start_thread(receive_cap, ep | (dest << 16), kTestPriority);
    let_others_run();
    send_cap(mint(ep, abi::kRightsAll, 0), badged);
    let_others_run();
    CHECK_EQ(g_progress, uint64_t{1});
    CHECK_EQ(g_seen_caps, uint64_t{1 | (1 << 8)});  // one cap, unwrapped
    CHECK_EQ(g_seen_words[0], uint64_t{0x42});
    CHECK(identify(abi::CapPtr(dest)).type == CapType::kNull);
    stop_thread(receiver);
}

namespace {
void receive_and_record_error(uint64_t ep) {
    sys::Message m;
    sys::recv(abi::CapPtr(ep), m);
    g_seen_label = m.info.label();
    g_progress = g_progress + 1;
}

void call_and_record(uint64_t ep) {
    sys::Message m;
    m.info = abi::MessageInfo(9, 0, 0, 0);
    sys::call(abi::CapPtr(ep), m);
    g_seen_label = m.info.label();
    g_progress = g_progress + 1;
}
}  // namespace

USER_TEST(ipc, deleting_endpoint_cancels_waiters) {
    uint64_t ep = new_endpoint();
    g_progress = 0;
    g_seen_label = 0;
    TestThread receiver = start_thread(receive_and_record_error, ep, kTestPriority);
    let_others_run();
    CHECK(cnode_delete(kRootCNode, ep, kRootDepth).ok());
    let_others_run();
    CHECK_EQ(g_progress, uint64_t{1});
    CHECK_EQ(g_seen_label, static_cast<uint64_t>(Error::kCancelled));
    stop_thread(receiver);
}

USER_TEST(ipc, deleting_queued_senders) {
    // Two callers queue on an endpoint; deleting one TCB leaves the queue consistent.
    uint64_t ep = new_endpoint();
    g_progress = 0;
    TestThread a = start_thread(call_and_record, ep, kTestPriority);
    TestThread b = start_thread(call_and_record, ep, kTestPriority);
    let_others_run();
    stop_thread(a);
    sys::Message m;
    sys::recv(abi::CapPtr(ep), m);  // b's call
    CHECK_EQ(m.info.label(), uint64_t{9});
    m.info = abi::MessageInfo(5, 0, 0, 0);
    sys::reply(m);
    let_others_run();
    CHECK_EQ(g_progress, uint64_t{1});
    CHECK_EQ(g_seen_label, uint64_t{5});
    sys::Message none;
    sys::nb_recv(abi::CapPtr(ep), none);  // nobody else queued
    CHECK_EQ(none.info.label(), uint64_t{0});
    stop_thread(b);
}

USER_TEST(ipc, reply_to_dead_caller_is_harmless) {
    uint64_t ep = new_endpoint();
    g_progress = 0;
    TestThread caller = start_thread(call_and_record, ep, kTestPriority);
    let_others_run();
    sys::Message m;
    sys::recv(abi::CapPtr(ep), m);
    stop_thread(caller);  // deleted while waiting for our reply
    m.info = abi::MessageInfo(1, 0, 0, 0);
    sys::reply(m);
    CHECK_EQ(g_progress, uint64_t{0});
}

USER_TEST(ipc, deleting_receiver_blocked_in_recv) {
    uint64_t ep = new_endpoint();
    TestThread receiver = start_thread(receive_and_record_error, ep, kTestPriority);
    let_others_run();
    stop_thread(receiver);
    sys::Message m;
    m.info = abi::MessageInfo(0, 0, 0, 0);
    sys::nb_send(abi::CapPtr(ep), m);  // must not reach the deleted thread
    sys::Message r;
    sys::nb_recv(abi::CapPtr(ep), r);
    CHECK_EQ(r.info.label(), uint64_t{0});
}

USER_TEST(ipc, cancel_badged_sends) {
    uint64_t ep = new_endpoint();
    uint64_t badged = mint(ep, abi::kRightsAll, 5);
    g_progress = 0;
    g_seen_label = 0;
    TestThread caller = start_thread(call_and_record, badged, kTestPriority);
    let_others_run();
    const uint64_t args[] = {badged, kRootDepth};
    CHECK(invoke(kRootCNode, abi::InvocationLabel::kCNodeCancelBadgedSends, args).ok());
    let_others_run();
    CHECK_EQ(g_progress, uint64_t{1});
    CHECK_EQ(g_seen_label, static_cast<uint64_t>(Error::kCancelled));
    stop_thread(caller);
}

}  // namespace tessera::test

namespace tessera::test {
namespace {

volatile uint64_t g_replies[2];

void call_with(uint64_t ep_and_index) {
    uint64_t ep = ep_and_index & 0xffff;
    uint64_t index = ep_and_index >> 16;
    sys::Message m;
    m.info = abi::MessageInfo(0, 0, 0, 1);
    m.mr[0] = 100 + index;
    sys::call(abi::CapPtr(ep), m);
    g_replies[index] = m.mr[0];
}

InvocationResult save_caller(uint64_t slot) {
    const uint64_t args[] = {slot, kRootDepth};
    return invoke(kRootCNode, abi::InvocationLabel::kCNodeSaveCaller, args);
}

}  // namespace

USER_TEST(ipc, save_caller_defers_replies) {
    // A server takes two calls, saving each reply right, then answers them in reverse order.
    uint64_t ep = new_endpoint();
    g_replies[0] = 0;
    g_replies[1] = 0;
    TestThread a = start_thread(call_with, ep | (0 << 16), kTestPriority);
    TestThread b = start_thread(call_with, ep | (1 << 16), kTestPriority);
    let_others_run();  // both callers queue on the endpoint
    uint64_t saved[2];
    for (unsigned i = 0; i < 2; ++i) {
        sys::Message m;
        sys::recv(abi::CapPtr(ep), m);
        saved[i] = new_slot();
        CHECK(save_caller(saved[i]).ok());
        CHECK(identify(abi::CapPtr(saved[i])).type == CapType::kReply);
    }
    CHECK(save_caller(new_slot()).error == Error::kIllegalOperation);  // nothing owed now
    // Reply capabilities cannot be copied, but can be moved.
    uint64_t moved = new_slot();
    CHECK(cnode_copy(kRootCNode, new_slot(), kRootDepth, kRootCNode, saved[0], kRootDepth,
                     abi::kRightsAll)
              .error == Error::kIllegalOperation);
    CHECK(cnode_move(kRootCNode, moved, kRootDepth, kRootCNode, saved[0], kRootDepth).ok());
    for (int i = 1; i >= 0; --i) {
        sys::Message r;
        r.info = abi::MessageInfo(0, 0, 0, 1);
        r.mr[0] = 1000 + static_cast<uint64_t>(i);
        sys::send(abi::CapPtr(i == 0 ? moved : saved[1]), r);
    }
    let_others_run();
    CHECK(identify(abi::CapPtr(moved)).type == CapType::kNull);  // used up
    stop_thread(a);
    stop_thread(b);
    CHECK_EQ(g_replies[0] + g_replies[1], uint64_t{2001});
    CHECK(g_replies[0] == 1000 || g_replies[0] == 1001);
}

USER_TEST(ipc, saved_reply_to_deleted_caller_is_revoked) {
    uint64_t ep = new_endpoint();
    TestThread a = start_thread(call_with, ep, kTestPriority);
    let_others_run();
    sys::Message m;
    sys::recv(abi::CapPtr(ep), m);
    uint64_t saved = new_slot();
    CHECK(save_caller(saved).ok());
    stop_thread(a);  // the caller is destroyed: its reply capability disappears
    CHECK(identify(abi::CapPtr(saved)).type == CapType::kNull);
}

}  // namespace tessera::test
