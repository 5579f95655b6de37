// libFuzzer target for the newc CPIO reader: any input either fails with an error or yields an
// archive whose entries all lie inside the input and can be found again by name.
#include <cstddef>
#include <cstdint>
#include <span>

#include "cpio/cpio_reader.hpp"

namespace {

using tessera::StringView;
using tessera::cpio::Archive;
using tessera::cpio::Entry;
using tessera::cpio::normalized_name;

// find() scans from the start, so looking up every entry would be quadratic.
constexpr unsigned kFindBudget = 64;

volatile uint64_t g_sink;

void check(bool condition) {
    if (!condition) {
        __builtin_trap();
    }
}

bool inside(const uint8_t* begin, size_t size, std::span<const uint8_t> input) {
    return begin >= input.data() && size <= input.size() &&
           static_cast<size_t>(begin - input.data()) <= input.size() - size;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::span<const uint8_t> input(data, size);
    auto parsed = Archive::parse(input);
    if (!parsed.ok()) {
        g_sink = static_cast<uint64_t>(parsed.error()) +
                 (tessera::cpio::to_string(parsed.error()) != nullptr);
        return 0;
    }
    const Archive& archive = parsed.value();
    check(archive.used_size() <= size);
    check(archive.entry_count() <= size / 112);

    size_t count = 0;
    unsigned budget = kFindBudget;
    uint64_t sum = 0;
    archive.for_each_entry([&](const Entry& e) {
        ++count;
        const auto* name = reinterpret_cast<const uint8_t*>(e.name.data());
        check(inside(name, e.name.size() + 1, input));
        check(name[e.name.size()] == 0 && e.name.find('\0') == SIZE_MAX);
        check(!(e.name == tessera::cpio::kTrailerName));
        check(e.data.empty() || inside(e.data.data(), e.data.size(), input));
        check(!(e.is_regular_file() && e.is_directory()));
        for (uint8_t b : e.data) {
            sum += b;
        }
        if (budget > 0) {
            --budget;
            auto found = archive.find(e.name);
            check(found.has_value());
            check(normalized_name(found->name) == normalized_name(e.name));
        }
    });
    check(count == archive.entry_count());
    for (StringView name : {"init", "./init", "", ".", "TRAILER!!!", "a/b"}) {
        if (auto entry = archive.find(name)) {
            check(normalized_name(entry->name) == normalized_name(name));
        }
    }
    g_sink = sum + count;
    return 0;
}
