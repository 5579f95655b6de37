// Copy-on-write inside the PD builder: numbering a PD's private pages, and letting go of an
// image whose pages forks may still map. Invariant (with pd/cow_ledger.hpp): a frame or an image
// budget is released exactly when no PD maps any page of it any more.
#pragma once

#include <cstdint>

#include "tessera/pd_builder.hpp"

namespace tessera {

// Private pages of the runs (a 2 MiB page counts once).
uint64_t private_pages(const PageRuns& runs);

// The private page holding address: its number and the run it is in (false: none).
struct PrivatePage {
    uint64_t number = 0;
    uint64_t va = 0;  // of the page
    const PageRun* run = nullptr;
};
bool find_private_page(const PageRuns& runs, uint64_t address, PrivatePage& out);

// Releases an image whose VSpace is gone: its pages' references (the frames nobody maps any more
// go), the budget of its copies' slots, and the image budget itself, or keeps it as a store while
// forks map frames of it. `image` and `cow` are empty after.
void release_image(BuilderEnvironment& env, Budget& image, CowState& cow);

}  // namespace tessera
