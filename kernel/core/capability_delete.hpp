// Deleting capabilities. Deleting the last capability to an object destroys it (finalisation):
// a TCB stops and leaves every queue; a CNode or TCB's own slots are emptied in turn. Emptying
// nested CNodes needs no recursion and no kernel memory: the capability that was an object's
// last becomes a zombie (core/zombie.hpp) that records the progress and links to its parent, so
// the walk keeps O(1) kernel stack however deep or cyclic the CNode graph is, costs time linear
// in what it empties, and can stop at a preemption point and go on later.
#pragma once

#include "core/derivation_tree.hpp"

namespace tessera {

// Empties slot, destroying the object if this was its final capability. False if it stopped
// at a preemption point: slot then holds a zombie, and deleting it again goes on.
[[nodiscard]] bool delete_capability(Cte& slot);

// True if deleting slot destroys (or goes on destroying) an object that owns slots (a CNode's or
// a TCB's), whose emptying may in turn destroy anything, including the CNode slot lies in.
bool deletion_may_cascade(const Cte& slot);

// Deletes every descendant of slot (slot itself stays). Returns false if it stopped early at a
// preemption point because an interrupt is pending; calling it again continues.
[[nodiscard]] bool revoke_capability(Cte& slot);

}  // namespace tessera
