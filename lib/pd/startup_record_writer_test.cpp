// Host tests for the startup record writer: the record as the PD will see it at its address,
// with argv / envp pointers resolved against that address, and the limits refused whole.
#include "pd/startup_record_writer.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace tessera::pd {
namespace {

constexpr uint64_t kAt = 0x3fffe000;

// Reads the C string the PD would see at user address `address`.
std::string string_at(const uint8_t* page, uint64_t address) {
    EXPECT_GE(address, kAt);
    EXPECT_LT(address, kAt + kStartupPageSize);
    return std::string(reinterpret_cast<const char*>(page + (address - kAt)));
}

uint64_t word_at(const uint8_t* page, uint64_t address) {
    uint64_t w = 0;
    std::memcpy(&w, page + (address - kAt), sizeof(w));
    return w;
}

TEST(StartupRecordWriter, ArgumentsAndEnvironmentResolveAtTheUserAddress) {
    alignas(8) uint8_t page[kStartupPageSize];
    std::memset(page, 0xcc, sizeof(page));
    StartupRecordWriter w(page, kAt);
    const StringView args[] = {"hello", "", "third argument"};
    const StringView env[] = {"TERM=vt100"};
    ASSERT_TRUE(w.set_strings(args, env));
    const abi::StartupRecord& r = w.record();
    EXPECT_EQ(r.magic, abi::kStartupMagic);
    EXPECT_EQ(r.version, abi::kStartupVersion);
    ASSERT_EQ(r.argc, 3u);
    EXPECT_EQ(string_at(page, word_at(page, r.argv)), "hello");
    EXPECT_EQ(string_at(page, word_at(page, r.argv + 8)), "");
    EXPECT_EQ(string_at(page, word_at(page, r.argv + 16)), "third argument");
    EXPECT_EQ(word_at(page, r.argv + 24), 0u);
    ASSERT_EQ(r.envc, 1u);
    EXPECT_EQ(string_at(page, word_at(page, r.envp)), "TERM=vt100");
    EXPECT_EQ(word_at(page, r.envp + 8), 0u);
    EXPECT_EQ(r.size, sizeof(abi::StartupRecord) + startup_strings_size(args, env));
    EXPECT_EQ(r.argv % 8, 0u);
    EXPECT_EQ(r.cap_count, 0u);  // the rest of the record is zeroed
}

TEST(StartupRecordWriter, DirectoryEntries) {
    alignas(8) uint8_t page[kStartupPageSize];
    StartupRecordWriter w(page, kAt);
    EXPECT_TRUE(w.add_cap("parent", 1, 1, 2, 0x100));
    EXPECT_TRUE(w.add_region("heap", 0x500000, 0x10000, abi::RegionKind::kHeap, 3));
    EXPECT_FALSE(w.add_cap("a-name-of-twenty-four-ch", 9, 1, 2, 0));
    EXPECT_TRUE(w.add_cap("a-name-of-twenty-three", 9, 1, 2, 0));
    const abi::StartupRecord& r = w.record();
    ASSERT_EQ(r.cap_count, 2u);
    EXPECT_STREQ(r.caps[0].name, "parent");
    EXPECT_EQ(r.caps[0].badge, 0x100u);
    EXPECT_STREQ(r.caps[1].name, "a-name-of-twenty-three");
    ASSERT_EQ(r.region_count, 1u);
    EXPECT_EQ(r.regions[0].address, 0x500000u);
    EXPECT_EQ(r.regions[0].kind, static_cast<uint32_t>(abi::RegionKind::kHeap));
    for (unsigned i = 2; i < abi::kStartupMaxCaps; ++i) {
        EXPECT_TRUE(w.add_cap("c", 10 + i, 1, 2, 0));
    }
    EXPECT_FALSE(w.add_cap("full", 99, 1, 2, 0));
}

TEST(StartupRecordWriter, TooMuchTextIsRefusedWhole) {
    alignas(8) uint8_t page[kStartupPageSize];
    StartupRecordWriter w(page, kAt);
    // Room for the two arrays (argv[0], its end, envp's end) and the string with its NUL.
    std::string big(kStartupPageSize - sizeof(abi::StartupRecord) - 24 - 1, 'x');
    const StringView fits[] = {StringView(big.data(), big.size())};
    EXPECT_TRUE(startup_strings_fit(fits, {}));
    std::string bigger(big.size() + 1, 'x');
    const StringView too_big[] = {StringView(bigger.data(), bigger.size())};
    EXPECT_FALSE(startup_strings_fit(too_big, {}));
    EXPECT_FALSE(w.set_strings(too_big, {}));
    EXPECT_EQ(w.record().argc, 0u);
    std::vector<StringView> many(600, StringView(""));
    EXPECT_FALSE(startup_strings_fit(many, {}));
}

}  // namespace
}  // namespace tessera::pd
