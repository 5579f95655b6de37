// Runs and groups of an image's pages (pd/image_runs.hpp).
#include "pd/image_runs.hpp"

namespace tessera::pd {
namespace {

uint64_t map_rights_key(elf::Rights rights) {
    return static_cast<uint64_t>(rights);
}

}  // namespace

ImageRunCursor::ImageRunCursor(const elf::LoadPlan& plan, uint64_t from) : plan_(plan) {
    more_ = elf::next_page(plan_, from, page_);
}

bool ImageRunCursor::next(uint64_t limit, ImageRun& run) {
    if (limit == 0 || !more_) {
        return false;
    }
    const uint64_t start = page_.address;
    const uint64_t in_table = pages_left_in_table(start);
    limit = limit < in_table ? limit : in_table;
    run = ImageRun{start, 0, page_.rights | elf::Rights::kRead, !page_.all_zero()};
    // Whole stretches of one segment at a time; a page-by-page walk elsewhere.
    elf::PagePlan& page = page_;
    for (;;) {
        const uint64_t stretch = (elf::uniform_run_end(plan_, page) - page.address) / kSmallPage;
        run.count += stretch < limit - run.count ? stretch : limit - run.count;
        more_ = elf::next_page(plan_, run.end(), page);  // the next run's first page
        if (run.count == limit || !more_ || page.address != run.end() ||
            map_rights_key(page.rights | elf::Rights::kRead) != map_rights_key(run.rights) ||
            page.all_zero() == run.filled) {
            return true;
        }
    }
}

bool RunGroup::accepts(const ImageRun& run, uint64_t first_frame) const {
    if (count_ == 0) {
        return true;
    }
    const Member& last = members_[count_ - 1];
    if (count_ == kMaxRuns || first_frame != last.first_frame + last.run.count) {
        return false;
    }
    if (!run.filled || low_ == 0) {
        return true;
    }
    return first_frame + run.count - low_ <= kMaxWindowFrames;
}

void RunGroup::add(const ImageRun& run, uint64_t first_frame) {
    members_[count_++] = Member{run, first_frame};
    if (run.filled) {
        low_ = low_ == 0 ? first_frame : low_;
        high_ = first_frame + run.count;
    }
}

}  // namespace tessera::pd
