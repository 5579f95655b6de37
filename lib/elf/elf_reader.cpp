// ELF64 header and program header validation for the loader, host tools and fuzzer.
// Invariant: every read is inside the file, and every sum of untrusted values is overflow-checked.
#include "elf/elf_reader.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "base/bits.hpp"

namespace tessera::elf {
namespace {

// e_ident indices and values.
constexpr size_t kIdentClass = 4;
constexpr size_t kIdentData = 5;
constexpr size_t kIdentVersion = 6;
constexpr uint8_t kClass64 = 2;
constexpr uint8_t kDataLittleEndian = 1;
constexpr uint32_t kVersionCurrent = 1;

// ELF header field offsets.
constexpr size_t kOffType = 16;
constexpr size_t kOffMachine = 18;
constexpr size_t kOffVersion = 20;
constexpr size_t kOffEntry = 24;
constexpr size_t kOffPhoff = 32;
constexpr size_t kOffPhentsize = 54;
constexpr size_t kOffPhnum = 56;

// Program header field offsets.
constexpr size_t kPhType = 0;
constexpr size_t kPhFlags = 4;
constexpr size_t kPhOffset = 8;
constexpr size_t kPhVaddr = 16;
constexpr size_t kPhPaddr = 24;
constexpr size_t kPhFilesz = 32;
constexpr size_t kPhMemsz = 40;
constexpr size_t kPhAlign = 48;

// Byte-wise little-endian reads: the file has no alignment guarantee and the host may differ.
uint64_t read_le(const uint8_t* p, size_t bytes) {
    uint64_t v = 0;
    for (size_t i = bytes; i > 0; --i) {
        v = (v << 8) | p[i - 1];
    }
    return v;
}

uint16_t read_le16(const uint8_t* p) {
    return static_cast<uint16_t>(read_le(p, 2));
}
uint32_t read_le32(const uint8_t* p) {
    return static_cast<uint32_t>(read_le(p, 4));
}
uint64_t read_le64(const uint8_t* p) {
    return read_le(p, 8);
}

// [offset, offset + size) lies inside a file of file_size bytes.
bool inside_file(uint64_t offset, uint64_t size, uint64_t file_size) {
    std::optional<uint64_t> end = checked_add(offset, size);
    return end.has_value() && *end <= file_size;
}

// 0 and 1 both mean "no alignment constraint".
bool valid_alignment(uint64_t align) {
    return align <= 1 || is_power_of_two(align);
}

// Sizes and file range, shared by PT_LOAD and PT_TLS. A zero-length file part is never read,
// so its offset is not checked against the file.
Result<void, ElfError> check_file_part(const ProgramHeader& ph, uint64_t file_size) {
    if (ph.filesz > ph.memsz) {
        return fail(ElfError::kFileSizeExceedsMemorySize);
    }
    if (ph.filesz != 0 && !inside_file(ph.offset, ph.filesz, file_size)) {
        return fail(ElfError::kFileRangeOutsideFile);
    }
    if (!valid_alignment(ph.align)) {
        return fail(ElfError::kBadAlignment);
    }
    return {};
}

Result<void, ElfError> check_load(const ProgramHeader& ph, uint64_t file_size) {
    TRY(check_file_part(ph, file_size));
    std::optional<uint64_t> end = checked_add(ph.vaddr, ph.memsz);
    if (!end.has_value()) {
        return fail(ElfError::kAddressRangeWraps);
    }
    if (ph.vaddr < kUserBase) {
        return fail(ElfError::kAddressInNullPage);
    }
    if (*end > kUserTop) {
        return fail(ElfError::kAddressInKernelHalf);
    }
    // The ELF rule: congruent modulo p_align. Below a page, congruence modulo the page is what
    // mapping needs.
    uint64_t modulus = ph.align > kPageSize ? ph.align : kPageSize;
    if (ph.vaddr % modulus != ph.offset % modulus) {
        return fail(ElfError::kOffsetNotCongruent);
    }
    if ((ph.flags & ~(kFlagRead | kFlagWrite | kFlagExecute | kFlagMaskOs | kFlagMaskProcessor)) !=
        0) {
        return fail(ElfError::kUnknownSegmentFlags);
    }
    if ((ph.flags & kFlagWrite) != 0 && (ph.flags & kFlagExecute) != 0) {
        return fail(ElfError::kWriteExecuteSegment);
    }
    return {};
}

}  // namespace

const char* to_string(ElfError error) {
    switch (error) {
        case ElfError::kTruncatedHeader:
            return "truncated ELF header";
        case ElfError::kBadMagic:
            return "bad magic (not an ELF file)";
        case ElfError::kWrongClass:
            return "not a 64-bit ELF file";
        case ElfError::kWrongByteOrder:
            return "not little-endian";
        case ElfError::kWrongVersion:
            return "unsupported ELF version";
        case ElfError::kWrongMachine:
            return "not an AArch64 executable";
        case ElfError::kNotExecutable:
            return "not an executable (type is not ET_EXEC)";
        case ElfError::kPositionIndependent:
            return "position-independent executable (ET_DYN) not supported";
        case ElfError::kBadProgramHeaderSize:
            return "bad program header entry size";
        case ElfError::kNoProgramHeaders:
            return "no program headers";
        case ElfError::kTooManyProgramHeaders:
            return "too many program headers (limit 64)";
        case ElfError::kHeaderTableOutsideFile:
            return "program header table outside the file";
        case ElfError::kFileSizeExceedsMemorySize:
            return "segment file size exceeds memory size";
        case ElfError::kFileRangeOutsideFile:
            return "segment file range outside the file";
        case ElfError::kAddressRangeWraps:
            return "segment address range wraps";
        case ElfError::kAddressInNullPage:
            return "segment in the null page";
        case ElfError::kAddressInKernelHalf:
            return "segment reaches the kernel half";
        case ElfError::kBadAlignment:
            return "segment alignment not a power of two";
        case ElfError::kOffsetNotCongruent:
            return "segment address and offset not congruent modulo the page size or p_align";
        case ElfError::kWriteExecuteSegment:
            return "write+execute segment";
        case ElfError::kUnknownSegmentFlags:
            return "segment flags outside R, W, X and the OS and processor masks";
        case ElfError::kExecutableStack:
            return "executable stack requested";
        case ElfError::kDynamicExecutable:
            return "dynamic executable (PT_INTERP) not supported";
        case ElfError::kDuplicateSegment:
            return "more than one PT_TLS or PT_GNU_STACK";
        case ElfError::kOverlappingSegments:
            return "overlapping segments";
        case ElfError::kWriteExecutePage:
            return "segments sharing a page make it write+execute";
        case ElfError::kTlsOutsideSegments:
            return "TLS image outside the loaded file contents";
        case ElfError::kEntryNotExecutable:
            return "entry point outside every executable segment";
        case ElfError::kMisalignedEntry:
            return "entry point not 4-byte aligned";
    }
    return "unknown error";
}

Result<ElfFile, ElfError> ElfFile::parse(std::span<const uint8_t> file) {
    if (file.size() < kElfHeaderSize) {
        return fail(ElfError::kTruncatedHeader);
    }
    const uint8_t* p = file.data();
    if (p[0] != 0x7f || p[1] != 'E' || p[2] != 'L' || p[3] != 'F') {
        return fail(ElfError::kBadMagic);
    }
    if (p[kIdentClass] != kClass64) {
        return fail(ElfError::kWrongClass);
    }
    if (p[kIdentData] != kDataLittleEndian) {
        return fail(ElfError::kWrongByteOrder);
    }
    if (p[kIdentVersion] != kVersionCurrent || read_le32(p + kOffVersion) != kVersionCurrent) {
        return fail(ElfError::kWrongVersion);
    }
    if (read_le16(p + kOffMachine) != kMachineAArch64) {
        return fail(ElfError::kWrongMachine);
    }
    const uint16_t type = read_le16(p + kOffType);
    if (type == kTypeDyn) {
        return fail(ElfError::kPositionIndependent);
    }
    if (type != kTypeExec) {
        return fail(ElfError::kNotExecutable);
    }
    if (read_le16(p + kOffPhentsize) != kProgramHeaderSize) {
        return fail(ElfError::kBadProgramHeaderSize);
    }
    const uint16_t count = read_le16(p + kOffPhnum);
    if (count == 0) {
        return fail(ElfError::kNoProgramHeaders);
    }
    if (count > kMaxProgramHeaders) {
        return fail(ElfError::kTooManyProgramHeaders);
    }
    // count * 56 cannot overflow; the offset plus the table size can.
    const uint64_t table_offset = read_le64(p + kOffPhoff);
    if (!inside_file(table_offset, uint64_t{count} * kProgramHeaderSize, file.size())) {
        return fail(ElfError::kHeaderTableOutsideFile);
    }

    ElfFile elf;
    elf.file_ = file;
    elf.entry_ = read_le64(p + kOffEntry);
    elf.table_offset_ = table_offset;
    elf.count_ = count;

    bool seen_tls = false;
    bool seen_stack = false;
    for (size_t i = 0; i < elf.count_; ++i) {
        const ProgramHeader ph = elf.program_header(i);
        switch (ph.type) {
            case kSegmentLoad:
                TRY(check_load(ph, file.size()));
                break;
            case kSegmentTls:
                if (seen_tls) {
                    return fail(ElfError::kDuplicateSegment);
                }
                seen_tls = true;
                TRY(check_file_part(ph, file.size()));
                break;
            case kSegmentGnuStack:
                if (seen_stack) {
                    return fail(ElfError::kDuplicateSegment);
                }
                seen_stack = true;
                if ((ph.flags & kFlagExecute) != 0) {
                    return fail(ElfError::kExecutableStack);
                }
                break;
            case kSegmentInterp:
                return fail(ElfError::kDynamicExecutable);
            default:
                break;  // PT_NOTE, PT_PHDR, PT_GNU_RELRO and unknown types carry nothing to load
        }
    }
    return elf;
}

ProgramHeader ElfFile::program_header(size_t index) const {
    TESSERA_ASSERT(index < count_);
    // parse() checked that the whole table lies inside the file.
    const uint8_t* ph = file_.data() + table_offset_ + index * kProgramHeaderSize;
    ProgramHeader out;
    out.type = read_le32(ph + kPhType);
    out.flags = read_le32(ph + kPhFlags);
    out.offset = read_le64(ph + kPhOffset);
    out.vaddr = read_le64(ph + kPhVaddr);
    out.paddr = read_le64(ph + kPhPaddr);
    out.filesz = read_le64(ph + kPhFilesz);
    out.memsz = read_le64(ph + kPhMemsz);
    out.align = read_le64(ph + kPhAlign);
    return out;
}

}  // namespace tessera::elf
