// Flattened device tree (DTB) reader. The blob is untrusted: DeviceTree::parse validates the header
// and walks the whole structure block once; only a blob that passed that walk yields a DeviceTree,
// and every accessor still bounds-checks, so no input can make a reader read outside the blob.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "base/result.hpp"
#include "base/string_view.hpp"

namespace tessera::fdt {

enum class FdtError : uint8_t {
    kTooSmall,             // buffer shorter than the 40-byte header
    kBadMagic,             // magic is not 0xd00dfeed
    kBadTotalSize,         // totalsize below the header size or beyond the buffer
    kUnsupportedVersion,   // last_comp_version > 17 or version < 16
    kBlockOutOfBounds,     // a block (reservation map, structure, strings) lies outside totalsize
    kMisaligned,           // a block offset or token is not properly aligned
    kBadToken,             // unknown token in the structure block
    kUnterminatedName,     // node name runs off the structure block
    kPropertyOutOfBounds,  // property value runs off the structure block
    kBadStringOffset,      // property name offset outside the strings block or unterminated
    kNestingTooDeep,       // more than kMaxDepth nested nodes
    kUnbalancedNodes,      // END_NODE without BEGIN_NODE, or FDT_END inside a node
    kMissingEnd,           // structure block has no FDT_END token
    kBadRootNode,          // first token is not the root node
    kReservationMapUnterminated,  // memory reservation map has no terminating entry
    kNotFound,                    // (accessors) property or node not present
    kBadCellCount,                // #address-cells / #size-cells missing where needed, or > 2
    kBadPropertyLength,           // property length does not match its expected encoding
};

// Human-readable description of an error ("bad magic", ...). Never null.
const char* to_string(FdtError error);

constexpr uint32_t kMagic = 0xd00dfeed;
constexpr size_t kHeaderSize = 40;
constexpr unsigned kMaxDepth = 32;

// A node handle: offset of its FDT_BEGIN_NODE token in the structure block, and its parent's.
struct Node {
    uint32_t offset = 0;
    uint32_t parent_offset = UINT32_MAX;  // UINT32_MAX for the root

    [[nodiscard]] bool is_root() const { return parent_offset == UINT32_MAX; }
    bool operator==(const Node&) const = default;
};

struct Property {
    StringView name;
    std::span<const uint8_t> value;

    // A property holding exactly one big-endian u32 cell.
    [[nodiscard]] Result<uint32_t, FdtError> as_u32() const;
    // The big-endian u32 cell at index i.
    [[nodiscard]] Result<uint32_t, FdtError> cell(size_t index) const;
    [[nodiscard]] size_t cell_count() const { return value.size() / 4; }
    // The first NUL-terminated string of the value (kBadPropertyLength if unterminated).
    [[nodiscard]] Result<StringView, FdtError> as_string() const;
    // True if the value is a string list that contains s as one of its entries.
    [[nodiscard]] bool contains_string(StringView s) const;
};

// One entry of the reg property, after applying the parent's #address-cells / #size-cells.
struct RegEntry {
    uint64_t address = 0;
    uint64_t size = 0;
};

struct MemoryReservation {
    uint64_t address = 0;
    uint64_t size = 0;
};

class DeviceTree {
  public:
    // Validates the blob (see file comment). The span must cover at least totalsize bytes.
    static Result<DeviceTree, FdtError> parse(std::span<const uint8_t> blob);

    // Reads only the header's totalsize (for callers that must map the blob before parsing).
    // kTooSmall / kBadMagic if the first bytes are not a DTB header.
    static Result<uint32_t, FdtError> peek_total_size(std::span<const uint8_t> header);

    [[nodiscard]] uint32_t total_size() const { return total_size_; }
    [[nodiscard]] uint32_t boot_cpuid() const { return boot_cpuid_; }
    [[nodiscard]] Node root() const { return Node{struct_offset_, UINT32_MAX}; }

    // Name of a node including unit address ("memory@40000000"); the root's name is "".
    [[nodiscard]] StringView name(Node node) const;
    [[nodiscard]] std::optional<Node> parent(Node node) const;

