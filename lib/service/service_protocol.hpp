// The IPC protocols of the system services — the image store and the controller — as types:
// one struct per request and per reply, each listing its fields once, encoded into and decoded
// from message words by one codec. Also the status codes, the PD states and endings with their
// names, and the controller's badges. Pure (no system calls), so every message round-trips in
// host tests; user/services moves the words in and out of real messages.
//
// A message is a label and words. A request's label is its kind (StoreLabel, ControllerLabel);
// a reply's label is a StatusCode, kOk with the reply's fields or a failure with a message.
// Fields take one word each, in the order they are listed; a Text field (at most one, last)
// takes NUL-padded words, 8 characters per word, little-endian, always ending in a NUL.
// Decoding is strict: a message too short for its fields, an enum out of range or a text
// without its NUL is kBadRequest. Adding a request means one struct here, its server's case and
// its client's call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "abi/syscall.hpp"
#include "base/result.hpp"
#include "base/string_view.hpp"

namespace tessera::service {

constexpr unsigned kMaxWords = abi::kMaxMessageLength;
constexpr size_t kMaxText = 255;  // characters of a Text (its words: 32 with the NUL)
constexpr unsigned kMaxTextWords = (kMaxText + 1) / 8;
static_assert((kMaxText + 1) % 8 == 0, "a full text fills its words exactly");

// A message as words: what the transport copies to and from registers and the IPC buffer.
struct Words {
    uint64_t label = 0;
    unsigned length = 0;
    uint64_t word[kMaxWords] = {};
};

// Text carried in a message (names, command lines, failure messages); longer text is cut.
class Text {
  public:
    Text() = default;
    // Implicit, so a message is written with its text in place: Exec{id, "hello 2"}.
    Text(StringView text) { set(text); }               // NOLINT(google-explicit-constructor)
    Text(const char* text) { set(StringView(text)); }  // NOLINT(google-explicit-constructor)
    void set(StringView text);
    [[nodiscard]] StringView view() const { return StringView(chars_, length_); }
    [[nodiscard]] size_t size() const { return length_; }
    bool operator==(StringView other) const { return view() == other; }

