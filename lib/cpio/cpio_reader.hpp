// Reader for the boot archive: SVR4 "newc" CPIO (magic 070701, or 070702 with checksums), as
// written by `cpio -o -H newc`. Archive::parse walks it once; only a valid archive is readable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "base/result.hpp"
#include "base/string_view.hpp"

namespace tessera::cpio {

enum class CpioError : uint8_t {
    kTruncatedHeader,   // fewer than 110 bytes where an entry header must start
    kBadMagic,          // header magic is neither 070701 nor 070702
    kBadHexDigit,       // a header field has a character that is not a hexadecimal digit
    kNameOutOfBounds,   // the name runs past the end of the archive
    kUnterminatedName,  // namesize is 0, or the name is not one NUL-terminated string
    kDataOutOfBounds,   // the file data runs past the end of the archive
    kBadChecksum,       // 070702 entry whose data does not sum to its check field
    kMissingTrailer,    // the archive ends without a "TRAILER!!!" entry
};

// What the error means, one short line. Never null.
const char* to_string(CpioError error);

constexpr size_t kHeaderSize = 110;
constexpr StringView kTrailerName = "TRAILER!!!";

// File type bits of Entry::mode (as in st_mode).
constexpr uint32_t kModeTypeMask = 0170000;
constexpr uint32_t kModeRegular = 0100000;
constexpr uint32_t kModeDirectory = 0040000;

struct Entry {
    StringView name;  // as stored, without the NUL (may start with "./")
    uint32_t mode = 0;
    std::span<const uint8_t> data;

    [[nodiscard]] bool is_regular_file() const { return (mode & kModeTypeMask) == kModeRegular; }
    [[nodiscard]] bool is_directory() const { return (mode & kModeTypeMask) == kModeDirectory; }
};

// name without any leading "./" (so "./init", "init" and "././init" compare equal).
StringView normalized_name(StringView name);

class Archive {
  public:
    // Validates every entry up to and including the trailer; bytes after it (block padding)
    // are ignored. The span must outlive the Archive.
    static Result<Archive, CpioError> parse(std::span<const uint8_t> archive);

    // Entries before the trailer.
    [[nodiscard]] size_t entry_count() const { return count_; }
    // Bytes up to the end of the trailer's padded header and name.
    [[nodiscard]] size_t used_size() const { return used_size_; }

    // Calls f(const Entry&) for each entry before the trailer, in archive order.
    template <typename F>
    void for_each_entry(F&& f) const {
        size_t offset = 0;
        for (size_t i = 0; i < count_; ++i) {
            Entry entry;
            offset = entry_at(offset, entry);
            f(static_cast<const Entry&>(entry));
        }
    }

    // The first entry whose normalized name equals name's ("./a/b" and "a/b" both match either).
    [[nodiscard]] std::optional<Entry> find(StringView name) const;

  private:
    Archive() = default;
    // Decodes the (validated) entry at offset into out; returns the next entry's offset.
    size_t entry_at(size_t offset, Entry& out) const;

    std::span<const uint8_t> archive_;
    size_t count_ = 0;
    size_t used_size_ = 0;
};

}  // namespace tessera::cpio
