// Host tests for the DTB reader: a small in-file DTB builder makes valid and corrupted blobs.
// Invariant: every parse error has a test that produces exactly it; blobs are exact-size copies.
#include "fdt/fdt_reader.hpp"

#include <gtest/gtest.h>

#include <cstddef>

#include <cstdint>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tessera::fdt {

// gtest printers (found by argument-dependent lookup, so outside the unnamed namespace).
void PrintTo(FdtError error, std::ostream* os) {
    *os << to_string(error);
}
void PrintTo(const Node& node, std::ostream* os) {
    *os << "Node{" << node.offset << ", parent " << node.parent_offset << "}";
}

namespace {

// Header field offsets, for tests that corrupt a built blob.
constexpr size_t kOffMagic = 0;
constexpr size_t kOffTotalSize = 4;
constexpr size_t kOffStruct = 8;
constexpr size_t kOffStrings = 12;
constexpr size_t kOffReservations = 16;
constexpr size_t kOffVersion = 20;
constexpr size_t kOffLastCompVersion = 24;
constexpr size_t kOffSizeStrings = 32;
constexpr size_t kOffSizeStruct = 36;

uint32_t get_be32(const std::vector<uint8_t>& blob, size_t offset) {
    return (uint32_t{blob[offset]} << 24) | (uint32_t{blob[offset + 1]} << 16) |
           (uint32_t{blob[offset + 2]} << 8) | uint32_t{blob[offset + 3]};
}

void set_be32(std::vector<uint8_t>& blob, size_t offset, uint32_t value) {
    for (size_t i = 0; i < 4; ++i) {
        blob[offset + i] = static_cast<uint8_t>(value >> (24 - 8 * i));
    }
}

void append_be32(std::vector<uint8_t>& out, uint32_t value) {
    for (int shift = 24; shift >= 0; shift -= 8) {
        out.push_back(static_cast<uint8_t>(value >> shift));
    }
}

void append_be64(std::vector<uint8_t>& out, uint64_t value) {
    append_be32(out, static_cast<uint32_t>(value >> 32));
    append_be32(out, static_cast<uint32_t>(value));
}

std::vector<uint8_t> cells(std::initializer_list<uint32_t> values) {
    std::vector<uint8_t> out;
    for (uint32_t v : values) {
        append_be32(out, v);
    }
    return out;
}

// Emits a DTB: header, memory reservation map, structure block, strings block, padding. The
// structure block is written token by token, so tests can emit malformed sequences.
class DtbBuilder {
  public:
    uint32_t magic = kMagic;
    uint32_t version = 17;
    uint32_t last_comp_version = 16;
    uint32_t boot_cpuid = 0;
    bool terminate_reservations = true;
    size_t padding = 0;  // zero bytes after the strings block, inside totalsize

    DtbBuilder& reserve(uint64_t address, uint64_t size) {
        reservations_.push_back({address, size});
        return *this;
    }

    DtbBuilder& begin_node(std::string_view name) {
        token(kTokenBeginNode);
        structure_.insert(structure_.end(), name.begin(), name.end());
        structure_.push_back(0);
        pad();
        return *this;
    }

    DtbBuilder& end_node() { return token(kTokenEndNode); }
    DtbBuilder& nop() { return token(kTokenNop); }
    DtbBuilder& end() { return token(kTokenEnd); }

    DtbBuilder& prop(std::string_view name, const std::vector<uint8_t>& value) {
        return prop_raw(static_cast<uint32_t>(value.size()), string_offset(name), value);
    }
    DtbBuilder& prop_cells(std::string_view name, std::initializer_list<uint32_t> values) {
        return prop(name, cells(values));
    }
    DtbBuilder& prop_string(std::string_view name, std::string_view value) {
        return prop_strings(name, {value});
    }
    DtbBuilder& prop_strings(std::string_view name, std::initializer_list<std::string_view> list) {
        std::vector<uint8_t> value;
        for (std::string_view s : list) {
            value.insert(value.end(), s.begin(), s.end());
            value.push_back(0);
        }
        return prop(name, value);
    }
    DtbBuilder& prop_empty(std::string_view name) { return prop(name, {}); }

    // A property with arbitrary length and name-offset fields; bytes follow, padded to 4.
    DtbBuilder& prop_raw(uint32_t length, uint32_t name_offset, const std::vector<uint8_t>& bytes) {
        token(kTokenProp);
        append_be32(structure_, length);
        append_be32(structure_, name_offset);
        structure_.insert(structure_.end(), bytes.begin(), bytes.end());
        pad();
        return *this;
    }

    DtbBuilder& token(uint32_t value) {
        append_be32(structure_, value);
        return *this;
    }
    // Raw bytes in the structure block, not padded.
    DtbBuilder& raw(std::string_view bytes) {
        structure_.insert(structure_.end(), bytes.begin(), bytes.end());
        return *this;
    }

    // Offset of name in the strings block, adding it on first use.
    uint32_t string_offset(std::string_view name) {
        auto it = string_offsets_.find(std::string(name));
        if (it != string_offsets_.end()) {
            return it->second;
        }
        auto offset = static_cast<uint32_t>(strings_.size());
        strings_.insert(strings_.end(), name.begin(), name.end());
        strings_.push_back(0);
        string_offsets_.emplace(std::string(name), offset);
        return offset;
    }

    [[nodiscard]] std::vector<uint8_t> build() const {
        std::vector<uint8_t> out(kHeaderSize, 0);
        const size_t reservations = out.size();  // 40 is 8-aligned
        for (const auto& r : reservations_) {
            append_be64(out, r.address);
            append_be64(out, r.size);
        }
        if (terminate_reservations) {
            append_be64(out, 0);
            append_be64(out, 0);
        }
        const size_t structure = out.size();  // a multiple of 8
        out.insert(out.end(), structure_.begin(), structure_.end());
        const size_t strings = out.size();
        out.insert(out.end(), strings_.begin(), strings_.end());
        out.insert(out.end(), padding, 0);

        set_be32(out, kOffMagic, magic);
        set_be32(out, kOffTotalSize, static_cast<uint32_t>(out.size()));
        set_be32(out, kOffStruct, static_cast<uint32_t>(structure));
        set_be32(out, kOffStrings, static_cast<uint32_t>(strings));
        set_be32(out, kOffReservations, static_cast<uint32_t>(reservations));
        set_be32(out, kOffVersion, version);
        set_be32(out, kOffLastCompVersion, last_comp_version);
        set_be32(out, 28, boot_cpuid);
        set_be32(out, kOffSizeStrings, static_cast<uint32_t>(strings_.size()));
        set_be32(out, kOffSizeStruct, static_cast<uint32_t>(structure_.size()));
        return out;
    }

