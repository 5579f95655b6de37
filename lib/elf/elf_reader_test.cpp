// Host tests for ElfFile::parse: header and per-program-header checks, on builder-made files.
// Invariant: every error parse can return has a test that produces exactly it from a valid file.
#include "elf/elf_reader.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "elf/elf_test_builder.hpp"

namespace tessera::elf {
namespace {

using test::ElfBuilder;

constexpr uint32_t kRX = kFlagRead | kFlagExecute;
constexpr uint32_t kRW = kFlagRead | kFlagWrite;

// A valid executable: text, rodata and data+bss, a stack header, a note.
ElfBuilder valid_builder() {
    ElfBuilder b;
    b.load(0x400000, 0x1234, 0x1234, kRX);
    b.load(0x402000, 0x100, 0x100, kFlagRead);
    b.load(0x403010, 0x20, 0x3000, kRW);
    b.stack();
    b.segment(kSegmentNote, kFlagRead, 0x400200, 0x20, 0x20, 0x200, 4);
    return b;
}

// Parses an exact-size copy (so ASan sees reads past the end) and returns the error, or nullopt.
std::optional<ElfError> parse_error(const std::vector<uint8_t>& file) {
    const std::vector<uint8_t> exact(file.begin(), file.end());
    auto result = ElfFile::parse(exact);
    if (result.ok()) {
        return std::nullopt;
    }
    return result.error();
}

std::optional<ElfError> parse_error(const ElfBuilder& b) {
    return parse_error(b.build());
}

// valid_builder() with one more program header.
std::optional<ElfError> error_with(const ProgramHeader& ph) {
    ElfBuilder b = valid_builder();
    b.add(ph);
    return parse_error(b);
}

ProgramHeader load_header(uint64_t vaddr, uint64_t offset, uint64_t filesz, uint64_t memsz,
                          uint32_t flags = kFlagRead, uint64_t align = 0x1000) {
    return ProgramHeader{kSegmentLoad, flags, offset, vaddr, vaddr, filesz, memsz, align};
}

// ---------------------------------------------------------------------------------------------
// Valid files

TEST(ElfReader, AcceptsValidExecutable) {
    const auto file = valid_builder().build();
    auto elf = ElfFile::parse(file);
    ASSERT_TRUE(elf.ok()) << to_string(elf.error());
    EXPECT_EQ(elf.value().entry(), 0x400000u);
    EXPECT_EQ(elf.value().program_header_count(), 5u);
    EXPECT_EQ(elf.value().data().data(), file.data());
    EXPECT_EQ(elf.value().data().size(), file.size());
}

TEST(ElfReader, DecodesProgramHeaders) {
    ElfBuilder b;
    b.load(0x400000, 0x10, 0x10, kRX);
    b.add(ProgramHeader{0x12345678, 0x87654321, 0x1122334455667788, 0x0102030405060708,
                        0x1111111111111111, 0x2222, 0x3333, 0x4444});
    const auto file = b.build();
    auto elf = ElfFile::parse(file);
    ASSERT_TRUE(elf.ok()) << to_string(elf.error());
    ProgramHeader ph = elf.value().program_header(1);
    EXPECT_EQ(ph.type, 0x12345678u);
    EXPECT_EQ(ph.flags, 0x87654321u);
    EXPECT_EQ(ph.offset, 0x1122334455667788u);
    EXPECT_EQ(ph.vaddr, 0x0102030405060708u);
    EXPECT_EQ(ph.paddr, 0x1111111111111111u);
    EXPECT_EQ(ph.filesz, 0x2222u);
    EXPECT_EQ(ph.memsz, 0x3333u);
    EXPECT_EQ(ph.align, 0x4444u);
    std::vector<uint32_t> types;
    elf.value().for_each_program_header([&](const ProgramHeader& h) { types.push_back(h.type); });
    EXPECT_EQ(types, (std::vector<uint32_t>{kSegmentLoad, 0x12345678}));
}

TEST(ElfReader, IgnoresNotesUnknownTypesAndSectionHeaders) {
    ElfBuilder b = valid_builder();
    // Section headers are never read: a table far outside the file is fine.
    b.shoff = UINT64_MAX - 3;
    b.shnum = 0xffff;
    b.segment(kSegmentNote, kFlagRead, 0, UINT64_MAX, 0, UINT64_MAX);  // nonsense, never read
    b.segment(0x7fffffff, kFlagRead | kFlagWrite | kFlagExecute, 0, 5, 1, UINT64_MAX, 3);
    b.segment(kSegmentPhdr, kFlagRead, 0x400040, 0x118, 0x118, 0x40, 8);
    b.segment(kSegmentGnuRelro, kFlagRead, 0x403010, 0x10, 0x2000, 0x3010, 1);
    b.segment(kSegmentDynamic, kRW, 0x403010, 0x10, 0x10, 0x3010, 8);
    EXPECT_EQ(parse_error(b), std::nullopt);
}

TEST(ElfReader, AcceptsExactlyTheProgramHeaderLimit) {
    ElfBuilder b;
    b.load(0x400000, 0x10, 0x10, kRX);
    for (size_t i = 1; i < kMaxProgramHeaders; ++i) {
        b.segment(kSegmentNote);
    }
    EXPECT_EQ(parse_error(b), std::nullopt);
}

TEST(ElfReader, HeaderTableMayEndExactlyAtEndOfFile) {
    ElfBuilder b;
    b.load(0x400000, 0x10, 0x10, kRX, 0);
    b.phoff = 0x200;
    b.exact_file_size = 0x200 + kProgramHeaderSize;
    EXPECT_EQ(parse_error(b), std::nullopt);
}

TEST(ElfReader, AcceptsAlignmentsZeroOneAndPowersOfTwo) {
    // Offset 0 at 4 MiB: congruent modulo every alignment up to 4 MiB.
    for (uint64_t align : {0ul, 1ul, 4ul, 0x1000ul, 0x10000ul, 0x200000ul, 0x400000ul}) {
        ElfBuilder b;
        b.load(0x400000, 0x10, 0x10, kRX, 0, align);
        EXPECT_EQ(parse_error(b), std::nullopt) << align;
    }
    // A larger one is a power of two too, but 4 MiB and 0 differ modulo it.
    ElfBuilder huge;
    huge.load(0x400000, 0x10, 0x10, kRX, 0, 1ul << 63);
    EXPECT_EQ(parse_error(huge), ElfError::kOffsetNotCongruent);
}

TEST(ElfReader, ZeroFileSizeNeverChecksItsOffset) {
    ElfBuilder b = valid_builder();
    b.load(0x500000, 0, 0x1000, kRW, UINT64_MAX - 0xfff);  // congruent, beyond the file
    EXPECT_EQ(parse_error(b), std::nullopt);
}

TEST(ElfReader, AcceptsUserRangeBoundaries) {
    EXPECT_EQ(error_with(load_header(kUserBase, 0x1000, 0, 0x1000)), std::nullopt);
    EXPECT_EQ(error_with(load_header(kUserTop - 0x1000, 0, 0, 0x1000)), std::nullopt);
    // An empty segment at the very top reaches nothing.
    EXPECT_EQ(error_with(load_header(kUserTop, 0, 0, 0)), std::nullopt);
}

TEST(ElfReader, AcceptsTlsAndStackHeaders) {
    ElfBuilder b = valid_builder();
    b.tls(0x403010, 0x3010, 0x10, 0x80, 16);
    EXPECT_EQ(parse_error(b), std::nullopt);
    ElfBuilder no_stack;
    no_stack.load(0x400000, 0x10, 0x10, kRX);
    EXPECT_EQ(parse_error(no_stack), std::nullopt);
}

// ---------------------------------------------------------------------------------------------
// ELF header errors

TEST(ElfReader, TruncatedHeader) {
    EXPECT_EQ(parse_error(std::vector<uint8_t>{}), ElfError::kTruncatedHeader);
    const auto file = valid_builder().build();
    for (size_t size : {size_t{1}, size_t{4}, size_t{16}, kElfHeaderSize - 1}) {
        EXPECT_EQ(parse_error(std::vector<uint8_t>(file.begin(), file.begin() + size)),
                  ElfError::kTruncatedHeader)
            << size;
    }
}

TEST(ElfReader, BadMagic) {
    for (size_t i = 0; i < 4; ++i) {
        ElfBuilder b = valid_builder();
        b.magic[i] ^= 0x20;
        EXPECT_EQ(parse_error(b), ElfError::kBadMagic) << i;
    }
    std::vector<uint8_t> text(100, 'x');
    EXPECT_EQ(parse_error(text), ElfError::kBadMagic);
}

TEST(ElfReader, WrongClass) {
    for (uint8_t c : {0, 1, 3}) {
        ElfBuilder b = valid_builder();
        b.elf_class = c;
        EXPECT_EQ(parse_error(b), ElfError::kWrongClass) << int{c};
    }
}

TEST(ElfReader, WrongByteOrder) {
    for (uint8_t d : {0, 2}) {
        ElfBuilder b = valid_builder();
        b.byte_order = d;
        EXPECT_EQ(parse_error(b), ElfError::kWrongByteOrder) << int{d};
    }
}

TEST(ElfReader, WrongVersion) {
    ElfBuilder ident = valid_builder();
    ident.ident_version = 0;
    EXPECT_EQ(parse_error(ident), ElfError::kWrongVersion);
    ElfBuilder field = valid_builder();
    field.version = 2;
    EXPECT_EQ(parse_error(field), ElfError::kWrongVersion);
}

TEST(ElfReader, WrongMachine) {
    for (uint16_t m : {0, 3, 40, 62, 243}) {  // none, x86, ARM (32-bit), x86-64, RISC-V
        ElfBuilder b = valid_builder();
        b.machine = m;
        EXPECT_EQ(parse_error(b), ElfError::kWrongMachine) << m;
    }
}

TEST(ElfReader, NotExecutable) {
    for (uint16_t t : {0, 1, 4, 0xfe00, 0xffff}) {  // none, relocatable, core, OS, processor
        ElfBuilder b = valid_builder();
        b.type = t;
        EXPECT_EQ(parse_error(b), ElfError::kNotExecutable) << t;
    }
}

TEST(ElfReader, PositionIndependentIsRejected) {
    ElfBuilder b = valid_builder();
    b.type = kTypeDyn;
    EXPECT_EQ(parse_error(b), ElfError::kPositionIndependent);
}

TEST(ElfReader, BadProgramHeaderSize) {
    for (uint16_t size : {0, 32, 55, 57, 64}) {
        ElfBuilder b = valid_builder();
        b.phentsize = size;
        EXPECT_EQ(parse_error(b), ElfError::kBadProgramHeaderSize) << size;
    }
}

TEST(ElfReader, NoProgramHeaders) {
    ElfBuilder b;
    EXPECT_EQ(parse_error(b), ElfError::kNoProgramHeaders);
    ElfBuilder zero = valid_builder();
    zero.phnum = 0;
    EXPECT_EQ(parse_error(zero), ElfError::kNoProgramHeaders);
}

TEST(ElfReader, TooManyProgramHeaders) {
    ElfBuilder b;
    b.load(0x400000, 0x10, 0x10, kRX);
    for (size_t i = 1; i <= kMaxProgramHeaders; ++i) {
        b.segment(kSegmentNote);
    }
    EXPECT_EQ(parse_error(b), ElfError::kTooManyProgramHeaders);
    ElfBuilder extended = valid_builder();
    extended.phnum = 0xffff;  // PN_XNUM: the real count would be in a section header
    EXPECT_EQ(parse_error(extended), ElfError::kTooManyProgramHeaders);
}

TEST(ElfReader, HeaderTableOutsideFile) {
    ElfBuilder past_end = valid_builder();
    past_end.phoff = 0x100000;
    past_end.exact_file_size = 0x10000;
    EXPECT_EQ(parse_error(past_end), ElfError::kHeaderTableOutsideFile);

    ElfBuilder one_byte_short = valid_builder();
    one_byte_short.phoff = 0x100;
    one_byte_short.exact_file_size = 0x100 + 5 * kProgramHeaderSize - 1;
    EXPECT_EQ(parse_error(one_byte_short), ElfError::kHeaderTableOutsideFile);

    ElfBuilder overflowing = valid_builder();
    overflowing.phoff = UINT64_MAX - kProgramHeaderSize;
    EXPECT_EQ(parse_error(overflowing), ElfError::kHeaderTableOutsideFile);

    ElfBuilder count_too_high = valid_builder();
    count_too_high.phnum = 60;
    count_too_high.exact_file_size = kElfHeaderSize + 10 * kProgramHeaderSize;
    EXPECT_EQ(parse_error(count_too_high), ElfError::kHeaderTableOutsideFile);
}

// ---------------------------------------------------------------------------------------------
// Program header errors

TEST(ElfReader, FileSizeExceedsMemorySize) {
    EXPECT_EQ(error_with(load_header(0x500000, 0, 0x101, 0x100)),
              ElfError::kFileSizeExceedsMemorySize);
    ElfBuilder tls = valid_builder();
    tls.tls(0x403010, 0x3010, 0x20, 0x10);
    EXPECT_EQ(parse_error(tls), ElfError::kFileSizeExceedsMemorySize);
}

TEST(ElfReader, FileRangeOutsideFile) {
    ElfBuilder past_end = valid_builder();
    past_end.exact_file_size = 0x5000;
    past_end.add(load_header(0x504000, 0x4000, 0x1001, 0x2000));
    EXPECT_EQ(parse_error(past_end), ElfError::kFileRangeOutsideFile);

    ElfBuilder just_fits = valid_builder();
    just_fits.exact_file_size = 0x5000;
    just_fits.add(load_header(0x504000, 0x4000, 0x1000, 0x2000));
    EXPECT_EQ(parse_error(just_fits), std::nullopt);

    EXPECT_EQ(error_with(load_header(0x500000, UINT64_MAX - 0xfff, 0x2000, 0x2000)),
              ElfError::kFileRangeOutsideFile);
    ElfBuilder tls = valid_builder();
    tls.tls(0x403010, UINT64_MAX - 8, 0x10, 0x10);
    EXPECT_EQ(parse_error(tls), ElfError::kFileRangeOutsideFile);
}

TEST(ElfReader, AddressRangeWraps) {
    EXPECT_EQ(error_with(load_header(0xffff'ffff'ffff'f000, 0, 0, 0x2000)),
              ElfError::kAddressRangeWraps);
    EXPECT_EQ(error_with(load_header(0x500000, 0, 0, UINT64_MAX)), ElfError::kAddressRangeWraps);
}

TEST(ElfReader, AddressInNullPage) {
    EXPECT_EQ(error_with(load_header(0, 0, 0, 0x1000)), ElfError::kAddressInNullPage);
    EXPECT_EQ(error_with(load_header(0xfff, 0xfff, 1, 0x10)), ElfError::kAddressInNullPage);
    EXPECT_EQ(error_with(load_header(0x10, 0x10, 0, 0)), ElfError::kAddressInNullPage);
}

TEST(ElfReader, AddressInKernelHalf) {
    EXPECT_EQ(error_with(load_header(kUserTop - 0x1000, 0, 0, 0x1001)),
              ElfError::kAddressInKernelHalf);
    EXPECT_EQ(error_with(load_header(kUserTop, 0, 0, 0x1000)), ElfError::kAddressInKernelHalf);
    EXPECT_EQ(error_with(load_header(0xffff'0000'0000'0000, 0, 0, 0x1000)),
              ElfError::kAddressInKernelHalf);
}

TEST(ElfReader, BadAlignment) {
    for (uint64_t align : {3ul, 0x3000ul, 0x1001ul, UINT64_MAX}) {
        EXPECT_EQ(error_with(load_header(0x500000, 0, 0, 0x1000, kFlagRead, align)),
                  ElfError::kBadAlignment)
            << align;
    }
    ElfBuilder tls = valid_builder();
    tls.tls(0x403010, 0x3010, 0x10, 0x10, 24);
    EXPECT_EQ(parse_error(tls), ElfError::kBadAlignment);
}

TEST(ElfReader, OffsetNotCongruent) {
    EXPECT_EQ(error_with(load_header(0x500000, 0x10, 0x10, 0x10)), ElfError::kOffsetNotCongruent);
    EXPECT_EQ(error_with(load_header(0x500123, 0x1124, 0x10, 0x10)), ElfError::kOffsetNotCongruent);
    // Modulo p_align when it exceeds the page size (the ELF rule), else modulo the page.
    EXPECT_EQ(error_with(load_header(0x510000, 0x1000, 0x10, 0x10, kFlagRead, 0x10000)),
              ElfError::kOffsetNotCongruent);
    EXPECT_EQ(error_with(load_header(0x511000, 0x1000, 0x10, 0x10, kFlagRead, 0x10000)),
              std::nullopt);
    EXPECT_EQ(error_with(load_header(0x510010, 0x1010, 0x10, 0x10, kFlagRead, 0x10)), std::nullopt);
}

TEST(ElfReader, UnknownSegmentFlags) {
    EXPECT_EQ(error_with(load_header(0x500000, 0, 0x10, 0x10, kFlagRead | 0x8)),
              ElfError::kUnknownSegmentFlags);
    EXPECT_EQ(error_with(load_header(0x500000, 0, 0x10, 0x10, kFlagRead | 0x80000)),
              ElfError::kUnknownSegmentFlags);
    // The OS- and processor-specific masks are allowed.
    EXPECT_EQ(error_with(load_header(0x500000, 0, 0x10, 0x10, kFlagRead | 0x0010'0000)),
              std::nullopt);
    EXPECT_EQ(error_with(load_header(0x500000, 0, 0x10, 0x10, kFlagRead | 0x8000'0000)),
              std::nullopt);
}

TEST(ElfReader, WriteExecuteSegment) {
    EXPECT_EQ(error_with(load_header(0x500000, 0, 0x10, 0x10, kFlagWrite | kFlagExecute)),
              ElfError::kWriteExecuteSegment);
    EXPECT_EQ(error_with(load_header(0x500000, 0, 0x10, 0x10, kRW | kFlagExecute)),
              ElfError::kWriteExecuteSegment);
}

TEST(ElfReader, ExecutableStack) {
    ElfBuilder b;
    b.load(0x400000, 0x10, 0x10, kRX);
    b.stack(kRW | kFlagExecute);
    EXPECT_EQ(parse_error(b), ElfError::kExecutableStack);
    ElfBuilder x_only;
    x_only.load(0x400000, 0x10, 0x10, kRX);
    x_only.stack(kFlagExecute);
    EXPECT_EQ(parse_error(x_only), ElfError::kExecutableStack);
}

TEST(ElfReader, DynamicExecutable) {
    ElfBuilder b = valid_builder();
    b.segment(kSegmentInterp, kFlagRead, 0x400300, 0x1c, 0x1c, 0x300, 1);
    EXPECT_EQ(parse_error(b), ElfError::kDynamicExecutable);
}

TEST(ElfReader, DuplicateSegment) {
    ElfBuilder two_tls = valid_builder();
    two_tls.tls(0x403010, 0x3010, 0x10, 0x10).tls(0x403010, 0x3010, 0x10, 0x10);
    EXPECT_EQ(parse_error(two_tls), ElfError::kDuplicateSegment);
    ElfBuilder two_stacks = valid_builder();
    two_stacks.stack();  // valid_builder() has one already
    EXPECT_EQ(parse_error(two_stacks), ElfError::kDuplicateSegment);
}

TEST(ElfReader, ErrorMessagesAreDistinct) {
    std::set<std::string> messages;
    const auto last = static_cast<uint8_t>(ElfError::kMisalignedEntry);
    for (uint8_t e = 0; e <= last; ++e) {
        const char* message = to_string(static_cast<ElfError>(e));
        ASSERT_NE(message, nullptr);
        EXPECT_STRNE(message, "unknown error") << int{e};
        messages.insert(message);
    }
    EXPECT_EQ(messages.size(), size_t{last} + 1);
    EXPECT_STREQ(to_string(static_cast<ElfError>(200)), "unknown error");
}

}  // namespace
}  // namespace tessera::elf
