// IPC fastpath for the two calls that make a round trip: Call to a waiting server, and a
// server's ReplyRecv to a waiting caller when nobody is queued to send. user_entry.S calls
// these with the caller's registers already saved. Each checks every precondition before it
// changes anything: it either declines (returns null, nothing changed, and the general path
// handles the call with the results it would always have had) or completes the call, makes
// the partner current and returns it for the exit to load.
#pragma once

#include "object/tcb.hpp"

extern "C" {
tessera::Tcb* fast_call(tessera::Tcb* caller);
tessera::Tcb* fast_reply_recv(tessera::Tcb* server);
}
