// Host tests for the newc CPIO reader: builder-made archives for every error and alignment case,
// and archives Debian's cpio wrote at build time. Invariant: each error has a test producing it.
#include "cpio/cpio_reader.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <vector>

namespace tessera::cpio {

// gtest printer (found by argument-dependent lookup).
void PrintTo(CpioError error, std::ostream* os) {
    *os << to_string(error);
}

namespace {

constexpr size_t kFieldMode = 1;
constexpr size_t kFieldFileSize = 6;
constexpr size_t kFieldNameSize = 11;
constexpr size_t kFieldCheck = 12;
constexpr size_t kFieldCount = 13;

std::string str(StringView s) {
    return std::string(s.data(), s.size());
}

std::string str(std::span<const uint8_t> bytes) {
    return std::string(bytes.begin(), bytes.end());
}

// Writes newc entries. Field overrides and raw bytes let tests build any malformation.
class CpioBuilder {
  public:
    struct Options {
        std::string magic = "070701";
        uint32_t mode = 0100644;
        std::optional<uint32_t> name_size;  // default: name length + 1
        std::optional<uint32_t> file_size;  // default: data length
        std::optional<uint32_t> check;      // default: byte sum for 070702, 0 otherwise
        bool terminate_name = true;
        bool pad = true;
        int bad_field = -1;  // index of a field whose first digit becomes 'g'
        bool lowercase = false;
    };

    CpioBuilder& add(const std::string& name, const std::string& data, const Options& o) {
        uint32_t sum = 0;
        for (char c : data) {
            sum += static_cast<uint8_t>(c);
        }
        uint32_t fields[kFieldCount] = {
            ++inode_, 0, 0, 0, 1, 0x65000000, 0, 0, 0, 0, 0, 0, 0,
        };
        fields[kFieldMode] = o.mode;
        fields[kFieldFileSize] = o.file_size.value_or(static_cast<uint32_t>(data.size()));
        fields[kFieldNameSize] = o.name_size.value_or(static_cast<uint32_t>(name.size() + 1));
        fields[kFieldCheck] = o.check.value_or(o.magic == "070702" ? sum : 0);
        std::string header = o.magic;
        for (size_t i = 0; i < kFieldCount; ++i) {
            char hex[9];
            std::snprintf(hex, sizeof(hex), o.lowercase ? "%08x" : "%08X", fields[i]);
            if (static_cast<int>(i) == o.bad_field) {
                hex[0] = 'g';
            }
            header += hex;
        }
        out_ += header + name;
        if (o.terminate_name) {
            out_ += '\0';
        }
        if (o.pad) {
            pad();
        }
        out_ += data;
        if (o.pad) {
            pad();
        }
        return *this;
    }
    CpioBuilder& add(const std::string& name, const std::string& data) {
        return add(name, data, Options{});
    }
    CpioBuilder& dir(const std::string& name) {
        Options o;
        o.mode = 040755;
        return add(name, "", o);
    }
    CpioBuilder& trailer() { return add("TRAILER!!!", ""); }
    CpioBuilder& raw(const std::string& bytes) {
        out_ += bytes;
        return *this;
    }
    // cpio pads the archive to 512-byte blocks after the trailer.
    CpioBuilder& block_pad() {
        out_.resize((out_.size() + 511) / 512 * 512, '\0');
        return *this;
    }

    [[nodiscard]] std::vector<uint8_t> build() const {
        return std::vector<uint8_t>(out_.begin(), out_.end());
    }

  private:
    void pad() {
        while (out_.size() % 4 != 0) {
            out_ += '\0';
        }
    }

