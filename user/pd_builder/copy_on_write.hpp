// Copy-on-write inside the PD builder: numbering a PD's private pages, and letting go of an
// image whose pages forks may still map. Invariant (with pd/cow_ledger.hpp): a frame or an image
// budget is released exactly when no PD maps any page of it any more.
#pragma once

#include <cstdint>

#include "base/result.hpp"
#include "pd/build_error.hpp"
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

// Copies of pages come from chunks: blocks of the creator's memory that a PD's 4 KiB copies are
// made from one after another (each chunk a ledger store, released with its last frame once the
// PD has moved on to the next), so a copy costs a share of one allocation and no memory is lost
// to the allocator's smallest block; 2 MiB copies take a block each.
constexpr unsigned kChunkBits = 16;  // 64 KiB: 16 frames
constexpr uint32_t kChunkFrames = uint32_t{1} << (kChunkBits - abi::kPageSizeBits);

// A frame for a copy of one of the PD's pages, made at `slot` (the creator's or a bookkeeping
// slot); its ledger frame, referenced once. On failure nothing is made.
Result<uint32_t, SpawnError> make_copy_frame(BuilderEnvironment& env, CowState& cow, bool large,
                                             uint64_t slot);
// Drops one reference to a frame, releasing what that leaves unused.
void drop_frame(BuilderEnvironment& env, uint32_t frame);
// The PD makes no more copies from its current chunk (it ends, or is re-imaged).
void retire_chunk(BuilderEnvironment& env, CowState& cow);

// Releases an image whose VSpace is gone: its pages' references (the frames nobody maps any more
// go), the budget of its copies' slots, and the image budget itself, or keeps it as a store while
// forks map frames of it. `image` and `cow` are empty after.
void release_image(BuilderEnvironment& env, Budget& image, CowState& cow);

}  // namespace tessera
