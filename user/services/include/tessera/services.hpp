// The system services a root task starts: the image store and the controller, each a PD built
// from the archive; clients talk to them with service::call (tessera/service_call.hpp).
#pragma once

#include <cstdint>
#include <span>

#include "abi/bootinfo.hpp"
#include "base/result.hpp"
#include "service/service_protocol.hpp"
#include "tessera/pd_builder.hpp"

namespace tessera {

constexpr uint64_t kStorePriority = 150;
constexpr uint64_t kControllerPriority = 140;

struct ServicesOptions {
    BuilderEnvironment* builder = nullptr;  // the root's: its memory funds the services and the
                                            // controller's own pool
    const abi::BootInfo* info = nullptr;    // the archive's frames
    std::span<const uint8_t> store_image;
    std::span<const uint8_t> controller_image;
    uint64_t parent_endpoint = 0;  // where the services' faults and exits go (root slot)
    uint64_t store_badge = 0;      // badges of those reports
    uint64_t controller_badge = 0;
    unsigned controller_pool_bits = 24;  // the untyped the controller's PDs draw from
    // Or untypeds of the caller's (slots, no children) moved into the controller as its pools:
    // more memory than one power of two (the second is optional).
    uint64_t controller_pools[2] = {};
    unsigned controller_pools_bits[2] = {};
    bool controller_asid_control = false;  // give it a copy of ASID control: pools on demand
};

struct Services {
    PdHandle store;
    PdHandle controller;
    uint64_t store_client = 0;  // root slots of badged client capabilities (badge 1)
    uint64_t controller_client = 0;
};

// Starts the image store, then the controller (which maps the archive from the store), and
// returns once both serve. The controller's pool and ASID pool are moved into it.
Result<Services, SpawnError> start_services(const ServicesOptions& options);

}  // namespace tessera
