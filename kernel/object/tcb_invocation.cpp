// TCB invocations: Suspend, Resume, Configure, SetSpace, SetIpcBuffer, SetPriority,
// Read/Write/CopyRegisters, SetTlsBase, SetName. Decode checks every capability and argument;
// the perform part only installs capabilities and writes fields.
#include "base/assert.hpp"
#include "core/capability_delete.hpp"
#include "core/ipc.hpp"
#include "core/kernel_memory.hpp"
#include "core/thread_switch.hpp"
#include "core/user_address.hpp"
#include "object/vspace.hpp"
#include "syscall/invocation.hpp"

namespace tessera {
namespace {

using abi::InvocationLabel;

constexpr uint64_t kIpcBufferAlignment = 1024;
static_assert(sizeof(abi::IpcBuffer) == kIpcBufferAlignment, "aligned buffers never straddle");

// User-writable SPSR bits: the condition flags. Everything else is forced to EL0t, AArch64,
// interrupts unmasked, so no register write can raise a thread's privilege.
constexpr uint64_t kSpsrUserMask = 0xf000'0000;

uint64_t read_register(const Tcb& t, unsigned index) {
    const arch::UserContext& c = t.context;
    switch (index) {
        case abi::kRegisterIndexPc:
            return c.pc;
        case abi::kRegisterIndexSp:
            return c.sp;
        case abi::kRegisterIndexSpsr:
            return c.spsr;
        case abi::kRegisterIndexTpidr:
            return c.tpidr;
        default:
            return c.x[index - abi::kRegisterIndexX0];
    }
}

void write_register(Tcb& t, unsigned index, uint64_t value) {
    arch::UserContext& c = t.context;
    switch (index) {
        case abi::kRegisterIndexPc:
            c.pc = value;
            break;
        case abi::kRegisterIndexSp:
            c.sp = value;
            break;
        case abi::kRegisterIndexSpsr:
            c.spsr = (value & kSpsrUserMask) | SPSR_EL0T;
            break;
        case abi::kRegisterIndexTpidr:
            c.tpidr = value;
            break;
        default:
            c.x[index - abi::kRegisterIndexX0] = value;
            break;
    }
}

// Replaces the content of one of the TCB's own slots with a copy derived from src. Deleting
// the old content may destroy objects: the CNode holding src, and even the TCB itself (when its
// last capability lives in the CSpace being replaced). So, as seL4's checkCapAt, nothing is
// inserted unless the invoked TCB capability and src are both still there. The deletion may
// also stop at a preemption point: the invocation then restarts and the deletion goes on.
enum class Installed { kYes, kTcbGone, kPreempted };

Installed install(const Invocation& inv, Cte& tcb_slot, Cte& src, const Capability& cap) {
    PhysAddr tcb = inv.cap().object();
    if (!delete_capability(tcb_slot)) {
        return Installed::kPreempted;
    }
    const Capability& invoked = inv.slot().cap();
    if (invoked.type() != CapType::kTcb || invoked.object() != tcb) {
        return Installed::kTcbGone;
    }
    if (tcb_slot.is_empty() && !src.is_empty() && same_object_as(src.cap(), cap)) {
        DerivationTree::insert_derived(src, tcb_slot, cap);
    }
    return Installed::kYes;
}

struct SpaceArgs {
    Cte* cspace = nullptr;
    Capability cspace_cap;
    Cte* vspace = nullptr;
};

// CSpace root (extra cap `first`) and VSpace root (extra cap `first + 1`).
SysResult<SpaceArgs> decode_space(const Invocation& inv, unsigned first, uint64_t cspace_data) {
    SpaceArgs a;
    a.cspace = TRY(inv.extra_cap(first));
    a.vspace = TRY(inv.extra_cap(first + 1));
    if (a.cspace->cap().type() != CapType::kCNode) {
        return fail(SyscallError::invalid_capability(1 + first));
    }
    // Only a VSpace with a live ASID: its capability is then the one that may be copied, the
    // thread's copy can never be given an ASID of its own, and no thread is given a VSpace
    // whose pool is gone (whose tables nothing keeps in step any more).
    const Capability& vs = a.vspace->cap();
    if (vs.type() != CapType::kVSpace || vs.vspace_asid() == 0 ||
        asid_lookup(vs.vspace_asid()) != vs.object()) {
        return fail(SyscallError::invalid_capability(2 + first));
    }
    a.cspace_cap = a.cspace->cap();
    if (cspace_data != 0) {
        unsigned guard_size = cspace_data & 0x3f;
        uint64_t guard = cspace_data >> 6;
        if (guard_size + a.cspace_cap.cnode_radix() > abi::kWordBits || guard_size > 58 ||
            (guard_size < 58 && (guard >> guard_size) != 0)) {
            return fail(SyscallError::invalid_argument(1));
        }
        a.cspace_cap =
            Capability::cnode(a.cspace_cap.object(), a.cspace_cap.cnode_radix(), guard_size, guard);
    }
    return a;
}

SysResult<Cte*> decode_ipc_buffer(const Invocation& inv, unsigned cap_index, uint64_t address,
                                  unsigned word) {
    if (address == 0) {
        return static_cast<Cte*>(nullptr);  // no IPC buffer
    }
    TRY(UserAddress::make(address, kIpcBufferAlignment, sizeof(abi::IpcBuffer), word));
    Cte* frame = TRY(inv.extra_cap(cap_index));
    const Capability& f = frame->cap();
    if (f.type() != CapType::kFrame || f.frame_is_device() ||
        !f.has_rights(abi::kRightRead | abi::kRightWrite)) {
        return fail(SyscallError::invalid_capability(1 + cap_index));
    }
    return frame;
}

void set_ipc_buffer(const Invocation& inv, Tcb& t, Cte* frame, uint64_t address) {
    if (frame == nullptr) {
        // A frame: deleting it destroys nothing else and cannot stop half-way.
        bool done = delete_capability(t.ipc_buffer_frame);
        TESSERA_ASSERT(done);
        t.ipc_buffer = 0;
        return;
    }
    // The TCB keeps an unmapped copy: the mapping stays owned by the capability that made it.
    const Capability& f = frame->cap();
    Installed r =
        install(inv, t.ipc_buffer_frame, *frame,
                Capability::frame(f.object(), f.frame_is_large(), f.frame_is_device(), f.rights()));
    TESSERA_ASSERT(r != Installed::kPreempted);
    if (r == Installed::kYes) {
        t.ipc_buffer = address;
    }
}

// The new CSpace and VSpace roots, in that order; stops as soon as the TCB is gone.
Installed install_space(const Invocation& inv, Tcb& t, const SpaceArgs& space) {
    Installed r = install(inv, t.cspace_root, *space.cspace, space.cspace_cap);
    if (r != Installed::kYes) {
        return r;
    }
    return install(inv, t.vspace_root, *space.vspace, space.vspace->cap());
}

SysResult<void> configure(const Invocation& inv, Tcb& t) {
    // fault_ep, cspace_data, vspace_data, buffer; caps: cspace, vspace, buffer frame.
    TRY(inv.require(4, 2));
    uint64_t fault_ep = TRY(inv.arg(0));
    uint64_t cspace_data = TRY(inv.arg(1));
    uint64_t buffer = TRY(inv.arg(3));
    SpaceArgs space = TRY(decode_space(inv, 0, cspace_data));
    Cte* frame = TRY(decode_ipc_buffer(inv, 2, buffer, 3));
    t.fault_endpoint = abi::CapPtr(fault_ep);
    switch (install_space(inv, t, space)) {
        case Installed::kYes:
            set_ipc_buffer(inv, t, frame, buffer);
            return {};
        case Installed::kTcbGone:
            return {};
        case Installed::kPreempted:
            break;
    }
    return fail(SyscallError::restart());
}

// priority, max controlled priority; cap: authority TCB, whose MCP bounds both.
SysResult<void> set_priority(const Invocation& inv, Tcb& t) {
    TRY(inv.require(2, 1));
    uint64_t priority = TRY(inv.arg(0));
    uint64_t mcp = TRY(inv.arg(1));
    Cte* authority = TRY(inv.extra_cap(0));
    if (authority->cap().type() != CapType::kTcb) {
        return fail(SyscallError::invalid_capability(1));
    }
    const Tcb* auth = object_at<Tcb>(authority->cap().object());
    if (priority > auth->max_controlled_priority || mcp > auth->max_controlled_priority) {
        return fail(SyscallError::range(0, auth->max_controlled_priority));
    }
    bool queued = t.in_ready_queue;
    if (queued) {
        scheduler().dequeue(t);
    }
    t.priority = static_cast<uint8_t>(priority);
    t.max_controlled_priority = static_cast<uint8_t>(mcp);
    if (queued) {
        scheduler().enqueue(t);
    }
    return {};
}

SysResult<void> read_registers(const Invocation& inv, Tcb& t) {
    // suspend_source, arch_flags (unused, 0), count.
    TRY(inv.require(3, 0));
    uint64_t suspend_source = TRY(inv.arg(0));
    uint64_t count = TRY(inv.arg(2));
    if (count < 1 || count > abi::kUserRegisterCount) {
        return fail(SyscallError::range(1, abi::kUserRegisterCount));
    }
    if (count > abi::kMessageRegistersInCpu && ipc_buffer_of(inv.caller()) == nullptr) {
        return fail(SyscallError::of(abi::Error::kTruncatedMessage));
    }
    if (&t == &inv.caller()) {
        return fail(SyscallError::of(abi::Error::kIllegalOperation));
    }
    if (suspend_source != 0) {
        suspend(t);
    }
    for (unsigned i = 0; i < count; ++i) {
        inv.set_reply(i, read_register(t, i));
    }
    return {};
}

SysResult<void> write_registers(const Invocation& inv, Tcb& t) {
    // resume_target, arch_flags (unused), count, registers...
    TRY(inv.require(3, 0));
    uint64_t resume = TRY(inv.arg(0));
    uint64_t count = TRY(inv.arg(2));
    if (count < 1 || count > abi::kUserRegisterCount) {
        return fail(SyscallError::range(1, abi::kUserRegisterCount));
    }
    TRY(inv.require(static_cast<unsigned>(3 + count), 0));
    if (&t == &inv.caller()) {
        return fail(SyscallError::of(abi::Error::kIllegalOperation));
    }
    if (resume != 0 && (t.vspace_root.cap().type() != CapType::kVSpace ||
                        t.vspace_root.cap().vspace_asid() == 0)) {
        return fail(SyscallError::of(abi::Error::kIllegalOperation));
    }
    for (unsigned i = 0; i < count; ++i) {
        write_register(t, i, TRY(inv.arg(3 + i)));
    }
    if (resume != 0 && t.state == ThreadState::kInactive) {
        make_runnable(t);
    }
    return {};
}

SysResult<void> copy_registers(const Invocation& inv, Tcb& t) {
    // suspend_source, resume_target; cap: source TCB.
    TRY(inv.require(2, 1));
    uint64_t suspend_source = TRY(inv.arg(0));
    uint64_t resume_target = TRY(inv.arg(1));
    Cte* src_slot = TRY(inv.extra_cap(0));
    if (src_slot->cap().type() != CapType::kTcb) {
        return fail(SyscallError::invalid_capability(1));
    }
    Tcb* src = object_at<Tcb>(src_slot->cap().object());
    if (&t == &inv.caller()) {
        return fail(SyscallError::of(abi::Error::kIllegalOperation));  // as Read/WriteRegisters
    }
    if (resume_target != 0 && (t.vspace_root.cap().type() != CapType::kVSpace ||
                               t.vspace_root.cap().vspace_asid() == 0)) {
        return fail(SyscallError::of(abi::Error::kIllegalOperation));
    }
    if (suspend_source != 0 && src != &t) {
        suspend(*src);
    }
    for (unsigned i = 0; i < abi::kUserRegisterCount; ++i) {
        write_register(t, i, read_register(*src, i));
    }
    if (resume_target != 0 && t.state == ThreadState::kInactive) {
        make_runnable(t);
    }
    return {};
}

}  // namespace

SysResult<void> invoke_tcb(const Invocation& inv) {
    Tcb* t = object_at<Tcb>(inv.cap().object());
    switch (static_cast<InvocationLabel>(inv.label())) {
        case InvocationLabel::kTcbSuspend:
            suspend(*t);
            return {};
        case InvocationLabel::kTcbResume:
            // A thread runs only in an address space with an ASID (never on stray tables).
            if (t->vspace_root.cap().type() != CapType::kVSpace ||
                t->vspace_root.cap().vspace_asid() == 0) {
                return fail(SyscallError::of(abi::Error::kIllegalOperation));
            }
            if (t->state == ThreadState::kInactive) {
                make_runnable(*t);
            }
            return {};
        case InvocationLabel::kTcbConfigure:
            return configure(inv, *t);
        case InvocationLabel::kTcbSetSpace: {
            // fault_ep, cspace_data, vspace_data; caps: cspace, vspace.
            TRY(inv.require(3, 2));
            uint64_t fault_ep = TRY(inv.arg(0));
            SpaceArgs space = TRY(decode_space(inv, 0, TRY(inv.arg(1))));
            t->fault_endpoint = abi::CapPtr(fault_ep);
            if (install_space(inv, *t, space) == Installed::kPreempted) {
                return fail(SyscallError::restart());
            }
            return {};
        }
        case InvocationLabel::kTcbSetIpcBuffer: {
            TRY(inv.require(1, 0));
            uint64_t buffer = TRY(inv.arg(0));
            Cte* frame = TRY(decode_ipc_buffer(inv, 0, buffer, 0));
            set_ipc_buffer(inv, *t, frame, buffer);
            return {};
        }
        case InvocationLabel::kTcbSetPriority:
            return set_priority(inv, *t);
        case InvocationLabel::kTcbReadRegisters:
            return read_registers(inv, *t);
        case InvocationLabel::kTcbWriteRegisters:
            return write_registers(inv, *t);
        case InvocationLabel::kTcbCopyRegisters:
            return copy_registers(inv, *t);
        case InvocationLabel::kTcbSetTlsBase: {
            TRY(inv.require(1, 0));
            t->context.tpidr = TRY(inv.arg(0));
            return {};
        }
        case InvocationLabel::kTcbSetName: {
            // Up to three words of ASCII, NUL padded.
            TRY(inv.require(1, 0));
            char name[kThreadNameLength] = {};
            for (unsigned w = 0; w < 3 && w < inv.length(); ++w) {
                uint64_t word = TRY(inv.arg(w));
                for (unsigned b = 0; b < 8 && w * 8 + b + 1 < kThreadNameLength; ++b) {
                    name[w * 8 + b] = static_cast<char>(word >> (8 * b));
                }
            }
            t->set_name(name);
            return {};
        }
        case InvocationLabel::kTcbBindNotification: {
            TRY(inv.require(0, 1));
            Cte* ntfn = TRY(inv.extra_cap(0));
            if (ntfn->cap().type() != CapType::kNotification ||
                !ntfn->cap().has_rights(abi::kRightRead)) {
                return fail(SyscallError::invalid_capability(1));
            }
            auto* n = object_at<Notification>(ntfn->cap().object());
            if (t->bound_notification != nullptr || n->bound != nullptr || n->head != nullptr) {
                return fail(SyscallError::of(abi::Error::kIllegalOperation));
            }
            bind_notification(*t, *n);
            return {};
        }
        case InvocationLabel::kTcbUnbindNotification:
            if (t->bound_notification == nullptr) {
                return fail(SyscallError::of(abi::Error::kIllegalOperation));
            }
            unbind_notification(*t);
            return {};
        default:
            return fail(SyscallError::of(abi::Error::kIllegalOperation));
    }
}

}  // namespace tessera
