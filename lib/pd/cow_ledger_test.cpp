// Host tests of the copy-on-write ledger: references per frame, a frame's own block released
// at its last reference, a store released only when its owner is gone and none of its frames is
// mapped (in either order), page ranges that do not overlap and come back, and full tables.
#include "pd/cow_ledger.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <set>

namespace tessera::pd {
namespace {

// The ledger is large (a creator keeps one for good): on the heap here.
std::unique_ptr<CowLedger> make_ledger() {
    return std::make_unique<CowLedger>();
}

TEST(CowLedger, OwnBlockFrameIsReleasedAtItsLastReference) {
    auto ledger = make_ledger();
    const uint32_t f = ledger->new_frame(kNoEntry, 0x1234);
    ASSERT_NE(f, kNoEntry);
    ledger->ref(f);
    ledger->ref(f);  // three PDs map it
    EXPECT_EQ(ledger->refs(f), 3u);
    EXPECT_EQ(ledger->unref(f).block, 0u);
    EXPECT_EQ(ledger->unref(f).block, 0u);
    const Release last = ledger->unref(f);
    EXPECT_EQ(last.block, 0x1234u);
    EXPECT_EQ(last.store, kNoEntry);
    EXPECT_EQ(ledger->frames_in_use(), 0u);
}

TEST(CowLedger, StoreWaitsForItsOwnerAndItsFrames) {
    auto ledger = make_ledger();
    const uint32_t s = ledger->new_store();
    ASSERT_NE(s, kNoEntry);
    const uint32_t a = ledger->new_frame(s, 0);
    const uint32_t b = ledger->new_frame(s, 0);
    ledger->ref(a);
    ledger->ref(b);
    EXPECT_EQ(ledger->store_frames(s), 2u);
    // Frames unmapped while the owner lives: the store stays (its PD's address space is there).
    EXPECT_EQ(ledger->unref(a).store, kNoEntry);
    EXPECT_EQ(ledger->unref(a).store, kNoEntry);
    EXPECT_EQ(ledger->store_frames(s), 1u);
    // The owner goes while b is still mapped: kept until b's last reference.
    EXPECT_EQ(ledger->owner_gone(s).store, kNoEntry);
    EXPECT_EQ(ledger->unref(b).store, kNoEntry);
    const Release last = ledger->unref(b);
    EXPECT_EQ(last.store, s);
    EXPECT_EQ(last.block, 0u);  // a store's frames have no block of their own
    EXPECT_EQ(ledger->stores_in_use(), 0u);
}

TEST(CowLedger, StoreWithNoMappedFrameGoesWithItsOwner) {
    auto ledger = make_ledger();
    const uint32_t s = ledger->new_store();
    const uint32_t a = ledger->new_frame(s, 0);
    EXPECT_EQ(ledger->unref(a).store, kNoEntry);  // owner alive
    EXPECT_EQ(ledger->owner_gone(s).store, s);
    EXPECT_EQ(ledger->stores_in_use(), 0u);  // its entry is free again
}

TEST(CowLedger, FreedFramesAreReused) {
    auto ledger = make_ledger();
    const uint32_t a = ledger->new_frame(kNoEntry, 1);
    const uint32_t b = ledger->new_frame(kNoEntry, 2);
    (void)ledger->unref(a);
    EXPECT_EQ(ledger->new_frame(kNoEntry, 3), a);
    EXPECT_NE(b, a);
}

TEST(CowLedger, FramesRunOut) {
    auto ledger = make_ledger();
    for (uint32_t i = 0; i < CowLedger::kFrames; ++i) {
        ASSERT_NE(ledger->new_frame(kNoEntry, i + 1), kNoEntry);
    }
    EXPECT_EQ(ledger->new_frame(kNoEntry, 1), kNoEntry);
    (void)ledger->unref(7);
    EXPECT_EQ(ledger->new_frame(kNoEntry, 1), 7u);
}

TEST(CowLedger, PageRangesDoNotOverlapAndComeBack) {
    auto ledger = make_ledger();
    std::set<uint32_t> taken;
    const uint32_t sizes[] = {1, 5, 100, 4096, 3, 17};
    uint32_t firsts[6] = {};
    for (int i = 0; i < 6; ++i) {
        firsts[i] = ledger->allocate_pages(sizes[i]);
        ASSERT_NE(firsts[i], kNoEntry);
        for (uint32_t p = 0; p < sizes[i]; ++p) {
            EXPECT_TRUE(taken.insert(firsts[i] + p).second) << "page " << firsts[i] + p;
            EXPECT_LT(firsts[i] + p, CowLedger::kPages);
        }
    }
    for (int i = 0; i < 6; ++i) {
        ledger->free_pages(firsts[i], sizes[i]);
    }
    EXPECT_EQ(ledger->pages_in_use(), 0u);
    // Everything is back: the whole table in one range.
    const uint32_t all = ledger->allocate_pages(CowLedger::kPages);
    EXPECT_EQ(all, 0u);
    EXPECT_EQ(ledger->allocate_pages(1), kNoEntry);
    EXPECT_EQ(ledger->allocate_pages(CowLedger::kPages + 1), kNoEntry);
}

TEST(CowLedger, PageRecordsKeepBookkeepingSlots) {
    // Slot i of bookkeeping node k is CapPtr(k << 51 | i); the creator's own slots are node 0.
    for (const uint64_t node : {uint64_t{0}, uint64_t{1}, uint64_t{8191}}) {
        for (const uint64_t index : {uint64_t{0}, uint64_t{7}, (uint64_t{1} << 19) - 1}) {
            const uint64_t slot = node << 51 | index;
            const CowPage p = CowPage::make(slot, 0xabcdef, true, false, 3);
            EXPECT_EQ(p.slot(), slot);
            EXPECT_EQ(p.frame, 0xabcdefu);
            EXPECT_EQ(p.own, 1u);
            EXPECT_EQ(p.large, 0u);
            EXPECT_EQ(p.rights, 3u);
        }
    }
}

TEST(CowLedger, StoresRunOut) {
    auto ledger = make_ledger();
    for (uint32_t i = 0; i < CowLedger::kStores; ++i) {
        ASSERT_NE(ledger->new_store(), kNoEntry);
    }
    EXPECT_EQ(ledger->new_store(), kNoEntry);
}

}  // namespace
}  // namespace tessera::pd

namespace tessera::pd {
namespace {

// A chunk (the block a PD's copies come from) is a store with a block: released, block and
// all, when its PD stops making copies from it and none of its frames is mapped any more.
TEST(CowLedger, ChunkGoesWithItsLastFrameOnceRetired) {
    auto ledger = std::make_unique<CowLedger>();
    const uint32_t chunk = ledger->new_store(0x55);
    const uint32_t a = ledger->new_frame(chunk, 0);
    const uint32_t b = ledger->new_frame(chunk, 0);
    EXPECT_TRUE(ledger->is_copy(a));
    ledger->ref(b);                                  // b shared with a fork
    EXPECT_EQ(ledger->unref(a).block, 0u);           // still the current chunk
    EXPECT_EQ(ledger->owner_gone(chunk).block, 0u);  // retired, b still mapped
    EXPECT_EQ(ledger->unref(b).block, 0u);
    const Release last = ledger->unref(b);
    EXPECT_EQ(last.block, 0x55u);
    EXPECT_EQ(last.store, kNoEntry);  // nothing for the builder to release but the block
    EXPECT_EQ(ledger->stores_in_use(), 0u);
    const uint32_t image = ledger->new_store();
    EXPECT_FALSE(ledger->is_copy(ledger->new_frame(image, 0)));
}

}  // namespace
}  // namespace tessera::pd
