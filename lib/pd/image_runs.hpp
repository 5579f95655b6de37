// How the PD builder loads an ELF image in few system calls: the image's pages cut into runs
// (consecutive pages with one set of rights, all filled from the file or all zero, inside one
// last-level table, on consecutive frames), and the runs gathered into groups whose filled pages
// are mapped into the creator's scratch window together, filled, and unmapped with one call each
// way. Pure planning over the load plan, host-tested; the builder supplies the frames and makes
// the calls. Invariant: the runs of an image cover each of its pages exactly once, in address
// order, and the copies of a run write exactly the file bytes the load plan gives its pages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "elf/load_plan.hpp"
#include "pd/pd_layout.hpp"

namespace tessera::pd {

struct ImageRun {
    uint64_t address = 0;
    uint64_t count = 0;  // pages
    elf::Rights rights = elf::Rights::kNone;
    bool filled = false;  // false: every page is zero

    [[nodiscard]] uint64_t end() const { return address + count * kSmallPage; }
};

// Pages from `address` to the end of the last-level table that maps it: a run mapped with one
// call stays inside one table.
constexpr uint64_t pages_left_in_table(uint64_t address) {
    return (kLargePage - (address & (kLargePage - 1))) / kSmallPage;
}

// Walks the image's runs in address order: each next() is the run that starts at the first
// page not yet covered, at most `limit` pages long (limit > 0: the frames left in the builder's
// current batch). The page after a run is found while the run is measured and kept for the next.
class ImageRunCursor {
  public:
    // From the first page of the image at or above `from`.
    explicit ImageRunCursor(const elf::LoadPlan& plan, uint64_t from = 0);
    // False when no page is left (or limit is 0).
    bool next(uint64_t limit, ImageRun& run);

  private:
    const elf::LoadPlan& plan_;
    elf::PagePlan page_;
    bool more_ = false;
};

// The copies that fill a filled run's pages, in address order: f(offset in the run, file offset,
// length). Whole file pages of one segment come as one copy. Bytes no copy covers stay zero.
template <typename F>
void for_each_run_copy(const elf::LoadPlan& plan, const ImageRun& run, F&& f) {
    elf::PagePlan page;
    const uint64_t end = run.end();
    for (uint64_t at = run.address; at < end;) {
        if (!elf::next_page(plan, at, page) || page.address != at) {
            return;  // not a run of this plan
        }
        const uint64_t offset = at - run.address;
        uint64_t stretch_end = elf::uniform_run_end(plan, page);
        stretch_end = stretch_end < end ? stretch_end : end;
        if (stretch_end > at + kSmallPage && !page.all_zero()) {
            f(offset, page.copies[0].file_offset, stretch_end - at);
        } else {
            for (const elf::CopyRange& c : page.copy_ranges()) {
                f(offset + c.page_offset, c.file_offset, uint64_t{c.length});
            }
            stretch_end = at + kSmallPage;
        }
        at = stretch_end;
    }
}

// Runs filled through one mapping of the scratch window: their frames are consecutive creator
// slots (the window maps the span from the first filled frame to the last with one call).
class RunGroup {
  public:
    static constexpr size_t kMaxRuns = 16;
    static constexpr uint64_t kMaxWindowFrames = 256;  // the window spans at most one table
    static constexpr uint64_t kLongZeroRun = 16;       // pages: not worth a place in the window

    struct Member {
        ImageRun run;
        uint64_t first_frame = 0;  // creator slot of the run's first frame
    };

    // Whether a run on frames from first_frame can join (else the group is flushed first).
    [[nodiscard]] bool accepts(const ImageRun& run, uint64_t first_frame) const;
    void add(const ImageRun& run, uint64_t first_frame);
    // A long zero run closes its group: later filled runs get a window of their own.
    [[nodiscard]] static bool closes_after(const ImageRun& run) {
        return !run.filled && run.count >= kLongZeroRun;
    }
    // The frames the window maps: [window_low, window_high) (empty when nothing is filled).
    [[nodiscard]] uint64_t window_low() const { return low_; }
    [[nodiscard]] uint64_t window_high() const { return high_; }
    [[nodiscard]] std::span<const Member> members() const {
        return std::span<const Member>(members_, count_);
    }
    void clear() {  // only the count: members past it are never read
        count_ = 0;
        low_ = 0;
        high_ = 0;
    }

  private:
    Member members_[kMaxRuns] = {};
    size_t count_ = 0;
    uint64_t low_ = 0;
    uint64_t high_ = 0;
};

}  // namespace tessera::pd
