// A protection domain's view of its startup record (abi/startup.hpp): its arguments and
// environment, and its capabilities and regions found by name.
#pragma once

#include <cstdint>

#include "abi/startup.hpp"
#include "base/string_view.hpp"

namespace tessera {

// The record the creator mapped (null in a root task).
const abi::StartupRecord* startup_record();
void set_startup_record(const abi::StartupRecord* record);

// The directory entry named `name`, or null.
const abi::StartupCap* find_cap(StringView name);
const abi::StartupRegion* find_region(StringView name);
// Value of environment variable `name` (the text after "name="), or null.
const char* find_environment(StringView name);

}  // namespace tessera
