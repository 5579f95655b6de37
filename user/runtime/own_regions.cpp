// Reading a PD's own regions (those whose frames it was given) back from its startup record.
// Its own file: only programs that create PDs link it.
#include "abi/object_type.hpp"
#include "tessera/startup.hpp"

namespace tessera {

size_t own_regions_from_startup(const abi::StartupRecord& record, std::span<OwnRegion> out) {
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
                startup_name(cap.name) != startup_name(region.name) ||
                region.size % cap.count != 0) {
                continue;
            }
            const uint64_t page = region.size / cap.count;
            if (page != pd::kSmallPage && page != pd::kLargePage) {
                continue;
            }
            if (found < out.size()) {
                OwnRegion& o = out[found];
                o.kind = static_cast<abi::RegionKind>(region.kind);
                o.name = startup_name(region.name);
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
