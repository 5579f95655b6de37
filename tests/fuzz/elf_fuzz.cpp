// libFuzzer target for the ELF reader and load plan: any input either fails with an error or
// yields a plan whose segments and pages keep every invariant load_plan.hpp promises.
#include <cstddef>
#include <cstdint>
#include <span>

#include "elf/elf_reader.hpp"
#include "elf/load_plan.hpp"

namespace {

using tessera::elf::CopyRange;
using tessera::elf::ElfFile;
using tessera::elf::has;
using tessera::elf::kPageSize;
using tessera::elf::kUserBase;
using tessera::elf::kUserTop;
using tessera::elf::LoadPlan;
using tessera::elf::PagePlan;
using tessera::elf::ProgramHeader;
using tessera::elf::Rights;
using tessera::elf::Segment;

// A huge .bss is legal; the walk summarises zero runs and stops after this many steps.
constexpr unsigned kPageBudget = 2048;
constexpr unsigned kForEachBudget = 64;

volatile uint64_t g_sink;

void check(bool condition) {
    if (!condition) {
        __builtin_trap();
    }
}

// The union of the rights of every segment touching the page, computed independently.
Rights expected_rights(const LoadPlan& plan, uint64_t page) {
    Rights rights = Rights::kNone;
    for (const Segment& s : plan.segment_list()) {
        if (s.vaddr < page + kPageSize && s.end() > page) {
            rights |= s.rights;
        }
    }
    return rights;
}

uint64_t check_page(const LoadPlan& plan, const PagePlan& page, std::span<const uint8_t> file) {
    check(page.address % kPageSize == 0);
    check(page.address >= kUserBase && page.address < kUserTop);
    check(page.rights == expected_rights(plan, page.address));
    check(has(page.rights, Rights::kRead));
    check(!has(page.rights, Rights::kWrite | Rights::kExecute));
    check(page.copy_count <= plan.segment_count);
    uint64_t sum = 0;
    uint64_t covered = 0;
    uint32_t at = 0;
    for (const CopyRange& copy : page.copy_ranges()) {
        check(copy.length > 0 && copy.page_offset >= at);
        check(uint64_t{copy.page_offset} + copy.length <= kPageSize);
        check(copy.file_offset <= file.size() && copy.length <= file.size() - copy.file_offset);
        sum += file[copy.file_offset] + file[copy.file_offset + copy.length - 1];
        covered += copy.length;
        at = copy.page_offset + copy.length;
    }
    page.for_each_zero_range([&](uint32_t offset, uint32_t length) {
        check(length > 0 && uint64_t{offset} + length <= kPageSize);
        covered += length;
    });
    check(covered == kPageSize);
    return sum;
}

void check_plan(const LoadPlan& plan, std::span<const uint8_t> file) {
    bool entry_found = false;
    for (size_t i = 0; i < plan.segment_count; ++i) {
        const Segment& s = plan.segments[i];
        check(s.memsz > 0 && s.filesz <= s.memsz);
        check(s.vaddr >= kUserBase && s.end() <= kUserTop && s.end() > s.vaddr);
        check(s.filesz == 0 || (s.offset <= file.size() && s.filesz <= file.size() - s.offset));
        check(has(s.rights, Rights::kRead) && !has(s.rights, Rights::kWrite | Rights::kExecute));
        check(i == 0 || plan.segments[i - 1].end() <= s.vaddr);
        if (has(s.rights, Rights::kExecute) && plan.entry >= s.vaddr && plan.entry < s.end()) {
            entry_found = true;
        }
    }
    check(entry_found && plan.entry % 4 == 0);
    if (plan.tls.has_value()) {
        check(plan.tls->filesz <= plan.tls->memsz);
    }

    // The summarised walk: every page or zero run, in order, adding up to page_count.
    uint64_t pages = 0;
    uint64_t previous_end = 0;
    uint64_t sum = 0;
    unsigned steps = 0;
    PagePlan page;
    for (uint64_t at = 0; steps < kPageBudget && next_page(plan, at, page); ++steps) {
        check(page.address >= previous_end);
        sum += check_page(plan, page, file);
        const uint64_t end = tessera::elf::zero_run_end(plan, page);
        check(end > page.address && end % kPageSize == 0 && end <= kUserTop);
        if (end > page.address + kPageSize) {
            // Spot-check the far end of the run: same rights, still all zero.
            PagePlan last;
            check(next_page(plan, end - kPageSize, last) && last.address == end - kPageSize);
            check(last.all_zero() && last.rights == page.rights);
        }
        pages += (end - page.address) / kPageSize;
        previous_end = end;
        at = end;
    }
    if (steps < kPageBudget) {
        check(pages == plan.page_count);
    }

    // for_each_page agrees with next_page.
    unsigned visited = 0;
    uint64_t at = 0;
    tessera::elf::for_each_page(plan, [&](const PagePlan& p) {
        PagePlan again;
        check(next_page(plan, at, again) && again.address == p.address);
        check(again.copy_count == p.copy_count && again.rights == p.rights);
        at = p.address + kPageSize;
        return ++visited < kForEachBudget;
    });
    g_sink = sum + pages + visited;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::span<const uint8_t> file(data, size);
    auto elf = ElfFile::parse(file);
    if (!elf.ok()) {
        g_sink =
            static_cast<uint64_t>(elf.error()) + (tessera::elf::to_string(elf.error()) != nullptr);
        return 0;
    }
    check(elf.value().program_header_count() > 0);
    uint64_t sum = 0;
    elf.value().for_each_program_header(
        [&](const ProgramHeader& ph) { sum += ph.type ^ ph.vaddr ^ ph.memsz; });
    auto plan = tessera::elf::make_load_plan(elf.value());
    if (!plan.ok()) {
        g_sink = sum + static_cast<uint64_t>(plan.error());
        return 0;
    }
    check_plan(plan.value(), file);
    return 0;
}
