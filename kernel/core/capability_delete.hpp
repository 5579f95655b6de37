// Deleting capabilities. Deleting the last capability to an object destroys it (finalisation):
// a TCB stops and leaves every queue; a CNode or TCB's own slots are emptied in turn. Emptying
// nested CNodes needs no recursion: the slot that held a CNode being destroyed is turned into a
// zombie that links back to its parent, so the walk keeps O(1) kernel stack however deep or
// cyclic the CNode graph is.
#pragma once

#include "core/derivation_tree.hpp"

namespace tessera {

// Empties slot, destroying the object if this was its final capability.
void delete_capability(Cte& top);

// True if deleting slot destroys an object that owns slots (a CNode's or a TCB's), whose
// emptying may in turn destroy anything, including the CNode slot itself lies in.
bool deletion_may_cascade(const Cte& slot);

// Deletes every descendant of slot (slot itself stays). Returns false if it stopped early at a
// preemption point because an interrupt is pending; calling it again continues.
bool revoke_capability(Cte& slot);

}  // namespace tessera
