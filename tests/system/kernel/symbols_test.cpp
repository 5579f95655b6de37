// Self-tests of the embedded symbol table and frame-pointer backtraces that panics rely on.
#include "core/symbols.hpp"
#include "arch/backtrace.hpp"
#include "arch/cpu.hpp"
#include "selftest.hpp"

namespace tessera {
namespace {

bool contains(const char* haystack, StringView needle) {
    StringView h(haystack);
    for (size_t i = 0; i + needle.size() <= h.size(); ++i) {
        if (h.substr(i, needle.size()) == needle) {
            return true;
        }
    }
    return false;
}

constexpr unsigned kMaxFrames = 8;
uint64_t g_frames[kMaxFrames];
unsigned g_frame_count = 0;

[[gnu::noinline]] void backtrace_leaf() {
    g_frame_count = 0;
    arch::walk_frames(arch::current_frame_pointer(), [](uint64_t pc) {
        if (g_frame_count < kMaxFrames) {
            g_frames[g_frame_count++] = pc;
        }
    });
    asm volatile("" ::: "memory");
}

[[gnu::noinline]] void backtrace_middle() {
    backtrace_leaf();
    asm volatile("" ::: "memory");
}

[[gnu::noinline]] void backtrace_outer() {
    backtrace_middle();
    asm volatile("" ::: "memory");
}

}  // namespace

SELFTEST(symbols, table_is_populated) {
    CHECK(symbol_count() > 50);
}

SELFTEST(symbols, lookup_names_function) {
    auto address = reinterpret_cast<uint64_t>(&backtrace_middle);
    Symbol s = lookup_symbol(address);
    CHECK(s.name != nullptr);
    CHECK(contains(s.name, "backtrace_middle"));
    CHECK_EQ(s.offset, uint64_t{0});
    Symbol inside = lookup_symbol(address + 4);
    CHECK(inside.name == s.name && inside.offset == 4);
    CHECK(lookup_symbol(0x1000).name == nullptr);
}

SELFTEST(symbols, backtrace_names_callers) {
    backtrace_outer();
    CHECK(g_frame_count >= 3);
    // Frame 0 is the return into backtrace_middle, then backtrace_outer, then this test.
    Symbol first = lookup_symbol(g_frames[0]);
    Symbol second = lookup_symbol(g_frames[1]);
    CHECK(first.name != nullptr && contains(first.name, "backtrace_middle"));
    CHECK(second.name != nullptr && contains(second.name, "backtrace_outer"));
}

}  // namespace tessera
