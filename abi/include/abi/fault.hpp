// Fault messages: what a thread's fault handler receives (as a Call with the fault endpoint's
// badge) when the thread faults. The label says the kind; the words are listed per kind.
// Replying with label 0 resumes the thread; any other label leaves it suspended.
#pragma once

#include <cstdint>

namespace tessera::abi {

enum class FaultType : uint64_t {
    kNone = 0,
    kVmFault = 1,  // [address, pc, access (0 read, 1 write, 2 execute), fault status, ESR]
    // [number (x7), pc (after the SVC), sp, x0, SVC immediate]; reply words: [pc, sp] to resume
    // elsewhere. A native call has immediate kSvcImmediate and an unknown number; a foreign
    // one any other immediate (its number is where its ABI puts it: read the registers).
    kUnknownSyscall = 2,
    kUserException = 3,  // [pc, sp, ESR, exception class]; reply words: [pc, sp]
};

enum class FaultAccess : uint64_t { kRead = 0, kWrite = 1, kExecute = 2 };

constexpr unsigned kVmFaultLength = 5;
constexpr unsigned kUnknownSyscallFaultLength = 5;
constexpr unsigned kUserExceptionFaultLength = 4;

}  // namespace tessera::abi
