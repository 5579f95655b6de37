// SlotAllocator against a plain model (a vector of flags): lowest-first single slots, runs that
// are the lowest fitting run, frees in any order, and the edges of words and of the CNode.
#include "alloc/slot_allocator.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <random>
#include <vector>

namespace tessera {
namespace {

constexpr uint64_t kSlots = SlotAllocator::kMaxSlots;

struct Model {
    std::vector<bool> free = std::vector<bool>(kSlots, false);

    uint64_t allocate() {
        for (uint64_t s = 1; s < kSlots; ++s) {
            if (free[s]) {
                free[s] = false;
                return s;
            }
        }
        return 0;
    }
    uint64_t allocate_run(uint64_t count) {
        uint64_t run = 0;
        for (uint64_t s = 1; s < kSlots && count > 0; ++s) {
            run = free[s] ? run + 1 : 0;
            if (run == count) {
                for (uint64_t t = s + 1 - count; t <= s; ++t) {
                    free[t] = false;
                }
                return s + 1 - count;
            }
        }
        return 0;
    }
};

TEST(SlotAllocator, LowestFirstAndSlotZeroNeverFree) {
    auto a = std::make_unique<SlotAllocator>();
    a->init(0, 10);
    EXPECT_EQ(a->free_count(), 9u);
    EXPECT_EQ(a->allocate(), 1u);
    EXPECT_EQ(a->allocate(), 2u);
    a->free(1);
    a->free(1);  // twice is once
    EXPECT_EQ(a->free_count(), 8u);
    EXPECT_EQ(a->allocate(), 1u);
    a->free(0);
    a->free(kSlots);  // out of range: ignored
    EXPECT_EQ(a->free_count(), 7u);
}

TEST(SlotAllocator, RunsAcrossWordsAndUpToTheEnd) {
    auto a = std::make_unique<SlotAllocator>();
    a->init(60, kSlots);
    EXPECT_EQ(a->allocate_run(10), 60u);  // crosses from word 0 into word 1
    EXPECT_EQ(a->allocate_run(200), 70u);
    EXPECT_EQ(a->allocate(), 270u);
    a->free(100);
    a->free(101);
    EXPECT_EQ(a->allocate_run(3), 271u);  // 100..101 is too short
    EXPECT_EQ(a->allocate_run(2), 100u);
    const uint64_t left = a->free_count();
    EXPECT_EQ(a->allocate_run(left + 1), 0u);
    EXPECT_EQ(a->allocate_run(left), kSlots - left);  // exactly the rest, to the last slot
    EXPECT_EQ(a->free_count(), 0u);
    EXPECT_EQ(a->allocate(), 0u);
    EXPECT_EQ(a->allocate_run(1), 0u);
    EXPECT_EQ(a->allocate_run(0), 0u);
    a->free(kSlots - 1);
    EXPECT_EQ(a->allocate_run(1), kSlots - 1);
}

TEST(SlotAllocator, RandomOperationsMatchTheModel) {
    std::mt19937_64 random(7);
    auto a = std::make_unique<SlotAllocator>();
    Model m;
    a->init(5, kSlots);
    for (uint64_t s = 5; s < kSlots; ++s) {
        m.free[s] = true;
    }
    std::vector<uint64_t> held;
    for (int step = 0; step < 4000; ++step) {
        const unsigned op = static_cast<unsigned>(random() % 10);
        if (op < 3) {
            uint64_t s = a->allocate();
            ASSERT_EQ(s, m.allocate()) << step;
            if (s != 0) {
                held.push_back(s);
            }
        } else if (op < 6) {
            uint64_t count = 1 + random() % (op == 5 ? 300 : 70);
            uint64_t first = a->allocate_run(count);
            ASSERT_EQ(first, m.allocate_run(count)) << step << " count " << count;
            for (uint64_t i = 0; first != 0 && i < count; ++i) {
                held.push_back(first + i);
            }
        } else if (!held.empty()) {
            size_t i = random() % held.size();
            a->free(held[i]);
            m.free[held[i]] = true;
            held[i] = held.back();
            held.pop_back();
        }
        ASSERT_EQ(a->free_count(), kSlots - 5 - held.size()) << step;
    }
    for (uint64_t s = 0; s < kSlots; ++s) {
        ASSERT_EQ(a->is_free(s), m.free[s]) << s;
    }
}

}  // namespace
}  // namespace tessera
