// Host tests for make_load_plan and the page walk, on builder-made and real clang/lld ELFs.
// Invariant: each plan is checked against a byte-by-byte reference load from program headers.
#include "elf/load_plan.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "elf/elf_reader.hpp"
#include "elf/elf_test_builder.hpp"

namespace tessera::elf {

// gtest printer (found by argument-dependent lookup).
void PrintTo(Rights rights, std::ostream* os) {
    *os << to_string(rights);
}

namespace {

using test::ElfBuilder;

constexpr uint32_t kRX = kFlagRead | kFlagExecute;
constexpr uint32_t kRW = kFlagRead | kFlagWrite;
constexpr Rights kR = Rights::kRead;
constexpr Rights kRWRights = Rights::kRead | Rights::kWrite;
constexpr Rights kRXRights = Rights::kRead | Rights::kExecute;

struct MemoryPage {
    Rights rights = Rights::kNone;
    std::vector<uint8_t> bytes = std::vector<uint8_t>(kPageSize, 0);
};
using Memory = std::map<uint64_t, MemoryPage>;

// What a loader does with the plan, checking each page's invariants on the way: pages strictly
// ascending, readable, never W+X, copies sorted, disjoint, inside the page and the file, and
// copies plus zero ranges covering every byte exactly once.
Memory simulate_load(const LoadPlan& plan, std::span<const uint8_t> file) {
    Memory memory;
    uint64_t previous = 0;
    for_each_page(plan, [&](const PagePlan& page) {
        EXPECT_EQ(page.address % kPageSize, 0u);
        EXPECT_GT(page.address, previous);
        EXPECT_GE(page.address, kUserBase);
        EXPECT_LT(page.address, kUserTop);
        previous = page.address;
        EXPECT_TRUE(has(page.rights, Rights::kRead));
        EXPECT_FALSE(has(page.rights, Rights::kWrite | Rights::kExecute));
        MemoryPage& out = memory[page.address];
        out.rights = page.rights;
        std::vector<int> covered(kPageSize, 0);
        uint32_t at = 0;
        for (const CopyRange& copy : page.copy_ranges()) {
            EXPECT_GE(copy.page_offset, at);
            EXPECT_GT(copy.length, 0u);
            EXPECT_LE(uint64_t{copy.page_offset} + copy.length, kPageSize);
            EXPECT_LE(copy.file_offset + copy.length, file.size());
            if (copy.file_offset + copy.length > file.size() ||
                uint64_t{copy.page_offset} + copy.length > kPageSize) {
                continue;
            }
            std::memcpy(out.bytes.data() + copy.page_offset, file.data() + copy.file_offset,
                        copy.length);
            for (uint32_t i = 0; i < copy.length; ++i) {
                ++covered[copy.page_offset + i];
            }
            at = copy.page_offset + copy.length;
        }
        page.for_each_zero_range([&](uint32_t offset, uint32_t length) {
            EXPECT_GT(length, 0u);
            ASSERT_LE(uint64_t{offset} + length, kPageSize);
            for (uint32_t i = 0; i < length; ++i) {
                ++covered[offset + i];
            }
        });
        EXPECT_EQ(std::count(covered.begin(), covered.end(), 1), static_cast<long>(kPageSize))
            << "page " << page.address;
    });
    EXPECT_EQ(memory.size(), plan.page_count);
    return memory;
}

Rights rights_of(uint32_t flags) {
    Rights r = Rights::kRead;
    if ((flags & kFlagWrite) != 0) {
        r |= Rights::kWrite;
    }
    if ((flags & kFlagExecute) != 0) {
        r |= Rights::kExecute;
    }
    return r;
}

// The expected memory image, byte by byte, straight from the PT_LOAD headers.
Memory reference_load(const std::vector<ProgramHeader>& headers, std::span<const uint8_t> file) {
    Memory memory;
    for (const ProgramHeader& ph : headers) {
        if (ph.type != kSegmentLoad || ph.memsz == 0) {
            continue;
        }
        const uint64_t end = ph.vaddr + ph.memsz;
        for (uint64_t page = ph.vaddr & ~(kPageSize - 1); page < end; page += kPageSize) {
            memory[page].rights |= rights_of(ph.flags);
        }
        for (uint64_t i = 0; i < ph.filesz; ++i) {
            const uint64_t address = ph.vaddr + i;
            memory[address & ~(kPageSize - 1)].bytes[address % kPageSize] = file[ph.offset + i];
        }
    }
    return memory;
}

std::vector<ProgramHeader> headers_of(const ElfFile& elf) {
    std::vector<ProgramHeader> out;
    elf.for_each_program_header([&](const ProgramHeader& ph) { out.push_back(ph); });
    return out;
}

void expect_same_memory(const Memory& actual, const Memory& expected) {
    ASSERT_EQ(actual.size(), expected.size());
    for (const auto& [address, page] : expected) {
        auto it = actual.find(address);
        ASSERT_NE(it, actual.end()) << "missing page " << address;
        EXPECT_EQ(it->second.rights, page.rights) << "page " << address;
        EXPECT_TRUE(it->second.bytes == page.bytes) << "bytes differ in page " << address;
    }
}

// Plans file and checks the plan against the reference load; returns the plan.
LoadPlan plan_and_check(std::span<const uint8_t> file) {
    auto elf = ElfFile::parse(file);
    EXPECT_TRUE(elf.ok());
    if (!elf.ok()) {
        return LoadPlan{};
    }
    auto plan = make_load_plan(elf.value());
    EXPECT_TRUE(plan.ok()) << to_string(plan.error());
    if (!plan.ok()) {
        return LoadPlan{};
    }
    expect_same_memory(simulate_load(plan.value(), file),
                       reference_load(headers_of(elf.value()), file));
    return plan.value();
}

std::optional<ElfError> plan_error(const ElfBuilder& b) {
    const auto file = b.build();
    auto plan = make_load_plan(std::span<const uint8_t>(file));
    if (plan.ok()) {
        return std::nullopt;
    }
    return plan.error();
}

PagePlan page_at(const LoadPlan& plan, uint64_t address) {
    PagePlan page;
    EXPECT_TRUE(next_page(plan, address, page));
    EXPECT_EQ(page.address, address);
    return page;
}

std::vector<std::pair<uint32_t, uint32_t>> zero_ranges(const PagePlan& page) {
    std::vector<std::pair<uint32_t, uint32_t>> out;
    page.for_each_zero_range(
        [&](uint32_t offset, uint32_t length) { out.emplace_back(offset, length); });
    return out;
}

// Text, rodata, data+bss given out of address order, plus stack, note and an unknown type.
ElfBuilder sample_builder() {
    ElfBuilder b;
    b.load(0x403010, 0x20, 0x3000, kRW);
    b.load(0x400000, 0x1234, 0x1234, kRX);
    b.segment(kSegmentNote, kFlagRead, 0x400200, 0x20, 0x20, 0x200, 4);
    b.load(0x402000, 0x100, 0x100, kFlagRead);
    b.stack(kRW, 0x20000);
    b.segment(0x6fff1234, kRW, 0x10, 0x10, 0x10, 0x10);
    b.entry = 0x400100;
    return b;
}

// ---------------------------------------------------------------------------------------------
// Plans of valid files

TEST(LoadPlan, PlansSampleExecutable) {
    const auto file = sample_builder().build();
    const LoadPlan plan = plan_and_check(file);
    EXPECT_EQ(plan.entry, 0x400100u);
    ASSERT_EQ(plan.segment_count, 3u);
    EXPECT_EQ(plan.segments[0].vaddr, 0x400000u);
    EXPECT_EQ(plan.segments[0].rights, kRXRights);
    EXPECT_EQ(plan.segments[1].vaddr, 0x402000u);
    EXPECT_EQ(plan.segments[1].rights, kR);
    EXPECT_EQ(plan.segments[2].vaddr, 0x403010u);
    EXPECT_EQ(plan.segments[2].memsz, 0x3000u);
    EXPECT_EQ(plan.segments[2].filesz, 0x20u);
    EXPECT_EQ(plan.segments[2].offset, 0x3010u);
    EXPECT_EQ(plan.segments[2].rights, kRWRights);
    EXPECT_EQ(plan.segments[2].end(), 0x406010u);
    // text 2 pages, rodata 1, data+bss [0x403000, 0x407000) 4.
    EXPECT_EQ(plan.page_count, 7u);
    EXPECT_TRUE(plan.has_stack_header);
    EXPECT_EQ(plan.stack_size, 0x20000u);
    EXPECT_FALSE(plan.tls.has_value());
}

TEST(LoadPlan, BssEndingMidPageSpillsOverPages) {
    const auto file = sample_builder().build();
    const LoadPlan plan = plan_and_check(file);
    PagePlan first = page_at(plan, 0x403000);
    EXPECT_EQ(first.rights, kRWRights);
    ASSERT_EQ(first.copy_count, 1u);
    EXPECT_EQ(first.copies[0].page_offset, 0x10u);
    EXPECT_EQ(first.copies[0].length, 0x20u);
    EXPECT_EQ(first.copies[0].file_offset, 0x3010u);
    EXPECT_EQ(zero_ranges(first),
              (std::vector<std::pair<uint32_t, uint32_t>>{{0, 0x10}, {0x30, 0x1000 - 0x30}}));
    for (uint64_t address : {0x404000, 0x405000, 0x406000}) {
        PagePlan bss = page_at(plan, address);
        EXPECT_TRUE(bss.all_zero());
        EXPECT_EQ(bss.rights, kRWRights);
        EXPECT_EQ(zero_ranges(bss), (std::vector<std::pair<uint32_t, uint32_t>>{{0, 0x1000}}));
    }
    PagePlan past;
    EXPECT_FALSE(next_page(plan, 0x407000, past));
}

TEST(LoadPlan, SegmentNotPageAligned) {
    ElfBuilder b;
    b.load(0x400ff0, 0x20, 0x30, kRX);
    b.entry = 0x400ff0;
    const auto file = b.build();
    const LoadPlan plan = plan_and_check(file);
    EXPECT_EQ(plan.page_count, 2u);
    PagePlan first = page_at(plan, 0x400000);
    ASSERT_EQ(first.copy_count, 1u);
    EXPECT_EQ(first.copies[0].page_offset, 0xff0u);
    EXPECT_EQ(first.copies[0].length, 0x10u);
    EXPECT_EQ(first.copies[0].file_offset, 0xff0u);
    PagePlan second = page_at(plan, 0x401000);
    ASSERT_EQ(second.copy_count, 1u);
    EXPECT_EQ(second.copies[0].page_offset, 0u);
    EXPECT_EQ(second.copies[0].length, 0x10u);
    EXPECT_EQ(second.copies[0].file_offset, 0x1000u);
    EXPECT_EQ(zero_ranges(second),
              (std::vector<std::pair<uint32_t, uint32_t>>{{0x10, 0x1000 - 0x10}}));
}

TEST(LoadPlan, TwoSegmentsShareAPageWithUnionOfRights) {
    ElfBuilder b;
    b.load(0x400000, 0x800, 0x800, kRX);
    b.load(0x400800, 0x900, 0x900, kFlagRead);
    b.load(0x402000, 0x100, 0x100, kFlagRead);
    b.load(0x402100, 0x10, 0x1000, kRW);
    const auto file = b.build();
    const LoadPlan plan = plan_and_check(file);
    EXPECT_EQ(plan.page_count, 4u);
    PagePlan shared = page_at(plan, 0x400000);
    EXPECT_EQ(shared.rights, kRXRights);
    ASSERT_EQ(shared.copy_count, 2u);
    EXPECT_EQ(shared.copies[0].page_offset, 0u);
    EXPECT_EQ(shared.copies[0].length, 0x800u);
    EXPECT_EQ(shared.copies[1].page_offset, 0x800u);
    EXPECT_EQ(shared.copies[1].length, 0x800u);
    EXPECT_EQ(shared.copies[1].file_offset, 0x800u);
    EXPECT_TRUE(zero_ranges(shared).empty());
    EXPECT_EQ(page_at(plan, 0x401000).rights, kR);
    EXPECT_EQ(page_at(plan, 0x402000).rights, kRWRights);
    EXPECT_EQ(page_at(plan, 0x403000).rights, kRWRights);
}

TEST(LoadPlan, ZeroSizeFilePart) {
    ElfBuilder b;
    b.load(0x400000, 0x100, 0x100, kRX);
    b.load(0x500000, 0, 0x2800, kRW);
    const auto file = b.build();
    const LoadPlan plan = plan_and_check(file);
    ASSERT_EQ(plan.segment_count, 2u);
    EXPECT_EQ(plan.segments[1].filesz, 0u);
    EXPECT_EQ(plan.page_count, 4u);
    for (uint64_t address : {0x500000, 0x501000, 0x502000}) {
        EXPECT_TRUE(page_at(plan, address).all_zero());
    }
}

TEST(LoadPlan, EmptyLoadSegmentsMapNothing) {
    ElfBuilder b;
    b.load(0x400000, 0x100, 0x100, kRX);
    b.load(0x400000, 0, 0, kRW);  // same address as text, but empty: no overlap
    b.load(0x900000, 0, 0, kFlagRead);
    const auto file = b.build();
    const LoadPlan plan = plan_and_check(file);
    EXPECT_EQ(plan.segment_count, 1u);
    EXPECT_EQ(plan.page_count, 1u);
}

TEST(LoadPlan, ManySegmentsInOnePage) {
    // One text segment and 63 tiny read-only segments packed into one page: 63 copy ranges.
    ElfBuilder b;
    b.load(0x400000, 0x100, 0x100, kRX);
    for (uint64_t i = 0; i < kMaxSegments - 1; ++i) {
        b.load(0x401000 + i * 0x40, 0x20, 0x30, kFlagRead);
    }
    const auto file = b.build();
    const LoadPlan plan = plan_and_check(file);
    EXPECT_EQ(plan.segment_count, kMaxSegments);
    EXPECT_EQ(plan.page_count, 2u);
    PagePlan packed = page_at(plan, 0x401000);
    EXPECT_EQ(packed.copy_count, kMaxSegments - 1);
    EXPECT_EQ(packed.rights, kR);
    EXPECT_EQ(zero_ranges(packed).size(), kMaxSegments - 1);  // 62 gaps of 0x20 and the tail
}

TEST(LoadPlan, ManySegmentsSpreadOut) {
    ElfBuilder b;
    for (uint64_t i = 0; i < kMaxSegments; ++i) {
        b.load(0x400000 + i * 0x3800, 0x1800, 0x2000 + i, i % 2 == 0 ? kRX : kFlagRead);
    }
    const auto file = b.build();
    const LoadPlan plan = plan_and_check(file);
    EXPECT_EQ(plan.segment_count, kMaxSegments);
    for (size_t i = 1; i < plan.segment_count; ++i) {
        EXPECT_LT(plan.segments[i - 1].vaddr, plan.segments[i].vaddr);
    }
}

TEST(LoadPlan, LargeAlignments) {
    // As ld.lld lays out with -z max-page-size=64K and 2M: offsets stay small, addresses jump.
    for (uint64_t align : {uint64_t{0x10000}, uint64_t{0x200000}}) {
        ElfBuilder b;
        b.load(0x200000, 0x16d, 0x16d, kFlagRead, 0, align);
        b.load(0x200000 + align + 0x170, 0x40, 0x40, kRX, 0x170, align);
        b.load(0x200000 + 2 * align + 0x1b0, 0x4, 0x3068, kRW, 0x1b0, align);
        b.entry = 0x200000 + align + 0x170;
        const auto file = b.build();
        const LoadPlan plan = plan_and_check(file);
        ASSERT_EQ(plan.segment_count, 3u);
        EXPECT_EQ(plan.segments[1].align, align);
        EXPECT_EQ(plan.page_count, 1u + 1u + 4u);
    }
}

TEST(LoadPlan, ReportsTls) {
    ElfBuilder b = sample_builder();
    b.tls(0x403020, 0x3020, 0x10, 0x88, 16);
    const auto file = b.build();
    const LoadPlan plan = plan_and_check(file);
    ASSERT_TRUE(plan.tls.has_value());
    EXPECT_EQ(plan.tls->vaddr, 0x403020u);
    EXPECT_EQ(plan.tls->offset, 0x3020u);
    EXPECT_EQ(plan.tls->filesz, 0x10u);
    EXPECT_EQ(plan.tls->memsz, 0x88u);
    EXPECT_EQ(plan.tls->align, 16u);
}

TEST(LoadPlan, TlsWithOnlyZeroFilledPartNeedsNoImage) {
    ElfBuilder b = sample_builder();
    b.tls(0x10, 0x10, 0, 0x40, 8);  // only .tbss: the address is never read
    const auto file = b.build();
    const LoadPlan plan = plan_and_check(file);
    ASSERT_TRUE(plan.tls.has_value());
    EXPECT_EQ(plan.tls->memsz, 0x40u);
}

TEST(LoadPlan, StackDefaults) {
    ElfBuilder b;
    b.load(0x400000, 0x10, 0x10, kRX);
    const auto file = b.build();
    LoadPlan plan = plan_and_check(file);
    EXPECT_FALSE(plan.has_stack_header);
    EXPECT_EQ(plan.stack_size, 0u);
    b.stack();
    const auto with_stack = b.build();
    plan = plan_and_check(with_stack);
    EXPECT_TRUE(plan.has_stack_header);
    EXPECT_EQ(plan.stack_size, 0u);
}

TEST(LoadPlan, EntryMayBeAnywhereInAnExecutableSegment) {
    for (uint64_t entry : {0x400000, 0x40010c, 0x401230}) {
        ElfBuilder b = sample_builder();
        b.entry = entry;
        EXPECT_EQ(plan_error(b), std::nullopt) << entry;
    }
}

TEST(LoadPlan, NextPageSkipsGapsAndStopsAtTheEnd) {
    const auto file = sample_builder().build();
    const LoadPlan plan = plan_and_check(file);
    PagePlan page;
    ASSERT_TRUE(next_page(plan, 0, page));
    EXPECT_EQ(page.address, 0x400000u);
    ASSERT_TRUE(next_page(plan, 0x401fff, page));
    EXPECT_EQ(page.address, 0x401000u);
    ASSERT_TRUE(next_page(plan, 0x402001, page));
    EXPECT_EQ(page.address, 0x402000u);
    EXPECT_FALSE(next_page(plan, 0x407000, page));
    EXPECT_FALSE(next_page(plan, kUserTop, page));
    EXPECT_FALSE(next_page(plan, UINT64_MAX, page));
}

TEST(LoadPlan, LargeBssIsCountedAndSkippable) {
    ElfBuilder b;
    b.load(0x400000, 0x100, 0x100, kRX);
    b.load(0x10000800, 0x10, 0x4000'0000, kRW);  // 1 GiB of .bss after 16 bytes of .data
    b.load(0x50000800, 0x10, 0x10, kFlagRead);   // shares the bss's last page
    const auto file = b.build();
    auto plan = make_load_plan(std::span<const uint8_t>(file));
    ASSERT_TRUE(plan.ok()) << to_string(plan.error());
    const uint64_t bss_pages = 0x4000'0000 / kPageSize + 1;
    EXPECT_EQ(plan.value().page_count, 1 + bss_pages);

    PagePlan first = page_at(plan.value(), 0x10000000);
    EXPECT_FALSE(first.all_zero());
    EXPECT_EQ(zero_run_end(plan.value(), first), 0x10001000u);
    PagePlan zero = page_at(plan.value(), 0x10001000);
    EXPECT_TRUE(zero.all_zero());
    // The run stops before the last page, which the next segment shares.
    EXPECT_EQ(zero_run_end(plan.value(), zero), 0x50000000u);
    PagePlan last = page_at(plan.value(), 0x50000000);
    EXPECT_EQ(last.rights, kRWRights);
    EXPECT_EQ(last.copy_count, 1u);
    EXPECT_EQ(zero_run_end(plan.value(), last), 0x50001000u);

    // Walking the summarised way visits few pages and still covers everything.
    uint64_t pages = 0;
    uint64_t steps = 0;
    PagePlan page;
    for (uint64_t at = 0; next_page(plan.value(), at, page);) {
        const uint64_t end = zero_run_end(plan.value(), page);
        pages += (end - page.address) / kPageSize;
        at = end;
        ++steps;
    }
    EXPECT_EQ(pages, plan.value().page_count);
    EXPECT_EQ(steps, 4u);
}

TEST(LoadPlan, ZeroRunOfPageSharedWithPreviousSegment) {
    ElfBuilder b;
    b.load(0x400000, 0x10, 0x10, kRX);
    b.load(0x500000, 0, 0x800, kFlagRead);  // bss-only, ends mid-page
    b.load(0x500800, 0, 0x3000, kRW);       // bss-only, starts in the same page
    const auto file = b.build();
    const LoadPlan plan = plan_and_check(file);
    PagePlan shared = page_at(plan, 0x500000);
    EXPECT_TRUE(shared.all_zero());
    EXPECT_EQ(shared.rights, kRWRights);
    EXPECT_EQ(zero_run_end(plan, shared), 0x501000u);
    PagePlan inside = page_at(plan, 0x501000);
    EXPECT_EQ(zero_run_end(plan, inside), 0x503000u);
    PagePlan tail = page_at(plan, 0x503000);
    EXPECT_EQ(zero_run_end(plan, tail), 0x504000u);
}

TEST(LoadPlan, UniformRunsOfFileAndZeroPages) {
    ElfBuilder b;
    b.load(0x400000, 0x100, 0x100, kRX);
    b.load(0x600800, 0x5000, 0x9000, kRW);  // partial first page, 4 whole file pages, bss
    const auto file = b.build();
    const LoadPlan plan = plan_and_check(file);
    EXPECT_EQ(uniform_run_end(plan, page_at(plan, 0x400000)), 0x401000u);  // partial page
    EXPECT_EQ(uniform_run_end(plan, page_at(plan, 0x600000)), 0x601000u);  // starts mid-page
    PagePlan whole = page_at(plan, 0x601000);
    EXPECT_EQ(uniform_run_end(plan, whole), 0x605000u);  // the file part ends at 0x605800
    EXPECT_EQ(uniform_run_end(plan, page_at(plan, 0x603000)), 0x605000u);
    EXPECT_EQ(uniform_run_end(plan, page_at(plan, 0x605000)), 0x606000u);  // file, then zero
    EXPECT_EQ(uniform_run_end(plan, page_at(plan, 0x606000)), 0x609000u);  // bss
    EXPECT_EQ(uniform_run_end(plan, page_at(plan, 0x609000)), 0x60a000u);  // ends mid-page
}

// Walking by uniform runs visits every page once and each run's pages are what the run says:
// file pages from consecutive file bytes, or zero pages, all with the first page's rights.
TEST(LoadPlan, UniformRunsAgreeWithPageByPagePlans) {
    ElfBuilder b;
    b.load(0x400000, 0x3456, 0x3456, kRX);
    b.load(0x404000, 0x2000, 0x2000, kFlagRead);
    b.load(0x406010, 0x4ff0, 0x8000, kRW);
    b.load(0x40e010, 0, 0x3000, kRW);  // shares the previous segment's last page
    const auto file = b.build();
    const LoadPlan plan = plan_and_check(file);
    uint64_t pages = 0;
    uint64_t runs = 0;
    PagePlan first;
    for (uint64_t at = 0; next_page(plan, at, first);) {
        const uint64_t end = uniform_run_end(plan, first);
        ASSERT_GT(end, first.address);
        for (uint64_t a = first.address; a < end; a += kPageSize) {
            PagePlan page = page_at(plan, a);
            ASSERT_EQ(page.address, a);
            ASSERT_EQ(page.rights, first.rights);
            if (first.all_zero()) {
                ASSERT_TRUE(page.all_zero()) << std::hex << a;
            } else if (end > first.address + kPageSize) {
                ASSERT_EQ(page.copy_count, 1u);
                ASSERT_EQ(page.copies[0].page_offset, 0u);
                ASSERT_EQ(page.copies[0].length, kPageSize);
                ASSERT_EQ(page.copies[0].file_offset,
                          first.copies[0].file_offset + (a - first.address));
            }
            ++pages;
        }
        at = end;
        ++runs;
    }
    EXPECT_EQ(pages, plan.page_count);
    EXPECT_LT(runs, pages);
}

TEST(LoadPlan, ForEachPageStopsWhenCallbackReturnsFalse) {
    const auto file = sample_builder().build();
    const LoadPlan plan = plan_and_check(file);
    int visited = 0;
    for_each_page(plan, [&](const PagePlan&) { return ++visited < 3; });
    EXPECT_EQ(visited, 3);
}

TEST(LoadPlan, RightsNames) {
    EXPECT_STREQ(to_string(Rights::kNone), "---");
    EXPECT_STREQ(to_string(kR), "r--");
    EXPECT_STREQ(to_string(kRWRights), "rw-");
    EXPECT_STREQ(to_string(kRXRights), "r-x");
    EXPECT_STREQ(to_string(Rights::kRead | Rights::kWrite | Rights::kExecute), "rwx");
    EXPECT_TRUE(has(kRXRights, Rights::kExecute));
    EXPECT_FALSE(has(kRXRights, Rights::kWrite | Rights::kExecute));
}

// ---------------------------------------------------------------------------------------------
// Cross-segment errors

TEST(LoadPlan, OverlappingSegments) {
    struct Case {
        uint64_t vaddr;
        uint64_t memsz;
    };
    // Against text [0x400000, 0x401234).
    for (Case c : {Case{0x401000, 0x1000}, Case{0x400000, 0x10}, Case{0x3ff000, 0x1001},
                   Case{0x400100, 0x10}, Case{0x3ff000, 0x10000}, Case{0x401233, 1}}) {
        ElfBuilder b = sample_builder();
        b.load(c.vaddr, 0, c.memsz, kFlagRead);
        EXPECT_EQ(plan_error(b), ElfError::kOverlappingSegments) << c.vaddr;
    }
    // Touching ends are fine (and share a page).
    ElfBuilder touching = sample_builder();
    touching.load(0x401234, 0, 0x10, kFlagRead);
    EXPECT_EQ(plan_error(touching), std::nullopt);
}

TEST(LoadPlan, WriteExecutePage) {
    ElfBuilder rx_then_rw;
    rx_then_rw.load(0x400000, 0x800, 0x800, kRX);
    rx_then_rw.load(0x400800, 0x10, 0x800, kRW);
    EXPECT_EQ(plan_error(rx_then_rw), ElfError::kWriteExecutePage);

    ElfBuilder rw_then_rx;  // data spanning pages, then text starting in its last page
    rw_then_rx.entry = 0x402800;
    rw_then_rx.load(0x400000, 0x10, 0x2800, kRW);
    rw_then_rx.load(0x402800, 0x10, 0x10, kRX);
    EXPECT_EQ(plan_error(rw_then_rx), ElfError::kWriteExecutePage);

    ElfBuilder three;  // r-x, r--, rw- in one page: the union accumulates along the run
    three.load(0x400000, 0x100, 0x100, kRX);
    three.load(0x400100, 0x100, 0x100, kFlagRead);
    three.load(0x400200, 0x100, 0x100, kRW);
    EXPECT_EQ(plan_error(three), ElfError::kWriteExecutePage);

    ElfBuilder through;  // r-- ends mid-page, r-x spans to a page rw- shares
    through.entry = 0x400800;
    through.load(0x400000, 0x800, 0x800, kFlagRead);
    through.load(0x400800, 0x1900, 0x1900, kRX);
    through.load(0x402100, 0x10, 0x10, kRW);
    EXPECT_EQ(plan_error(through), ElfError::kWriteExecutePage);

    ElfBuilder page_apart;  // text ends exactly where data starts: no shared page
    page_apart.load(0x400000, 0x1000, 0x1000, kRX);
    page_apart.load(0x401000, 0x10, 0x800, kRW);
    EXPECT_EQ(plan_error(page_apart), std::nullopt);
}

TEST(LoadPlan, TlsOutsideSegments) {
    struct Case {
        uint64_t vaddr;
        uint64_t offset;
        uint64_t filesz;
    };
    // Data is [0x403010, 0x403030) from the file, then .bss to 0x406010.
    for (Case c : {Case{0x403040, 0x3040, 0x10}, Case{0x403020, 0x3020, 0x11},
                   Case{0x800000, 0x3020, 0x10}, Case{0x403020, 0x3028, 0x10},
                   Case{0x403000, 0x3000, 0x10}, Case{UINT64_MAX - 4, 0x3020, 0x10}}) {
        ElfBuilder b = sample_builder();
        b.tls(c.vaddr, c.offset, c.filesz, 0x100);
        EXPECT_EQ(plan_error(b), ElfError::kTlsOutsideSegments) << c.vaddr;
    }
}

TEST(LoadPlan, EntryNotExecutable) {
    for (uint64_t entry : {0x402000, 0x403010, 0x401234, 0x3ffffc, 0x0, 0x500000}) {
        ElfBuilder b = sample_builder();
        b.entry = entry;
        EXPECT_EQ(plan_error(b), ElfError::kEntryNotExecutable) << entry;
    }
    ElfBuilder no_load;
    no_load.segment(kSegmentNote);
    EXPECT_EQ(plan_error(no_load), ElfError::kEntryNotExecutable);
}

TEST(LoadPlan, MisalignedEntry) {
    for (uint64_t entry : {0x400001, 0x400002, 0x400103}) {
        ElfBuilder b = sample_builder();
        b.entry = entry;
        EXPECT_EQ(plan_error(b), ElfError::kMisalignedEntry) << entry;
    }
}

TEST(LoadPlan, ParseErrorsPassThrough) {
    ElfBuilder b = sample_builder();
    b.machine = 62;
    EXPECT_EQ(plan_error(b), ElfError::kWrongMachine);
}

// ---------------------------------------------------------------------------------------------
// Real executables from clang and ld.lld (lib/elf/testdata/)

std::vector<uint8_t> fixture(const char* name) {
    auto bytes = test::read_file(std::string(TESSERA_TEST_ELF_DIR) + "/" + name);
    EXPECT_FALSE(bytes.empty()) << "missing fixture " << name;
    return bytes;
}

std::vector<uint8_t> read_memory(const Memory& memory, uint64_t address, size_t size) {
    std::vector<uint8_t> out;
    for (size_t i = 0; i < size; ++i) {
        auto it = memory.find((address + i) & ~(kPageSize - 1));
        if (it == memory.end()) {
            ADD_FAILURE() << "address " << address + i << " not mapped";
            return out;
        }
        out.push_back(it->second.bytes[(address + i) % kPageSize]);
    }
    return out;
}

std::vector<uint8_t> bytes_of(const char* text, size_t size) {
    return std::vector<uint8_t>(text, text + size);
}

// The memory of the single segment with the given rights.
std::vector<uint8_t> segment_memory(const LoadPlan& plan, const Memory& memory, Rights rights) {
    for (const Segment& s : plan.segment_list()) {
        if (s.rights == rights) {
            return read_memory(memory, s.vaddr, s.memsz);
        }
    }
    ADD_FAILURE() << "no " << to_string(rights) << " segment";
    return {};
}

bool contains(const std::vector<uint8_t>& haystack, const std::vector<uint8_t>& needle) {
    return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) !=
           haystack.end();
}

const std::vector<uint8_t> kMessage = bytes_of("tessera basic rodata", 21);
const std::vector<uint8_t> kCounter = {0x34, 0x12, 0xed, 0x5e};

// basic.c as ld.lld links it by default (64 KiB p_align) and with 2 MiB pages.
void check_basic(const char* name, uint64_t align) {
    const auto file = fixture(name);
    const LoadPlan plan = plan_and_check(file);
    ASSERT_EQ(plan.segment_count, 3u);
    EXPECT_EQ(plan.segments[0].rights, kR);
    EXPECT_EQ(plan.segments[1].rights, kRXRights);
    EXPECT_EQ(plan.segments[2].rights, kRWRights);
    for (const Segment& s : plan.segment_list()) {
        EXPECT_EQ(s.align, align);
    }
    EXPECT_GE(plan.entry, plan.segments[1].vaddr);
    EXPECT_LT(plan.entry, plan.segments[1].end());
    EXPECT_TRUE(plan.has_stack_header);
    EXPECT_FALSE(plan.tls.has_value());

    const Memory memory = simulate_load(plan, file);
    EXPECT_TRUE(contains(segment_memory(plan, memory, kR), kMessage));
    // .data (the counter) then a 12388-byte .bss, all zero.
    const Segment& data = plan.segments[2];
    EXPECT_EQ(read_memory(memory, data.vaddr, 4), kCounter);
    EXPECT_EQ(data.memsz, 4u + 3 * 4096 + 100);
    const auto bss = read_memory(memory, data.vaddr + data.filesz, data.memsz - data.filesz);
    EXPECT_TRUE(std::all_of(bss.begin(), bss.end(), [](uint8_t b) { return b == 0; }));
}

TEST(LoadPlanFixtures, Basic64KiBAlignment) {
    check_basic("basic.elf", 0x10000);
}

TEST(LoadPlanFixtures, Basic2MiBAlignment) {
    check_basic("basic-2m.elf", 0x200000);
}

TEST(LoadPlanFixtures, LinkerScriptLayoutSharesPages) {
    const auto file = fixture("layout.elf");
    const LoadPlan plan = plan_and_check(file);
    EXPECT_EQ(plan.entry, 0x400000u);
    ASSERT_EQ(plan.segment_count, 3u);
    EXPECT_EQ(plan.segments[0].vaddr, 0x400000u);
    EXPECT_EQ(plan.segments[0].rights, kRXRights);
    EXPECT_EQ(plan.segments[1].vaddr, 0x400800u);
    EXPECT_EQ(plan.segments[1].rights, kR);
    EXPECT_EQ(plan.segments[2].vaddr, 0x600234u);
    EXPECT_EQ(plan.segments[2].rights, kRWRights);
    // Text and rodata share page 0x400000 (r-x); data+bss [0x600234, 0x60329c) is 4 pages.
    EXPECT_EQ(plan.page_count, 5u);
    PagePlan shared = page_at(plan, 0x400000);
    EXPECT_EQ(shared.rights, kRXRights);
    EXPECT_EQ(shared.copy_count, 2u);

    const Memory memory = simulate_load(plan, file);
    EXPECT_EQ(read_memory(memory, 0x400800, kMessage.size()), kMessage);
    EXPECT_EQ(read_memory(memory, 0x600234, 4), kCounter);
    EXPECT_EQ(read_memory(memory, 0x600000, 4), std::vector<uint8_t>(4, 0));
    const auto bss = read_memory(memory, 0x600238, 0x60329c - 0x600238);
    EXPECT_TRUE(std::all_of(bss.begin(), bss.end(), [](uint8_t b) { return b == 0; }));
}

TEST(LoadPlanFixtures, ThreadLocalStorage) {
    const auto file = fixture("tls.elf");
    const LoadPlan plan = plan_and_check(file);
    ASSERT_TRUE(plan.tls.has_value());
    EXPECT_EQ(plan.tls->filesz, 4u);
    EXPECT_GE(plan.tls->memsz, 4u + 100u);
    EXPECT_EQ(plan.tls->align, 4u);
    const Memory memory = simulate_load(plan, file);
    EXPECT_EQ(read_memory(memory, plan.tls->vaddr, 4), (std::vector<uint8_t>{42, 0, 0, 0}));
    EXPECT_EQ(file[plan.tls->offset], 42);
}

TEST(LoadPlanFixtures, ExecutableStackIsRejected) {
    const auto file = fixture("execstack.elf");
    auto plan = make_load_plan(std::span<const uint8_t>(file));
    ASSERT_FALSE(plan.ok());
    EXPECT_EQ(plan.error(), ElfError::kExecutableStack);
}

}  // namespace
}  // namespace tessera::elf
