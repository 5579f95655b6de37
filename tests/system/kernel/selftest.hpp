// In-kernel self-test framework: SELFTEST(suite, name) registers a case in the "selftests"
// section (no constructors run); the runner prints one PASS/FAIL line per case.
#pragma once

#include "base/format.hpp"
#include "core/console.hpp"

namespace tessera::test {

class TestContext {
  public:
    // Records the first failure (later ones are dropped: the first explains the case).
    template <typename... Args>
    void fail(StringView fmt, const Args&... args) {
        if (failed_) {
            return;
        }
        failed_ = true;
        BufferWriter writer(reason_, sizeof(reason_));
        writer.print(fmt, args...);
    }
    [[nodiscard]] bool failed() const { return failed_; }
    [[nodiscard]] const char* reason() const { return reason_; }

  private:
    bool failed_ = false;
    char reason_[256] = {};
};

struct SelfTestCase {
    const char* suite;
    const char* name;
    void (*run)(TestContext&);
};

}  // namespace tessera::test

#define SELFTEST(suite, name)                                                               \
    static void selftest_##suite##_##name(::tessera::test::TestContext& t);                 \
    [[gnu::used, gnu::section("selftests")]] static constexpr ::tessera::test::SelfTestCase \
        selftest_case_##suite##_##name{#suite, #name, &selftest_##suite##_##name};          \
    static void selftest_##suite##_##name([[maybe_unused]] ::tessera::test::TestContext& t)

// CHECK(cond): fails the case and returns from it when cond is false.
#define CHECK(cond)                                                       \
    do {                                                                  \
        if (!(cond)) {                                                    \
            t.fail("{}:{}: check failed: {}", __FILE__, __LINE__, #cond); \
            return;                                                       \
        }                                                                 \
    } while (0)

// CHECK_EQ(actual, expected): like CHECK, printing both values.
#define CHECK_EQ(actual, expected)                                                             \
    do {                                                                                       \
        auto _a = (actual);                                                                    \
        auto _e = (expected);                                                                  \
        if (!(_a == _e)) {                                                                     \
            t.fail("{}:{}: {} is {:#x}, expected {:#x}", __FILE__, __LINE__, #actual, _a, _e); \
            return;                                                                            \
        }                                                                                      \
    } while (0)
