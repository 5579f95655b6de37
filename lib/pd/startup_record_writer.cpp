// The startup record writer (see startup_record_writer.hpp).
#include "pd/startup_record_writer.hpp"

namespace tessera::pd {
namespace {

void copy_name(char (&dest)[abi::kStartupNameLength], StringView name) {
    for (size_t i = 0; i < name.size(); ++i) {
        dest[i] = name[i];
    }
}

}  // namespace

size_t startup_strings_size(std::span<const StringView> arguments,
                            std::span<const StringView> environment) {
    size_t bytes = (arguments.size() + 1 + environment.size() + 1) * sizeof(uint64_t);
    for (StringView s : arguments) {
        bytes += s.size() + 1;
    }
    for (StringView s : environment) {
        bytes += s.size() + 1;
    }
    return bytes;
}

bool startup_strings_fit(std::span<const StringView> arguments,
                         std::span<const StringView> environment) {
    // Guard the sums against absurd counts before forming them.
    constexpr size_t kRoom = kStartupPageSize - sizeof(abi::StartupRecord);
    if (arguments.size() > kRoom || environment.size() > kRoom) {
        return false;
    }
    for (StringView s : arguments) {
        if (s.size() > kRoom) {
            return false;
        }
    }
    for (StringView s : environment) {
        if (s.size() > kRoom) {
            return false;
        }
    }
    return startup_strings_size(arguments, environment) <= kRoom;
}

StartupRecordWriter::StartupRecordWriter(uint8_t* page, uint64_t user_address)
    : page_(page),
      user_address_(user_address),
      record_(reinterpret_cast<abi::StartupRecord*>(page)) {
    __builtin_memset(page_, 0, kStartupPageSize);
    record_->magic = abi::kStartupMagic;
    record_->version = abi::kStartupVersion;
    record_->size = sizeof(abi::StartupRecord);
}

bool StartupRecordWriter::add_cap(StringView name, uint64_t slot, uint32_t count, uint32_t type,
                                  uint64_t badge) {
    if (record_->cap_count == abi::kStartupMaxCaps || name.size() >= abi::kStartupNameLength) {
        return false;
    }
    abi::StartupCap& c = record_->caps[record_->cap_count++];
    copy_name(c.name, name);
    c.slot = slot;
    c.count = count;
    c.type = type;
    c.badge = badge;
    return true;
}

bool StartupRecordWriter::add_region(StringView name, uint64_t address, uint64_t size,
                                     abi::RegionKind kind, uint32_t rights) {
    if (record_->region_count == abi::kStartupMaxRegions ||
        name.size() >= abi::kStartupNameLength) {
        return false;
    }
    abi::StartupRegion& r = record_->regions[record_->region_count++];
    copy_name(r.name, name);
    r.address = address;
    r.size = size;
    r.kind = static_cast<uint32_t>(kind);
    r.rights = rights;
    return true;
}

bool StartupRecordWriter::set_strings(std::span<const StringView> arguments,
                                      std::span<const StringView> environment) {
    if (!startup_strings_fit(arguments, environment)) {
        return false;
    }
    size_t at = sizeof(abi::StartupRecord);
    auto* argv = reinterpret_cast<uint64_t*>(page_ + at);
    at += (arguments.size() + 1) * sizeof(uint64_t);
    auto* envp = reinterpret_cast<uint64_t*>(page_ + at);
    at += (environment.size() + 1) * sizeof(uint64_t);
    auto put = [&](StringView s) {
        uint64_t address = user_address_ + at;
        __builtin_memcpy(page_ + at, s.data(), s.size());
        page_[at + s.size()] = '\0';
        at += s.size() + 1;
        return address;
    };
    for (size_t i = 0; i < arguments.size(); ++i) {
        argv[i] = put(arguments[i]);
    }
    argv[arguments.size()] = 0;
    for (size_t i = 0; i < environment.size(); ++i) {
        envp[i] = put(environment[i]);
    }
    envp[environment.size()] = 0;
    record_->argc = arguments.size();
    record_->argv = user_address_ + sizeof(abi::StartupRecord);
    record_->envc = environment.size();
    record_->envp = record_->argv + (arguments.size() + 1) * sizeof(uint64_t);
    record_->size = static_cast<uint32_t>(at);
    return true;
}

}  // namespace tessera::pd
