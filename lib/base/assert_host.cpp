// Host implementation of the assertion hook used by lib/ code in host tools, tests and fuzzers.
// An assertion failure is a bug, so it aborts (which sanitizers and fuzzers report with a stack).
#include <cstdio>
#include <cstdlib>

#include "base/assert.hpp"

extern "C" void tessera_assert_failed(const char* expr, const char* file, int line) {
    std::fprintf(stderr, "%s:%d: assertion failed: %s\n", file, line, expr);
    std::abort();
}
