// Named test cases for in-QEMU system tests, shared by the kernel self-tests and user-level
// test programs. Cases register into a linker section (no constructors run); a runner prints
// one "PASS suite.name" / "FAIL suite.name: reason" line each and the final summary.
#pragma once

#include "base/format.hpp"

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

struct TestCase {
    const char* suite;
    const char* name;
    void (*run)(TestContext&);
};

struct TestSummary {
    unsigned passed = 0;
    unsigned failed = 0;
};

// Runs the cases in [begin, end) whose "suite.name" starts with filter, printing to out.
TestSummary run_test_cases(const TestCase* begin, const TestCase* end, StringView filter,
                           FormatSink out);

}  // namespace tessera::test

#define TESSERA_TEST_CASE(section_name, suite, name)                                      \
    static void test_##suite##_##name(::tessera::test::TestContext& t);                   \
    [[gnu::used, gnu::section(#section_name)]] static constexpr ::tessera::test::TestCase \
        test_case_##suite##_##name{#suite, #name, &test_##suite##_##name};                \
    static void test_##suite##_##name([[maybe_unused]] ::tessera::test::TestContext& t)

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
