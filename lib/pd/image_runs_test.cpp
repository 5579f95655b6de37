// Host tests for the image's runs and groups: for synthetic and real images and batches of
// every size, the runs cover each page once, in order, inside one table and one batch, with one
// set of rights and one kind of content; loading the runs' copies into a simulated memory gives
// exactly the image the ELF describes; and groups keep their frames consecutive and their
// scratch window within its table.
#include "pd/image_runs.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "elf/elf_test_builder.hpp"

namespace tessera::pd {
namespace {

using elf::test::ElfBuilder;
using Page = std::vector<uint8_t>;

// The image as the ELF describes it: each segment's file bytes, zero elsewhere.
std::map<uint64_t, Page> reference_image(const elf::LoadPlan& plan,
                                         const std::vector<uint8_t>& file) {
    std::map<uint64_t, Page> memory;
    for (const elf::Segment& s : plan.segment_list()) {
        for (uint64_t a = s.vaddr & ~(kSmallPage - 1); a < s.end(); a += kSmallPage) {
            memory.try_emplace(a, Page(kSmallPage, 0));
        }
        for (uint64_t i = 0; i < s.filesz; ++i) {
            const uint64_t a = s.vaddr + i;
            memory[a & ~(kSmallPage - 1)][a % kSmallPage] = file[s.offset + i];
        }
    }
    return memory;
}

// Loads the image run by run the way the builder does, with frame batches of the given sizes
// (cycled), checking each run's promises; returns the simulated memory.
std::map<uint64_t, Page> load_in_runs(const elf::LoadPlan& plan, const std::vector<uint8_t>& file,
                                      const std::vector<uint64_t>& batches, size_t* run_count) {
    std::map<uint64_t, Page> memory;
    size_t batch = 0;
    uint64_t left = batches[0];
    uint64_t previous_end = 0;
    *run_count = 0;
    ImageRunCursor cursor(plan);
    elf::PagePlan page;
    for (uint64_t at = 0; elf::next_page(plan, at, page);) {
        const uint64_t limit =
            left < RunGroup::kMaxWindowFrames ? left : RunGroup::kMaxWindowFrames;
        ImageRun run;
        EXPECT_TRUE(cursor.next(limit, run));
        ++*run_count;
        EXPECT_EQ(run.address, page.address);
        EXPECT_GE(run.address, previous_end);
        EXPECT_GE(run.count, 1u);
        EXPECT_LE(run.count, limit);
        EXPECT_LE(run.count, pages_left_in_table(run.address)) << "run crosses a table";
        for (uint64_t i = 0; i < run.count; ++i) {
            elf::PagePlan p;
            EXPECT_TRUE(elf::next_page(plan, run.address + i * kSmallPage, p));
            EXPECT_EQ(p.address, run.address + i * kSmallPage) << "run has a hole";
            EXPECT_EQ(p.rights | elf::Rights::kRead, run.rights);
            EXPECT_EQ(!p.all_zero(), run.filled);
        }
        Page bytes(run.count * kSmallPage, 0);
        uint64_t copied = 0;
        for_each_run_copy(plan, run, [&](uint64_t offset, uint64_t file_offset, uint64_t length) {
            EXPECT_TRUE(run.filled) << "a zero run copies nothing";
            ASSERT_LE(offset + length, bytes.size());
            ASSERT_LE(file_offset + length, file.size());
            std::copy(file.begin() + static_cast<ptrdiff_t>(file_offset),
                      file.begin() + static_cast<ptrdiff_t>(file_offset + length),
                      bytes.begin() + static_cast<ptrdiff_t>(offset));
            copied += length;
        });
        EXPECT_EQ(copied != 0, run.filled);
        for (uint64_t i = 0; i < run.count; ++i) {
            const uint64_t a = run.address + i * kSmallPage;
            EXPECT_EQ(memory.count(a), 0u) << "page loaded twice";
            memory[a] = Page(bytes.begin() + static_cast<ptrdiff_t>(i * kSmallPage),
                             bytes.begin() + static_cast<ptrdiff_t>((i + 1) * kSmallPage));
        }
        left -= run.count;
        if (left == 0) {
            batch = (batch + 1) % batches.size();
            left = batches[batch];
        }
        previous_end = run.end();
        at = run.end();
    }
    ImageRun after;
    EXPECT_FALSE(cursor.next(1, after)) << "a run past the image's last page";
    return memory;
}

void expect_loads_exactly(const std::vector<uint8_t>& file, const std::string& what) {
    auto plan = elf::make_load_plan(file);
    ASSERT_TRUE(plan.ok()) << what << ": " << elf::to_string(plan.error());
    const auto reference = reference_image(plan.value(), file);
    ASSERT_EQ(reference.size(), plan.value().page_count) << what;
    for (const std::vector<uint64_t>& batches :
         {std::vector<uint64_t>{256}, {1}, {3, 7}, {5, 1, 64}, {1000}}) {
        size_t runs = 0;
        const auto loaded = load_in_runs(plan.value(), file, batches, &runs);
        ASSERT_EQ(loaded.size(), reference.size()) << what << ", batch " << batches[0];
        for (const auto& [address, bytes] : reference) {
            ASSERT_TRUE(loaded.count(address)) << what << std::hex << ": page 0x" << address;
            EXPECT_TRUE(loaded.at(address) == bytes) << what << std::hex << ": page 0x" << address;
        }
        if (batches[0] == 1) {
            EXPECT_EQ(runs, reference.size()) << "batches of one frame: a run per page";
        }
    }
}

// Text over 3 MiB (crossing two tables), read-only data sharing the text's last page, data
// whose .bss spans more than a table, and a segment of only .bss.
std::vector<uint8_t> large_elf() {
    ElfBuilder b;
    b.load(0x400000, 0x300123, 0x300123, elf::kFlagExecute, 0x1000);
    b.load(0x700200, 0x2000, 0x2000, 0, 0x301200);
    b.load(0x710000, 0x1800, 0x202000, elf::kFlagWrite, 0x310000);
    b.load(0x9f0000, 0, 0x3000, elf::kFlagWrite, 0);
    return b.build();
}

TEST(ImageRuns, SyntheticImagesLoadExactly) {
    ElfBuilder small;
    small.load(0x400000, 0x2000, 0x2000, elf::kFlagExecute, 0x1000);
    small.load(0x402000, 0x100, 0x1800, elf::kFlagWrite, 0x3000);
    expect_loads_exactly(small.build(), "small");
    expect_loads_exactly(large_elf(), "large");
    ElfBuilder unaligned;  // a segment starting and ending mid-page
    unaligned.load(0x400000, 0x1000, 0x1000, elf::kFlagExecute, 0x1000);
    unaligned.load(0x401010, 0x2f00, 0x5000, elf::kFlagWrite, 0x2010);
    expect_loads_exactly(unaligned.build(), "unaligned");
}

TEST(ImageRuns, RealImagesLoadExactly) {
    for (const char* name : {"basic", "basic-2m", "layout", "tls"}) {
        const std::string path = std::string(TESSERA_TEST_ELF_DIR) + "/" + name + ".elf";
        const auto file = elf::test::read_file(path);
        ASSERT_FALSE(file.empty()) << path;
        expect_loads_exactly(file, name);
    }
}

TEST(ImageRuns, LongStretchesAreOneRunUpToTheTableOrTheLimit) {
    const auto file = large_elf();
    auto plan = elf::make_load_plan(file);
    ASSERT_TRUE(plan.ok());
    ImageRun run;
    ASSERT_TRUE(ImageRunCursor(plan.value()).next(10'000, run));
    EXPECT_EQ(run.address, 0x400000u);
    EXPECT_EQ(run.count, 512u);  // text to the end of its table
    EXPECT_TRUE(run.filled);
    EXPECT_EQ(run.rights, elf::Rights::kRead | elf::Rights::kExecute);
    ImageRunCursor limited(plan.value());
    ASSERT_TRUE(limited.next(7, run));
    EXPECT_EQ(run.count, 7u);
    ASSERT_TRUE(limited.next(10'000, run));
    EXPECT_EQ(run.address, 0x407000u);  // the rest of the stretch, to the table's end
    EXPECT_EQ(run.count, 512u - 7);
    // The .bss of the data segment: zero pages in runs that stop at table boundaries.
    ASSERT_TRUE(ImageRunCursor(plan.value(), 0x712000).next(10'000, run));
    EXPECT_EQ(run.address, 0x712000u);
    EXPECT_FALSE(run.filled);
    EXPECT_EQ(run.end(), 0x800000u);
    EXPECT_FALSE(ImageRunCursor(plan.value(), 0x9f3000).next(10, run));
    EXPECT_FALSE(ImageRunCursor(plan.value()).next(0, run));
}

TEST(ImageRuns, GroupsKeepFramesConsecutiveAndTheWindowWithinItsTable) {
    RunGroup g;
    const ImageRun filled{0x400000, 10, elf::Rights::kRead, true};
    const ImageRun zero{0x40a000, 4, elf::Rights::kRead, false};
    EXPECT_TRUE(g.accepts(filled, 100));
    g.add(filled, 100);
    EXPECT_FALSE(g.accepts(zero, 111)) << "frames must continue the group's";
    EXPECT_TRUE(g.accepts(zero, 110));
    g.add(zero, 110);
    EXPECT_EQ(g.window_low(), 100u);
    EXPECT_EQ(g.window_high(), 110u);  // the zero run is not filled through the window
    // Filled frames 100 to 355: exactly the window's 256.
    const ImageRun wide{0x500000, RunGroup::kMaxWindowFrames - 14, elf::Rights::kRead, true};
    const ImageRun wider{0x500000, RunGroup::kMaxWindowFrames - 13, elf::Rights::kRead, true};
    EXPECT_FALSE(g.accepts(wider, 114)) << "window past its table";
    EXPECT_TRUE(g.accepts(wide, 114));
    g.add(wide, 114);
    EXPECT_FALSE(g.accepts(filled, 114 + wide.count)) << "window past its table";
    EXPECT_TRUE(g.accepts(zero, 114 + wide.count)) << "zero runs need no window";
    EXPECT_EQ(g.members().size(), 3u);
    g.clear();
    EXPECT_EQ(g.members().size(), 0u);
    EXPECT_EQ(g.window_high(), 0u);
    for (uint64_t i = 0; i < RunGroup::kMaxRuns; ++i) {
        ASSERT_TRUE(g.accepts(zero, 10 + i * 4));
        g.add(zero, 10 + i * 4);
    }
    EXPECT_FALSE(g.accepts(zero, 10 + RunGroup::kMaxRuns * 4)) << "group full";
    EXPECT_FALSE(RunGroup::closes_after(filled));
    EXPECT_FALSE(RunGroup::closes_after(ImageRun{0, RunGroup::kLongZeroRun - 1, {}, false}));
    EXPECT_TRUE(RunGroup::closes_after(ImageRun{0, RunGroup::kLongZeroRun, {}, false}));
}

}  // namespace
}  // namespace tessera::pd
