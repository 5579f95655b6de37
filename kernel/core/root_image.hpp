// The root task as linked into the kernel image: a header written at build time by
// tools/mkrootimage (entry point and loadable segments) followed by the program's bytes.
// The kernel copies segments into frames; it never parses an executable format itself.
#pragma once

#include <cstdint>

namespace tessera {

constexpr uint64_t kRootImageMagic = 0x31474d49544f4f52;  // "ROOTIMG1"
constexpr unsigned kRootImageMaxSegments = 8;

enum RootSegmentFlags : uint64_t {
    kRootSegmentExecute = 1,
    kRootSegmentWrite = 2,
    kRootSegmentRead = 4,
};

struct RootImageSegment {
    uint64_t address;      // user virtual address (page aligned)
    uint64_t memory_size;  // bytes in memory (the rest after file_size is zero)
    uint64_t file_size;    // bytes taken from the image
    uint64_t offset;       // of the bytes, from the start of the header
    uint64_t flags;        // RootSegmentFlags
};

struct RootImageHeader {
    uint64_t magic;
    uint64_t entry;
    uint64_t segment_count;
    uint64_t total_size;  // header plus data
    RootImageSegment segments[kRootImageMaxSegments];
};

static_assert(sizeof(RootImageSegment) == 40);
static_assert(sizeof(RootImageHeader) == 32 + 40 * kRootImageMaxSegments);

}  // namespace tessera