    std::string out_;
    uint32_t inode_ = 0;
};

CpioBuilder::Options with_magic(const std::string& magic) {
    CpioBuilder::Options o;
    o.magic = magic;
    return o;
}

CpioBuilder sample_builder() {
    CpioBuilder b;
    b.dir(".").add("./init",
                   "\x7f"
                   "ELF init image");
    b.dir("./etc").add("./etc/motd", "hello\n").add("./empty", "");
    b.add("plain", "no dot slash");
    return b;
}

// Parses an exact-size copy (so ASan sees reads past the end); the error, or nullopt.
std::optional<CpioError> parse_error(const std::vector<uint8_t>& archive) {
    const std::vector<uint8_t> exact(archive.begin(), archive.end());
    auto result = Archive::parse(exact);
    if (result.ok()) {
        return std::nullopt;
    }
    return result.error();
}

struct Listed {
    std::string name;
    uint32_t mode;
    std::string data;
};

std::vector<Listed> list(const Archive& archive) {
    std::vector<Listed> out;
    archive.for_each_entry([&](const Entry& e) {
        out.push_back(Listed{str(e.name), e.mode, str(e.data)});
    });
    return out;
}

#define ASSERT_PARSES(archive, bytes)                                                              \
    auto archive##_result = Archive::parse(bytes);                                                 \
    ASSERT_TRUE(archive##_result.ok()) << "parse failed: " << to_string(archive##_result.error()); \
    const Archive& archive = archive##_result.value()

// ---------------------------------------------------------------------------------------------
// Valid archives

TEST(CpioReader, ListsEntriesInOrder) {
    const auto bytes = sample_builder().trailer().block_pad().build();
    ASSERT_PARSES(archive, bytes);
    EXPECT_EQ(archive.entry_count(), 6u);
    const auto entries = list(archive);
    ASSERT_EQ(entries.size(), 6u);
    EXPECT_EQ(entries[0].name, ".");
    EXPECT_EQ(entries[0].mode, 040755u);
    EXPECT_EQ(entries[1].name, "./init");
    EXPECT_EQ(entries[1].data,
              "\x7f"
              "ELF init image");
    EXPECT_EQ(entries[1].mode, 0100644u);
    EXPECT_EQ(entries[3].name, "./etc/motd");
    EXPECT_EQ(entries[3].data, "hello\n");
    EXPECT_EQ(entries[4].name, "./empty");
    EXPECT_EQ(entries[4].data, "");
    EXPECT_EQ(entries[5].name, "plain");
    for (const Listed& e : entries) {
        EXPECT_NE(e.name, "TRAILER!!!");
    }
}

TEST(CpioReader, EntryTypes) {
    const auto bytes = sample_builder().trailer().build();
    ASSERT_PARSES(archive, bytes);
    auto dir = archive.find("etc");
    ASSERT_TRUE(dir.has_value());
    EXPECT_TRUE(dir->is_directory());
    EXPECT_FALSE(dir->is_regular_file());
    auto file = archive.find("etc/motd");
    ASSERT_TRUE(file.has_value());
    EXPECT_TRUE(file->is_regular_file());
    EXPECT_FALSE(file->is_directory());
}

TEST(CpioReader, FindsWithOrWithoutDotSlash) {
    const auto bytes = sample_builder().trailer().build();
    ASSERT_PARSES(archive, bytes);
    for (const char* name : {"init", "./init", "././init"}) {
        auto entry = archive.find(name);
        ASSERT_TRUE(entry.has_value()) << name;
        EXPECT_EQ(str(entry->name), "./init");
        EXPECT_EQ(str(entry->data),
                  "\x7f"
                  "ELF init image");
    }
    for (const char* name : {"plain", "./plain"}) {
        auto entry = archive.find(name);
        ASSERT_TRUE(entry.has_value()) << name;
        EXPECT_EQ(str(entry->data), "no dot slash");
    }
    EXPECT_TRUE(archive.find(".").has_value());
    EXPECT_TRUE(archive.find("empty").has_value());
    EXPECT_TRUE(archive.find("empty")->data.empty());
    for (const char* name : {"missing", "init2", "ini", "/init", "etc/", "TRAILER!!!", ""}) {
        EXPECT_FALSE(archive.find(name).has_value()) << name;
    }
}

TEST(CpioReader, FindReturnsTheFirstOfDuplicates) {
    const auto bytes = CpioBuilder().add("./a", "first").add("a", "second").trailer().build();
    ASSERT_PARSES(archive, bytes);
    EXPECT_EQ(str(archive.find("a")->data), "first");
}

TEST(CpioReader, NormalizedName) {
    EXPECT_EQ(str(normalized_name("./a/b")), "a/b");
    EXPECT_EQ(str(normalized_name("a/./b")), "a/./b");
    EXPECT_EQ(str(normalized_name("./")), "");
    EXPECT_EQ(str(normalized_name(".")), ".");
    EXPECT_EQ(str(normalized_name("../a")), "../a");
}

TEST(CpioReader, EmptyArchiveWithTrailerOnly) {
    const auto bytes = CpioBuilder().trailer().build();
    ASSERT_PARSES(archive, bytes);
    EXPECT_EQ(archive.entry_count(), 0u);
    EXPECT_EQ(archive.used_size(), bytes.size());
    EXPECT_TRUE(list(archive).empty());
    EXPECT_FALSE(archive.find("x").has_value());
}

TEST(CpioReader, IgnoresBytesAfterTrailer) {
    const auto bytes = sample_builder().trailer().raw("garbage that is not a header").build();
    ASSERT_PARSES(archive, bytes);
    EXPECT_EQ(archive.entry_count(), 6u);
    EXPECT_LT(archive.used_size(), bytes.size());
}

TEST(CpioReader, TrailerMayEndWithoutPadding) {
    // A trailer whose padding is cut off by the end of the archive.
    CpioBuilder::Options unpadded;
    unpadded.pad = false;
    const auto bytes = CpioBuilder().add("a", "x").add("TRAILER!!!", "", unpadded).build();
    EXPECT_EQ(bytes.size() % 4, 1u);
    ASSERT_PARSES(archive, bytes);
    EXPECT_EQ(archive.entry_count(), 1u);
    EXPECT_EQ(archive.used_size(), bytes.size());
}

TEST(CpioReader, PadsHeaderNameAndDataToFourBytes) {
    // Every combination of name and data length modulo 4.
    CpioBuilder b;
    std::vector<std::pair<std::string, std::string>> expected;
    for (size_t name_length = 1; name_length <= 8; ++name_length) {
        for (size_t data_length = 0; data_length <= 8; ++data_length) {
            std::string name(name_length, static_cast<char>('a' + data_length));
            name[0] = static_cast<char>('A' + name_length);
            std::string data(data_length, static_cast<char>('0' + name_length));
            b.add(name, data);
            expected.emplace_back(name, data);
        }
    }
    const auto bytes = b.trailer().build();
    ASSERT_PARSES(archive, bytes);
    const auto entries = list(archive);
    ASSERT_EQ(entries.size(), expected.size());
    for (size_t i = 0; i < entries.size(); ++i) {
        EXPECT_EQ(entries[i].name, expected[i].first);
        EXPECT_EQ(entries[i].data, expected[i].second);
    }
}

TEST(CpioReader, AcceptsLowercaseHex) {
    CpioBuilder::Options o;
    o.lowercase = true;
    o.mode = 0100755;
    const auto bytes = CpioBuilder().add("lower", "abc", o).trailer().build();
    ASSERT_PARSES(archive, bytes);
    EXPECT_EQ(archive.find("lower")->mode, 0100755u);
}

TEST(CpioReader, AcceptsChecksummedVariant) {
    CpioBuilder b;
    b.add("./crc", "checksummed data \xff\xfe", with_magic("070702"));
    b.add("./empty", "", with_magic("070702"));
    b.add("TRAILER!!!", "", with_magic("070702"));
    const auto bytes = b.build();
    ASSERT_PARSES(archive, bytes);
    EXPECT_EQ(str(archive.find("crc")->data), "checksummed data \xff\xfe");
}

TEST(CpioReader, DataSpansPointIntoTheArchive) {
    const auto bytes = sample_builder().trailer().build();
    ASSERT_PARSES(archive, bytes);
    archive.for_each_entry([&](const Entry& e) {
        EXPECT_GE(e.data.data(), bytes.data());
        EXPECT_LE(e.data.data() + e.data.size(), bytes.data() + bytes.size());
        EXPECT_EQ((e.data.data() - bytes.data()) % 4, 0);
        EXPECT_GE(e.name.data(), reinterpret_cast<const char*>(bytes.data()));
    });
}

// ---------------------------------------------------------------------------------------------
// Errors

TEST(CpioReader, MissingTrailer) {
    EXPECT_EQ(parse_error({}), CpioError::kMissingTrailer);
    EXPECT_EQ(parse_error(sample_builder().build()), CpioError::kMissingTrailer);
    // Data padding cut off at the very end: still just no trailer.
    CpioBuilder::Options unpadded;
    unpadded.pad = false;
    EXPECT_EQ(parse_error(CpioBuilder().add("a", "x", unpadded).build()),
              CpioError::kMissingTrailer);
    // A trailer must be named exactly.
    EXPECT_EQ(parse_error(CpioBuilder().add("TRAILER!!", "").build()), CpioError::kMissingTrailer);
    EXPECT_EQ(parse_error(CpioBuilder().add("./TRAILER!!!", "").build()),
              CpioError::kMissingTrailer);
}

TEST(CpioReader, TruncatedHeader) {
    const auto full = sample_builder().trailer().build();
    const auto first = CpioBuilder().dir(".").build();  // the sample's first entry alone
    for (size_t cut : {size_t{1}, size_t{6}, size_t{50}, kHeaderSize - 1}) {
        EXPECT_EQ(parse_error(std::vector<uint8_t>(full.begin(), full.begin() + cut)),
                  CpioError::kTruncatedHeader)
            << cut;
        EXPECT_EQ(
            parse_error(std::vector<uint8_t>(full.begin(), full.begin() + first.size() + cut)),
            CpioError::kTruncatedHeader)
            << cut;
    }
}

TEST(CpioReader, BadMagic) {
    for (const char* magic : {"070707", "070700", "070703", "170701", "07070 ", "\0\0\0\0\0\0"}) {
        EXPECT_EQ(
            parse_error(
                CpioBuilder().add("a", "x", with_magic(std::string(magic, 6))).trailer().build()),
            CpioError::kBadMagic)
            << magic;
    }
    // An unpadded entry puts the next header off its 4-byte boundary.
    CpioBuilder::Options unpadded;
    unpadded.pad = false;
    EXPECT_EQ(parse_error(CpioBuilder().add("ab", "x", unpadded).trailer().build()),
              CpioError::kBadMagic);
}

TEST(CpioReader, BadHexDigit) {
    for (int field = 0; field < static_cast<int>(kFieldCount); ++field) {
        CpioBuilder::Options o;
        o.bad_field = field;
        EXPECT_EQ(parse_error(CpioBuilder().add("a", "x", o).trailer().build()),
                  CpioError::kBadHexDigit)
            << field;
    }
    // "0x" prefixes, spaces and signs are not hex digits either.
    auto bytes = CpioBuilder().add("a", "x").trailer().build();
    for (const char* junk : {"0x000001", " 0000001", "-0000001", "+0000001"}) {
        auto copy = bytes;
        std::copy(junk, junk + 8, copy.begin() + 6);  // the inode field
        EXPECT_EQ(parse_error(copy), CpioError::kBadHexDigit) << junk;
    }
}

TEST(CpioReader, NameOutOfBounds) {
    CpioBuilder::Options o;
    o.name_size = 0x1000;
    EXPECT_EQ(parse_error(CpioBuilder().add("a", "x", o).build()), CpioError::kNameOutOfBounds);
    o.name_size = 0xffffffff;
    EXPECT_EQ(parse_error(CpioBuilder().add("a", "x", o).build()), CpioError::kNameOutOfBounds);
    // The name's NUL would be the byte just past the end.
    CpioBuilder::Options unterminated;
    unterminated.terminate_name = false;
    unterminated.pad = false;
    unterminated.name_size = 4;
    EXPECT_EQ(parse_error(CpioBuilder().add("abc", "", unterminated).build()),
              CpioError::kNameOutOfBounds);
}

TEST(CpioReader, UnterminatedName) {
    CpioBuilder::Options zero;
    zero.name_size = 0;
    EXPECT_EQ(parse_error(CpioBuilder().add("", "", zero).trailer().build()),
              CpioError::kUnterminatedName);
    CpioBuilder::Options short_size;  // namesize stops before the NUL
    short_size.name_size = 2;
    EXPECT_EQ(parse_error(CpioBuilder().add("abc", "", short_size).trailer().build()),
              CpioError::kUnterminatedName);
    CpioBuilder::Options no_nul;  // 110 + 6 bytes needs no padding, so data follows the name
    no_nul.terminate_name = false;
    EXPECT_EQ(parse_error(CpioBuilder().add("abcdef", "xyz", no_nul).trailer().build()),
              CpioError::kUnterminatedName);
    // An embedded NUL would make the C string and the stored name disagree.
    EXPECT_EQ(parse_error(CpioBuilder().add(std::string("ab\0cd", 5), "").trailer().build()),
              CpioError::kUnterminatedName);
}

TEST(CpioReader, DataOutOfBounds) {
    CpioBuilder::Options big;
    big.file_size = 0x10000;
    EXPECT_EQ(parse_error(CpioBuilder().add("a", "xyz", big).build()), CpioError::kDataOutOfBounds);
    big.file_size = 0xffffffff;
    EXPECT_EQ(parse_error(CpioBuilder().add("a", "xyz", big).build()), CpioError::kDataOutOfBounds);
    // Data cut one byte short at the end of the archive.
    const auto full = CpioBuilder().add("abc", "12345678").build();
    EXPECT_EQ(parse_error(std::vector<uint8_t>(full.begin(), full.end() - 1)),
              CpioError::kDataOutOfBounds);
    // Data whose start (after name padding) is already past the end.
    CpioBuilder::Options unpadded;
    unpadded.pad = false;
    unpadded.file_size = 1;
    EXPECT_EQ(parse_error(CpioBuilder().add("ab", "", unpadded).build()),
              CpioError::kDataOutOfBounds);
}

TEST(CpioReader, BadChecksum) {
    CpioBuilder::Options o = with_magic("070702");
    o.check = 1;
    EXPECT_EQ(parse_error(CpioBuilder().add("a", "x", o).trailer().build()),
              CpioError::kBadChecksum);
    // 070701 does not use the field.
    CpioBuilder::Options newc;
    newc.check = 1;
    EXPECT_EQ(parse_error(CpioBuilder().add("a", "x", newc).trailer().build()), std::nullopt);
}

TEST(CpioReader, ErrorMessagesAreDistinct) {
    std::set<std::string> messages;
    const auto last = static_cast<uint8_t>(CpioError::kMissingTrailer);
    for (uint8_t e = 0; e <= last; ++e) {
        const char* message = to_string(static_cast<CpioError>(e));
        ASSERT_NE(message, nullptr);
        EXPECT_STRNE(message, "unknown error");
        messages.insert(message);
    }
    EXPECT_EQ(messages.size(), size_t{last} + 1);
}

// ---------------------------------------------------------------------------------------------
// Archives written by Debian's cpio at build time from a staging directory

std::vector<uint8_t> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(in),
                                std::istreambuf_iterator<char>());
}

// Each staged file is in the archive under its path, with the same bytes, and can be found with
// or without "./" (GNU cpio 2.13 strips a leading "./" when writing; older versions keep it).
void check_real_archive(const char* file, bool has_root_entry) {
    const auto bytes = read_file(std::string(TESSERA_TEST_CPIO_DIR) + "/" + file);
    ASSERT_FALSE(bytes.empty()) << "missing fixture " << file;
    EXPECT_EQ(bytes.size() % 512, 0u);
    ASSERT_PARSES(archive, bytes);
    const std::string stage = TESSERA_TEST_CPIO_STAGE;
    std::multiset<std::string> names;
    archive.for_each_entry([&](const Entry& e) {
        const std::string name = str(normalized_name(e.name));
        names.insert(name);
        if (e.is_regular_file()) {
            EXPECT_EQ(std::vector<uint8_t>(e.data.begin(), e.data.end()),
                      read_file(stage + "/" + name))
                << name;
        }
    });
    EXPECT_EQ(
        names,
        (has_root_entry ? std::multiset<std::string>{".", "basic.c", "empty", "sub", "sub/tls.elf"}
                        : std::multiset<std::string>{"basic.c", "empty", "sub", "sub/tls.elf"}));
    EXPECT_EQ(archive.find(".").has_value(), has_root_entry);
    for (const char* name : {"basic.c", "./basic.c", "sub/tls.elf", "./sub/tls.elf"}) {
        auto entry = archive.find(name);
        ASSERT_TRUE(entry.has_value()) << name;
        EXPECT_TRUE(entry->is_regular_file());
        EXPECT_FALSE(entry->data.empty());
    }
    auto sub = archive.find("./sub");
    ASSERT_TRUE(sub.has_value());
    EXPECT_TRUE(sub->is_directory());
    ASSERT_TRUE(archive.find("./empty").has_value());
    EXPECT_TRUE(archive.find("empty")->data.empty());
    auto elf = archive.find("sub/tls.elf");
    EXPECT_EQ(str(elf->data.first(4)),
              "\x7f"
              "ELF");
}

TEST(CpioReaderFixtures, NewcFromFind) {
    check_real_archive("find.cpio", true);
}

TEST(CpioReaderFixtures, NewcWithPlainNames) {
    check_real_archive("plain.cpio", false);
}

TEST(CpioReaderFixtures, ChecksummedCrcFormat) {
    check_real_archive("crc.cpio", false);
    const auto bytes = read_file(std::string(TESSERA_TEST_CPIO_DIR) + "/crc.cpio");
    ASSERT_GE(bytes.size(), 6u);
    EXPECT_EQ(std::string(bytes.begin(), bytes.begin() + 6), "070702");
}

}  // namespace
}  // namespace tessera::cpio
