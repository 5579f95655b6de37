// TCB helpers that do not depend on the scheduler or IPC.
#include "object/tcb.hpp"

namespace tessera {

const char* to_string(ThreadState state) {
    switch (state) {
        case ThreadState::kInactive:
            return "inactive";
        case ThreadState::kRunning:
            return "running";
        case ThreadState::kRestart:
            return "restart";
        case ThreadState::kBlockedOnReceive:
            return "blocked-on-receive";
        case ThreadState::kBlockedOnSend:
            return "blocked-on-send";
        case ThreadState::kBlockedOnReply:
            return "blocked-on-reply";
        case ThreadState::kBlockedOnNotification:
            return "blocked-on-notification";
    }
    return "invalid";
}

// Names appear in the kernel's own reports, so only printable ASCII is kept (anything else
// becomes '?'): a name cannot carry a newline or an escape sequence into a report.
void Tcb::set_name(const char* text) {
    size_t i = 0;
    for (; text != nullptr && text[i] != '\0' && i + 1 < kThreadNameLength; ++i) {
        char c = text[i];
        name[i] = c >= 0x20 && c < 0x7f ? c : '?';
    }
    name[i] = '\0';
}

}  // namespace tessera
