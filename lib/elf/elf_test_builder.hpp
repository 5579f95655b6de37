// Test-only ELF64 image builder shared by the ELF reader and load plan tests (host, uses the heap).
// Invariant: build() writes exactly the fields it is given, so tests can produce any malformation.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "elf/elf_reader.hpp"

namespace tessera::elf {

// gtest printer (found by argument-dependent lookup); inline as both test files include it.
inline void PrintTo(ElfError error, std::ostream* os) {
    *os << to_string(error);
}

namespace test {

inline void put_le(std::vector<uint8_t>& out, size_t offset, uint64_t value, size_t bytes) {
    for (size_t i = 0; i < bytes; ++i) {
        out[offset + i] = static_cast<uint8_t>(value >> (8 * i));
    }
}

// The byte a builder-made file holds at offset: a pattern, so misplaced copies are visible.
inline uint8_t pattern_byte(size_t offset) {
    return static_cast<uint8_t>((offset * 131 + 7) ^ (offset >> 8));
}

// Files larger than this are never materialised; bigger offsets only appear in headers.
constexpr size_t kMaxBuiltFileSize = 16 << 20;

class ElfBuilder {
  public:
    uint8_t magic[4] = {0x7f, 'E', 'L', 'F'};
    uint8_t elf_class = 2;
    uint8_t byte_order = 1;
    uint8_t ident_version = 1;
    uint16_t type = kTypeExec;
    uint16_t machine = kMachineAArch64;
    uint32_t version = 1;
    uint64_t entry = 0x400000;
    uint64_t phoff = kElfHeaderSize;
    uint16_t phentsize = kProgramHeaderSize;
    std::optional<uint16_t> phnum;  // default: the number of headers added
    uint64_t shoff = 0;
    uint16_t shnum = 0;
    size_t min_file_size = 0;               // the file is at least this long
    std::optional<size_t> exact_file_size;  // or exactly this long (cuts or pads)
    std::vector<ProgramHeader> headers;

    ElfBuilder& add(const ProgramHeader& ph) {
        headers.push_back(ph);
        return *this;
    }
    // A PT_LOAD with rights flags (kFlagRead is added), offset congruent to vaddr by default.
    ElfBuilder& load(uint64_t vaddr, uint64_t filesz, uint64_t memsz, uint32_t flags,
                     std::optional<uint64_t> offset = std::nullopt, uint64_t align = 0x1000) {
        ProgramHeader ph;
        ph.type = kSegmentLoad;
        ph.flags = flags | kFlagRead;
        ph.offset = offset.value_or(vaddr % 0x100000);
        ph.vaddr = vaddr;
        ph.paddr = vaddr;
        ph.filesz = filesz;
        ph.memsz = memsz;
        ph.align = align;
        return add(ph);
    }
    ElfBuilder& segment(uint32_t type, uint32_t flags = kFlagRead, uint64_t vaddr = 0,
                        uint64_t filesz = 0, uint64_t memsz = 0, uint64_t offset = 0,
                        uint64_t align = 0) {
        return add(ProgramHeader{type, flags, offset, vaddr, vaddr, filesz, memsz, align});
    }
    ElfBuilder& tls(uint64_t vaddr, uint64_t offset, uint64_t filesz, uint64_t memsz,
                    uint64_t align = 8) {
        return segment(kSegmentTls, kFlagRead, vaddr, filesz, memsz, offset, align);
    }
    ElfBuilder& stack(uint32_t flags = kFlagRead | kFlagWrite, uint64_t size = 0) {
        return segment(kSegmentGnuStack, flags, 0, 0, size);
    }

    [[nodiscard]] std::vector<uint8_t> build() const {
        size_t size = std::max(kElfHeaderSize, min_file_size);
        const uint64_t table_end = phoff + uint64_t{headers.size()} * kProgramHeaderSize;
        if (phoff <= kMaxBuiltFileSize && table_end <= kMaxBuiltFileSize) {
            size = std::max<size_t>(size, table_end);
        }
        for (const ProgramHeader& ph : headers) {
            if (ph.filesz != 0 && ph.offset <= kMaxBuiltFileSize &&
                ph.filesz <= kMaxBuiltFileSize - ph.offset) {
                size = std::max<size_t>(size, ph.offset + ph.filesz);
            }
        }
        size = exact_file_size.value_or(size);
        std::vector<uint8_t> out(std::max(size, kElfHeaderSize));
        for (size_t i = 0; i < out.size(); ++i) {
            out[i] = pattern_byte(i);
        }
        std::fill(out.begin(), out.begin() + kElfHeaderSize, 0);
        std::copy(std::begin(magic), std::end(magic), out.begin());
        out[4] = elf_class;
        out[5] = byte_order;
        out[6] = ident_version;
        put_le(out, 16, type, 2);
        put_le(out, 18, machine, 2);
        put_le(out, 20, version, 4);
        put_le(out, 24, entry, 8);
        put_le(out, 32, phoff, 8);
        put_le(out, 40, shoff, 8);
        put_le(out, 52, kElfHeaderSize, 2);
        put_le(out, 54, phentsize, 2);
        put_le(out, 56, phnum.value_or(static_cast<uint16_t>(headers.size())), 2);
        put_le(out, 58, 64, 2);  // e_shentsize
        put_le(out, 60, shnum, 2);
        for (size_t i = 0; i < headers.size(); ++i) {
            const uint64_t at = phoff + i * kProgramHeaderSize;
            if (phoff > out.size() || at + kProgramHeaderSize > out.size()) {
                break;  // a table placed outside the file on purpose
            }
            const ProgramHeader& ph = headers[i];
            put_le(out, at + 0, ph.type, 4);
            put_le(out, at + 4, ph.flags, 4);
            put_le(out, at + 8, ph.offset, 8);
            put_le(out, at + 16, ph.vaddr, 8);
            put_le(out, at + 24, ph.paddr, 8);
            put_le(out, at + 32, ph.filesz, 8);
            put_le(out, at + 40, ph.memsz, 8);
            put_le(out, at + 48, ph.align, 8);
        }
        out.resize(size);
        return out;
    }
};

// Reads a whole file (a fixture); empty if it cannot be read.
inline std::vector<uint8_t> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(in),
                                std::istreambuf_iterator<char>());
}

}  // namespace test
}  // namespace tessera::elf
