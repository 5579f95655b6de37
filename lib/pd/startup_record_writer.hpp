// Writing a PD's startup record (abi/startup.hpp) into the page that will be mapped at
// `user_address` in the PD: the fixed part, the directory of capabilities and regions, and the
// argv / envp arrays with their strings after it. Host-tested; the PD builder fills the page
// through its scratch mapping.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "abi/startup.hpp"
#include "base/string_view.hpp"

namespace tessera::pd {

constexpr size_t kStartupPageSize = 4096;

// Bytes argv and envp need after the fixed record (pointer arrays and NUL-terminated strings).
size_t startup_strings_size(std::span<const StringView> arguments,
                            std::span<const StringView> environment);
// True if they fit the page.
bool startup_strings_fit(std::span<const StringView> arguments,
                         std::span<const StringView> environment);

class StartupRecordWriter {
  public:
    // page: kStartupPageSize bytes, 8-byte aligned; zeroed and given the header here.
    StartupRecordWriter(uint8_t* page, uint64_t user_address);

    abi::StartupRecord& record() { return *record_; }

    // False when the directory is full or the name longer than 23 characters.
    bool add_cap(StringView name, uint64_t slot, uint32_t count, uint32_t type, uint64_t badge);
    bool add_region(StringView name, uint64_t address, uint64_t size, abi::RegionKind kind,
                    uint32_t rights);
    // Writes the arrays and strings and sets argc/argv/envc/envp and size; false if they do not
    // fit (nothing is written then).
    bool set_strings(std::span<const StringView> arguments,
                     std::span<const StringView> environment);

  private:
    uint8_t* page_;
    uint64_t user_address_;
    abi::StartupRecord* record_;
};

}  // namespace tessera::pd
