// The copy-on-write ledger (cow_ledger.hpp).
#include "pd/cow_ledger.hpp"

namespace tessera::pd {

void CowLedger::ready() {
    if (!ready_) {
        (void)ranges_.init(kDepth, 0);
        ready_ = true;
    }
}

uint32_t CowLedger::allocate_pages(uint32_t count) {
    ready();
    const uint32_t units = (count + (1u << kUnitBits) - 1) >> kUnitBits;
    unsigned order = 0;
    while ((uint32_t{1} << order) < (units == 0 ? 1 : units)) {
        ++order;
    }
    if (order > kDepth) {
        return kNoEntry;
    }
    NoBackend backend;
    const size_t node = ranges_.allocate(order, backend);
    if (node == decltype(ranges_)::kNone) {
        return kNoEntry;
    }
    const unsigned depth = kDepth - order;
    const size_t index = node - ((size_t{1} << depth) - 1);
    const auto first = static_cast<uint32_t>((index << order) << kUnitBits);
    for (uint32_t i = 0; i < count; ++i) {
        pages_[first + i] = CowPage{};
    }
    pages_used_ += count;
    return first;
}

void CowLedger::free_pages(uint32_t first, uint32_t count) {
    const uint32_t units = (count + (1u << kUnitBits) - 1) >> kUnitBits;
    unsigned order = 0;
    while ((uint32_t{1} << order) < (units == 0 ? 1 : units)) {
        ++order;
    }
    const unsigned depth = kDepth - order;
    const size_t node = ((size_t{1} << depth) - 1) + ((first >> kUnitBits) >> order);
    NoBackend backend;
    ranges_.free(node, backend);
    pages_used_ -= count;
}

uint32_t CowLedger::new_frame(uint32_t store, uint64_t block) {
    uint32_t f = kNoEntry;
    if (free_frame_ != 0) {
        f = free_frame_ - 1;
        free_frame_ = frames_[f].store;
    } else if (next_frame_ < kFrames) {
        f = next_frame_++;
    } else {
        return kNoEntry;
    }
    if (store == kNoEntry) {
        frames_[f] = Frame{static_cast<uint32_t>(block), 0, 1};
    } else {
        frames_[f] = Frame{0, store + 1, 1};
        ++stores_[store].frames;
    }
    ++frames_used_;
    return f;
}

void CowLedger::ref(uint32_t frame) {
    ++frames_[frame].refs;
}

Release CowLedger::released(uint32_t store) {
    Release r;
    if (stores_[store].block != 0) {
        r.block = stores_[store].block;  // a chunk: its block goes
    } else {
        r.store = store;  // an image budget: the builder releases it
    }
    stores_[store] = Store{};
    --stores_used_;
    return r;
}

Release CowLedger::unref(uint32_t frame) {
    Frame& f = frames_[frame];
    Release r;
    if (--f.refs != 0) {
        return r;
    }
    if (f.store == 0) {
        r.block = f.block;
    } else {
        const uint32_t s = f.store - 1;
        if (--stores_[s].frames == 0 && !stores_[s].owner_alive) {
            r = released(s);
        }
    }
    f = Frame{};
    f.store = free_frame_;  // on the free list
    free_frame_ = frame + 1;
    --frames_used_;
    return r;
}

uint32_t CowLedger::new_store(uint64_t block) {
    for (uint32_t k = 0; k < kStores; ++k) {
        const uint32_t s = (store_hint_ + k) % kStores;
        if (!stores_[s].used) {
            stores_[s] = Store{0, static_cast<uint32_t>(block), true, true};
            ++stores_used_;
            store_hint_ = (s + 1) % kStores;
            return s;
        }
    }
    return kNoEntry;
}

Release CowLedger::owner_gone(uint32_t store) {
    stores_[store].owner_alive = false;
    return stores_[store].frames == 0 ? released(store) : Release{};
}

}  // namespace tessera::pd
