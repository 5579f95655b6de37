// Lookups in the startup record (see tessera/startup.hpp).
#include "tessera/startup.hpp"

namespace tessera {
namespace {

const abi::StartupRecord* g_record = nullptr;

bool name_is(const char (&stored)[abi::kStartupNameLength], StringView name) {
    return startup_name(stored) == name;
}

}  // namespace

StringView startup_name(const char (&stored)[abi::kStartupNameLength]) {
    size_t n = 0;
    while (n < abi::kStartupNameLength && stored[n] != '\0') {
        ++n;
    }
    return StringView(stored, n);
}

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

}  // namespace tessera