  private:
    struct Reservation {
        uint64_t address;
        uint64_t size;
    };

    void pad() {
        while (structure_.size() % 4 != 0) {
            structure_.push_back(0);
        }
    }

    std::vector<Reservation> reservations_;
    std::vector<uint8_t> structure_;
    std::vector<uint8_t> strings_;
    std::map<std::string, uint32_t> string_offsets_;
};

// The tree most tests read:
// / { #address-cells = <2>; #size-cells = <2>; compatible = "tessera,test"; model = ...;
//     memory@40000000 { device_type = "memory"; reg = <0 0x40000000 0 0x8000000>; };
//     soc { #address-cells = <1>; #size-cells = <1>; compatible = "simple-bus";
//           uart@1000 { compatible = "ns16550a"; reg = <0x1000 0x100>; interrupts = <0 1 4>; };
//           uart@2000 { compatible = "vendor,uart", "ns16550a";
//                       reg = <0x2000 0x100 0x3000 0x10>; };
//           gpio { compatible = "vendor,gpio"; leds { led@0 { }; }; }; };
//     wide { #address-cells = <2>; #size-cells = <1>; dev@100000000 { reg = <1 0 0x1000>; }; };
//     cpus { #address-cells = <1>; #size-cells = <0>;
//            cpu@0 { compatible = "arm,cortex-a53"; reg = <0>; }; cpu@1 { reg = <1>; }; };
//     defaults { dev@10 { reg = <0 0x10 0x20>; }; };
//     chosen { bootargs = "console=ttyAMA0"; }; }
DtbBuilder sample_builder() {
    DtbBuilder b;
    b.boot_cpuid = 1;
    b.reserve(0x48000000, 0x100000).reserve(0x1'0000'0000, 0x2000);
    b.nop().begin_node("");
    b.prop_cells("#address-cells", {2}).prop_cells("#size-cells", {2});
    b.prop_string("compatible", "tessera,test").nop().prop_string("model", "Tessera test board");

    b.begin_node("memory@40000000").prop_string("device_type", "memory");
    b.prop_cells("reg", {0, 0x40000000, 0, 0x8000000}).end_node();

    b.begin_node("soc").prop_cells("#address-cells", {1}).prop_cells("#size-cells", {1});
    b.prop_string("compatible", "simple-bus");
    b.begin_node("uart@1000").prop_string("compatible", "ns16550a");
    b.prop_cells("reg", {0x1000, 0x100}).prop_cells("interrupts", {0, 1, 4}).end_node();
    b.nop();
    b.begin_node("uart@2000").prop_strings("compatible", {"vendor,uart", "ns16550a"});
    b.prop_cells("reg", {0x2000, 0x100, 0x3000, 0x10}).end_node();
    b.begin_node("gpio").prop_string("compatible", "vendor,gpio");
    b.begin_node("leds").begin_node("led@0").end_node().end_node();
    b.end_node();
    b.end_node();  // soc

    b.begin_node("wide").prop_cells("#address-cells", {2}).prop_cells("#size-cells", {1});
    b.begin_node("dev@100000000").prop_cells("reg", {1, 0, 0x1000}).end_node();
    b.end_node();

    b.begin_node("cpus").prop_cells("#address-cells", {1}).prop_cells("#size-cells", {0});
    b.begin_node("cpu@0").prop_string("compatible", "arm,cortex-a53").prop_cells("reg", {0});
    b.end_node();
    b.begin_node("cpu@1").prop_cells("reg", {1}).end_node();
    b.end_node();

    b.begin_node("defaults").begin_node("dev@10").prop_cells("reg", {0, 0x10, 0x20}).end_node();
    b.end_node();

    b.begin_node("chosen").prop_string("bootargs", "console=ttyAMA0").end_node();
    b.end_node().nop().end();
    return b;
}

// Minimal valid blob: an empty root.
DtbBuilder empty_root_builder() {
    DtbBuilder b;
    b.begin_node("").end_node().end();
    return b;
}

// Parses an exact-size copy (the vector copy allocates exactly size() bytes, so ASan reports a
// read past the end) and returns the error, or nullopt when the blob is accepted.
std::optional<FdtError> parse_error(const std::vector<uint8_t>& blob) {
    const std::vector<uint8_t> exact(blob.begin(), blob.end());  // exact-size copy for ASan
    auto result = DeviceTree::parse(exact);
    if (result.ok()) {
        return std::nullopt;
    }
    return result.error();
}

#define ASSERT_PARSES(tree, blob)                                                            \
    auto tree##_result = DeviceTree::parse(blob);                                            \
    ASSERT_TRUE(tree##_result.ok()) << "parse failed: " << to_string(tree##_result.error()); \
    const DeviceTree& tree = tree##_result.value()

std::string str(StringView s) {
    return std::string(s.data(), s.size());
}

std::vector<std::string> child_names(const DeviceTree& tree, Node node) {
    std::vector<std::string> names;
    tree.for_each_child(node, [&](Node child) { names.push_back(str(tree.name(child))); });
    return names;
}

Node must_find(const DeviceTree& tree, StringView path) {
    auto node = tree.find_node(path);
    EXPECT_TRUE(node.has_value()) << str(path);
    return node.value_or(tree.root());
}

// ---------------------------------------------------------------------------------------------
// Valid trees

TEST(FdtReader, ParsesHeaderAndRoot) {
    const auto blob = sample_builder().build();
    ASSERT_PARSES(tree, blob);
    EXPECT_EQ(tree.total_size(), blob.size());
    EXPECT_EQ(tree.boot_cpuid(), 1u);
    EXPECT_TRUE(tree.root().is_root());
    EXPECT_EQ(str(tree.name(tree.root())), "");
    EXPECT_FALSE(tree.parent(tree.root()).has_value());
    // The sample's structure block starts with a NOP; root() must still be the root node.
    EXPECT_TRUE(tree.property(tree.root(), "model").has_value());
    EXPECT_EQ(child_names(tree, tree.root()).size(), 6u);
}

TEST(FdtReader, PeekTotalSize) {
    const auto blob = sample_builder().build();
    auto size = DeviceTree::peek_total_size(std::span(blob).first(kHeaderSize));
    ASSERT_TRUE(size.ok());
    EXPECT_EQ(size.value(), blob.size());

    EXPECT_EQ(DeviceTree::peek_total_size(std::span(blob).first(kHeaderSize - 1)).error(),
              FdtError::kTooSmall);
    EXPECT_EQ(DeviceTree::peek_total_size({}).error(), FdtError::kTooSmall);
    auto bad_magic = blob;
    bad_magic[3] ^= 1;
    EXPECT_EQ(DeviceTree::peek_total_size(bad_magic).error(), FdtError::kBadMagic);
    auto tiny = blob;
    set_be32(tiny, kOffTotalSize, kHeaderSize - 1);
    EXPECT_EQ(DeviceTree::peek_total_size(tiny).error(), FdtError::kBadTotalSize);
}

TEST(FdtReader, ListsReservations) {
    const auto blob = sample_builder().build();
    ASSERT_PARSES(tree, blob);
    std::vector<std::pair<uint64_t, uint64_t>> entries;
    tree.for_each_reservation(
        [&](MemoryReservation r) { entries.emplace_back(r.address, r.size); });
    ASSERT_EQ(entries.size(), 2u);
    EXPECT_EQ(entries[0], std::make_pair(uint64_t{0x48000000}, uint64_t{0x100000}));
    EXPECT_EQ(entries[1], std::make_pair(uint64_t{0x1'0000'0000}, uint64_t{0x2000}));
}

TEST(FdtReader, EmptyReservationMapAndEmptyRoot) {
    const auto blob = empty_root_builder().build();
    ASSERT_PARSES(tree, blob);
    int count = 0;
    tree.for_each_reservation([&](MemoryReservation) { ++count; });
    EXPECT_EQ(count, 0);
    EXPECT_TRUE(child_names(tree, tree.root()).empty());
    tree.for_each_property(tree.root(), [&](Property) { ++count; });
    EXPECT_EQ(count, 0);
    EXPECT_EQ(tree.find_node("/"), tree.root());
    EXPECT_FALSE(tree.find_node("/chosen").has_value());
    EXPECT_FALSE(tree.find_compatible("x").has_value());
}

TEST(FdtReader, WalksChildrenInOrder) {
    const auto blob = sample_builder().build();
    ASSERT_PARSES(tree, blob);
    EXPECT_EQ(
        child_names(tree, tree.root()),
        (std::vector<std::string>{"memory@40000000", "soc", "wide", "cpus", "defaults", "chosen"}));
    EXPECT_EQ(child_names(tree, must_find(tree, "/soc")),
              (std::vector<std::string>{"uart@1000", "uart@2000", "gpio"}));
    EXPECT_TRUE(child_names(tree, must_find(tree, "/soc/gpio/leds/led@0")).empty());
}

TEST(FdtReader, WalksPropertiesInOrderSkippingNops) {
    const auto blob = sample_builder().build();
    ASSERT_PARSES(tree, blob);
    std::vector<std::string> names;
    tree.for_each_property(tree.root(), [&](Property p) { names.push_back(str(p.name)); });
    EXPECT_EQ(names,
              (std::vector<std::string>{"#address-cells", "#size-cells", "compatible", "model"}));
    auto model = tree.property(tree.root(), "model");
    ASSERT_TRUE(model.has_value());
    EXPECT_EQ(str(model->as_string().value()), "Tessera test board");
    EXPECT_FALSE(tree.property(tree.root(), "missing").has_value());
    // A child's property is not the parent's.
    EXPECT_FALSE(tree.property(tree.root(), "device_type").has_value());
}

TEST(FdtReader, ParentsAreFound) {
    const auto blob = sample_builder().build();
    ASSERT_PARSES(tree, blob);
    Node led = must_find(tree, "/soc/gpio/leds/led@0");
    auto leds = tree.parent(led);
    ASSERT_TRUE(leds.has_value());
    EXPECT_EQ(str(tree.name(*leds)), "leds");
    auto gpio = tree.parent(*leds);
    ASSERT_TRUE(gpio.has_value());
    EXPECT_EQ(*gpio, must_find(tree, "/soc/gpio"));
    auto soc = tree.parent(*gpio);
    ASSERT_TRUE(soc.has_value());
    EXPECT_EQ(*soc, must_find(tree, "/soc"));
    auto root = tree.parent(*soc);
    ASSERT_TRUE(root.has_value());
    EXPECT_EQ(*root, tree.root());
    EXPECT_FALSE(tree.parent(*root).has_value());
}

TEST(FdtReader, FindNodeByPath) {
    const auto blob = sample_builder().build();
    ASSERT_PARSES(tree, blob);
    EXPECT_EQ(tree.find_node("/"), tree.root());
    EXPECT_EQ(str(tree.name(must_find(tree, "/memory@40000000"))), "memory@40000000");
    EXPECT_EQ(str(tree.name(must_find(tree, "/memory"))), "memory@40000000");
    EXPECT_EQ(str(tree.name(must_find(tree, "/soc/uart@2000"))), "uart@2000");
    // Without a unit address the first match wins.
    EXPECT_EQ(str(tree.name(must_find(tree, "/soc/uart"))), "uart@1000");
    EXPECT_EQ(str(tree.name(must_find(tree, "/soc/gpio/leds/led"))), "led@0");
    EXPECT_EQ(str(tree.name(must_find(tree, "/soc/"))), "soc");
    EXPECT_EQ(str(tree.name(must_find(tree, "//soc//uart@2000"))), "uart@2000");
    EXPECT_EQ(must_find(tree, "/soc/uart@2000").parent_offset, must_find(tree, "/soc").offset);

    EXPECT_FALSE(tree.find_node("").has_value());
    EXPECT_FALSE(tree.find_node("soc").has_value());        // not absolute
    EXPECT_FALSE(tree.find_node("/mem").has_value());       // a prefix is not a match
    EXPECT_FALSE(tree.find_node("/memory@4").has_value());  // unit address must match fully
    EXPECT_FALSE(tree.find_node("/soc/uart@3000").has_value());
    EXPECT_FALSE(tree.find_node("/uart@1000").has_value());  // not a child of the root
    EXPECT_FALSE(tree.find_node("/chosen/x").has_value());
}

TEST(FdtReader, FindCompatibleIterates) {
    const auto blob = sample_builder().build();
    ASSERT_PARSES(tree, blob);
    std::vector<std::string> found;
    for (auto n = tree.find_compatible("ns16550a"); n; n = tree.find_compatible("ns16550a", n)) {
        found.push_back(str(tree.name(*n)));
        ASSERT_LT(found.size(), 10u);
    }
    EXPECT_EQ(found, (std::vector<std::string>{"uart@1000", "uart@2000"}));

    // The root is a candidate; the handle carries its parent.
    EXPECT_EQ(tree.find_compatible("tessera,test"), tree.root());
    auto uart = tree.find_compatible("vendor,uart");
    ASSERT_TRUE(uart.has_value());
    EXPECT_EQ(*uart, must_find(tree, "/soc/uart@2000"));
    // Searching after a node includes its descendants.
    EXPECT_EQ(tree.find_compatible("ns16550a", must_find(tree, "/soc")),
              must_find(tree, "/soc/uart@1000"));
    EXPECT_EQ(tree.find_compatible("arm,cortex-a53", must_find(tree, "/soc/uart@1000")),
              must_find(tree, "/cpus/cpu@0"));
    EXPECT_FALSE(tree.find_compatible("ns16550").has_value());  // whole entries only
    EXPECT_FALSE(tree.find_compatible("simple-bus", must_find(tree, "/soc")).has_value());
}

// ---------------------------------------------------------------------------------------------
// reg and #cells

TEST(FdtReader, RegTwoTwo) {
    const auto blob = sample_builder().build();
    ASSERT_PARSES(tree, blob);
    Node memory = must_find(tree, "/memory");
    EXPECT_EQ(tree.reg_count(memory).value(), 1u);
    auto entry = tree.reg(memory, 0);
    ASSERT_TRUE(entry.ok());
    EXPECT_EQ(entry.value().address, 0x40000000u);
    EXPECT_EQ(entry.value().size, 0x8000000u);
    EXPECT_EQ(tree.reg(memory, 1).error(), FdtError::kNotFound);
}

TEST(FdtReader, RegOneOne) {
    const auto blob = sample_builder().build();
    ASSERT_PARSES(tree, blob);
    Node uart = must_find(tree, "/soc/uart@2000");
    EXPECT_EQ(tree.address_cells(must_find(tree, "/soc")).value(), 1u);
    EXPECT_EQ(tree.size_cells(must_find(tree, "/soc")).value(), 1u);
    ASSERT_EQ(tree.reg_count(uart).value(), 2u);
    EXPECT_EQ(tree.reg(uart, 0).value().address, 0x2000u);
    EXPECT_EQ(tree.reg(uart, 0).value().size, 0x100u);
    EXPECT_EQ(tree.reg(uart, 1).value().address, 0x3000u);
    EXPECT_EQ(tree.reg(uart, 1).value().size, 0x10u);
    EXPECT_EQ(tree.reg(uart, 2).error(), FdtError::kNotFound);
    EXPECT_EQ(tree.reg(uart, SIZE_MAX).error(), FdtError::kNotFound);
}

TEST(FdtReader, RegTwoOne) {
    const auto blob = sample_builder().build();
    ASSERT_PARSES(tree, blob);
    Node dev = must_find(tree, "/wide/dev");
    EXPECT_EQ(tree.reg_count(dev).value(), 1u);
    EXPECT_EQ(tree.reg(dev, 0).value().address, 0x1'0000'0000u);
    EXPECT_EQ(tree.reg(dev, 0).value().size, 0x1000u);
}

TEST(FdtReader, RegWithZeroSizeCells) {
    const auto blob = sample_builder().build();
    ASSERT_PARSES(tree, blob);
    EXPECT_EQ(tree.size_cells(must_find(tree, "/cpus")).value(), 0u);
    Node cpu1 = must_find(tree, "/cpus/cpu@1");
    EXPECT_EQ(tree.reg_count(cpu1).value(), 1u);
    EXPECT_EQ(tree.reg(cpu1, 0).value().address, 1u);
    EXPECT_EQ(tree.reg(cpu1, 0).value().size, 0u);
}

TEST(FdtReader, CellDefaultsWhenAbsent) {
    const auto blob = sample_builder().build();
    ASSERT_PARSES(tree, blob);
    Node defaults = must_find(tree, "/defaults");
    EXPECT_EQ(tree.address_cells(defaults).value(), 2u);
    EXPECT_EQ(tree.size_cells(defaults).value(), 1u);
    Node dev = must_find(tree, "/defaults/dev@10");
    EXPECT_EQ(tree.reg_count(dev).value(), 1u);
    EXPECT_EQ(tree.reg(dev, 0).value().address, 0x10u);
    EXPECT_EQ(tree.reg(dev, 0).value().size, 0x20u);
}

TEST(FdtReader, RegErrors) {
    DtbBuilder b;
    b.begin_node("").prop_cells("reg", {1, 2, 3});
    b.begin_node("no-reg").end_node();
    b.begin_node("odd").prop_cells("reg", {1, 2, 3, 4, 5}).end_node();  // not a multiple of 3*4
    b.begin_node("three").prop_cells("#address-cells", {3}).prop_cells("#size-cells", {3});
    b.begin_node("child").prop_cells("reg", {1, 2, 3, 4, 5, 6}).end_node().end_node();
    b.begin_node("short").prop("#address-cells", {0, 0, 1}).prop("#size-cells", {0, 1});
    b.begin_node("child").prop_cells("reg", {1}).end_node().end_node();
    b.begin_node("zero").prop_cells("#address-cells", {0}).prop_cells("#size-cells", {0});
    b.begin_node("empty").prop_empty("reg").end_node();
    b.begin_node("full").prop_cells("reg", {1}).end_node().end_node();
    b.end_node().end();
    const auto blob = b.build();
    ASSERT_PARSES(tree, blob);

    // Defaults (2, 1) at the root: 5 cells are not a whole number of 3-cell entries.
    EXPECT_EQ(tree.reg_count(must_find(tree, "/odd")).error(), FdtError::kBadPropertyLength);
    EXPECT_EQ(tree.reg(must_find(tree, "/odd"), 0).error(), FdtError::kBadPropertyLength);
    EXPECT_EQ(tree.reg_count(must_find(tree, "/no-reg")).error(), FdtError::kNotFound);
    EXPECT_EQ(tree.reg_count(tree.root()).error(), FdtError::kBadCellCount);

    Node three = must_find(tree, "/three");
    EXPECT_EQ(tree.address_cells(three).error(), FdtError::kBadCellCount);
    EXPECT_EQ(tree.size_cells(three).error(), FdtError::kBadCellCount);
    EXPECT_EQ(tree.reg_count(must_find(tree, "/three/child")).error(), FdtError::kBadCellCount);

    Node short_cells = must_find(tree, "/short");
    EXPECT_EQ(tree.address_cells(short_cells).error(), FdtError::kBadPropertyLength);
    EXPECT_EQ(tree.size_cells(short_cells).error(), FdtError::kBadPropertyLength);
    EXPECT_EQ(tree.reg(must_find(tree, "/short/child"), 0).error(), FdtError::kBadPropertyLength);

    EXPECT_EQ(tree.reg_count(must_find(tree, "/zero/empty")).value(), 0u);
    EXPECT_EQ(tree.reg(must_find(tree, "/zero/empty"), 0).error(), FdtError::kNotFound);
    EXPECT_EQ(tree.reg_count(must_find(tree, "/zero/full")).error(), FdtError::kBadPropertyLength);
}

// ---------------------------------------------------------------------------------------------
// Property accessors

Property make_property(const std::vector<uint8_t>& value) {
    return Property{"p", std::span<const uint8_t>(value)};
}

std::vector<uint8_t> bytes_of(std::string_view s) {
    return std::vector<uint8_t>(s.begin(), s.end());
}

TEST(FdtProperty, AsU32AndCells) {
    const auto one = cells({0xdeadbeef});
    EXPECT_EQ(make_property(one).as_u32().value(), 0xdeadbeefu);
    EXPECT_EQ(make_property(one).cell_count(), 1u);

    const auto three = cells({1, 2, 3});
    EXPECT_EQ(make_property(three).as_u32().error(), FdtError::kBadPropertyLength);
    EXPECT_EQ(make_property(three).cell(2).value(), 3u);
    EXPECT_EQ(make_property(three).cell(3).error(), FdtError::kBadPropertyLength);
    EXPECT_EQ(make_property(three).cell(SIZE_MAX).error(), FdtError::kBadPropertyLength);

    const std::vector<uint8_t> empty;
    EXPECT_EQ(make_property(empty).as_u32().error(), FdtError::kBadPropertyLength);
    EXPECT_EQ(make_property(empty).cell(0).error(), FdtError::kBadPropertyLength);
    const std::vector<uint8_t> five{0, 0, 0, 7, 9};
    EXPECT_EQ(make_property(five).as_u32().error(), FdtError::kBadPropertyLength);
    EXPECT_EQ(make_property(five).cell(0).value(), 7u);
    EXPECT_EQ(make_property(five).cell(1).error(), FdtError::kBadPropertyLength);
}

TEST(FdtProperty, AsString) {
    const auto hello = bytes_of(std::string_view("hello\0", 6));
    EXPECT_EQ(str(make_property(hello).as_string().value()), "hello");
    const auto list = bytes_of(std::string_view("a\0b\0", 4));
    EXPECT_EQ(str(make_property(list).as_string().value()), "a");
    const auto empty_string = bytes_of(std::string_view("\0", 1));
    EXPECT_EQ(str(make_property(empty_string).as_string().value()), "");

    EXPECT_EQ(make_property(bytes_of("hello")).as_string().error(), FdtError::kBadPropertyLength);
    EXPECT_EQ(make_property({}).as_string().error(), FdtError::kBadPropertyLength);
}

TEST(FdtProperty, ContainsString) {
    const auto list = bytes_of(std::string_view("arm,pl011\0arm,primecell\0", 24));
    EXPECT_TRUE(make_property(list).contains_string("arm,pl011"));
    EXPECT_TRUE(make_property(list).contains_string("arm,primecell"));
    EXPECT_FALSE(make_property(list).contains_string("arm"));
    EXPECT_FALSE(make_property(list).contains_string(StringView("arm,pl011\0arm", 13)));
    EXPECT_FALSE(make_property(list).contains_string(""));
    EXPECT_FALSE(make_property(list).contains_string("arm,primecell2"));

    // Unterminated values match nothing, not even their terminated prefix.
    const auto unterminated = bytes_of(std::string_view("a\0b", 3));
    EXPECT_FALSE(make_property(unterminated).contains_string("a"));
    EXPECT_FALSE(make_property(unterminated).contains_string("b"));
    EXPECT_FALSE(make_property({}).contains_string(""));

    const auto with_empty = bytes_of(std::string_view("a\0\0b\0", 5));
    EXPECT_TRUE(make_property(with_empty).contains_string(""));
    EXPECT_TRUE(make_property(with_empty).contains_string("b"));
}

TEST(FdtProperty, AccessorsOnParsedTree) {
    const auto blob = sample_builder().build();
    ASSERT_PARSES(tree, blob);
    Node uart = must_find(tree, "/soc/uart@1000");
    auto interrupts = tree.property(uart, "interrupts");
    ASSERT_TRUE(interrupts.has_value());
    EXPECT_EQ(interrupts->cell_count(), 3u);
    EXPECT_EQ(interrupts->cell(2).value(), 4u);
    EXPECT_EQ(interrupts->as_u32().error(), FdtError::kBadPropertyLength);
    // Cells are not strings, but a value starting with a zero byte reads as "".
    EXPECT_EQ(str(interrupts->as_string().value()), "");
    auto compatible = tree.property(must_find(tree, "/soc/uart@2000"), "compatible");
    ASSERT_TRUE(compatible.has_value());
    EXPECT_EQ(str(compatible->as_string().value()), "vendor,uart");
    EXPECT_TRUE(compatible->contains_string("ns16550a"));
}

TEST(FdtReader, ErrorStrings) {
    std::set<std::string> seen;
    for (int e = 0; e <= static_cast<int>(FdtError::kBadPropertyLength); ++e) {
        const char* text = to_string(static_cast<FdtError>(e));
        ASSERT_NE(text, nullptr);
        EXPECT_FALSE(std::string(text).empty());
        EXPECT_TRUE(seen.insert(text).second) << text;
    }
    EXPECT_EQ(std::string(to_string(FdtError::kBadMagic)), "bad magic");
    EXPECT_NE(to_string(static_cast<FdtError>(200)), nullptr);
}

// ---------------------------------------------------------------------------------------------
// Every parse error

TEST(FdtParseError, TooSmall) {
    const auto blob = sample_builder().build();
    EXPECT_EQ(parse_error({}), FdtError::kTooSmall);
    EXPECT_EQ(parse_error(std::vector<uint8_t>(blob.begin(), blob.begin() + kHeaderSize - 1)),
              FdtError::kTooSmall);
}

TEST(FdtParseError, BadMagic) {
    auto blob = sample_builder().build();
    set_be32(blob, kOffMagic, 0xfeedd00d);
    EXPECT_EQ(parse_error(blob), FdtError::kBadMagic);
}

TEST(FdtParseError, TotalSize) {
    const auto good = sample_builder().build();
    // totalsize smaller than the header.
    auto blob = good;
    set_be32(blob, kOffTotalSize, kHeaderSize - 1);
    EXPECT_EQ(parse_error(blob), FdtError::kBadTotalSize);
    // totalsize larger than the buffer, whether by the field or by truncating the buffer.
    blob = good;
    set_be32(blob, kOffTotalSize, static_cast<uint32_t>(good.size() + 1));
    EXPECT_EQ(parse_error(blob), FdtError::kBadTotalSize);
    EXPECT_EQ(parse_error(std::vector<uint8_t>(good.begin(), good.end() - 1)),
              FdtError::kBadTotalSize);
    // A buffer longer than totalsize is fine.
    blob = good;
    blob.resize(good.size() + 64, 0xff);
    EXPECT_EQ(parse_error(blob), std::nullopt);
}

TEST(FdtParseError, Version) {
    DtbBuilder b = empty_root_builder();
    b.version = 15;
    EXPECT_EQ(parse_error(b.build()), FdtError::kUnsupportedVersion);
    b.version = 17;
    b.last_comp_version = 18;
    EXPECT_EQ(parse_error(b.build()), FdtError::kUnsupportedVersion);
    b.last_comp_version = 17;
    EXPECT_EQ(parse_error(b.build()), std::nullopt);
    b.version = 20;  // newer but backwards compatible
    b.last_comp_version = 16;
    EXPECT_EQ(parse_error(b.build()), std::nullopt);
}

TEST(FdtParseError, Version16WithoutStructSize) {
    DtbBuilder b = sample_builder();
    b.version = 16;
    auto blob = b.build();
    set_be32(blob, kOffSizeStruct, 0);                           // not defined before version 17
    const std::vector<uint8_t> exact(blob.begin(), blob.end());  // exact-size copy for ASan
    ASSERT_PARSES(tree, exact);
    EXPECT_EQ(tree.reg(must_find(tree, "/memory"), 0).value().address, 0x40000000u);
}

TEST(FdtParseError, Misaligned) {
    const auto good = sample_builder().build();
    auto blob = good;
    set_be32(blob, kOffStruct, get_be32(good, kOffStruct) + 2);
    EXPECT_EQ(parse_error(blob), FdtError::kMisaligned);
    blob = good;
    set_be32(blob, kOffReservations, get_be32(good, kOffReservations) + 4);
    EXPECT_EQ(parse_error(blob), FdtError::kMisaligned);
}

TEST(FdtParseError, BlockOutOfBounds) {
    const auto good = sample_builder().build();
    const uint32_t total = get_be32(good, kOffTotalSize);
    auto blob = good;
    set_be32(blob, kOffSizeStruct, total);  // structure block runs past totalsize
    EXPECT_EQ(parse_error(blob), FdtError::kBlockOutOfBounds);
    blob = good;
    set_be32(blob, kOffSizeStrings, get_be32(good, kOffSizeStrings) + 1);
    EXPECT_EQ(parse_error(blob), FdtError::kBlockOutOfBounds);
    blob = good;
    set_be32(blob, kOffStrings, 0xfffffff0);  // offset + size wraps in 32 bits
    EXPECT_EQ(parse_error(blob), FdtError::kBlockOutOfBounds);
    blob = good;
    set_be32(blob, kOffStruct, 0xfffffffc);
    EXPECT_EQ(parse_error(blob), FdtError::kBlockOutOfBounds);
    blob = good;
    set_be32(blob, kOffReservations, total + 8);
    EXPECT_EQ(parse_error(blob), FdtError::kBlockOutOfBounds);
    blob = good;
    set_be32(blob, kOffStruct, 0);  // overlaps the header
    EXPECT_EQ(parse_error(blob), FdtError::kBlockOutOfBounds);
}

TEST(FdtParseError, ReservationMapUnterminated) {
    DtbBuilder b = sample_builder();
    b.terminate_reservations = false;  // the entries run into the structure block
    EXPECT_EQ(parse_error(b.build()), FdtError::kReservationMapUnterminated);

    DtbBuilder empty = empty_root_builder();
    empty.terminate_reservations = false;
    EXPECT_EQ(parse_error(empty.build()), FdtError::kReservationMapUnterminated);

    // A map at the very end of the blob, with no room for an entry.
    DtbBuilder padded = empty_root_builder();
    padded.padding = 8;
    auto blob = padded.build();
    set_be32(blob, kOffReservations, static_cast<uint32_t>(blob.size() - 8));
    EXPECT_EQ(parse_error(blob), FdtError::kReservationMapUnterminated);
}

TEST(FdtParseError, BadToken) {
    DtbBuilder b;
    b.begin_node("").token(7).end_node().end();
    EXPECT_EQ(parse_error(b.build()), FdtError::kBadToken);
    DtbBuilder zero;
    zero.begin_node("").token(0).end_node().end();
    EXPECT_EQ(parse_error(zero.build()), FdtError::kBadToken);
}

TEST(FdtParseError, UnterminatedName) {
    DtbBuilder b;
    b.begin_node("").token(kTokenBeginNode).raw("abc");  // the block ends inside the name
    EXPECT_EQ(parse_error(b.build()), FdtError::kUnterminatedName);
}

TEST(FdtParseError, PropertyOutOfBounds) {
    DtbBuilder b;
    uint32_t name = b.string_offset("p");
    b.begin_node("").prop_raw(100, name, {1, 2, 3, 4}).end_node().end();
    EXPECT_EQ(parse_error(b.build()), FdtError::kPropertyOutOfBounds);

    DtbBuilder wrap;
    name = wrap.string_offset("p");
    wrap.begin_node("").prop_raw(0xfffffffc, name, {}).end_node().end();
    EXPECT_EQ(parse_error(wrap.build()), FdtError::kPropertyOutOfBounds);

    DtbBuilder header_cut;  // the property header itself runs off the block
    header_cut.string_offset("p");
    header_cut.begin_node("").token(kTokenProp).token(0);
    EXPECT_EQ(parse_error(header_cut.build()), FdtError::kPropertyOutOfBounds);
}

TEST(FdtParseError, BadStringOffset) {
    DtbBuilder b;
    uint32_t name = b.string_offset("p");
    b.begin_node("").prop_raw(0, name + 2, {}).end_node().end();  // past the strings block
    EXPECT_EQ(parse_error(b.build()), FdtError::kBadStringOffset);

    DtbBuilder far;
    far.string_offset("p");
    far.begin_node("").prop_raw(0, 0xffffffff, {}).end_node().end();
    EXPECT_EQ(parse_error(far.build()), FdtError::kBadStringOffset);

    // The name's NUL lies outside the (shortened) strings block.
    DtbBuilder cut;
    cut.begin_node("").prop_empty("name").end_node().end();
    auto blob = cut.build();
    set_be32(blob, kOffSizeStrings, get_be32(blob, kOffSizeStrings) - 1);
    EXPECT_EQ(parse_error(blob), FdtError::kBadStringOffset);

    // Names longer than the reader's limit are treated as unterminated.
    DtbBuilder long_name;
    long_name.begin_node("").prop_empty(std::string(300, 'x')).end_node().end();
    EXPECT_EQ(parse_error(long_name.build()), FdtError::kBadStringOffset);
    DtbBuilder ok_name;
    ok_name.begin_node("").prop_empty(std::string(64, 'x')).end_node().end();
    EXPECT_EQ(parse_error(ok_name.build()), std::nullopt);
}

DtbBuilder nested(unsigned depth) {
    DtbBuilder b;
    b.begin_node("");
    for (unsigned i = 1; i < depth; ++i) {
        b.begin_node("n");
    }
    for (unsigned i = 0; i < depth; ++i) {
        b.end_node();
    }
    b.end();
    return b;
}

TEST(FdtParseError, NestingTooDeep) {
    EXPECT_EQ(parse_error(nested(kMaxDepth + 1).build()), FdtError::kNestingTooDeep);

    const auto blob = nested(kMaxDepth).build();
    ASSERT_PARSES(tree, blob);
    std::string path;
    for (unsigned i = 1; i < kMaxDepth; ++i) {
        path += "/n";
    }
    Node deepest = must_find(tree, StringView(path.data(), path.size()));
    unsigned depth = 1;
    for (std::optional<Node> n = deepest; !n->is_root(); n = tree.parent(*n)) {
        ASSERT_TRUE(tree.parent(*n).has_value());
        ++depth;
    }
    EXPECT_EQ(depth, kMaxDepth);
}

TEST(FdtParseError, UnbalancedNodes) {
    DtbBuilder extra_end;
    extra_end.begin_node("").end_node().end_node().end();
    EXPECT_EQ(parse_error(extra_end.build()), FdtError::kUnbalancedNodes);

    DtbBuilder end_inside;
    end_inside.begin_node("").begin_node("a").end_node().end();
    EXPECT_EQ(parse_error(end_inside.build()), FdtError::kUnbalancedNodes);
}

TEST(FdtParseError, MissingEnd) {
    DtbBuilder b;
    b.begin_node("").end_node();
    EXPECT_EQ(parse_error(b.build()), FdtError::kMissingEnd);

    DtbBuilder open;
    open.begin_node("").begin_node("a");
    EXPECT_EQ(parse_error(open.build()), FdtError::kMissingEnd);

    // The FDT_END token lies just outside size_dt_struct.
    auto blob = empty_root_builder().build();
    set_be32(blob, kOffSizeStruct, get_be32(blob, kOffSizeStruct) - 4);
    EXPECT_EQ(parse_error(blob), FdtError::kMissingEnd);

    DtbBuilder nothing;
    nothing.nop();
    EXPECT_EQ(parse_error(nothing.build()), FdtError::kMissingEnd);
}

TEST(FdtParseError, BadRootNode) {
    DtbBuilder prop_first;
    prop_first.prop_empty("p").begin_node("").end_node().end();
    EXPECT_EQ(parse_error(prop_first.build()), FdtError::kBadRootNode);

    DtbBuilder named;
    named.begin_node("root").end_node().end();
    EXPECT_EQ(parse_error(named.build()), FdtError::kBadRootNode);

    DtbBuilder end_node_first;
    end_node_first.end_node().end();
    EXPECT_EQ(parse_error(end_node_first.build()), FdtError::kBadRootNode);

    DtbBuilder end_first;
    end_first.nop().end();
    EXPECT_EQ(parse_error(end_first.build()), FdtError::kBadRootNode);

    DtbBuilder two_roots;
    two_roots.begin_node("").end_node().begin_node("").end_node().end();
    EXPECT_EQ(parse_error(two_roots.build()), FdtError::kBadRootNode);

    DtbBuilder prop_after_root;
    prop_after_root.begin_node("").end_node().prop_empty("p").end();
    EXPECT_EQ(parse_error(prop_after_root.build()), FdtError::kBadRootNode);

    DtbBuilder nops_around;  // NOPs before the root and before FDT_END are fine
    nops_around.nop().nop().begin_node("").end_node().nop().end();
    EXPECT_EQ(parse_error(nops_around.build()), std::nullopt);
}

// ---------------------------------------------------------------------------------------------
// Robustness: accessors on odd handles, and every truncation and byte corruption of a blob

TEST(FdtRobustness, BogusHandlesStayInBounds) {
    const auto blob = sample_builder().build();
    ASSERT_PARSES(tree, blob);
    const uint32_t struct_begin = get_be32(blob, kOffStruct);
    for (uint32_t offset : {0u, 1u, 3u, 41u, struct_begin + 2, struct_begin + 4 + 1,
                            static_cast<uint32_t>(blob.size()),
                            static_cast<uint32_t>(blob.size()) + 4, UINT32_MAX - 3}) {
        Node bogus{offset, 4};
        EXPECT_EQ(str(tree.name(bogus)), "");
        EXPECT_FALSE(tree.parent(bogus).has_value());
        EXPECT_FALSE(tree.property(bogus, "reg").has_value());
        EXPECT_TRUE(child_names(tree, bogus).empty());
        tree.for_each_property(bogus, [](Property) {});
        EXPECT_FALSE(tree.reg_count(bogus).ok());
        EXPECT_EQ(tree.address_cells(bogus).value(), 2u);
    }
    // Every 4-aligned offset inside the structure block, as if it were a node.
    const uint32_t begin = get_be32(blob, kOffStruct);
    const uint32_t end = begin + get_be32(blob, kOffSizeStruct);
    for (uint32_t offset = begin; offset < end; offset += 4) {
        Node n{offset, begin};
        (void)tree.name(n);
        (void)tree.parent(n);
        tree.for_each_child(n, [&](Node c) { (void)tree.name(c); });
        tree.for_each_property(n, [](Property p) { (void)p.contains_string("x"); });
        (void)tree.reg_count(n);
        (void)tree.reg(n, 0);
        (void)tree.find_compatible("ns16550a", n);
    }
}

// Touches everything reachable from a parsed tree.
void exercise(const DeviceTree& tree, Node node, unsigned depth) {
    ASSERT_LE(depth, kMaxDepth);
    (void)tree.name(node);
    (void)tree.parent(node);
    (void)tree.address_cells(node);
    (void)tree.size_cells(node);
    if (auto count = tree.reg_count(node); count.ok()) {
        for (size_t i = 0; i < count.value(); ++i) {
            ASSERT_TRUE(tree.reg(node, i).ok());
        }
    }
    tree.for_each_property(node, [](Property p) {
        (void)p.as_u32();
        (void)p.as_string();
        (void)p.contains_string("ns16550a");
        for (size_t i = 0; i < p.cell_count(); ++i) {
            (void)p.cell(i);
        }
    });
    tree.for_each_child(node, [&](Node child) { exercise(tree, child, depth + 1); });
}

void exercise_blob(const std::vector<uint8_t>& blob) {
    const std::vector<uint8_t> exact(blob.begin(), blob.end());  // exact-size copy for ASan
    auto result = DeviceTree::parse(exact);
    if (!result.ok()) {
        return;
    }
    const DeviceTree& tree = result.value();
    exercise(tree, tree.root(), 1);
    tree.for_each_reservation([](MemoryReservation) {});
    (void)tree.find_node("/soc/uart");
    int guard = 0;
    for (auto n = tree.find_compatible("ns16550a"); n && guard < 100;
         n = tree.find_compatible("ns16550a", n), ++guard) {
    }
}

TEST(FdtRobustness, EveryTruncation) {
    const auto good = sample_builder().build();
    for (size_t size = 0; size < good.size(); ++size) {
        std::vector<uint8_t> blob(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(size));
        if (size >= kHeaderSize) {
            set_be32(blob, kOffTotalSize, static_cast<uint32_t>(size));
        }
        EXPECT_NE(parse_error(blob), std::nullopt) << size;
        exercise_blob(blob);
    }
}

TEST(FdtRobustness, EveryByteCorruption) {
    const auto good = sample_builder().build();
    for (size_t i = 0; i < good.size(); ++i) {
        for (uint8_t value : {uint8_t{0}, uint8_t{0xff}, static_cast<uint8_t>(good[i] + 1),
                              static_cast<uint8_t>(good[i] ^ 0x80)}) {
            auto blob = good;
            blob[i] = value;
            exercise_blob(blob);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A real QEMU virt DTB (cortex-a53, 128 MiB), supplied by the build as a fixture.

#ifdef TESSERA_TEST_DTB_DIR
TEST(FdtQemuVirt, ReadsBoardFacts) {
    std::ifstream file(TESSERA_TEST_DTB_DIR "/virt-a53-128m.dtb", std::ios::binary);
    ASSERT_TRUE(file.good()) << "missing fixture " TESSERA_TEST_DTB_DIR "/virt-a53-128m.dtb";
    const std::vector<uint8_t> blob((std::istreambuf_iterator<char>(file)),
                                    std::istreambuf_iterator<char>());
    auto size = DeviceTree::peek_total_size(blob);
    ASSERT_TRUE(size.ok());
    EXPECT_LE(size.value(), blob.size());
    ASSERT_PARSES(tree, blob);

    auto memory = tree.find_node("/memory");
    ASSERT_TRUE(memory.has_value());
    ASSERT_EQ(tree.reg_count(*memory).value(), 1u);
    EXPECT_EQ(tree.reg(*memory, 0).value().address, 0x40000000u);
    EXPECT_EQ(tree.reg(*memory, 0).value().size, 0x8000000u);

    auto uart = tree.find_compatible("arm,pl011");
    ASSERT_TRUE(uart.has_value());
    EXPECT_EQ(tree.reg(*uart, 0).value().address, 0x09000000u);

    auto gic = tree.find_compatible("arm,cortex-a15-gic");
    ASSERT_TRUE(gic.has_value());
    ASSERT_EQ(tree.reg_count(*gic).value(), 2u);
    EXPECT_EQ(tree.reg(*gic, 0).value().address, 0x08000000u);
    EXPECT_EQ(tree.reg(*gic, 1).value().address, 0x08010000u);

    auto timer = tree.find_compatible("arm,armv8-timer");
    ASSERT_TRUE(timer.has_value());
    auto interrupts = tree.property(*timer, "interrupts");
    ASSERT_TRUE(interrupts.has_value());
    EXPECT_EQ(interrupts->cell_count(), 12u);

    EXPECT_TRUE(tree.find_node("/chosen").has_value());

    exercise(tree, tree.root(), 1);
}
#endif

}  // namespace
}  // namespace tessera::fdt
