// A protection domain's view of its startup record (abi/startup.hpp): its arguments and
// environment, its capabilities and regions found by name, and the regions whose frames it
// holds (what it can share with PDs it creates by kind alone).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "abi/startup.hpp"
#include "base/string_view.hpp"
#include "pd/pd_config.hpp"

namespace tessera {

// The record the creator mapped (null in a root task).
const abi::StartupRecord* startup_record();
void set_startup_record(const abi::StartupRecord* record);

// A NUL-padded name of the record (a directory entry's or a region's) as text.
StringView startup_name(const char (&stored)[abi::kStartupNameLength]);

// The directory entry named `name`, or null.
const abi::StartupCap* find_cap(StringView name);
const abi::StartupRegion* find_region(StringView name);
// Value of environment variable `name` (the text after "name="), or null.
const char* find_environment(StringView name);

// A region of the creator's own address space whose frames it holds (pd/pd_config.hpp).
using pd::OwnRegion;

// The regions a PD's startup record lists together with their frames (a directory entry of
// frame capabilities named like the region, one per page: a region given with give_frames).
// Fills out from the front; returns how many there are (even beyond out's size).
size_t own_regions_from_startup(const abi::StartupRecord& record, std::span<OwnRegion> out);

}  // namespace tessera
