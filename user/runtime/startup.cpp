// Lookups in the startup record (see tessera/startup.hpp).
#include "tessera/startup.hpp"

#include "abi/object_type.hpp"

namespace tessera {
namespace {

const abi::StartupRecord* g_record = nullptr;

bool name_is(const char (&stored)[abi::kStartupNameLength], StringView name) {
    size_t n = 0;
    while (n < abi::kStartupNameLength && stored[n] != '\0') {
        ++n;
    }
    return StringView(stored, n) == name;
}

}  // namespace

const abi::StartupRecord* startup_record() {
    return g_record;
}

void set_startup_record(const abi::StartupRecord* record) {
    g_record = record;
}

const abi::StartupCap* find_cap(StringView name) {
    if (g_record == nullptr) {
        return nullptr;
    }
    for (uint64_t i = 0; i < g_record->cap_count && i < abi::kStartupMaxCaps; ++i) {
        if (name_is(g_record->caps[i].name, name)) {
            return &g_record->caps[i];
        }
    }
    return nullptr;
}

const abi::StartupRegion* find_region(StringView name) {
    if (g_record == nullptr) {
        return nullptr;
    }
    for (uint64_t i = 0; i < g_record->region_count && i < abi::kStartupMaxRegions; ++i) {
        if (name_is(g_record->regions[i].name, name)) {
            return &g_record->regions[i];
        }
    }
    return nullptr;
}

const char* find_environment(StringView name) {
    if (g_record == nullptr) {
        return nullptr;
    }
    const auto* envp = reinterpret_cast<const char* const*>(g_record->envp);
    for (uint64_t i = 0; i < g_record->envc; ++i) {
        StringView entry(envp[i]);
        if (entry.size() > name.size() && entry.starts_with(name) && entry[name.size()] == '=') {
            return envp[i] + name.size() + 1;
        }
    }
    return nullptr;
}

size_t own_regions_from_startup(const abi::StartupRecord& record, std::span<OwnRegion> out) {
    auto name_of = [](const char(&stored)[abi::kStartupNameLength]) {
        size_t n = 0;
        while (n < abi::kStartupNameLength && stored[n] != '\0') {
            ++n;
        }
        return StringView(stored, n);
    };
    size_t found = 0;
    const uint64_t regions = record.region_count < abi::kStartupMaxRegions
                                 ? record.region_count
                                 : abi::kStartupMaxRegions;
    const uint64_t caps =
        record.cap_count < abi::kStartupMaxCaps ? record.cap_count : abi::kStartupMaxCaps;
    for (uint64_t r = 0; r < regions; ++r) {
        const abi::StartupRegion& region = record.regions[r];
        for (uint64_t c = 0; c < caps; ++c) {
            const abi::StartupCap& cap = record.caps[c];
            if (cap.type != static_cast<uint32_t>(abi::CapType::kFrame) || cap.count == 0 ||
                name_of(cap.name) != name_of(region.name) || region.size % cap.count != 0) {
                continue;
            }
            const uint64_t page = region.size / cap.count;
            if (page != pd::kSmallPage && page != pd::kLargePage) {
                continue;
            }
            if (found < out.size()) {
                OwnRegion& o = out[found];
                o.kind = static_cast<abi::RegionKind>(region.kind);
                o.name = name_of(region.name);
                o.address = region.address;
                o.size = region.size;
                o.frames = cap.slot;
                o.page_size = page == pd::kSmallPage ? pd::PageSize::k4K : pd::PageSize::k2M;
            }
            ++found;
            break;
        }
    }
    return found;
}

}  // namespace tessera
