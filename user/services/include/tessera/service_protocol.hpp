// The IPC protocols of the image store and the controller: labels, what each message carries,
// and how text travels in message words. Clients hold badged endpoint capabilities (Write and
// GrantReply); the servers tell clients apart by badge.
//
// Text (names, command lines) travels NUL-padded in consecutive message words, 8 characters
// per word, little-endian; the first word of text is message word `kTextWord`.
#pragma once

#include <cstdint>

#include "base/string_view.hpp"
#include "tessera/syscall.hpp"

namespace tessera::service {

constexpr unsigned kTextWord = 3;
constexpr unsigned kMaxTextWords = 32;  // 256 characters, NUL included
constexpr size_t kMaxText = kMaxTextWords * 8 - 1;

// Requests to the image store. Replies have label 0 on success, else a StatusCode.
enum class StoreLabel : uint64_t {
    kList = 0x5701,   // mr0 = index -> mr0 = size, text = name; kNotFound past the last
    kFind = 0x5702,   // text = name -> mr0 = offset in the archive, mr1 = size
    kFrame = 0x5703,  // mr0 = index -> one archive frame capability (read-only) in the reply;
                      // mr0 = frame count, mr1 = archive offset in the first frame, mr2 = size
};

// Requests to the controller. A command line is the image name and its arguments separated by
// spaces (the image name is argv[0]).
enum class ControllerLabel : uint64_t {
    kSpawn = 0xc701,     // mr0 = flags, text = command line -> mr0 = PD id
    kWait = 0xc702,      // mr0 = id -> when it ends: mr0 = Ending, mr1 = status
    kKill = 0xc703,      // mr0 = id -> text = its name
    kExec = 0xc704,      // mr0 = id, text = command line
    kList = 0xc705,      // mr0 = index -> mr0 = id, mr1 = bytes held, mr2 = priority (bits 7:0)
                         // and PdState (bits 15:8), text = name
    kMemory = 0xc706,    // -> mr0 = pool bytes, mr1 = bytes held by PDs, mr2 = free bytes
    kExecSelf = 0xc707,  // from a PD on its parent endpoint: text = command line (no reply)
};

// The greeting the hello program sends its parent (mr0 = a number); the controller, like the
// root task's demo, answers with ten times the number.
constexpr uint64_t kGreetLabel = 0x4e110;

// Spawn flags.
constexpr uint64_t kSpawnServe = 1;  // the PD serves an endpoint named after its image: it gets
                                     // it as "service", and PDs spawned later find it by name

// Reply labels (0 = success). Failures carry a message in the text words.
enum class StatusCode : uint64_t {
    kOk = 0,
    kNotFound = 1,     // no such image or PD
    kRefused = 2,      // the image or configuration was refused (text says why)
    kNoResources = 3,  // no memory, slots or PD ids left
    kBadRequest = 4,   // unknown label or malformed arguments
};

// A PD as the controller sees it (kList).
enum class PdState : uint64_t {
    kRunning = 0,    // started, not ended
    kServing = 1,    // started as a service
    kWaitedFor = 2,  // a client waits for its end
};

// How a PD ended (kWait).
enum class Ending : uint64_t {
    kExited = 0,
    kCrashed = 1,
    kKilled = 2,
};

// Writes `text` into message words from kTextWord (register words and the IPC buffer) and
// returns the message length that covers it.
unsigned put_text(sys::Message& m, StringView text);
// Reads text from message words [kTextWord, length) into buffer (NUL-terminated); returns it.
StringView get_text(const sys::Message& m, char (&buffer)[kMaxText + 1]);
// One message word (0..3 in registers, the rest in the IPC buffer).
void set_word(sys::Message& m, unsigned i, uint64_t value);
uint64_t word(const sys::Message& m, unsigned i);

}  // namespace tessera::service
