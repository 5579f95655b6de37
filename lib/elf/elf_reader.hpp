// ELF64 reader for AArch64 static executables. The file is untrusted: ElfFile::parse checks the
// header and every program header on its own; only a file that passed yields an ElfFile.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "base/result.hpp"

namespace tessera::elf {

// Every way a file can be rejected, by ElfFile::parse or (the cross-segment checks) by
// make_load_plan. Each has its own message from to_string().
enum class ElfError : uint8_t {
    kTruncatedHeader,            // shorter than the 64-byte ELF header
    kBadMagic,                   // does not start with 0x7f 'E' 'L' 'F'
    kWrongClass,                 // not ELFCLASS64
    kWrongByteOrder,             // not little-endian
    kWrongVersion,               // EI_VERSION or e_version is not EV_CURRENT
    kWrongMachine,               // not EM_AARCH64
    kNotExecutable,              // e_type is neither ET_EXEC nor ET_DYN
    kPositionIndependent,        // ET_DYN: static-PIE is not supported
    kBadProgramHeaderSize,       // e_phentsize is not 56
    kNoProgramHeaders,           // e_phnum is 0
    kTooManyProgramHeaders,      // e_phnum above kMaxProgramHeaders
    kHeaderTableOutsideFile,     // the program header table does not lie inside the file
    kFileSizeExceedsMemorySize,  // p_filesz > p_memsz
    kFileRangeOutsideFile,       // [p_offset, p_offset + p_filesz) overflows or leaves the file
    kAddressRangeWraps,          // p_vaddr + p_memsz overflows
    kAddressInNullPage,          // a segment starts below kUserBase
    kAddressInKernelHalf,        // a segment reaches above kUserTop
    kBadAlignment,               // p_align is not 0, 1 or a power of two
    kOffsetNotCongruent,         // p_vaddr and p_offset differ modulo kPageSize or a larger p_align
    kUnknownSegmentFlags,        // p_flags has bits outside R, W, X and the OS/processor masks
    kWriteExecuteSegment,        // a PT_LOAD is both writable and executable
    kExecutableStack,            // PT_GNU_STACK asks for an executable stack
    kDynamicExecutable,          // PT_INTERP: needs a dynamic linker
    kDuplicateSegment,           // more than one PT_TLS or PT_GNU_STACK
    kOverlappingSegments,        // two PT_LOAD memory ranges overlap
    kWriteExecutePage,           // segments sharing a page would make it writable and executable
    kTlsOutsideSegments,         // the TLS image is not inside a PT_LOAD's file-backed part
    kEntryNotExecutable,         // e_entry is outside every executable PT_LOAD
    kMisalignedEntry,            // e_entry is not 4-byte aligned (AArch64 instructions)
};

// What the error means, one short line ("write+execute segment", ...). Never null.
const char* to_string(ElfError error);

constexpr size_t kElfHeaderSize = 64;
constexpr size_t kProgramHeaderSize = 56;
constexpr size_t kMaxProgramHeaders = 64;
constexpr uint64_t kPageSize = 4096;
// User addresses: the null page is never mapped, and the upper half belongs to the kernel.
constexpr uint64_t kUserBase = kPageSize;
constexpr uint64_t kUserTop = uint64_t{1} << 47;

constexpr uint16_t kTypeExec = 2;
constexpr uint16_t kTypeDyn = 3;
constexpr uint16_t kMachineAArch64 = 183;

constexpr uint32_t kSegmentLoad = 1;
constexpr uint32_t kSegmentDynamic = 2;
constexpr uint32_t kSegmentInterp = 3;
constexpr uint32_t kSegmentNote = 4;
constexpr uint32_t kSegmentPhdr = 6;
constexpr uint32_t kSegmentTls = 7;
constexpr uint32_t kSegmentGnuStack = 0x6474e551;
constexpr uint32_t kSegmentGnuRelro = 0x6474e552;

constexpr uint32_t kFlagExecute = 1;
constexpr uint32_t kFlagWrite = 2;
constexpr uint32_t kFlagRead = 4;
constexpr uint32_t kFlagMaskOs = 0x0ff0'0000;         // PF_MASKOS
constexpr uint32_t kFlagMaskProcessor = 0xf000'0000;  // PF_MASKPROC

// One Elf64_Phdr, decoded.
struct ProgramHeader {
    uint32_t type = 0;
    uint32_t flags = 0;
    uint64_t offset = 0;
    uint64_t vaddr = 0;
    uint64_t paddr = 0;
    uint64_t filesz = 0;
    uint64_t memsz = 0;
    uint64_t align = 0;
};

class ElfFile {
  public:
    // Checks the ELF header, the program header table and each program header: PT_LOAD (sizes,
    // file range, user address range, alignment, congruence, not W+X), PT_TLS (sizes, file
    // range, alignment), PT_GNU_STACK (not executable), no PT_INTERP, at most one PT_TLS and
    // PT_GNU_STACK. Checks that relate segments to each other are make_load_plan's. Section
    // headers are never read. The span must outlive the ElfFile.
    static Result<ElfFile, ElfError> parse(std::span<const uint8_t> file);

    [[nodiscard]] std::span<const uint8_t> data() const { return file_; }
    [[nodiscard]] uint64_t entry() const { return entry_; }
    [[nodiscard]] size_t program_header_count() const { return count_; }
    // The program header at index (< program_header_count()).
    [[nodiscard]] ProgramHeader program_header(size_t index) const;

    // Calls f(const ProgramHeader&) for each program header, in table order.
    template <typename F>
    void for_each_program_header(F&& f) const {
        for (size_t i = 0; i < count_; ++i) {
            f(program_header(i));
        }
    }

  private:
    ElfFile() = default;

    std::span<const uint8_t> file_;
    uint64_t entry_ = 0;
    uint64_t table_offset_ = 0;
    size_t count_ = 0;
};

}  // namespace tessera::elf