  private:
    friend class Reader;
    char chars_[kMaxText + 1] = {};
    size_t length_ = 0;
};

// Reply labels. Each failure has its own code: clients tell failures apart by code alone, the
// message is for people.
enum class StatusCode : uint64_t {
    kOk = 0,
    kBadRequest,        // unknown label or a malformed message
    kNoSuchImage,       // the archive has no such image
    kNoSuchPd,          // no PD with that id
    kEndOfList,         // an index past the last entry
    kRefused,           // the image or its configuration was refused (the message says why)
    kNoMemory,          // the pool cannot fund it
    kTooManyPds,        // the PD table is full
    kTooManyServices,   // the service table is full
    kAlreadyWaitedFor,  // another client waits for that PD
    kNoSlot,            // no slot left for a reply capability
    kNameTaken,         // a service of that name runs already
    kCount,
};

// A PD as the controller sees it.
enum class PdState : uint64_t {
    kRunning,    // started, not ended
    kServing,    // started as a service
    kWaitedFor,  // a client waits for its end
    kEnded,      // a PD's child that ended: kept until its parent waits for it
    kCount,
};

// How a PD ended.
enum class Ending : uint64_t {
    kExited,
    kCrashed,
    kKilled,
    kCount,
};

const char* to_string(StatusCode status);
const char* to_string(PdState state);
const char* to_string(Ending ending);

// Request labels.
enum class StoreLabel : uint64_t {
    kList = 0x5701,
    kFind = 0x5702,
    kFrame = 0x5703,
};
enum class ControllerLabel : uint64_t {
    kSpawn = 0xc701,
    kWait = 0xc702,
    kKill = 0xc703,
    kExec = 0xc704,
    kList = 0xc705,
    kMemory = 0xc706,
    kExecSelf = 0xc707,  // from a PD on its parent endpoint
    kKillAll = 0xc708,
    kFork = 0xc709,    // from a PD on its parent endpoint
    kGreet = 0x4e110,  // from hello on its parent endpoint
};

// The controller's one endpoint carries everything, told apart by badge: its clients (badges
// below kChildBase, minted by its creator: kRootClient for the root task), its PDs' calls and
// exit reports (kChildBase + id) and their faults (kFaultBit | id). A PD's badge on a service
// endpoint it was given is service_client_badge(id).
namespace badge {
constexpr uint64_t kRootClient = 1;        // the root task's client capabilities (both services)
constexpr uint64_t kControllerClient = 2;  // the controller's client capability to the store
constexpr uint64_t kChildBase = 0x1000;
constexpr uint64_t kFaultBit = uint64_t{1} << 63;
constexpr uint64_t kMaxPdId = (uint64_t{1} << 32) - 1;
constexpr uint64_t child(uint64_t id) {
    return kChildBase + id;
}
constexpr uint64_t fault(uint64_t id) {
    return kFaultBit | id;
}
constexpr uint64_t service_client(uint64_t id) {
    return id + 1;
}
// The PD id a service's caller has, from the badge its call carries.
constexpr uint64_t service_client_id(uint64_t badge) {
    return badge - 1;
}

enum class Sender : uint8_t { kClient, kChild, kFault };
struct Classified {
    Sender sender;
    uint64_t id;  // the PD's id (kChild, kFault) or the client's badge
};
constexpr Classified classify(uint64_t value) {
    if ((value & kFaultBit) != 0) {
        return {Sender::kFault, value & ~kFaultBit};
    }
    if (value >= kChildBase) {
        return {Sender::kChild, value - kChildBase};
    }
    return {Sender::kClient, value};
}
}  // namespace badge

// Spawn flags.
constexpr uint64_t kSpawnServe = 1;   // the PD serves an endpoint named after its image: it gets
                                      // it as "service", and PDs spawned later find it by name
constexpr uint64_t kSpawnTiny = 2;    // as small as a PD can be: two stack pages, no heap, a
                                      // 64-slot CNode (a thousand of them fit in 64 MiB)
constexpr uint64_t kSpawnLinked = 4;  // the PD ends when the PD that asked for it ends (exits,
                                      // crashes or is killed), and so on down its subtree

// A PD asks its parent (the controller) on its parent endpoint for these too: Spawn (the new
// PD is its child), Wait and Kill (its own children only), and Wait for kAnyChild.
constexpr uint64_t kAnyChild = ~uint64_t{0};
constexpr uint64_t kNoParent = ~uint64_t{0};  // a PD a client started

// Lists a message's fields once, for the encoder and the decoder alike.
#define TESSERA_MESSAGE_FIELDS(...)                       \
    template <typename F>                                 \
    void fields(F&& f) {                                  \
        ::tessera::service::visit_fields(f, __VA_ARGS__); \
    }                                                     \
    template <typename F>                                 \
    void fields(F&& f) const {                            \
        ::tessera::service::visit_fields(f, __VA_ARGS__); \
    }

template <typename F, typename... T>
void visit_fields(F& f, T&... fields) {
    (f(fields), ...);
}

struct NoFields {
    template <typename F>
    void fields(F&& /*f*/) const {}
    template <typename F>
    void fields(F&& /*f*/) {}
};

// --- Image store ---------------------------------------------------------------------------

struct StoreListReply {
    uint64_t size = 0;
    Text name;
    TESSERA_MESSAGE_FIELDS(size, name)
};
struct StoreList {  // the index-th image; kEndOfList past the last
    static constexpr StoreLabel kLabel = StoreLabel::kList;
    using Reply = StoreListReply;
    uint64_t index = 0;
    TESSERA_MESSAGE_FIELDS(index)
};

struct StoreFindReply {
    uint64_t offset = 0;  // in the archive
    uint64_t size = 0;
    TESSERA_MESSAGE_FIELDS(offset, size)
};
struct StoreFind {
    static constexpr StoreLabel kLabel = StoreLabel::kFind;
    using Reply = StoreFindReply;
    Text name;
    TESSERA_MESSAGE_FIELDS(name)
};

struct StoreFrameReply {  // with one archive frame capability (read-only)
    uint64_t count = 0;   // frames of the archive
    uint64_t offset = 0;  // of the archive in its first frame
    uint64_t size = 0;    // of the archive
    TESSERA_MESSAGE_FIELDS(count, offset, size)
};
struct StoreFrame {
    static constexpr StoreLabel kLabel = StoreLabel::kFrame;
    using Reply = StoreFrameReply;
    uint64_t index = 0;
    TESSERA_MESSAGE_FIELDS(index)
};

// --- Controller ----------------------------------------------------------------------------
// A command line is the image name and its arguments separated by spaces (argv[0] is the name).

struct SpawnReply {
    uint64_t id = 0;
    TESSERA_MESSAGE_FIELDS(id)
};
struct Spawn {
    static constexpr ControllerLabel kLabel = ControllerLabel::kSpawn;
    using Reply = SpawnReply;
    uint64_t flags = 0;
    Text line;
    TESSERA_MESSAGE_FIELDS(flags, line)
};

struct WaitReply {  // when the PD ends
    Ending ending = Ending::kExited;
    uint64_t status = 0;  // the exit status, or the fault's label
    uint64_t id = 0;      // the PD that ended (what a wait for kAnyChild learns)
    TESSERA_MESSAGE_FIELDS(ending, status, id)
};
struct Wait {
    static constexpr ControllerLabel kLabel = ControllerLabel::kWait;
    using Reply = WaitReply;
    uint64_t id = 0;  // or kAnyChild
    TESSERA_MESSAGE_FIELDS(id)
};

struct KillReply {
    uint64_t count = 0;  // PDs ended: it and the linked PDs below it
    Text name;
    TESSERA_MESSAGE_FIELDS(count, name)
};
struct Kill {
    static constexpr ControllerLabel kLabel = ControllerLabel::kKill;
    using Reply = KillReply;
    uint64_t id = 0;
    TESSERA_MESSAGE_FIELDS(id)
};

struct ExecReply {
    uint64_t ended_service = 0;  // 1: the PD served a service, which ended with its old image
    Text name;                   // of the new image
    TESSERA_MESSAGE_FIELDS(ended_service, name)
};
struct Exec {
    static constexpr ControllerLabel kLabel = ControllerLabel::kExec;
    using Reply = ExecReply;
    uint64_t id = 0;
    Text line;
    TESSERA_MESSAGE_FIELDS(id, line)
};

struct ListReply {
    uint64_t id = 0;
    uint64_t parent = kNoParent;  // the PD that started it
    uint64_t linked = 0;          // 1: it ends with its parent
    uint64_t bytes = 0;           // memory the PD holds
    uint64_t priority = 0;
    PdState state = PdState::kRunning;
    Text name;
    TESSERA_MESSAGE_FIELDS(id, parent, linked, bytes, priority, state, name)
};
struct List {  // the index-th PD; kEndOfList past the last
    static constexpr ControllerLabel kLabel = ControllerLabel::kList;
    using Reply = ListReply;
    uint64_t index = 0;
    TESSERA_MESSAGE_FIELDS(index)
};

struct MemoryReply {
    uint64_t pool = 0;  // bytes of the controller's pool
    uint64_t held = 0;  // by its PDs
    uint64_t free = 0;
    TESSERA_MESSAGE_FIELDS(pool, held, free)
};
struct Memory : NoFields {
    static constexpr ControllerLabel kLabel = ControllerLabel::kMemory;
    using Reply = MemoryReply;
};

struct KillAllReply {
    uint64_t count = 0;          // PDs ended
    uint64_t free = 0;           // bytes of the pool free now
    uint64_t free_at_start = 0;  // when the controller started
    uint64_t kept = 0;           // since kept for good (ASID pools made on demand)
    // Every byte back: free == free_at_start - kept.
    TESSERA_MESSAGE_FIELDS(count, free, free_at_start, kept)
};
struct KillAll : NoFields {
    static constexpr ControllerLabel kLabel = ControllerLabel::kKillAll;
    using Reply = KillAllReply;
};

// A PD re-imaging itself: on success it starts afresh and never sees a reply.
struct ExecSelf {
    static constexpr ControllerLabel kLabel = ControllerLabel::kExecSelf;
    using Reply = ExecReply;
    Text line;
    TESSERA_MESSAGE_FIELDS(line)
};

// A PD forking itself (on its parent endpoint): it returns twice, in the parent with the
// child's id and in_child 0, in the child with its own id and in_child 1. The child's CSpace
// keeps the console and what the rules say of slots from abi::kPdSlotFirstFree up; every other
// slot is empty but its parent and fault endpoints (its own, badged with its id).
constexpr uint64_t kForkEager = 1;  // copy every page at once (no copy-on-write)
constexpr unsigned kMaxForkRules = 4;
enum class ForkAction : uint64_t { kCopy, kMint, kDrop, kCount };
struct ForkReply {
    uint64_t id = 0;
    uint64_t in_child = 0;
    TESSERA_MESSAGE_FIELDS(id, in_child)
};
struct Fork {
    static constexpr ControllerLabel kLabel = ControllerLabel::kFork;
    using Reply = ForkReply;
    struct Rule {
        uint64_t slot = 0;
        ForkAction action = ForkAction::kDrop;
        uint64_t badge = 0;  // kMint
    };
    uint64_t flags = 0;
    uint64_t rule_count = 0;  // at most kMaxForkRules
    Rule rule[kMaxForkRules];
    TESSERA_MESSAGE_FIELDS(flags, rule_count, rule[0].slot, rule[0].action, rule[0].badge,
                           rule[1].slot, rule[1].action, rule[1].badge, rule[2].slot,
                           rule[2].action, rule[2].badge, rule[3].slot, rule[3].action,
                           rule[3].badge)
};

// hello's greeting: answered with ten times its number.
struct GreetReply {
    uint64_t number = 0;
    TESSERA_MESSAGE_FIELDS(number)
};
struct Greet {
    static constexpr ControllerLabel kLabel = ControllerLabel::kGreet;
    using Reply = GreetReply;
    uint64_t number = 0;
    TESSERA_MESSAGE_FIELDS(number)
};

// A failed request's reply: its code and a message for people.
struct Refusal {
    StatusCode status = StatusCode::kBadRequest;
    Text message;
};

// --- Codec ---------------------------------------------------------------------------------

class Writer {
  public:
    explicit Writer(Words& words) : words_(words) {}
    void operator()(uint64_t value) { put(value); }
    template <typename E>
    requires std::is_enum_v<E>
    void operator()(E value) { put(static_cast<uint64_t>(value)); }
    void operator()(const Text& text);
    [[nodiscard]] unsigned length() const { return at_; }

