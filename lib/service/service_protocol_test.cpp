// Host tests for the service protocols: every request and reply round-trips through the codec,
// text at and past its limit, strict decoding of short, out-of-range and unterminated messages,
// failures with their codes, the names, and the controller's badges.
#include "service/service_protocol.hpp"

#include <gtest/gtest.h>

#include <string>

namespace tessera::service {
namespace {

template <typename M>
M round_trip(const M& message, unsigned* length = nullptr) {
    Words words;
    encode(message, words);
    if (length != nullptr) {
        *length = words.length;
    }
    auto decoded = decode<M>(words);
    EXPECT_TRUE(decoded.ok());
    return decoded.ok() ? decoded.value() : M{};
}

TEST(ServiceProtocol, RequestsRoundTripWithTheirLabels) {
    Words words;
    encode(Spawn{kSpawnServe, Text("hello a b")}, words);
    EXPECT_EQ(words.label, static_cast<uint64_t>(ControllerLabel::kSpawn));
    EXPECT_EQ(words.length, 1u + 2);  // flags, then "hello a b" and its NUL in two words
    const Spawn spawn = round_trip(Spawn{kSpawnServe, Text("hello a b")});
    EXPECT_EQ(spawn.flags, kSpawnServe);
    EXPECT_TRUE(spawn.line == "hello a b");
    EXPECT_EQ(round_trip(Wait{7}).id, 7u);
    EXPECT_EQ(round_trip(Kill{9}).id, 9u);
    const Exec exec = round_trip(Exec{3, Text("spinner")});
    EXPECT_EQ(exec.id, 3u);
    EXPECT_TRUE(exec.line == "spinner");
    EXPECT_EQ(round_trip(List{2}).index, 2u);
    unsigned length = 99;
    (void)round_trip(Memory{}, &length);
    EXPECT_EQ(length, 0u);
    Words all;
    encode(KillAll{}, all);
    EXPECT_EQ(all.label, static_cast<uint64_t>(ControllerLabel::kKillAll));
    EXPECT_TRUE(round_trip(ExecSelf{Text("reimage 2")}).line == "reimage 2");
    EXPECT_EQ(round_trip(Greet{42}).number, 42u);
    EXPECT_EQ(round_trip(StoreList{5}).index, 5u);
    EXPECT_TRUE(round_trip(StoreFind{Text("hello")}).name == "hello");
    EXPECT_EQ(round_trip(StoreFrame{11}).index, 11u);
    encode(StoreFrame{11}, words);
    EXPECT_EQ(words.label, static_cast<uint64_t>(StoreLabel::kFrame));
}

TEST(ServiceProtocol, ForkCarriesItsRules) {
    Fork request;
    request.flags = kForkEager;
    request.rule_count = 2;
    request.rule[0] = Fork::Rule{9, ForkAction::kCopy, 0};
    request.rule[1] = Fork::Rule{12, ForkAction::kMint, 0x77};
    unsigned length = 0;
    const Fork fork = round_trip(request, &length);
    EXPECT_EQ(length, 2u + 3 * kMaxForkRules);
    EXPECT_EQ(fork.flags, kForkEager);
    EXPECT_EQ(fork.rule_count, 2u);
    EXPECT_EQ(fork.rule[0].slot, 9u);
    EXPECT_EQ(fork.rule[0].action, ForkAction::kCopy);
    EXPECT_EQ(fork.rule[1].action, ForkAction::kMint);
    EXPECT_EQ(fork.rule[1].badge, 0x77u);
    const ForkReply reply = round_trip(ForkReply{5, 1});
    EXPECT_EQ(reply.id, 5u);
    EXPECT_EQ(reply.in_child, 1u);
    // An action out of range is a bad request.
    Words words;
    encode(request, words);
    words.word[3] = static_cast<uint64_t>(ForkAction::kCount);
    auto bad = decode<Fork>(words);
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error(), StatusCode::kBadRequest);
}

TEST(ServiceProtocol, RepliesRoundTripWithLabelOk) {
    Words words;
    encode(ListReply{4, 2, 1, 65536, 100, PdState::kServing, Text("pong")}, words);
    EXPECT_EQ(words.label, static_cast<uint64_t>(StatusCode::kOk));
    auto list = decode_reply<ListReply>(words);
    ASSERT_TRUE(list.ok());
    EXPECT_EQ(list.value().id, 4u);
    EXPECT_EQ(list.value().parent, 2u);
    EXPECT_EQ(list.value().linked, 1u);
    EXPECT_EQ(list.value().bytes, 65536u);
    EXPECT_EQ(list.value().priority, 100u);
    EXPECT_EQ(list.value().state, PdState::kServing);
    EXPECT_TRUE(list.value().name == "pong");
    const WaitReply wait = round_trip(WaitReply{Ending::kCrashed, 5, 77});
    EXPECT_EQ(wait.ending, Ending::kCrashed);
    EXPECT_EQ(wait.status, 5u);
    EXPECT_EQ(wait.id, 77u);
    EXPECT_EQ(round_trip(SpawnReply{12}).id, 12u);
    const KillReply killed = round_trip(KillReply{3, Text("spinner")});
    EXPECT_EQ(killed.count, 3u);
    EXPECT_TRUE(killed.name == "spinner");
    const ExecReply exec_reply = round_trip(ExecReply{1, Text("hello")});
    EXPECT_TRUE(exec_reply.name == "hello");
    EXPECT_EQ(exec_reply.ended_service, 1u);
    const MemoryReply memory = round_trip(MemoryReply{1 << 24, 4096, (1 << 24) - 4096});
    EXPECT_EQ(memory.pool, 1u << 24);
    EXPECT_EQ(memory.held, 4096u);
    EXPECT_EQ(memory.free, (1u << 24) - 4096);
    EXPECT_EQ(round_trip(GreetReply{420}).number, 420u);
    const KillAllReply all = round_trip(KillAllReply{1000, 5, 9, 4});
    EXPECT_EQ(all.count, 1000u);
    EXPECT_EQ(all.free, all.free_at_start - all.kept);
    const StoreListReply entry = round_trip(StoreListReply{22096, Text("minimal")});
    EXPECT_EQ(entry.size, 22096u);
    EXPECT_TRUE(entry.name == "minimal");
    const StoreFindReply found = round_trip(StoreFindReply{512, 1024});
    EXPECT_EQ(found.offset, 512u);
    EXPECT_EQ(found.size, 1024u);
    const StoreFrameReply frame = round_trip(StoreFrameReply{3, 16, 9000});
    EXPECT_EQ(frame.count, 3u);
    EXPECT_EQ(frame.offset, 16u);
    EXPECT_EQ(frame.size, 9000u);
}

TEST(ServiceProtocol, TextUpToItsLimitAndNoFurther) {
    for (size_t n : {size_t{0}, size_t{7}, size_t{8}, size_t{9}, kMaxText - 1, kMaxText}) {
        const std::string text(n, 'x');
        unsigned length = 0;
        const ExecSelf back =
            round_trip(ExecSelf{Text(StringView(text.data(), text.size()))}, &length);
        EXPECT_EQ(back.line.size(), n);
        EXPECT_EQ(length, n / 8 + 1) << n;
    }
    const std::string longer(kMaxText + 40, 'y');
    const Text cut(StringView(longer.data(), longer.size()));
    EXPECT_EQ(cut.size(), kMaxText);
    unsigned length = 0;
    EXPECT_EQ(round_trip(ExecSelf{cut}, &length).line.size(), kMaxText);
    EXPECT_EQ(length, kMaxTextWords);
    // The longest reply still fits a message.
    Words words;
    encode(ListReply{1, 0, 0, 2, 3, PdState::kRunning, cut}, words);
    EXPECT_EQ(words.length, 6 + kMaxTextWords);
    EXPECT_LE(words.length, kMaxWords);
}

TEST(ServiceProtocol, MalformedMessagesAreBadRequests) {
    Words words;
    encode(Exec{3, Text("hello")}, words);
    Words shorter = words;
    shorter.length = 1;  // the id, no text at all
    EXPECT_EQ(decode<Exec>(shorter).error(), StatusCode::kBadRequest);
    shorter.length = 0;
    EXPECT_EQ(decode<Wait>(shorter).error(), StatusCode::kBadRequest);
    // Text without its NUL: every word full up to the message's end.
    Words unterminated;
    unterminated.length = 3;
    unterminated.word[0] = 1;
    unterminated.word[1] = 0x4141414141414141;
    unterminated.word[2] = 0x4242424242424242;
    EXPECT_EQ(decode<Exec>(unterminated).error(), StatusCode::kBadRequest);
    // Full words past the longest text, even in a long message.
    Words endless;
    endless.length = kMaxWords;
    for (uint64_t& w : endless.word) {
        w = 0x4343434343434343;
    }
    EXPECT_EQ(decode<ExecSelf>(endless).error(), StatusCode::kBadRequest);
    // An enum out of range.
    Words wait;
    encode(WaitReply{Ending::kKilled, 0, 0}, wait);
    wait.word[0] = static_cast<uint64_t>(Ending::kCount);
    EXPECT_EQ(decode<WaitReply>(wait).error(), StatusCode::kBadRequest);
    wait.word[0] = ~uint64_t{0};
    EXPECT_EQ(decode<WaitReply>(wait).error(), StatusCode::kBadRequest);
    // A length past the buffer is only as long as the buffer.
    Words huge;
    huge.length = 1000;
    EXPECT_EQ(decode<ExecSelf>(huge).value().line.size(), 0u);  // word 0 is a NUL
}

TEST(ServiceProtocol, FailuresCarryTheirCodeAndMessage) {
    Words words;
    encode_failure(StatusCode::kNoSuchPd, "no PD 12", words);
    EXPECT_EQ(words.label, static_cast<uint64_t>(StatusCode::kNoSuchPd));
    auto reply = decode_reply<KillReply>(words);
    ASSERT_FALSE(reply.ok());
    EXPECT_EQ(reply.error().status, StatusCode::kNoSuchPd);
    EXPECT_TRUE(reply.error().message == "no PD 12");
    encode_failure(StatusCode::kTooManyPds, {}, words);  // no message: the code's words
    EXPECT_TRUE(decode_reply<SpawnReply>(words).error().message == "too many PDs");
    Words odd;
    odd.label = 0xdead;  // not a status at all
    EXPECT_EQ(decode_reply<SpawnReply>(odd).error().status, StatusCode::kBadRequest);
    Words malformed;  // label ok but too short for the reply
    EXPECT_EQ(decode_reply<SpawnReply>(malformed).error().status, StatusCode::kBadRequest);
}

TEST(ServiceProtocol, EveryCodeStateAndEndingHasAName) {
    for (uint64_t s = 0; s < static_cast<uint64_t>(StatusCode::kCount); ++s) {
        EXPECT_STRNE(to_string(static_cast<StatusCode>(s)), "unknown status") << s;
        for (uint64_t t = 0; t < s; ++t) {
            EXPECT_STRNE(to_string(static_cast<StatusCode>(s)),
                         to_string(static_cast<StatusCode>(t)));
        }
    }
    for (uint64_t s = 0; s < static_cast<uint64_t>(PdState::kCount); ++s) {
        EXPECT_STRNE(to_string(static_cast<PdState>(s)), "unknown");
    }
    for (uint64_t s = 0; s < static_cast<uint64_t>(Ending::kCount); ++s) {
        EXPECT_STRNE(to_string(static_cast<Ending>(s)), "unknown");
    }
}

TEST(ServiceProtocol, BadgesTellSendersApart) {
    using badge::Sender;
    EXPECT_EQ(badge::classify(badge::kRootClient).sender, Sender::kClient);
    EXPECT_EQ(badge::classify(badge::child(0)).sender, Sender::kChild);
    EXPECT_EQ(badge::classify(badge::child(999)).id, 999u);
    EXPECT_EQ(badge::classify(badge::fault(999)).sender, Sender::kFault);
    EXPECT_EQ(badge::classify(badge::fault(999)).id, 999u);
    EXPECT_EQ(badge::classify(badge::child(badge::kMaxPdId)).id, badge::kMaxPdId);
    EXPECT_EQ(badge::classify(badge::kChildBase - 1).sender, Sender::kClient);
    EXPECT_NE(badge::service_client(0), 0u);  // a badge of 0 would be no badge
}

}  // namespace
}  // namespace tessera::service
