// Kernel self-tests: SELFTEST(suite, name) registers a case run inside the kernel at EL1 by
// the self-test image (see selftest_runner.cpp).
#pragma once

#include "test_case.hpp"

#define SELFTEST(suite, name) TESSERA_TEST_CASE(selftests, suite, name)
