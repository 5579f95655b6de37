// Object invocations: a Call on a capability whose label selects an operation. The context
// gives decoders checked access to the message words and extra capabilities; every decoder
// validates everything before its perform step changes anything.
#pragma once

#include <cstdint>

#include "abi/invocation.hpp"
#include "abi/ipc_buffer.hpp"
#include "abi/syscall.hpp"
#include "core/derivation_tree.hpp"
#include "core/syscall_error.hpp"
#include "object/tcb.hpp"

namespace tessera {

class Invocation {
  public:
    Invocation(Tcb& caller, Cte& slot, abi::MessageInfo info);

    [[nodiscard]] Tcb& caller() const { return caller_; }
    [[nodiscard]] Cte& slot() const { return slot_; }
    [[nodiscard]] const Capability& cap() const { return slot_.cap(); }
    [[nodiscard]] uint64_t label() const { return info_.label(); }
    [[nodiscard]] unsigned length() const { return length_; }

    // Message word i; TruncatedMessage if the message is shorter.
    SysResult<uint64_t> arg(unsigned i) const;
    // Requires at least `words` message words and `caps` extra capabilities.
    SysResult<void> require(unsigned words, unsigned caps) const;
    // Slot of extra capability i, looked up in the caller's CSpace.
    SysResult<Cte*> extra_cap(unsigned i) const;
    // The empty slot (index, depth) in the CNode given as extra capability root_cap: where an
    // operation puts a new capability. Checks the root, the depth and that the slot is empty.
    SysResult<Cte*> empty_destination(unsigned root_cap, uint64_t index, uint64_t depth) const;

    // Result words returned to the caller on success (message registers, then IPC buffer).
    // False if the caller has no IPC buffer for words beyond the registers.
    bool set_reply(unsigned i, uint64_t value) const;
    [[nodiscard]] unsigned reply_length() const { return reply_length_; }

  private:
    Tcb& caller_;
    Cte& slot_;
    abi::MessageInfo info_;
    unsigned length_;
    abi::IpcBuffer* buffer_;  // the caller's IPC buffer through the kernel map, or nullptr
    mutable unsigned reply_length_ = 0;
};

// Decodes and performs an invocation of the capability in inv.slot().
SysResult<void> invoke(const Invocation& inv);

SysResult<void> invoke_untyped(const Invocation& inv);
SysResult<void> invoke_cnode(const Invocation& inv);
SysResult<void> invoke_tcb(const Invocation& inv);
SysResult<void> invoke_irq_control(const Invocation& inv);
SysResult<void> invoke_irq_handler(const Invocation& inv);
SysResult<void> invoke_asid_control(const Invocation& inv);
SysResult<void> invoke_asid_pool(const Invocation& inv);
SysResult<void> invoke_page_table(const Invocation& inv);
SysResult<void> invoke_debug(const Invocation& inv);
SysResult<void> invoke_console(const Invocation& inv);
SysResult<void> invoke_frame(const Invocation& inv);
SysResult<void> invoke_vspace(const Invocation& inv);

// The caller's IPC buffer as the kernel sees it (nullptr if it has none).
abi::IpcBuffer* ipc_buffer_of(const Tcb& t);

}  // namespace tessera
