// The debug and console capabilities: authority that used to be ambient. DebugHalt ends the
// whole system and DebugTranslate reveals physical addresses, so only the root task holds the
// debug capability at boot (test and benchmark roots end their runs with it) and passes it on
// only on purpose; a PD prints only through a console capability its creator chose to give.
// Console text is written with control characters other than newline, tab, carriage return
// and backspace shown as \xNN, so no program can move the cursor, clear the screen or forge
// what looks like the start of a kernel report in the middle of someone else's line.
#include "arch/mmu.hpp"
#include "core/console.hpp"
#include "core/panic.hpp"
#include "object/vspace.hpp"
#include "object/vspace_walk.hpp"
#include "pagetable/descriptor.hpp"
#include "syscall/invocation.hpp"

namespace tessera {
namespace {

using abi::InvocationLabel;

// The kernel's walk of the caller's own tables and the MMU's (AT S1E0R); ~0 where either faults.
void translate(const Invocation& inv, uint64_t va) {
    const Capability& vs = inv.caller().vspace_root.cap();
    uint64_t walked = ~uint64_t{0};
    // Only a VSpace with a live ASID: its tables are the ones the MMU walks.
    if (va < abi::kUserAddressLimit && vs.type() == CapType::kVSpace && vs.vspace_asid() != 0 &&
        asid_lookup(vs.vspace_asid()) == vs.object()) {
        for (unsigned level = 1; level <= 3 && walked == ~uint64_t{0}; ++level) {
            VSpaceEntry at = vspace_entry(vs.object(), va, level);
            if (at.entry != nullptr && aarch64::Descriptor(*at.entry).is_leaf(level)) {
                aarch64::Descriptor d(*at.entry);
                walked = d.output_address(level).value() + (va & (aarch64::level_size(level) - 1));
            }
        }
    }
    auto hardware = arch::hardware_translate_user_read(VirtAddr(va));
    inv.set_reply(0, walked);
    inv.set_reply(1, hardware ? hardware->value() : ~uint64_t{0});
}

bool shown_as_is(char c) {
    return (c >= 0x20 && c < 0x7f) || c == '\n' || c == '\t' || c == '\r' || c == '\b';
}

// Writes count characters, shown safely, in one piece (no other output comes between).
void write_escaped(const char* text, uint64_t count) {
    static constexpr char kHex[] = "0123456789abcdef";
    char out[abi::kConsoleWriteMax * 4];
    uint64_t n = 0;
    for (uint64_t i = 0; i < count; ++i) {
        char c = text[i];
        if (shown_as_is(c)) {
            out[n++] = c;
            continue;
        }
        auto byte = static_cast<uint8_t>(c);
        out[n++] = '\\';
        out[n++] = 'x';
        out[n++] = kHex[byte >> 4];
        out[n++] = kHex[byte & 0xf];
    }
    console::write(out, n);
}

}  // namespace

SysResult<void> invoke_debug(const Invocation& inv) {
    switch (static_cast<InvocationLabel>(inv.label())) {
        case InvocationLabel::kDebugHalt: {
            TRY(inv.require(1, 0));
            uint64_t status = TRY(inv.arg(0));
            kprintln("thread \"{}\" halted the system with status {}", inv.caller().name, status);
            system_halt(static_cast<int>(status & 0xff));
        }
        case InvocationLabel::kDebugTranslate:
            TRY(inv.require(1, 0));
            translate(inv, TRY(inv.arg(0)));
            return {};
        default:
            return fail(SyscallError::of(abi::Error::kIllegalOperation));
    }
}

SysResult<void> invoke_console(const Invocation& inv) {
    if (static_cast<InvocationLabel>(inv.label()) != InvocationLabel::kConsoleWrite) {
        return fail(SyscallError::of(abi::Error::kIllegalOperation));
    }
    TRY(inv.require(1, 0));
    uint64_t count = TRY(inv.arg(0));
    uint64_t room = uint64_t{8} * (inv.length() - 1);
    if (count > abi::kConsoleWriteMax || count > room) {
        return fail(
            SyscallError::range(0, room < abi::kConsoleWriteMax ? room : abi::kConsoleWriteMax));
    }
    char text[abi::kConsoleWriteMax];
    for (uint64_t i = 0; i < count; ++i) {
        uint64_t word = TRY(inv.arg(static_cast<unsigned>(1 + i / 8)));
        text[i] = static_cast<char>(word >> (8 * (i % 8)));
    }
    write_escaped(text, count);
    inv.set_reply(0, count);
    return {};
}

}  // namespace tessera
