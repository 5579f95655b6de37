// How a C program ends: _exit (under exit and abort) writes out the console line and ends the
// program through tessera_exit with the status; a signal ends it with 128 + the signal's number.
// A program is one process: getpid names it and kill can only address it.
#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include "tessera/console_stream.hpp"
#include "tessera/runtime.h"

namespace {

constexpr pid_t kSelf = 1;

}  // namespace

extern "C" void _exit(int status) {
    tessera::flush_console_stream();
    tessera_exit(status);
}

extern "C" pid_t getpid() {
    return kSelf;
}

// raise() calls this for a signal left at SIG_DFL, whose action here is always to terminate.
extern "C" int kill(pid_t pid, int signal) {
    if (signal < 0 || signal >= NSIG) {
        errno = EINVAL;
        return -1;
    }
    if (pid != kSelf && pid != 0 && pid != -1) {
        errno = ESRCH;
        return -1;
    }
    if (signal != 0) {
        _exit(128 + signal);
    }
    return 0;
}