  private:
    void put(uint64_t value) {
        if (at_ < kMaxWords) {
            words_.word[at_++] = value;
        }
    }
    Words& words_;
    unsigned at_ = 0;
};

class Reader {
  public:
    explicit Reader(const Words& words) : words_(words) {}
    void operator()(uint64_t& value) { value = get(); }
    template <typename E>
    requires std::is_enum_v<E>
    void operator()(E& value) {
        const uint64_t raw = get();
        ok_ = ok_ && raw < static_cast<uint64_t>(E::kCount);
        value = ok_ ? static_cast<E>(raw) : E{};
    }
    void operator()(Text& text);
    [[nodiscard]] bool ok() const { return ok_; }

  private:
    uint64_t get() {
        if (at_ >= words_.length || at_ >= kMaxWords) {
            ok_ = false;
            return 0;
        }
        return words_.word[at_++];
    }
    const Words& words_;
    unsigned at_ = 0;
    bool ok_ = true;
};

template <typename M>
concept Request = requires {
    M::kLabel;
};

// A request (label: its kind) or a successful reply (label kOk).
template <typename M>
void encode(const M& message, Words& words) {
    Writer w(words);
    message.fields(w);
    words.length = w.length();
    if constexpr (Request<M>) {
        words.label = static_cast<uint64_t>(M::kLabel);
    } else {
        words.label = static_cast<uint64_t>(StatusCode::kOk);
    }
}

// The fields of a request (whose label the server has matched) or of a successful reply.
template <typename M>
Result<M, StatusCode> decode(const Words& words) {
    M message;
    Reader r(words);
    message.fields(r);
    if (!r.ok()) {
        return fail(StatusCode::kBadRequest);
    }
    return message;
}

void encode_failure(StatusCode status, StringView message, Words& words);

// A reply: the successful reply's fields, or the failure it reports (a reply that is neither,
// with a label out of range or malformed fields, is a kBadRequest failure).
template <typename Reply>
Result<Reply, Refusal> decode_reply(const Words& words) {
    if (words.label == static_cast<uint64_t>(StatusCode::kOk)) {
        auto reply = decode<Reply>(words);
        if (reply) {
            return reply.value();
        }
        Refusal f;
        f.message.set("malformed reply");
        return fail(f);
    }
    Refusal f;
    f.status = words.label < static_cast<uint64_t>(StatusCode::kCount)
                   ? static_cast<StatusCode>(words.label)
                   : StatusCode::kBadRequest;
    Reader r(words);
    r(f.message);
    if (!r.ok()) {
        f.message.set(to_string(f.status));
    }
    return fail(f);
}

}  // namespace tessera::service
