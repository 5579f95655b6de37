// Faults raised by user threads (VM faults, undefined instructions, unknown system calls, other
// exceptions), decoded from the architecture into one generic description.
#pragma once

#include <cstdint>

#include "object/tcb.hpp"

namespace tessera {

enum class UserFaultKind : uint8_t {
    kVmFault,         // data or instruction abort
    kUnknownSyscall,  // SVC with a number the kernel does not know
    kUserException,   // undefined instruction, alignment, breakpoint, ...
};

struct UserFault {
    UserFaultKind kind = UserFaultKind::kUserException;
    uint64_t address = 0;  // faulting address (VM faults)
    uint64_t pc = 0;
    uint64_t syndrome = 0;     // ESR_EL1
    bool instruction = false;  // VM fault on instruction fetch
    bool write = false;        // VM fault on a write
};

// Handles a fault of the current thread t: a Call to its fault endpoint, or, if it has none, a
// console report with its name and suspension.
void handle_user_fault(Tcb& t, const UserFault& fault);

}  // namespace tessera
