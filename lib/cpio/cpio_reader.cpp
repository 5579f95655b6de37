// newc CPIO decoding: one validating walk in parse(), then re-decoding of validated entries.
// Invariant: every read is inside the archive, and each decoded entry moves at least 112 bytes on.
#include "cpio/cpio_reader.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace tessera::cpio {
namespace {

constexpr size_t kMagicSize = 6;
constexpr size_t kFieldSize = 8;
constexpr size_t kFieldCount = 13;
// Field indices after the magic, in header order.
constexpr size_t kFieldMode = 1;
constexpr size_t kFieldFileSize = 6;
constexpr size_t kFieldNameSize = 11;
constexpr size_t kFieldCheck = 12;
static_assert(kMagicSize + kFieldCount * kFieldSize == kHeaderSize);

constexpr size_t align4(size_t value) {
    return (value + 3) & ~size_t{3};
}

bool parse_hex_field(const uint8_t* p, uint32_t& out) {
    uint32_t value = 0;
    for (size_t i = 0; i < kFieldSize; ++i) {
        const uint8_t c = p[i];
        uint32_t digit = 0;
        if (c >= '0' && c <= '9') {
            digit = c - '0';
        } else if (c >= 'a' && c <= 'f') {
            digit = c - 'a' + 10;
        } else if (c >= 'A' && c <= 'F') {
            digit = c - 'A' + 10;
        } else {
            return false;
        }
        value = (value << 4) | digit;  // 8 digits are exactly 32 bits
    }
    out = value;
    return true;
}

struct Decoded {
    Entry entry;
    size_t next = 0;  // offset of the following header (may be past the end)
    bool trailer = false;
};

// Decodes and checks the entry whose header starts at offset (offset < archive.size()).
// verify_checksum is off when re-decoding entries parse() already checked.
Result<Decoded, CpioError> decode(std::span<const uint8_t> archive, size_t offset,
                                  bool verify_checksum) {
    const size_t size = archive.size();
    if (size - offset < kHeaderSize) {
        return fail(CpioError::kTruncatedHeader);
    }
    const uint8_t* header = archive.data() + offset;
    static constexpr char kMagicPrefix[] = "07070";
    for (size_t i = 0; i < kMagicSize - 1; ++i) {
        if (header[i] != static_cast<uint8_t>(kMagicPrefix[i])) {
            return fail(CpioError::kBadMagic);
        }
    }
    const uint8_t variant = header[kMagicSize - 1];
    if (variant != '1' && variant != '2') {
        return fail(CpioError::kBadMagic);
    }
    uint32_t fields[kFieldCount] = {};
    for (size_t i = 0; i < kFieldCount; ++i) {
        if (!parse_hex_field(header + kMagicSize + i * kFieldSize, fields[i])) {
            return fail(CpioError::kBadHexDigit);
        }
    }

    // namesize counts the NUL. All offsets below stay within size + 3, so nothing overflows.
    const size_t name_size = fields[kFieldNameSize];
    const size_t name_begin = offset + kHeaderSize;
    if (name_size == 0) {
        return fail(CpioError::kUnterminatedName);
    }
    if (name_size > size - name_begin) {
        return fail(CpioError::kNameOutOfBounds);
    }
    const auto* name = reinterpret_cast<const char*>(archive.data() + name_begin);
    for (size_t i = 0; i + 1 < name_size; ++i) {
        if (name[i] == '\0') {
            return fail(CpioError::kUnterminatedName);
        }
    }
    if (name[name_size - 1] != '\0') {
        return fail(CpioError::kUnterminatedName);
    }

    const size_t file_size = fields[kFieldFileSize];
    size_t data_begin = align4(name_begin + name_size);
    if (file_size != 0 && (data_begin > size || file_size > size - data_begin)) {
        return fail(CpioError::kDataOutOfBounds);
    }
    if (data_begin > size) {
        data_begin = size;  // empty data whose padding is cut off by the end of the archive
    }
    Decoded out;
    out.entry.name = StringView(name, name_size - 1);
    out.entry.mode = fields[kFieldMode];
    out.entry.data = archive.subspan(data_begin, file_size);
    out.next = align4(data_begin + file_size);
    out.trailer = out.entry.name == kTrailerName;

    if (verify_checksum && variant == '2') {
        uint32_t sum = 0;
        for (uint8_t byte : out.entry.data) {
            sum += byte;
        }
        if (sum != fields[kFieldCheck]) {
            return fail(CpioError::kBadChecksum);
        }
    }
    return out;
}

}  // namespace

const char* to_string(CpioError error) {
    switch (error) {
        case CpioError::kTruncatedHeader:
            return "truncated entry header";
        case CpioError::kBadMagic:
            return "bad magic (not a newc cpio archive)";
        case CpioError::kBadHexDigit:
            return "non-hexadecimal digit in a header field";
        case CpioError::kNameOutOfBounds:
            return "entry name runs past the end of the archive";
        case CpioError::kUnterminatedName:
            return "entry name not NUL-terminated";
        case CpioError::kDataOutOfBounds:
            return "entry data runs past the end of the archive";
        case CpioError::kBadChecksum:
            return "entry data checksum mismatch";
        case CpioError::kMissingTrailer:
            return "missing TRAILER!!! entry";
    }
    return "unknown error";
}

StringView normalized_name(StringView name) {
    while (name.starts_with("./")) {
        name = name.substr(2);
    }
    return name;
}

Result<Archive, CpioError> Archive::parse(std::span<const uint8_t> archive) {
    size_t offset = 0;
    size_t count = 0;
    for (;;) {
        // An archive that stops cleanly between entries has simply lost its trailer.
        if (offset >= archive.size()) {
            return fail(CpioError::kMissingTrailer);
        }
        const Decoded d = TRY(decode(archive, offset, true));
        if (d.trailer) {
            Archive out;
            out.archive_ = archive;
            out.count_ = count;
            out.used_size_ = d.next < archive.size() ? d.next : archive.size();
            return out;
        }
        ++count;
        offset = d.next;
    }
}

size_t Archive::entry_at(size_t offset, Entry& out) const {
    auto decoded = decode(archive_, offset, false);
    TESSERA_ASSERT(decoded.ok());  // parse() validated every entry before the trailer
    out = decoded.value().entry;
    return decoded.value().next;
}

std::optional<Entry> Archive::find(StringView name) const {
    const StringView wanted = normalized_name(name);
    std::optional<Entry> found;
    size_t offset = 0;
    for (size_t i = 0; i < count_ && !found.has_value(); ++i) {
        Entry entry;
        offset = entry_at(offset, entry);
        if (normalized_name(entry.name) == wanted) {
            found = entry;
        }
    }
    return found;
}

}  // namespace tessera::cpio