    // Looks a node up by absolute path ("/", "/chosen", "/soc/uart@1000"). A path component
    // without a unit address also matches a node whose name is that component plus "@...".
    [[nodiscard]] std::optional<Node> find_node(StringView path) const;

    // The first node, in depth-first order after `after` (or from the root), whose
    // "compatible" string list contains the given string.
    [[nodiscard]] std::optional<Node> find_compatible(StringView compatible,
                                                      std::optional<Node> after = {}) const;

    [[nodiscard]] std::optional<Property> property(Node node, StringView name) const;

    // Calls f(Property) for each property of node, in order.
    template <typename F>
    void for_each_property(Node node, F&& f) const;
    // Calls f(Node) for each direct child of node, in order.
    template <typename F>
    void for_each_child(Node node, F&& f) const;
    // Calls f(MemoryReservation) for each entry of the memory reservation map.
    template <typename F>
    void for_each_reservation(F&& f) const;

    // #address-cells / #size-cells that apply to node's children (defaults 2 and 1).
    [[nodiscard]] Result<uint32_t, FdtError> address_cells(Node node) const;
    [[nodiscard]] Result<uint32_t, FdtError> size_cells(Node node) const;

    // Number of entries in node's reg property and the entry at index (cells from the parent).
    [[nodiscard]] Result<size_t, FdtError> reg_count(Node node) const;
    [[nodiscard]] Result<RegEntry, FdtError> reg(Node node, size_t index) const;

  private:
    DeviceTree() = default;

    // Low-level cursor over the validated structure block.
    struct Token {
        uint32_t kind = 0;               // FDT_BEGIN_NODE, FDT_END_NODE, FDT_PROP, FDT_NOP, FDT_END
        uint32_t offset = 0;             // offset of the token within the blob
        uint32_t next = 0;               // offset of the following token
        StringView name;                 // node or property name
        std::span<const uint8_t> value;  // property value
    };
    [[nodiscard]] Token token_at(uint32_t offset) const;
    // Offset just past the FDT_END_NODE matching the node at `offset`.
    [[nodiscard]] uint32_t skip_node(uint32_t offset) const;

    const uint8_t* blob_ = nullptr;
    uint32_t total_size_ = 0;
    uint32_t struct_offset_ = 0;
    uint32_t struct_size_ = 0;
    uint32_t strings_offset_ = 0;
    uint32_t strings_size_ = 0;
    uint32_t reservation_offset_ = 0;
    uint32_t boot_cpuid_ = 0;
};

// Structure-block token values.
constexpr uint32_t kTokenBeginNode = 1;
constexpr uint32_t kTokenEndNode = 2;
constexpr uint32_t kTokenProp = 3;
constexpr uint32_t kTokenNop = 4;
constexpr uint32_t kTokenEnd = 9;

template <typename F>
void DeviceTree::for_each_property(Node node, F&& f) const {
    Token t = token_at(node.offset);
    for (uint32_t off = t.next;;) {
        Token cur = token_at(off);
        if (cur.kind == kTokenProp) {
            f(Property{cur.name, cur.value});
        } else if (cur.kind != kTokenNop) {
            return;  // first child or END_NODE: properties come before children
        }
        off = cur.next;
    }
}

template <typename F>
void DeviceTree::for_each_child(Node node, F&& f) const {
    Token t = token_at(node.offset);
    for (uint32_t off = t.next;;) {
        Token cur = token_at(off);
        if (cur.kind == kTokenBeginNode) {
            f(Node{cur.offset, node.offset});
            off = skip_node(cur.offset);
        } else if (cur.kind == kTokenProp || cur.kind == kTokenNop) {
            off = cur.next;
        } else {
            return;
        }
    }
}

template <typename F>
void DeviceTree::for_each_reservation(F&& f) const {
    for (uint32_t off = reservation_offset_;; off += 16) {
        auto read64 = [&](uint32_t at) {
            uint64_t v = 0;
            for (uint32_t i = 0; i < 8; ++i) {
                v = (v << 8) | blob_[at + i];
            }
            return v;
        };
        MemoryReservation r{read64(off), read64(off + 8)};
        if (r.address == 0 && r.size == 0) {
            return;  // parse() guaranteed the terminator exists within bounds
        }
        f(r);
    }
}

}  // namespace tessera::fdt
