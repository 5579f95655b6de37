// System call numbers (`svc #kSvcImmediate`, the number in x7) and the message-info word that
// accompanies every IPC. Layouts here are part of the ABI. There is no ambient
// debug call: halting, translating and console output are invocations of capabilities.
#pragma once

#include <cstdint>

namespace tessera::abi {

// Native system calls are `svc` with this immediate. Any other SVC from EL0 - a Linux binary's
// `svc #0` with its number in x8, say - is an unknown-system-call fault of the thread, with the
// immediate in the fault message, so a handler can emulate a foreign system-call interface.
constexpr uint16_t kSvcImmediate = 0x7e55;

enum class Syscall : uint64_t {
    kCall = 0,       // send to a capability and wait for the reply (invocations use this)
    kReplyRecv = 1,  // reply to the last caller, then wait on an endpoint
    kSend = 2,
    kNBSend = 3,  // send if a receiver is waiting, else drop silently
    kRecv = 4,
    kNBRecv = 5,  // receive if a sender is waiting, else return at once
    kReply = 6,
    kYield = 7,
    kCount,
};

// Message registers carried in CPU registers (x2..x5); the rest travel in the IPC buffer.
constexpr unsigned kMessageRegistersInCpu = 4;
constexpr unsigned kMaxMessageLength = 120;  // words
constexpr unsigned kMaxExtraCaps = 3;

// The message-info word: label (52 bits) | caps unwrapped (3) | extra caps (2) | length (7).
class MessageInfo {
  public:
    constexpr MessageInfo() = default;
    constexpr explicit MessageInfo(uint64_t raw) : raw_(raw) {}
    constexpr MessageInfo(uint64_t label, unsigned caps_unwrapped, unsigned extra_caps,
                          unsigned length)
        : raw_((label << 12) | ((uint64_t{caps_unwrapped} & 7) << 9) |
               ((uint64_t{extra_caps} & 3) << 7) | (uint64_t{length} & 0x7f)) {}

    [[nodiscard]] constexpr uint64_t raw() const { return raw_; }
    [[nodiscard]] constexpr uint64_t label() const { return raw_ >> 12; }
    [[nodiscard]] constexpr unsigned caps_unwrapped() const { return (raw_ >> 9) & 7; }
    [[nodiscard]] constexpr unsigned extra_caps() const { return (raw_ >> 7) & 3; }
    [[nodiscard]] constexpr unsigned length() const { return raw_ & 0x7f; }

  private:
    uint64_t raw_ = 0;
};

static_assert(sizeof(MessageInfo) == 8);
static_assert(MessageInfo(0xabc, 5, 2, 100).label() == 0xabc);
static_assert(MessageInfo(0xabc, 5, 2, 100).caps_unwrapped() == 5);
static_assert(MessageInfo(0xabc, 5, 2, 100).extra_caps() == 2);
static_assert(MessageInfo(0xabc, 5, 2, 100).length() == 100);

}  // namespace tessera::abi
