// TESSERA_ASSERT: checks an internal invariant. A failure is a bug in Tessera, never a user error.
// Each environment (kernel, user runtime, host) supplies tessera_assert_failed().
#pragma once

extern "C" [[noreturn]] void tessera_assert_failed(const char* expr, const char* file, int line);

#define TESSERA_ASSERT(cond)                                  \
    do {                                                      \
        if (!(cond)) [[unlikely]] {                           \
            tessera_assert_failed(#cond, __FILE__, __LINE__); \
        }                                                     \
    } while (0)
