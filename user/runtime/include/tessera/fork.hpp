// fork() for a PD: its parent (the controller) makes a child with a copy-on-write copy of its
// memory, the same stack pointer and the same registers, and the call returns in both: in the
// parent with in_child 0 and the child's id, in the child with in_child 1 and its own id.
// Refused (no memory, a PD that cannot be forked, bad rules) it returns only in the parent.
#pragma once

#include "base/result.hpp"
#include "service/service_protocol.hpp"
#include "tessera/service_call.hpp"

namespace tessera {

// The default: the child keeps the console and nothing else of the CSpace but its own parent
// and fault endpoints; `request` adds rules for other slots and kForkEager.
Result<service::ForkReply, service::Refusal> fork(const service::Fork& request = {});

}  // namespace tessera
