// Builds a LoadPlan from a validated ElfFile and computes its pages on demand.
// Invariant: nothing reaches the plan unless every cross-segment check has passed.
#include "elf/load_plan.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "base/bits.hpp"

namespace tessera::elf {
namespace {

constexpr Rights kWriteExecute = Rights::kWrite | Rights::kExecute;

Rights rights_of(uint32_t flags) {
    Rights rights = Rights::kRead;
    if ((flags & kFlagWrite) != 0) {
        rights |= Rights::kWrite;
    }
    if ((flags & kFlagExecute) != 0) {
        rights |= Rights::kExecute;
    }
    return rights;
}

uint64_t page_of(uint64_t address) {
    return align_down(address, kPageSize);
}

// Inserts s keeping segments sorted by vaddr (at most kMaxSegments, so insertion sort is fine).
void insert_sorted(LoadPlan& plan, const Segment& s) {
    size_t i = plan.segment_count;
    while (i > 0 && plan.segments[i - 1].vaddr > s.vaddr) {
        plan.segments[i] = plan.segments[i - 1];
        --i;
    }
    plan.segments[i] = s;
    ++plan.segment_count;
}

// Sorted segments are disjoint iff each starts at or after the previous one's end.
Result<void, ElfError> check_disjoint(const LoadPlan& plan) {
    for (size_t i = 1; i < plan.segment_count; ++i) {
        if (plan.segments[i].vaddr < plan.segments[i - 1].end()) {
            return fail(ElfError::kOverlappingSegments);
        }
    }
    return {};
}

// Counts distinct pages and checks the rights of pages that several segments share. Disjoint
// sorted segments can only share the last page of one with the first page of the next, but a
// run of small segments may all share one page, so the rights accumulate along the run.
Result<uint64_t, ElfError> count_pages(const LoadPlan& plan) {
    uint64_t pages = 0;
    uint64_t previous_last = 0;  // 0 is never a mapped page (kUserBase > 0)
    Rights previous_rights = Rights::kNone;
    for (const Segment& s : plan.segment_list()) {
        const uint64_t first = page_of(s.vaddr);
        const uint64_t last = page_of(s.end() - 1);
        uint64_t count = (last - first) / kPageSize + 1;
        Rights first_rights = s.rights;
        if (first == previous_last) {
            first_rights |= previous_rights;
            if (has(first_rights, kWriteExecute)) {
                return fail(ElfError::kWriteExecutePage);
            }
            --count;
        }
        previous_rights = last == first ? first_rights : s.rights;
        previous_last = last;
        pages += count;  // below 2^35: every page is under kUserTop
    }
    return pages;
}

// The TLS image is copied from memory by the runtime, so it must be file-backed loaded bytes,
// and the same bytes as at its own file offset.
Result<void, ElfError> check_tls(const LoadPlan& plan, const TlsTemplate& tls) {
    if (tls.filesz == 0) {
        return {};
    }
    for (const Segment& s : plan.segment_list()) {
        if (tls.vaddr < s.vaddr || tls.vaddr - s.vaddr > s.filesz ||
            tls.filesz > s.filesz - (tls.vaddr - s.vaddr)) {
            continue;
        }
        if (tls.offset == s.offset + (tls.vaddr - s.vaddr)) {
            return {};
        }
    }
    return fail(ElfError::kTlsOutsideSegments);
}

Result<void, ElfError> check_entry(const LoadPlan& plan) {
    bool executable = false;
    for (const Segment& s : plan.segment_list()) {
        if (has(s.rights, Rights::kExecute) && plan.entry >= s.vaddr && plan.entry < s.end()) {
            executable = true;
        }
    }
    if (!executable) {
        return fail(ElfError::kEntryNotExecutable);
    }
    if (plan.entry % 4 != 0) {
        return fail(ElfError::kMisalignedEntry);
    }
    return {};
}

}  // namespace

const char* to_string(Rights rights) {
    static constexpr const char* kNames[8] = {"---", "r--", "-w-", "rw-",
                                              "--x", "r-x", "-wx", "rwx"};
    return kNames[static_cast<uint8_t>(rights) & 7];
}

Result<LoadPlan, ElfError> make_load_plan(const ElfFile& elf) {
    LoadPlan plan;
    plan.entry = elf.entry();
    elf.for_each_program_header([&](const ProgramHeader& ph) {
        switch (ph.type) {
            case kSegmentLoad:
                // An empty PT_LOAD maps nothing; parse() still checked its fields.
                if (ph.memsz != 0) {
                    insert_sorted(plan, Segment{ph.vaddr, ph.memsz, ph.offset, ph.filesz, ph.align,
                                                rights_of(ph.flags)});
                }
                break;
            case kSegmentTls:
                plan.tls = TlsTemplate{ph.vaddr, ph.offset, ph.filesz, ph.memsz, ph.align};
                break;
            case kSegmentGnuStack:
                plan.has_stack_header = true;
                plan.stack_size = ph.memsz;
                break;
            default:
                break;
        }
    });
    TRY(check_disjoint(plan));
    plan.page_count = TRY(count_pages(plan));
    if (plan.tls.has_value()) {
        TRY(check_tls(plan, *plan.tls));
    }
    TRY(check_entry(plan));
    return plan;
}

Result<LoadPlan, ElfError> make_load_plan(std::span<const uint8_t> file) {
    const ElfFile elf = TRY(ElfFile::parse(file));
    return make_load_plan(elf);
}

bool next_page(const LoadPlan& plan, uint64_t address, PagePlan& out) {
    if (address >= kUserTop) {
        return false;
    }
    uint64_t page = page_of(address);
    // Segments are sorted and disjoint, so their ends are sorted too: the first one ending
    // above page is the lowest that can touch it or any later page.
    size_t first = 0;
    while (first < plan.segment_count && plan.segments[first].end() <= page) {
        ++first;
    }
    if (first == plan.segment_count) {
        return false;
    }
    if (plan.segments[first].vaddr > page) {
        page = page_of(plan.segments[first].vaddr);
    }
    const uint64_t page_end = page + kPageSize;
    out.address = page;
    out.rights = Rights::kNone;
    out.copy_count = 0;
    for (size_t i = first; i < plan.segment_count && plan.segments[i].vaddr < page_end; ++i) {
        const Segment& s = plan.segments[i];
        out.rights |= s.rights;
        const uint64_t low = s.vaddr > page ? s.vaddr : page;
        const uint64_t file_end = s.vaddr + s.filesz;
        const uint64_t high = file_end < page_end ? file_end : page_end;
        if (low < high) {
            out.copies[out.copy_count++] =
                CopyRange{static_cast<uint32_t>(low - page), static_cast<uint32_t>(high - low),
                          s.offset + (low - s.vaddr)};
        }
    }
    return true;
}

uint64_t zero_run_end(const LoadPlan& plan, const PagePlan& page) {
    const uint64_t next = page.address + kPageSize;
    if (!page.all_zero()) {
        return next;
    }
    for (const Segment& s : plan.segment_list()) {
        // Pages wholly inside s, after its file part, are zero and touched by s alone.
        if (s.vaddr <= page.address && page.address < s.end()) {
            const uint64_t run_end = page_of(s.end());
            return run_end > next ? run_end : next;
        }
    }
    return next;
}

uint64_t uniform_run_end(const LoadPlan& plan, const PagePlan& page) {
    if (page.all_zero()) {
        return zero_run_end(plan, page);
    }
    const uint64_t next = page.address + kPageSize;
    if (page.copy_count != 1 || page.copies[0].page_offset != 0 ||
        page.copies[0].length != kPageSize) {
        return next;
    }
    for (const Segment& s : plan.segment_list()) {
        // A whole page of file bytes lies in s's file part alone, as do the following pages
        // up to the last one the file part fills.
        if (s.vaddr <= page.address && page.address < s.end()) {
            const uint64_t run_end = page_of(s.vaddr + s.filesz);
            return run_end > next ? run_end : next;
        }
    }
    return next;
}

}  // namespace tessera::elf
