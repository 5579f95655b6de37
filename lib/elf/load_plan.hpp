// Load plan: what an ELF image needs in a fresh address space, page by page, with no heap.
// Invariant: segments sorted, disjoint, in user space, never W+X; copies stay in file and page.
//
// Design: the plan stores up to kMaxSegments segment records (one per non-empty PT_LOAD) and
// computes pages on demand. for_each_page() yields, in address order, one PagePlan per distinct
// page: its address, the union of the rights of the segments touching it (never W+X: the plan
// is refused otherwise), and up to kMaxSegments copy ranges {page_offset, length, file_offset};
// every byte no range covers is zero. Each segment adds at most one range to a page, so the
// bound is exact and no caller has to size a page array. Pages are not stored, so a large .bss
// costs time, not memory; zero_run_end() lets a caller skip through it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <type_traits>

#include "base/result.hpp"
#include "elf/elf_reader.hpp"

namespace tessera::elf {

constexpr size_t kMaxSegments = kMaxProgramHeaders;

// Access rights of a segment or page. Every mapped page is readable.
enum class Rights : uint8_t {
    kNone = 0,
    kRead = 1,
    kWrite = 2,
    kExecute = 4,
};

constexpr Rights operator|(Rights a, Rights b) {
    return static_cast<Rights>(static_cast<uint8_t>(a) | static_cast<uint8_t>(b));
}
constexpr Rights operator&(Rights a, Rights b) {
    return static_cast<Rights>(static_cast<uint8_t>(a) & static_cast<uint8_t>(b));
}
constexpr Rights& operator|=(Rights& a, Rights b) {
    a = a | b;
    return a;
}
// True if set includes every right in wanted.
constexpr bool has(Rights set, Rights wanted) {
    return (set & wanted) == wanted;
}

// "r--", "rw-", "r-x", ... (three characters, like ls). Never null.
const char* to_string(Rights rights);

// One non-empty PT_LOAD: [vaddr, vaddr + memsz) in memory, of which the first filesz bytes come
// from [offset, offset + filesz) in the file and the rest are zero.
struct Segment {
    uint64_t vaddr = 0;
    uint64_t memsz = 0;
    uint64_t offset = 0;
    uint64_t filesz = 0;
    uint64_t align = 0;
    Rights rights = Rights::kNone;

    // No overflow: ElfFile::parse checked vaddr + memsz <= kUserTop.
    [[nodiscard]] constexpr uint64_t end() const { return vaddr + memsz; }
};

// PT_TLS: each thread's TLS block is memsz bytes aligned to align, starting with a copy of the
// filesz-byte image at vaddr (inside a loaded segment, also at offset in the file).
struct TlsTemplate {
    uint64_t vaddr = 0;
    uint64_t offset = 0;
    uint64_t filesz = 0;
    uint64_t memsz = 0;
    uint64_t align = 0;
};

struct LoadPlan {
    uint64_t entry = 0;
    size_t segment_count = 0;
    Segment segments[kMaxSegments];  // [0, segment_count): sorted by vaddr, disjoint
    uint64_t page_count = 0;         // distinct pages for_each_page yields
    std::optional<TlsTemplate> tls;
    bool has_stack_header = false;  // a PT_GNU_STACK was present (its stack is never executable)
    uint64_t stack_size = 0;        // its p_memsz; 0: the loader's default size

    [[nodiscard]] std::span<const Segment> segment_list() const {
        return std::span<const Segment>(segments, segment_count);
    }
};

// Bytes [page_offset, page_offset + length) of a page come from file bytes starting at
// file_offset.
struct CopyRange {
    uint32_t page_offset = 0;
    uint32_t length = 0;
    uint64_t file_offset = 0;
};

struct PagePlan {
    uint64_t address = 0;
    Rights rights = Rights::kNone;
    size_t copy_count = 0;
    CopyRange copies[kMaxSegments];  // [0, copy_count): sorted by page_offset, disjoint

    [[nodiscard]] std::span<const CopyRange> copy_ranges() const {
        return std::span<const CopyRange>(copies, copy_count);
    }
    [[nodiscard]] bool all_zero() const { return copy_count == 0; }

    // Calls f(page_offset, length) for each maximal byte range no copy covers (zero fill).
    template <typename F>
    void for_each_zero_range(F&& f) const {
        uint32_t at = 0;
        for (const CopyRange& copy : copy_ranges()) {
            if (copy.page_offset > at) {
                f(at, copy.page_offset - at);
            }
            at = copy.page_offset + copy.length;
        }
        if (at < kPageSize) {
            f(at, static_cast<uint32_t>(kPageSize - at));
        }
    }
};

// Checks what relates segments to each other (overlap, shared-page W+X, TLS image inside a
// loaded segment, entry in an executable segment) and builds the plan.
Result<LoadPlan, ElfError> make_load_plan(const ElfFile& elf);
// ElfFile::parse and then the above.
Result<LoadPlan, ElfError> make_load_plan(std::span<const uint8_t> file);

// Fills out with the first mapped page at or above address; false if there is none.
bool next_page(const LoadPlan& plan, uint64_t address, PagePlan& out);

// End of a run of pages starting at page (from next_page) that are all zero with page's rights:
// page.address + kPageSize, or further when page lies in one segment's zero-filled part. Lets a
// caller (the host tool) summarise a large .bss without visiting each page.
uint64_t zero_run_end(const LoadPlan& plan, const PagePlan& page);

// End of a run of pages starting at page (from next_page) that all look like page and need no
// walk of their own: page.address + kPageSize, or further when page lies in one segment and is
// wholly zero (as zero_run_end) or wholly file bytes. A run of file pages comes from consecutive
// file bytes starting at page.copies[0].file_offset, so a loader copies it with one copy.
uint64_t uniform_run_end(const LoadPlan& plan, const PagePlan& page);

// Calls f(const PagePlan&) for each mapped page in address order. If f returns bool, false stops
// the walk (a loader that runs out of memory).
template <typename F>
void for_each_page(const LoadPlan& plan, F&& f) {
    PagePlan page;
    for (uint64_t address = 0; next_page(plan, address, page); address = page.address + kPageSize) {
        const PagePlan& view = page;
        if constexpr (std::is_same_v<std::invoke_result_t<F&, const PagePlan&>, bool>) {
            if (!f(view)) {
                return;
            }
        } else {
            f(view);
        }
    }
}

}  // namespace tessera::elf
