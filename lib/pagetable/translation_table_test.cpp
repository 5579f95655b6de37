// Host tests of the table builder and walker with tables in host memory: block selection,
// per-page mapping, overlap refusal, table exhaustion, and walks of mapped and unmapped VAs.
#include "pagetable/translation_table.hpp"

#include <gtest/gtest.h>

#include <map>
#include <vector>

namespace tessera::aarch64 {
namespace {

// Tables at fake physical addresses 0x1000_0000 + i * 4 KiB.
class HostTables {
  public:
    explicit HostTables(size_t limit) : limit_(limit) {}
    uint64_t* table(PhysAddr pa) { return tables_.at(pa.value()).data(); }
    Result<PhysAddr, MapError> allocate() {
        if (tables_.size() == limit_) {
            return fail(MapError::kNoTableMemory);
        }
        uint64_t pa = 0x1000'0000 + tables_.size() * kPageSize;
        tables_[pa] = std::vector<uint64_t>(kEntriesPerTable, 0);
        return PhysAddr(pa);
    }
    size_t count() const { return tables_.size(); }

  private:
    size_t limit_;
    std::map<uint64_t, std::vector<uint64_t>> tables_;
};

constexpr LeafAttributes kRw{Permissions{false, true, false}, MemoryType::kNormal, true};
constexpr LeafAttributes kRx{Permissions{false, false, true}, MemoryType::kNormal, true};
constexpr uint64_t kBase = 0xffff'0000'0000'0000;

struct Fixture : ::testing::Test {
    HostTables memory{64};
    PhysAddr root = memory.allocate().value();
    TranslationTable<HostTables> table{root, memory};
};

TEST_F(Fixture, UsesLargestBlocksAlignmentAllows) {
    // 0x4000_0000 + 2 GiB + 4 KiB: one 1 GiB block is impossible at the start only if
    // misaligned; here: 1 GiB block, 1 GiB block, then a 4 KiB page.
    ASSERT_TRUE(table
                    .map(VirtAddr(kBase + 0x4000'0000), PhysAddr(0x4000'0000),
                         2 * level_size(1) + kPageSize, kRw)
                    .ok());
    EXPECT_EQ(table.walk(VirtAddr(kBase + 0x4000'0000)).level, 1u);
    EXPECT_EQ(table.walk(VirtAddr(kBase + 0x8000'0000 + 5)).level, 1u);
    WalkResult last = table.walk(VirtAddr(kBase + 0xC000'0000 + 0x10));
    EXPECT_TRUE(last.mapped);
    EXPECT_EQ(last.level, 3u);
    EXPECT_EQ(last.output, PhysAddr(0xC000'0010));
    EXPECT_FALSE(table.walk(VirtAddr(kBase + 0xC000'1000)).mapped);
}

TEST_F(Fixture, UnalignedStartUsesPagesThenBlocks) {
    ASSERT_TRUE(
        table.map(VirtAddr(kBase + 0x4010'0000), PhysAddr(0x4010'0000), 0x30'0000, kRw).ok());
    EXPECT_EQ(table.walk(VirtAddr(kBase + 0x4010'0000)).level, 3u);
    EXPECT_EQ(table.walk(VirtAddr(kBase + 0x4020'0000)).level, 2u);
    EXPECT_EQ(table.walk(VirtAddr(kBase + 0x4020'0000)).output, PhysAddr(0x4020'0000));
}

TEST_F(Fixture, PagesOnlyWhenBlocksDisallowed) {
    ASSERT_TRUE(table.map(VirtAddr(kBase), PhysAddr(0), level_size(2), kRx, false).ok());
    WalkResult w = table.walk(VirtAddr(kBase + 0x1f'f000));
    EXPECT_EQ(w.level, 3u);
    EXPECT_EQ(w.leaf.attributes(), kRx);
}

TEST_F(Fixture, RefusesOverlapWithoutPartialMapping) {
    ASSERT_TRUE(table.map(VirtAddr(kBase + 0x5000), PhysAddr(0x5000), kPageSize, kRw).ok());
    auto r = table.map(VirtAddr(kBase), PhysAddr(0), 0x10000, kRw);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error(), MapError::kAlreadyMapped);
    EXPECT_FALSE(table.walk(VirtAddr(kBase)).mapped);  // nothing of the failed map remains
    // A 2 MiB block beside a table that holds pages is still a block.
    ASSERT_TRUE(table.map(VirtAddr(kBase + 0x20'0000), PhysAddr(0x20'0000), 0x20'0000, kRw).ok());
    EXPECT_EQ(table.walk(VirtAddr(kBase + 0x20'0000)).level, 2u);
}

TEST_F(Fixture, RejectsBadArguments) {
    EXPECT_EQ(table.map(VirtAddr(kBase + 1), PhysAddr(0), kPageSize, kRw).error(),
              MapError::kMisaligned);
    EXPECT_EQ(table.map(VirtAddr(kBase), PhysAddr(0x10), kPageSize, kRw).error(),
              MapError::kMisaligned);
    EXPECT_EQ(table.map(VirtAddr(kBase), PhysAddr(0), 100, kRw).error(), MapError::kMisaligned);
    EXPECT_EQ(table.map(VirtAddr(kBase), PhysAddr(0), 0, kRw).error(), MapError::kBadRange);
    EXPECT_EQ(table.map(VirtAddr(0xffff'ffff'ffff'f000), PhysAddr(0), 2 * kPageSize, kRw).error(),
              MapError::kBadRange);
}

TEST(TranslationTable, ReportsTableExhaustion) {
    HostTables memory(3);  // root + L1 + L2: no room for an L3
    PhysAddr root = memory.allocate().value();
    TranslationTable<HostTables> table(root, memory);
    auto r = table.map(VirtAddr(0x1000), PhysAddr(0x1000), kPageSize, kRw);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error(), MapError::kNoTableMemory);
    EXPECT_STREQ(to_string(r.error()), "out of translation-table memory");
}

TEST_F(Fixture, WalkStopsAtMissingLevel) {
    WalkResult w = table.walk(VirtAddr(kBase + 0x1234'5000));
    EXPECT_FALSE(w.mapped);
    EXPECT_EQ(w.level, 0u);
    ASSERT_TRUE(table.map(VirtAddr(kBase), PhysAddr(0), kPageSize, kRw).ok());
    w = table.walk(VirtAddr(kBase + 0x1000));
    EXPECT_FALSE(w.mapped);
    EXPECT_EQ(w.level, 3u);
    w = table.walk(VirtAddr(kBase + level_size(2)));
    EXPECT_EQ(w.level, 2u);
}

}  // namespace
}  // namespace tessera::aarch64
