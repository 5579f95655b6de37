// libFuzzer target for the DTB reader: parse arbitrary bytes, then walk everything a tree offers.
// Invariant: no input may crash, hang or read out of bounds; the reader's own invariants hold.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "fdt/fdt_reader.hpp"

namespace {

using tessera::StringView;
using tessera::fdt::DeviceTree;
using tessera::fdt::FdtError;
using tessera::fdt::MemoryReservation;
using tessera::fdt::Node;
using tessera::fdt::Property;

// parent() and find_compatible() walk from the root, and reg(i) looks the property up again, so
// calling them for everything would be quadratic; budgets bound the work per input.
constexpr unsigned kTreeWalkBudget = 256;
constexpr size_t kMaxRegEntries = 64;
constexpr size_t kMaxCells = 1024;
constexpr size_t kPathCapacity = 256;

// Keeps reads from being optimised away.
volatile uint64_t g_sink;

void check(bool condition) {
    if (!condition) {
        __builtin_trap();
    }
}

uint64_t touch(StringView s) {
    uint64_t sum = s.size();
    for (char c : s) {
        sum = sum * 31 + static_cast<uint8_t>(c);
    }
    return sum;
}

uint64_t touch(std::span<const uint8_t> bytes) {
    uint64_t sum = bytes.size();
    for (uint8_t b : bytes) {
        sum = sum * 31 + b;
    }
    return sum;
}

class Walker {
  public:
    explicit Walker(const DeviceTree& tree) : tree_(tree) {}

    void visit(Node node, unsigned depth) {
        check(depth <= tessera::fdt::kMaxDepth);
        sum_ += touch(tree_.name(node));
        check(node.is_root() == (depth == 1));

        if (budget_ > 0) {
            --budget_;
            std::optional<Node> parent = tree_.parent(node);
            check(parent.has_value() == !node.is_root());
            if (parent) {
                check(parent->offset == node.parent_offset);
            }
        }

        auto address_cells = tree_.address_cells(node);
        auto size_cells = tree_.size_cells(node);
        if (address_cells.ok()) {
            check(address_cells.value() <= 2);
        }
        if (size_cells.ok()) {
            check(size_cells.value() <= 2);
        }

        visit_reg(node);
        tree_.for_each_property(node, [&](Property p) { visit_property(node, p); });
        tree_.for_each_child(node, [&](Node child) {
            check(child.parent_offset == node.offset);
            check(child.offset > node.offset);
            visit(child, depth + 1);
        });
    }

    // Follows find_compatible() from the start until it runs out (or the budget does); the
    // results must move strictly forward in document order.
    void follow_compatible(StringView compatible) {
        std::optional<Node> previous;
        for (auto n = tree_.find_compatible(compatible); n && budget_ > 0;
             n = tree_.find_compatible(compatible, n)) {
            --budget_;
            check(!previous || n->offset > previous->offset);
            auto property = tree_.property(*n, "compatible");
            check(property.has_value() && property->contains_string(compatible));
            previous = n;
        }
    }

    // find_node("/<name>") must find something for every child of the root with a plain name.
    void find_root_children() {
        tree_.for_each_child(tree_.root(), [&](Node child) {
            StringView name = tree_.name(child);
            if (budget_ == 0 || name.empty() || name.size() + 1 > kPathCapacity ||
                name.find('/') != SIZE_MAX) {
                return;
            }
            --budget_;
            char path[kPathCapacity];
            path[0] = '/';
            for (size_t i = 0; i < name.size(); ++i) {
                path[i + 1] = name[i];
            }
            check(tree_.find_node(StringView(path, name.size() + 1)).has_value());
        });
    }

    [[nodiscard]] uint64_t sum() const { return sum_; }

  private:
    void visit_reg(Node node) {
        auto count = tree_.reg_count(node);
        if (!count.ok()) {
            check(!tree_.reg(node, 0).ok());
            return;
        }
        size_t n = count.value() < kMaxRegEntries ? count.value() : kMaxRegEntries;
        for (size_t i = 0; i < n; ++i) {
            auto entry = tree_.reg(node, i);
            check(entry.ok());
            sum_ += entry.value().address ^ entry.value().size;
        }
        auto past_end = tree_.reg(node, count.value());
        check(!past_end.ok() && past_end.error() == FdtError::kNotFound);
    }

    void visit_property(Node node, Property p) {
        sum_ += touch(p.name) + touch(p.value);
        auto u32 = p.as_u32();
        check(u32.ok() == (p.value.size() == 4));
        size_t cells = p.cell_count() < kMaxCells ? p.cell_count() : kMaxCells;
        for (size_t i = 0; i < cells; ++i) {
            auto cell = p.cell(i);
            check(cell.ok());
            sum_ += cell.value();
        }
        check(!p.cell(p.cell_count()).ok());

        auto string = p.as_string();
        if (string.ok()) {
            check(string.value().size() < p.value.size());
            sum_ += touch(string.value());
            // A terminated value's first string is one of its entries.
            if (p.value.back() == 0) {
                check(p.contains_string(string.value()));
            }
        }
        sum_ += p.contains_string("") + p.contains_string("arm,pl011");

        auto again = tree_.property(node, p.name);
        check(again.has_value() && again->name == p.name);
    }

    const DeviceTree& tree_;
    unsigned budget_ = kTreeWalkBudget;
    uint64_t sum_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::span<const uint8_t> blob(data, size);
    auto peeked = DeviceTree::peek_total_size(blob);
    auto parsed = DeviceTree::parse(blob);
    if (!parsed.ok()) {
        g_sink = static_cast<uint64_t>(parsed.error()) +
                 (tessera::fdt::to_string(parsed.error()) != nullptr);
        return 0;
    }
    check(peeked.ok() && peeked.value() <= size);
    const DeviceTree& tree = parsed.value();
    check(tree.total_size() == peeked.value());

    Walker walker(tree);
    walker.visit(tree.root(), 1);
    walker.find_root_children();

    uint64_t sum = walker.sum();
    tree.for_each_reservation([&](MemoryReservation r) { sum += r.address ^ r.size; });

    check(tree.find_node("/") == tree.root());
    for (StringView path : {"/chosen", "/memory", "/memory@40000000", "/cpus/cpu@0", "/soc/uart",
                            "//", "/a/b/c/d", "relative", "", "/intc/v2m"}) {
        if (auto node = tree.find_node(path)) {
            sum += touch(tree.name(*node));
        }
    }

    if (auto compatible = tree.property(tree.root(), "compatible")) {
        if (auto first = compatible->as_string(); first.ok()) {
            walker.follow_compatible(first.value());
        }
    }
    for (StringView c : {"arm,pl011", "virtio,mmio", "arm,cortex-a15-gic", "arm,armv8-timer", ""}) {
        walker.follow_compatible(c);
    }
    g_sink = sum + walker.sum();
    return 0;
}
