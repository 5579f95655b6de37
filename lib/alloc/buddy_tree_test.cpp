// Host tests for the buddy tree: exact sizes, splitting only as far as needed, reuse without
// re-splitting, merging back to a whole region in any free order (lazily: on demand or on
// compact), exhaustion, and a backend failure leaving a usable tree.
#include "alloc/buddy_tree.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <vector>

namespace tessera::alloc {
namespace {

// Records live halves like the untyped backend's slots would be.
struct FakeBackend {
    std::set<size_t> live = {0};
    int splits_left = 1 << 30;
    bool split(size_t node, unsigned /*order*/) {
        if (splits_left-- <= 0) {
            return false;
        }
        EXPECT_TRUE(live.count(node));
        live.insert(2 * node + 1);
        live.insert(2 * node + 2);
        return true;
    }
    void merge(size_t node) {
        EXPECT_TRUE(live.count(2 * node + 1));
        EXPECT_TRUE(live.count(2 * node + 2));
        live.erase(2 * node + 1);
        live.erase(2 * node + 2);
    }
};

using Tree = BuddyTree<6>;

TEST(BuddyTree, SplitsOnlyAsFarAsNeeded) {
    Tree tree;
    FakeBackend backend;
    ASSERT_TRUE(tree.init(20, 14));
    size_t a = tree.allocate(18, backend);
    ASSERT_NE(a, Tree::kNone);
    EXPECT_EQ(tree.order_of(a), 18u);
    EXPECT_EQ(backend.live.size(), 5u);  // root, its halves, and one half split once more
    EXPECT_EQ(tree.free_bytes(), (1u << 20) - (1u << 18));
    size_t b = tree.allocate(18, backend);  // the buddy, no new split
    EXPECT_EQ(b, a + 1);
    EXPECT_EQ(backend.live.size(), 5u);
}

TEST(BuddyTree, FreeingInAnyOrderMakesItWhole) {
    std::mt19937 random(7);
    for (int round = 0; round < 50; ++round) {
        Tree tree;
        FakeBackend backend;
        ASSERT_TRUE(tree.init(20, 14));
        std::vector<size_t> blocks;
        for (int i = 0; i < 40; ++i) {
            unsigned order = 14 + random() % 4;
            size_t b = tree.allocate(order, backend);
            if (b != Tree::kNone) {
                EXPECT_TRUE(tree.is_allocated(b));
                blocks.push_back(b);
            }
        }
        // Blocks never overlap: no allocated block has an allocated ancestor.
        for (size_t b : blocks) {
            for (size_t n = b; n != 0;) {
                n = (n - 1) / 2;
                EXPECT_FALSE(tree.is_allocated(n));
            }
        }
        std::shuffle(blocks.begin(), blocks.end(), random);
        for (size_t b : blocks) {
            tree.free(b, backend);
        }
        EXPECT_EQ(tree.free_bytes(), 1u << 20);  // all free, merged or not
        // A block of the whole region's size merges everything on demand.
        size_t all = tree.allocate(20, backend);
        EXPECT_EQ(all, 0u);
        tree.free(all, backend);
        EXPECT_TRUE(tree.whole());
        EXPECT_EQ(tree.free_bytes(), 1u << 20);
        EXPECT_EQ(backend.live, std::set<size_t>{0});
    }
}

TEST(BuddyTree, ExhaustionAndBadOrders) {
    Tree tree;
    FakeBackend backend;
    ASSERT_TRUE(tree.init(16, 14));
    for (int i = 0; i < 4; ++i) {
        EXPECT_NE(tree.allocate(14, backend), Tree::kNone);
    }
    EXPECT_EQ(tree.allocate(14, backend), Tree::kNone);
    EXPECT_EQ(tree.allocate(13, backend), Tree::kNone);  // below the minimum
    EXPECT_EQ(tree.allocate(17, backend), Tree::kNone);  // above the region
    EXPECT_FALSE(tree.init(30, 14));                     // deeper than the tree
    tree.free(12345, backend);                           // not a node: ignored
}

TEST(BuddyTree, BackendFailureKeepsTheTreeConsistent) {
    Tree tree;
    FakeBackend backend;
    ASSERT_TRUE(tree.init(20, 14));
    backend.splits_left = 2;
    EXPECT_EQ(tree.allocate(14, backend), Tree::kNone);  // needs six splits
    backend.splits_left = 1 << 30;
    size_t b = tree.allocate(14, backend);
    ASSERT_NE(b, Tree::kNone);
    tree.free(b, backend);
    EXPECT_TRUE(tree.compact(backend));
    EXPECT_TRUE(tree.whole());
}

// Freed blocks are reused as they are: a make-and-end cycle splits nothing after the first.
TEST(BuddyTree, CyclesReuseBlocksWithoutSplitting) {
    Tree tree;
    FakeBackend backend;
    ASSERT_TRUE(tree.init(20, 14));
    size_t pinned = tree.allocate(14, backend);
    ASSERT_NE(pinned, Tree::kNone);
    size_t a = tree.allocate(16, backend);
    size_t b = tree.allocate(14, backend);
    tree.free(a, backend);
    tree.free(b, backend);
    const size_t live = backend.live.size();
    int splits = 0;
    backend.splits_left = 0;  // any split now fails
    for (int i = 0; i < 100; ++i) {
        size_t x = tree.allocate(16, backend);
        size_t y = tree.allocate(14, backend);
        splits += (x == Tree::kNone || y == Tree::kNone);
        tree.free(x, backend);
        tree.free(y, backend);
    }
    EXPECT_EQ(splits, 0);
    EXPECT_EQ(backend.live.size(), live);
    EXPECT_FALSE(tree.whole());  // the pinned block
    EXPECT_EQ(tree.free_bytes(), (1u << 20) - (1u << 14));
}

// A tree with thousands of small blocks allocates at once: a free block of each order is found
// without a search (the same node comes back after a free).
TEST(BuddyTree, ManyBlocksAllocateFromTheFreeLists) {
    BuddyTree<14> tree;
    FakeBackend backend;
    ASSERT_TRUE(tree.init(26, 12));
    std::vector<size_t> blocks;
    for (int i = 0; i < 10000; ++i) {
        size_t b = tree.allocate(12, backend);
        ASSERT_NE(b, BuddyTree<14>::kNone);
        blocks.push_back(b);
    }
    tree.free(blocks[5000], backend);
    EXPECT_EQ(tree.allocate(12, backend), blocks[5000]);
    for (size_t b : blocks) {
        tree.free(b, backend);
    }
    EXPECT_TRUE(tree.compact(backend));
    EXPECT_TRUE(tree.whole());
    EXPECT_EQ(backend.live, std::set<size_t>{0});
}

}  // namespace
}  // namespace tessera::alloc
