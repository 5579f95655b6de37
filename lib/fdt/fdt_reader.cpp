// Flattened device tree reader: header checks, one validating walk, bounds-checked accessors.
// Invariant: every read lies inside the validated blob, and every decoded token moves forward.
#include "fdt/fdt_reader.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace tessera::fdt {
namespace {

// Header field offsets; every field is a big-endian u32.
constexpr size_t kOffMagic = 0;
constexpr size_t kOffTotalSize = 4;
constexpr size_t kOffStruct = 8;
constexpr size_t kOffStrings = 12;
constexpr size_t kOffReservations = 16;
constexpr size_t kOffVersion = 20;
constexpr size_t kOffLastCompVersion = 24;
constexpr size_t kOffBootCpuid = 28;
constexpr size_t kOffSizeStrings = 32;
constexpr size_t kOffSizeStruct = 36;

constexpr uint32_t kMinVersion = 16;
constexpr uint32_t kMaxLastCompVersion = 17;
// Version 16 headers have no size_dt_struct; the structure block then runs to totalsize.
constexpr uint32_t kFirstVersionWithStructSize = 17;

constexpr uint32_t kTokenSize = 4;
constexpr uint32_t kPropHeaderSize = 12;  // FDT_PROP, len, nameoff
constexpr uint32_t kReservationEntrySize = 16;
constexpr uint32_t kNoParent = UINT32_MAX;
// Property names are shared through the strings block, so an unbounded name would make every
// lookup rescan it. The specification allows 31 characters; longer names count as unterminated.
constexpr uint32_t kMaxPropertyNameLength = 256;
constexpr uint32_t kDefaultAddressCells = 2;
constexpr uint32_t kDefaultSizeCells = 1;
constexpr uint32_t kMaxCells = 2;  // values are returned as uint64_t

uint32_t read_be32(const uint8_t* p) {
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

uint64_t read_be64(const uint8_t* p) {
    return (uint64_t{read_be32(p)} << 32) | read_be32(p + 4);
}

constexpr uint64_t align4(uint64_t value) {
    return (value + 3) & ~uint64_t{3};
}

// The blocks a token decoder needs; the ends are exclusive and never exceed totalsize.
struct Blocks {
    const uint8_t* blob = nullptr;
    uint32_t struct_begin = 0;
    uint32_t struct_end = 0;
    uint32_t strings_begin = 0;
    uint32_t strings_end = 0;
};

// DeviceTree's members are private, so its methods pass them in; parse() checked that the
// sums fit inside totalsize.
Blocks make_blocks(const uint8_t* blob, uint32_t struct_offset, uint32_t struct_size,
                   uint32_t strings_offset, uint32_t strings_size) {
    return Blocks{blob, struct_offset, struct_offset + struct_size, strings_offset,
                  strings_offset + strings_size};
}

struct RawToken {
    uint32_t kind = kTokenEnd;
    uint32_t offset = 0;
    uint32_t next = 0;
    StringView name;
    std::span<const uint8_t> value;
};

// Index of the first NUL in [begin, end), or end if there is none.
uint32_t find_nul(const uint8_t* blob, uint32_t begin, uint32_t end) {
    uint32_t i = begin;
    while (i < end && blob[i] != 0) {
        ++i;
    }
    return i;
}

// The offset following a token whose payload ends at payload_end, padded to 4 bytes. A value past
// the structure block is clamped to its end, where the next decode reports kMissingEnd.
uint32_t next_offset(uint64_t payload_end, uint32_t struct_end) {
    uint64_t next = align4(payload_end);
    return next > struct_end ? struct_end : static_cast<uint32_t>(next);
}

// Decodes the token at offset. On success next > offset, so any loop over tokens terminates.
Result<RawToken, FdtError> decode_token(const Blocks& b, uint32_t offset) {
    if (offset < b.struct_begin || offset > b.struct_end || b.struct_end - offset < kTokenSize) {
        return fail(FdtError::kMissingEnd);
    }
    if ((offset - b.struct_begin) % kTokenSize != 0) {
        return fail(FdtError::kMisaligned);
    }
    RawToken t;
    t.kind = read_be32(b.blob + offset);
    t.offset = offset;
    const uint32_t body = offset + kTokenSize;
    switch (t.kind) {
        case kTokenBeginNode: {
            uint32_t nul = find_nul(b.blob, body, b.struct_end);
            if (nul == b.struct_end) {
                return fail(FdtError::kUnterminatedName);
            }
            t.name = StringView(reinterpret_cast<const char*>(b.blob + body), nul - body);
            t.next = next_offset(uint64_t{nul} + 1, b.struct_end);
            return t;
        }
        case kTokenProp: {
            if (b.struct_end - offset < kPropHeaderSize) {
                return fail(FdtError::kPropertyOutOfBounds);
            }
            uint32_t length = read_be32(b.blob + offset + 4);
            uint32_t name_offset = read_be32(b.blob + offset + 8);
            uint32_t value_begin = offset + kPropHeaderSize;
            if (length > b.struct_end - value_begin) {
                return fail(FdtError::kPropertyOutOfBounds);
            }
            if (name_offset >= b.strings_end - b.strings_begin) {
                return fail(FdtError::kBadStringOffset);
            }
            uint32_t name_begin = b.strings_begin + name_offset;
            uint32_t scan_end = b.strings_end;
            if (scan_end - name_begin > kMaxPropertyNameLength + 1) {
                scan_end = name_begin + kMaxPropertyNameLength + 1;
            }
            uint32_t nul = find_nul(b.blob, name_begin, scan_end);
            if (nul == scan_end) {
                return fail(FdtError::kBadStringOffset);
            }
            t.name =
                StringView(reinterpret_cast<const char*>(b.blob + name_begin), nul - name_begin);
            t.value = std::span<const uint8_t>(b.blob + value_begin, length);
            t.next = next_offset(uint64_t{value_begin} + length, b.struct_end);
            return t;
        }
        case kTokenEndNode:
        case kTokenNop:
        case kTokenEnd:
            t.next = body;
            return t;
        default:
            return fail(FdtError::kBadToken);
    }
}

// The single validating walk of parse(): a root node named "", balanced nesting no deeper than
// kMaxDepth, only NOPs between the root's END_NODE and FDT_END. Bytes after FDT_END are ignored.
// Returns the offset of the root's BEGIN_NODE (NOPs may precede it).
Result<uint32_t, FdtError> validate_structure(const Blocks& b) {
    uint32_t offset = b.struct_begin;
    uint32_t depth = 0;
    bool root_seen = false;
    uint32_t root_offset = 0;
    for (;;) {
        RawToken t = TRY(decode_token(b, offset));
        offset = t.next;
        if (t.kind == kTokenNop) {
            continue;
        }
        if (!root_seen && (t.kind != kTokenBeginNode || !t.name.empty())) {
            return fail(FdtError::kBadRootNode);
        }
        switch (t.kind) {
            case kTokenBeginNode:
                if (root_seen && depth == 0) {
                    return fail(FdtError::kBadRootNode);  // a second top-level node
                }
                if (!root_seen) {
                    root_seen = true;
                    root_offset = t.offset;
                }
                if (++depth > kMaxDepth) {
                    return fail(FdtError::kNestingTooDeep);
                }
                break;
            case kTokenEndNode:
                if (depth == 0) {
                    return fail(FdtError::kUnbalancedNodes);
                }
                --depth;
                break;
            case kTokenProp:
                if (depth == 0) {
                    return fail(FdtError::kBadRootNode);  // a property after the root closed
                }
                break;
            default:  // kTokenEnd: decode_token accepts no other kind
                if (depth != 0) {
                    return fail(FdtError::kUnbalancedNodes);
                }
                return root_offset;
        }
    }
}

// The entries must end with a (0, 0) entry before the next block that starts after the map (or
// before totalsize when none does).
Result<void, FdtError> validate_reservations(const uint8_t* blob, uint32_t begin, uint32_t limit) {
    for (uint64_t off = begin; off + kReservationEntrySize <= limit; off += kReservationEntrySize) {
        if (read_be64(blob + off) == 0 && read_be64(blob + off + 8) == 0) {
            return {};
        }
    }
    return fail(FdtError::kReservationMapUnterminated);
}

// Visits nodes in document order, each with its parent, until match(Node) returns true.
template <typename F>
std::optional<Node> find_in_document_order(const Blocks& b, F&& match) {
    uint32_t stack[kMaxDepth];
    uint32_t depth = 0;
    uint32_t offset = b.struct_begin;
    for (;;) {
        auto decoded = decode_token(b, offset);
        if (!decoded.ok()) {
            return std::nullopt;
        }
        const RawToken& t = decoded.value();
        if (t.kind == kTokenBeginNode) {
            if (depth >= kMaxDepth) {
                return std::nullopt;  // parse() rejected such blobs; stay in bounds regardless
            }
            Node node{t.offset, depth == 0 ? kNoParent : stack[depth - 1]};
            if (match(node)) {
                return node;
            }
            stack[depth++] = t.offset;
        } else if (t.kind == kTokenEndNode) {
            if (depth <= 1) {
                return std::nullopt;  // the root closed
            }
            --depth;
        } else if (t.kind == kTokenEnd) {
            return std::nullopt;
        }
        offset = t.next;
    }
}

std::optional<Property> find_property(const Blocks& b, uint32_t node_offset, StringView name) {
    auto node = decode_token(b, node_offset);
    if (!node.ok() || node.value().kind != kTokenBeginNode) {
        return std::nullopt;
    }
    for (uint32_t off = node.value().next;;) {
        auto decoded = decode_token(b, off);
        if (!decoded.ok()) {
            return std::nullopt;
        }
        const RawToken& t = decoded.value();
        if (t.kind == kTokenProp) {
            if (t.name == name) {
                return Property{t.name, t.value};
            }
        } else if (t.kind != kTokenNop) {
            return std::nullopt;  // properties precede children, as in for_each_property
        }
        off = t.next;
    }
}

// A path component without '@' also matches "component@unit-address".
bool component_matches(StringView node_name, StringView component) {
    if (node_name == component) {
        return true;
    }
    if (component.find('@') != SIZE_MAX) {
        return false;
    }
    return node_name.size() > component.size() && node_name.starts_with(component) &&
           node_name[component.size()] == '@';
}

uint64_t read_cells(const uint8_t* p, uint32_t cells) {
    uint64_t value = 0;
    for (uint32_t i = 0; i < cells; ++i) {
        value = (value << 32) | read_be32(p + size_t{4} * i);
    }
    return value;
}

}  // namespace

const char* to_string(FdtError error) {
    switch (error) {
        case FdtError::kTooSmall:
            return "blob too small";
        case FdtError::kBadMagic:
            return "bad magic";
        case FdtError::kBadTotalSize:
            return "bad total size";
        case FdtError::kUnsupportedVersion:
            return "unsupported version";
        case FdtError::kBlockOutOfBounds:
            return "block out of bounds";
        case FdtError::kMisaligned:
            return "misaligned block or token";
        case FdtError::kBadToken:
            return "bad token";
        case FdtError::kUnterminatedName:
            return "unterminated node name";
        case FdtError::kPropertyOutOfBounds:
            return "property out of bounds";
        case FdtError::kBadStringOffset:
            return "bad string offset";
        case FdtError::kNestingTooDeep:
            return "nesting too deep";
        case FdtError::kUnbalancedNodes:
            return "unbalanced nodes";
        case FdtError::kMissingEnd:
            return "missing end token";
        case FdtError::kBadRootNode:
            return "bad root node";
        case FdtError::kReservationMapUnterminated:
            return "unterminated reservation map";
        case FdtError::kNotFound:
            return "not found";
        case FdtError::kBadCellCount:
            return "bad cell count";
        case FdtError::kBadPropertyLength:
            return "bad property length";
    }
    return "unknown error";
}

Result<uint32_t, FdtError> Property::as_u32() const {
    if (value.size() != 4) {
        return fail(FdtError::kBadPropertyLength);
    }
    return read_be32(value.data());
}

Result<uint32_t, FdtError> Property::cell(size_t index) const {
    if (index >= value.size() / 4) {
        return fail(FdtError::kBadPropertyLength);
    }
    return read_be32(value.data() + 4 * index);
}

Result<StringView, FdtError> Property::as_string() const {
    for (size_t i = 0; i < value.size(); ++i) {
        if (value[i] == 0) {
            return StringView(reinterpret_cast<const char*>(value.data()), i);
        }
    }
    return fail(FdtError::kBadPropertyLength);
}

bool Property::contains_string(StringView s) const {
    if (value.empty() || value.back() != 0) {
        return false;
    }
    const char* chars = reinterpret_cast<const char*>(value.data());
    size_t begin = 0;
    while (begin < value.size()) {
        size_t end = begin;
        while (value[end] != 0) {
            ++end;  // stops at the final NUL at the latest
        }
        if (StringView(chars + begin, end - begin) == s) {
            return true;
        }
        begin = end + 1;
    }
    return false;
}

Result<uint32_t, FdtError> DeviceTree::peek_total_size(std::span<const uint8_t> header) {
    if (header.size() < kHeaderSize) {
        return fail(FdtError::kTooSmall);
    }
    if (read_be32(header.data() + kOffMagic) != kMagic) {
        return fail(FdtError::kBadMagic);
    }
    uint32_t total = read_be32(header.data() + kOffTotalSize);
    if (total < kHeaderSize) {
        return fail(FdtError::kBadTotalSize);
    }
    return total;
}

Result<DeviceTree, FdtError> DeviceTree::parse(std::span<const uint8_t> blob) {
    if (blob.size() < kHeaderSize) {
        return fail(FdtError::kTooSmall);
    }
    const uint8_t* p = blob.data();
    if (read_be32(p + kOffMagic) != kMagic) {
        return fail(FdtError::kBadMagic);
    }
    const uint32_t total = read_be32(p + kOffTotalSize);
    if (total < kHeaderSize || total > blob.size()) {
        return fail(FdtError::kBadTotalSize);
    }
    const uint32_t version = read_be32(p + kOffVersion);
    if (version < kMinVersion || read_be32(p + kOffLastCompVersion) > kMaxLastCompVersion) {
        return fail(FdtError::kUnsupportedVersion);
    }

    const uint32_t struct_offset = read_be32(p + kOffStruct);
    const uint32_t strings_offset = read_be32(p + kOffStrings);
    const uint32_t reservation_offset = read_be32(p + kOffReservations);
    const uint32_t strings_size = read_be32(p + kOffSizeStrings);
    uint32_t struct_size = read_be32(p + kOffSizeStruct);
    if (version < kFirstVersionWithStructSize && struct_offset <= total) {
        struct_size = total - struct_offset;
    }
    // 64-bit sums cannot overflow; every block starts after the header.
    auto inside = [total](uint32_t offset, uint64_t size) {
        return offset >= kHeaderSize && uint64_t{offset} + size <= total;
    };
    if (!inside(struct_offset, struct_size) || !inside(strings_offset, strings_size) ||
        !inside(reservation_offset, 0)) {
        return fail(FdtError::kBlockOutOfBounds);
    }
    if (struct_offset % 4 != 0 || reservation_offset % 8 != 0) {
        return fail(FdtError::kMisaligned);
    }

    uint32_t reservation_limit = total;
    for (uint32_t block : {struct_offset, strings_offset}) {
        if (block > reservation_offset && block < reservation_limit) {
            reservation_limit = block;
        }
    }
    TRY(validate_reservations(p, reservation_offset, reservation_limit));

    const uint32_t root_offset = TRY(validate_structure(
        make_blocks(p, struct_offset, struct_size, strings_offset, strings_size)));

    DeviceTree tree;
    tree.blob_ = p;
    tree.total_size_ = total;
    // root() is Node{struct_offset_}, so the stored structure block starts at the root, after
    // any leading NOPs; nothing else needs the bytes before it.
    tree.struct_offset_ = root_offset;
    tree.struct_size_ = struct_size - (root_offset - struct_offset);
    tree.strings_offset_ = strings_offset;
    tree.strings_size_ = strings_size;
    tree.reservation_offset_ = reservation_offset;
    tree.boot_cpuid_ = read_be32(p + kOffBootCpuid);
    return tree;
}

DeviceTree::Token DeviceTree::token_at(uint32_t offset) const {
    const Blocks b =
        make_blocks(blob_, struct_offset_, struct_size_, strings_offset_, strings_size_);
    auto decoded = decode_token(b, offset);
    if (!decoded.ok()) {
        return Token{kTokenEnd, offset, b.struct_end, StringView(), {}};
    }
    const RawToken& t = decoded.value();
    return Token{t.kind, t.offset, t.next, t.name, t.value};
}

uint32_t DeviceTree::skip_node(uint32_t offset) const {
    const uint32_t struct_end = struct_offset_ + struct_size_;
    Token t = token_at(offset);
    if (t.kind != kTokenBeginNode) {
        return struct_end;
    }
    uint32_t depth = 1;
    for (uint32_t off = t.next;;) {
        Token cur = token_at(off);
        if (cur.kind == kTokenBeginNode) {
            ++depth;
        } else if (cur.kind == kTokenEndNode) {
            if (--depth == 0) {
                return cur.next;
            }
        } else if (cur.kind == kTokenEnd) {
            return struct_end;
        }
        off = cur.next;
    }
}

StringView DeviceTree::name(Node node) const {
    Token t = token_at(node.offset);
    return t.kind == kTokenBeginNode ? t.name : StringView();
}

std::optional<Node> DeviceTree::parent(Node node) const {
    if (node.is_root()) {
        return std::nullopt;
    }
    if (node.parent_offset == struct_offset_) {
        return root();
    }
    const uint32_t target = node.parent_offset;
    return find_in_document_order(
        make_blocks(blob_, struct_offset_, struct_size_, strings_offset_, strings_size_),
        [target](Node n) { return n.offset == target; });
}

std::optional<Node> DeviceTree::find_node(StringView path) const {
    if (path.empty() || path[0] != '/') {
        return std::nullopt;
    }
    Node current = root();
    size_t pos = 1;
    while (pos < path.size()) {
        size_t slash = path.find('/', pos);
        size_t end = slash == SIZE_MAX ? path.size() : slash;
        StringView component = path.substr(pos, end - pos);
        pos = end + 1;
        if (component.empty()) {
            continue;  // tolerate "//" and a trailing '/'
        }
        std::optional<Node> next;
        for_each_child(current, [&](Node child) {
            if (!next && component_matches(name(child), component)) {
                next = child;
            }
        });
        if (!next) {
            return std::nullopt;
        }
        current = *next;
    }
    return current;
}

std::optional<Node> DeviceTree::find_compatible(StringView compatible,
                                                std::optional<Node> after) const {
    const Blocks b =
        make_blocks(blob_, struct_offset_, struct_size_, strings_offset_, strings_size_);
    const bool from_start = !after.has_value();
    const uint32_t after_offset = from_start ? 0 : after->offset;
    return find_in_document_order(b, [&](Node n) {
        if (!from_start && n.offset <= after_offset) {
            return false;
        }
        auto p = find_property(b, n.offset, "compatible");
        return p && p->contains_string(compatible);
    });
}

std::optional<Property> DeviceTree::property(Node node, StringView name) const {
    return find_property(
        make_blocks(blob_, struct_offset_, struct_size_, strings_offset_, strings_size_),
        node.offset, name);
}

Result<uint32_t, FdtError> DeviceTree::address_cells(Node node) const {
    auto p = property(node, "#address-cells");
    if (!p) {
        return kDefaultAddressCells;
    }
    uint32_t cells = TRY(p->as_u32());
    if (cells > kMaxCells) {
        return fail(FdtError::kBadCellCount);
    }
    return cells;
}

Result<uint32_t, FdtError> DeviceTree::size_cells(Node node) const {
    auto p = property(node, "#size-cells");
    if (!p) {
        return kDefaultSizeCells;
    }
    uint32_t cells = TRY(p->as_u32());
    if (cells > kMaxCells) {
        return fail(FdtError::kBadCellCount);
    }
    return cells;
}

namespace {

// The reg property of a node with the cell counts its parent declares.
struct RegLayout {
    std::span<const uint8_t> value;
    uint32_t address_cells = 0;
    uint32_t size_cells = 0;
    size_t stride = 0;  // bytes per entry
    size_t count = 0;
};

Result<RegLayout, FdtError> reg_layout(const DeviceTree& tree, Node node) {
    auto reg = tree.property(node, "reg");
    if (!reg) {
        return fail(FdtError::kNotFound);
    }
    if (node.is_root()) {
        return fail(FdtError::kBadCellCount);  // no parent declares the cell counts
    }
    const Node parent{node.parent_offset, kNoParent};  // the cell lookups only use the offset
    RegLayout layout;
    layout.value = reg->value;
    layout.address_cells = TRY(tree.address_cells(parent));
    layout.size_cells = TRY(tree.size_cells(parent));
    layout.stride = 4 * size_t{layout.address_cells + layout.size_cells};
    if (layout.stride == 0) {
        // #address-cells = #size-cells = 0: only an empty reg is well formed.
        if (!layout.value.empty()) {
            return fail(FdtError::kBadPropertyLength);
        }
        return layout;
    }
    if (layout.value.size() % layout.stride != 0) {
        return fail(FdtError::kBadPropertyLength);
    }
    layout.count = layout.value.size() / layout.stride;
    return layout;
}

}  // namespace

Result<size_t, FdtError> DeviceTree::reg_count(Node node) const {
    RegLayout layout = TRY(reg_layout(*this, node));
    return layout.count;
}

Result<RegEntry, FdtError> DeviceTree::reg(Node node, size_t index) const {
    RegLayout layout = TRY(reg_layout(*this, node));
    if (index >= layout.count) {
        return fail(FdtError::kNotFound);
    }
    const uint8_t* entry = layout.value.data() + index * layout.stride;
    return RegEntry{read_cells(entry, layout.address_cells),
                    read_cells(entry + size_t{4} * layout.address_cells, layout.size_cells)};
}

}  // namespace tessera::fdt
