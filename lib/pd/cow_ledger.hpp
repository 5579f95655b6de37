// The ledger of copy-on-write sharing a creator keeps for the PDs it forks: for each forked PD a
// range of page records (which frame backs each private page, whether the PD owns it writable
// or shares it read-only), for each shared frame how many PDs map it, and for each store (an
// image budget whose PD is gone or re-imaged while forks still map its frames) how many of its
// frames are still mapped. Pure bookkeeping with no system calls: it says what to release
// (a frame's own block, a store) and the PD builder does it, so every rule is tested on the host.
//
// Invariants: a frame's refs count the PDs whose page records name it; a frame lies in a store
// (the image budget it was made in, or the chunk a PD's copies are made from) or in a block of
// its own (a 2 MiB copy); a store is released exactly when its owner (the PD, or for a chunk the
// PD while it still makes copies from it) is gone and none of its frames is mapped.
#pragma once

#include <cstddef>
#include <cstdint>

#include "alloc/buddy_tree.hpp"

namespace tessera::pd {

constexpr uint32_t kNoEntry = UINT32_MAX;

// One private page of a forked PD, in 8 bytes (the ledger holds tens of thousands).
struct CowPage {
    // The capability that maps it: a slot of the creator's bookkeeping space (node k, index i:
    // CapPtr(k << 51 | i)), kept as k << 19 | i.
    uint32_t packed_slot = 0;
    uint32_t frame : 24 = 0;  // its shared frame
    uint32_t own : 1 = 0;     // mapped writable: nobody else maps the frame
    uint32_t large : 1 = 0;   // a 2 MiB page
    uint32_t rights : 3 = 0;  // its rights when writable (abi::kMap* bits)

    static constexpr unsigned kNodeShift = 51;
    static constexpr unsigned kIndexBits = 19;
    [[nodiscard]] uint64_t slot() const {
        return (uint64_t{packed_slot >> kIndexBits} << kNodeShift) |
               (packed_slot & ((1u << kIndexBits) - 1));
    }
    void set_slot(uint64_t slot) {
        packed_slot = static_cast<uint32_t>(((slot >> kNodeShift) << kIndexBits) |
                                            (slot & ((uint64_t{1} << kIndexBits) - 1)));
    }
    static CowPage make(uint64_t slot, uint32_t frame, bool own, bool large, uint64_t rights) {
        CowPage p;
        p.set_slot(slot);
        p.frame = frame;
        p.own = own ? 1 : 0;
        p.large = large ? 1 : 0;
        p.rights = static_cast<uint32_t>(rights & 7);
        return p;
    }
};
static_assert(sizeof(CowPage) == 8, "the ledger's page records stay small");

// What dropping a reference leaves to release: a frame's own block, and a store (kNoEntry: none).
struct Release {
    uint64_t block = 0;
    uint32_t store = kNoEntry;
};

class CowLedger {
  public:
    static constexpr unsigned kUnitBits = 2;  // page records come in ranges of 4
    // 65,536 pages (256 MiB of forked private memory) and frames, 8 bytes each: a creator
    // keeps the ledger (about 1 MiB) for good.
    static constexpr unsigned kDepth = 14;
    static constexpr uint32_t kPages = uint32_t{1} << (kDepth + kUnitBits);
    static constexpr uint32_t kFrames = 65536;
    static constexpr uint32_t kStores = 2048;

    // A range of `count` page records (kNoEntry: no room); free_pages returns it.
    uint32_t allocate_pages(uint32_t count);
    void free_pages(uint32_t first, uint32_t count);
    CowPage& page(uint32_t i) { return pages_[i]; }
    [[nodiscard]] const CowPage& page(uint32_t i) const { return pages_[i]; }

    // A frame mapped by one PD, lying in `store` (kNoEntry: in `block`, a block of its own).
    uint32_t new_frame(uint32_t store, uint64_t block);
    void ref(uint32_t frame);
    [[nodiscard]] uint32_t refs(uint32_t frame) const { return frames_[frame].refs; }
    // The frame's own block (0: it lies in a store).
    [[nodiscard]] uint64_t block_of(uint32_t frame) const {
        return frames_[frame].store == 0 ? frames_[frame].block : 0;
    }
    // The store the frame lies in (kNoEntry: a block of its own).
    [[nodiscard]] uint32_t store_of(uint32_t frame) const { return frames_[frame].store - 1; }
    // An image budget kept only because forks still map frames of it (its PD is gone).
    [[nodiscard]] bool orphaned_image(uint32_t store) const {
        return store < kStores && stores_[store].used && !stores_[store].owner_alive &&
               stores_[store].block == 0;
    }
    // Whether the frame is a copy (in a block of its own or a chunk), not an image's frame.
    [[nodiscard]] bool is_copy(uint32_t frame) const {
        const uint32_t s = frames_[frame].store;
        return s == 0 || stores_[s - 1].block != 0;
    }
    // Drops one PD's reference; at the last, the frame goes and with it its block, or its
    // store's last mapped frame (the store is released if its owner is gone too).
    Release unref(uint32_t frame);

    // A store whose owner is alive (kNoEntry: no room): an image budget, or with `block` a
    // chunk (a block of the creator's own that a PD's copies are made from, one after another).
    uint32_t new_store(uint64_t block = 0);
    // The owner is gone (ended or re-imaged): the store is released now if no frame of it is
    // mapped, else with its last frame.
    Release owner_gone(uint32_t store);
    [[nodiscard]] uint32_t store_frames(uint32_t store) const { return stores_[store].frames; }

    [[nodiscard]] uint32_t frames_in_use() const { return frames_used_; }
    [[nodiscard]] uint32_t stores_in_use() const { return stores_used_; }
    [[nodiscard]] uint32_t pages_in_use() const { return pages_used_; }

  private:
    struct Frame {
        uint32_t block = 0;  // a slot of the creator's own CNode
        uint32_t store = 0;  // index + 1 (0: its own block); unused: links the free list
        uint32_t refs = 0;   // 0: unused
    };
    struct Store {
        uint32_t frames = 0;  // its frames still mapped
        uint32_t block = 0;   // a chunk's block (0: an image budget)
        bool used = false;
        bool owner_alive = false;
    };
    Release released(uint32_t store);
    struct NoBackend {
        static bool split(size_t /*node*/, unsigned /*order*/) { return true; }
        static void merge(size_t /*node*/) {}
    };

    bool ready_ = false;  // zero-initialized state is valid: set up on first use
    void ready();

    alloc::BuddyTree<kDepth> ranges_;
    CowPage pages_[kPages];
    Frame frames_[kFrames];
    Store stores_[kStores];
    uint32_t store_hint_ = 0;  // where the search for a free store starts
    uint32_t next_frame_ = 0;  // frames never used start here; freed ones are on the list
    uint32_t free_frame_ = 0;  // index + 1 of the first freed frame (0: none)
    uint32_t frames_used_ = 0;
    uint32_t stores_used_ = 0;
    uint32_t pages_used_ = 0;
};

}  // namespace tessera::pd
