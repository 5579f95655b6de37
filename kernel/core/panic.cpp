// Panic, halt and backtrace printing. Guards against recursion: a fault while panicking goes
// straight to halting instead of looping through the exception path.
#include "core/panic.hpp"

#include "arch/backtrace.hpp"
#include "arch/cpu.hpp"
#include "arch/semihosting.hpp"
#include "core/symbols.hpp"

namespace tessera {
namespace {

bool g_halt_via_semihosting = false;
int g_panic_depth = 0;

}  // namespace

void set_halt_via_semihosting(bool enabled) {
    g_halt_via_semihosting = enabled;
}

void system_halt(int status) {
    arch::disable_interrupts();
    if (g_halt_via_semihosting) {
        arch::semihosting_exit(status);
    }
    arch::halt_forever();
}

void panic_begin() {
    arch::disable_interrupts();
    if (++g_panic_depth > 1) {
        kprintln("\n*** nested panic: halting");
        system_halt(3);
    }
    kprint("\n*** KERNEL PANIC: ");
}

void panic_end(uint64_t frame_pointer, bool first_is_exact) {
    print_backtrace(frame_pointer, first_is_exact);
    kprintln("*** system halted");
    system_halt(3);
}

void print_backtrace(uint64_t frame_pointer, bool first_is_exact) {
    kprintln("Backtrace:");
    unsigned depth = 0;
    arch::walk_frames(frame_pointer, [&](uint64_t pc) {
        // A return address points after its call, which may be past the end of the calling
        // function (calls to noreturn functions): name the function holding the call. An
        // exception's first frame holds the faulting instruction itself.
        bool exact = first_is_exact && depth == 0;
        Symbol s = lookup_symbol(exact ? pc : pc - 1);
        if (s.name != nullptr) {
            kprintln("  #{:<2} {}  {}+{:#x}", depth, reinterpret_cast<const void*>(pc), s.name,
                     pc - s.address);
        } else {
            kprintln("  #{:<2} {}  ?", depth, reinterpret_cast<const void*>(pc));
        }
        ++depth;
    });
    if (depth == 0) {
        kprintln("  (no frames)");
    }
}

}  // namespace tessera

extern "C" void tessera_assert_failed(const char* expr, const char* file, int line) {
    tessera::panic("assertion failed: {} ({}:{})", expr, file, line);
}
