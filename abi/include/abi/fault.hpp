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

// A fault message decoded: the one decoder every reporter (the root task, the controller, the
// shell, tests) uses, so each prints the same fields under the same names.
struct FaultMessage {
    FaultType type = FaultType::kNone;
    uint64_t pc = 0;
    uint64_t address = 0;                     // VM fault: the address accessed (else 0)
    FaultAccess access = FaultAccess::kRead;  // VM fault
    uint64_t sp = 0;                          // unknown system call, user exception
    uint64_t syndrome = 0;                    // ESR: VM fault, user exception
    uint64_t number = 0;                      // unknown system call: x7
    uint64_t immediate = 0;                   // unknown system call: the SVC immediate
};

// words: the message's words (count of them; missing ones read as 0).
constexpr FaultMessage decode_fault(uint64_t label, const uint64_t* words, unsigned count) {
    auto word = [&](unsigned i) { return i < count ? words[i] : 0; };
    FaultMessage f;
    switch (static_cast<FaultType>(label)) {
        case FaultType::kVmFault:
            f.type = FaultType::kVmFault;
            f.address = word(0);
            f.pc = word(1);
            f.access = word(2) <= 2 ? static_cast<FaultAccess>(word(2)) : FaultAccess::kRead;
            f.syndrome = word(4);
            break;
        case FaultType::kUnknownSyscall:
            f.type = FaultType::kUnknownSyscall;
            f.number = word(0);
            f.pc = word(1);
            f.sp = word(2);
            f.immediate = word(4);
            break;
        case FaultType::kUserException:
            f.type = FaultType::kUserException;
            f.pc = word(0);
            f.sp = word(1);
            f.syndrome = word(2);
            break;
        default:
            break;
    }
    return f;
}

// What happened, in a word or two: "read", "write", "execute" (VM faults), "unknown system
// call", "exception", or "fault" for a label that is no fault.
constexpr const char* fault_kind(const FaultMessage& f) {
    switch (f.type) {
        case FaultType::kVmFault:
            return f.access == FaultAccess::kWrite     ? "write"
                   : f.access == FaultAccess::kExecute ? "execute"
                                                       : "read";
        case FaultType::kUnknownSyscall:
            return "unknown system call";
        case FaultType::kUserException:
            return "exception";
        default:
            return "fault";
    }
}

}  // namespace tessera::abi
