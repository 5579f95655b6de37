// The loop shared by every system-test runner: filter, run, print one line per case.
#include "test_case.hpp"

namespace tessera::test {
namespace {

bool matches(const TestCase& c, StringView filter) {
    char full[128];
    BufferWriter writer(full, sizeof(full));
    writer.print("{}.{}", c.suite, c.name);
    return writer.view().starts_with(filter);
}

}  // namespace

TestSummary run_test_cases(const TestCase* begin, const TestCase* end, StringView filter,
                           FormatSink out) {
    TestSummary summary;
    for (const TestCase* c = begin; c < end; ++c) {
        if (!matches(*c, filter)) {
            continue;
        }
        TestContext context;
        c->run(context);
        if (context.failed()) {
            format_to(out, "FAIL {}.{}: {}\n", c->suite, c->name, context.reason());
            ++summary.failed;
        } else {
            format_to(out, "PASS {}.{}\n", c->suite, c->name);
            ++summary.passed;
        }
    }
    format_to(out, "{} passed, {} failed\n", summary.passed, summary.failed);
    return summary;
}

}  // namespace tessera::test
