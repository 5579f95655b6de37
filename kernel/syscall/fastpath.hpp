// IPC fastpath for the two calls that make a round trip: Call to a waiting server, and a
// server's ReplyRecv to a caller when nobody else is queued. Checks its preconditions and, if
// any fails, returns false so the general path handles the call with identical results.
#pragma once

#include "object/tcb.hpp"

namespace tessera {

// On success switches straight to the partner thread and never returns.
bool try_fastpath(Tcb& t);

}  // namespace tessera
