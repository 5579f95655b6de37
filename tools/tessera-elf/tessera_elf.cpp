// tessera-elf: a host dry run of the loader. `tessera-elf plan FILE` prints FILE's load plan, or
// the exact error, using the same lib/elf code as the loader, so its verdict is the loader's.
//
// Exit status: 0 the ELF would load, 1 it is rejected ("tessera-elf: FILE: <error>" on stderr),
// 2 usage error or unreadable file. Runs of identical zero pages and of pages copied whole from
// consecutive file pages are printed as one line, so a huge .bss stays one line.
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <span>
#include <vector>

#include "base/format.hpp"
#include "base/string_view.hpp"
#include "elf/elf_reader.hpp"
#include "elf/load_plan.hpp"

namespace {

using tessera::StringView;
using tessera::elf::CopyRange;
using tessera::elf::kPageSize;
using tessera::elf::LoadPlan;
using tessera::elf::PagePlan;
using tessera::elf::Rights;
using tessera::elf::Segment;

constexpr int kExitLoadable = 0;
constexpr int kExitRejected = 1;
constexpr int kExitUsage = 2;

void put_file(void* context, const char* chars, size_t count) {
    std::fwrite(chars, 1, count, static_cast<std::FILE*>(context));
}

template <typename... Args>
void out(StringView fmt, const Args&... args) {
    tessera::format_to(tessera::FormatSink{put_file, stdout}, fmt, args...);
}

template <typename... Args>
void err(StringView fmt, const Args&... args) {
    tessera::format_to(tessera::FormatSink{put_file, stderr}, fmt, args...);
}

int usage() {
    err("usage: tessera-elf plan FILE\n");
    return kExitUsage;
}

// False with errno set if the file cannot be opened or read (a directory, say).
bool read_file(const char* path, std::vector<uint8_t>& bytes) {
    std::FILE* file = std::fopen(path, "rb");
    if (file == nullptr) {
        return false;
    }
    uint8_t buffer[65536];
    size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof(buffer), file)) > 0) {
        bytes.insert(bytes.end(), buffer, buffer + n);
    }
    const bool ok = std::ferror(file) == 0;
    const int saved_errno = errno;
    std::fclose(file);
    errno = saved_errno;
    return ok;
}

// Pages that look alike are printed as one run: all zero, or copied whole from the file page
// after the previous page's.
struct Run {
    uint64_t begin = 0;
    uint64_t end = 0;
    Rights rights = Rights::kNone;
    bool zero = false;
    uint64_t file_begin = 0;  // for copied runs

    [[nodiscard]] uint64_t pages() const { return (end - begin) / kPageSize; }
};

bool copies_whole_page(const PagePlan& page) {
    return page.copy_count == 1 && page.copies[0].page_offset == 0 &&
           page.copies[0].length == kPageSize;
}

void print_run(const Run& run) {
    out("  [{:#014x} - {:#014x})  {}  ", run.begin, run.end, tessera::elf::to_string(run.rights));
    if (run.zero) {
        out("zero");
    } else {
        out("copy of file [{:#x} - {:#x})", run.file_begin,
            run.file_begin + run.pages() * kPageSize);
    }
    if (run.pages() > 1) {
        out(", {} pages", run.pages());
    }
    out("\n");
}

void print_mixed_page(const PagePlan& page) {
    out("  [{:#014x} - {:#014x})  {}  ", page.address, page.address + kPageSize,
        tessera::elf::to_string(page.rights));
    // Copies and zero ranges interleaved in page order.
    const char* separator = "";
    uint32_t at = 0;
    auto zero_until = [&](uint32_t offset) {
        if (offset > at) {
            out("{}zero [{:#x} - {:#x})", separator, at, offset);
            separator = ", ";
        }
    };
    for (const CopyRange& copy : page.copy_ranges()) {
        zero_until(copy.page_offset);
        out("{}[{:#x} - {:#x}) <- file {:#x}", separator, copy.page_offset,
            copy.page_offset + copy.length, copy.file_offset);
        separator = ", ";
        at = copy.page_offset + copy.length;
    }
    zero_until(static_cast<uint32_t>(kPageSize));
    out("\n");
}

void print_pages(const LoadPlan& plan) {
    out("pages    {} ({} KiB)\n", plan.page_count, plan.page_count * (kPageSize / 1024));
    Run run;
    bool pending = false;
    PagePlan page;
    for (uint64_t at = 0; tessera::elf::next_page(plan, at, page);) {
        const uint64_t end = tessera::elf::zero_run_end(plan, page);
        at = end;
        const bool zero = page.all_zero();
        const bool whole = copies_whole_page(page);
        if (pending && run.end == page.address && run.rights == page.rights &&
            ((zero && run.zero) ||
             (whole && !run.zero &&
              page.copies[0].file_offset == run.file_begin + run.pages() * kPageSize))) {
            run.end = end;
            continue;
        }
        if (pending) {
            print_run(run);
            pending = false;
        }
        if (zero || whole) {
            run = Run{page.address, end, page.rights, zero, whole ? page.copies[0].file_offset : 0};
            pending = true;
        } else {
            print_mixed_page(page);
        }
    }
    if (pending) {
        print_run(run);
    }
}

void print_plan(const char* path, size_t file_size, const LoadPlan& plan) {
    out("file     {} ({} bytes)\n", path, file_size);
    out("entry    {:#014x}\n", plan.entry);
    out("segments {}\n", plan.segment_count);
    for (const Segment& s : plan.segment_list()) {
        out("  [{:#014x} - {:#014x})  {}  offset {:#x}, filesz {:#x}, memsz {:#x}, align {:#x}\n",
            s.vaddr, s.end(), tessera::elf::to_string(s.rights), s.offset, s.filesz, s.memsz,
            s.align);
    }
    print_pages(plan);
    if (!plan.has_stack_header) {
        out("stack    default size, rw- (no PT_GNU_STACK)\n");
    } else if (plan.stack_size == 0) {
        out("stack    default size, rw-\n");
    } else {
        out("stack    {:#x} bytes, rw-\n", plan.stack_size);
    }
    if (plan.tls.has_value()) {
        out("tls      image {:#014x} (file {:#x}), filesz {:#x}, memsz {:#x}, align {:#x}\n",
            plan.tls->vaddr, plan.tls->offset, plan.tls->filesz, plan.tls->memsz, plan.tls->align);
    } else {
        out("tls      none\n");
    }
}

int plan_command(const char* path) {
    std::vector<uint8_t> bytes;
    if (!read_file(path, bytes)) {
        err("tessera-elf: {}: cannot read: {}\n", path, std::strerror(errno));
        return kExitUsage;
    }
    auto plan = tessera::elf::make_load_plan(std::span<const uint8_t>(bytes));
    if (!plan.ok()) {
        err("tessera-elf: {}: {}\n", path, tessera::elf::to_string(plan.error()));
        return kExitRejected;
    }
    print_plan(path, bytes.size(), plan.value());
    return kExitLoadable;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 2 && (StringView(argv[1]) == "--help" || StringView(argv[1]) == "-h")) {
        out("usage: tessera-elf plan FILE\n"
            "Prints the load plan of an AArch64 ELF executable as the Tessera loader would\n"
            "build it, or why the loader would reject it. Exit status: 0 loadable,\n"
            "1 rejected, 2 usage error or unreadable file.\n");
        return kExitLoadable;
    }
    if (argc != 3 || StringView(argv[1]) != "plan") {
        return usage();
    }
    return plan_command(argv[2]);
}
