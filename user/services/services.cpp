// Starting the image store and the controller, and the client side of their protocols.
#include "tessera/services.hpp"

#include "base/format.hpp"
#include "tessera/invocation.hpp"
#include "tessera/service_call.hpp"

namespace tessera {
namespace {

constexpr uint64_t kDepth = abi::kWordBits;       // every slot of a single-level CSpace
constexpr uint64_t kControllerMaxPriority = 139;  // its PDs run below it

SpawnError failure(abi::Error error) {
    SpawnError e;
    e.step = SpawnStep::kBudget;
    e.kernel_error = error;
    return e;
}

// A new object (of 2^bytes_bits bytes) in its own block of the root's memory, in a fresh root
// slot. The services keep these for good.
Result<uint64_t, SpawnError> make(BuilderEnvironment& builder, abi::ObjectType type, uint64_t bits,
                                  unsigned bytes_bits) {
    // Whatever was taken goes back on every failure.
    uint64_t block = builder.memory->allocate(bytes_bits);
    uint64_t slot = block == 0 ? 0 : builder.slots->allocate();
    if (slot == 0) {
        if (block != 0) {
            builder.memory->free(block);
        }
        return fail(failure(abi::Error::kNotEnoughMemory));
    }
    InvocationResult r =
        untyped_retype(abi::CapPtr(block), type, bits, builder.cnode, 0, 0, slot, 1);
    if (!r.ok()) {
        builder.slots->free(slot);
        builder.memory->free(block);
        return fail(failure(r.error));
    }
    return slot;
}

Result<uint64_t, SpawnError> mint_client(BuilderEnvironment& builder, uint64_t endpoint) {
    uint64_t slot = builder.slots->allocate();
    if (slot == 0) {
        return fail(failure(abi::Error::kNotEnoughMemory));  // never slot 0: the null slot
    }
    InvocationResult r =
        cnode_mint(builder.cnode, slot, kDepth, builder.cnode, endpoint, kDepth,
                   abi::kRightWrite | abi::kRightGrantReply, service::badge::kRootClient);
    if (!r.ok()) {
        builder.slots->free(slot);
        return fail(failure(r.error));
    }
    return slot;
}

}  // namespace

Result<Services, SpawnError> start_services(const ServicesOptions& options) {
    BuilderEnvironment& builder = *options.builder;
    const abi::BootInfo& info = *options.info;
    Services services;
    uint64_t store_ep = TRY(make(builder, abi::ObjectType::kEndpoint, 0, 12));
    uint64_t controller_ep = TRY(make(builder, abi::ObjectType::kEndpoint, 0, 12));
    services.store_client = TRY(mint_client(builder, store_ep));
    services.controller_client = TRY(mint_client(builder, controller_ep));

    // The store: the archive mapped read-only, its frames, and the endpoint it serves.
    char offset_text[24];
    char size_text[24];
    BufferWriter offset(offset_text, sizeof(offset_text));
    BufferWriter size(size_text, sizeof(size_text));
    offset.print("{}", info.boot_module_offset);
    size.print("{}", info.boot_module_size);
    const StringView store_args[] = {"imagestore", offset.view(), size.view()};
    uint64_t frames = info.boot_module_frames.end - info.boot_module_frames.start;
    pd::RegionSpec archive;
    archive.name = "archive";
    archive.kind = abi::RegionKind::kShared;
    archive.sharing = pd::Sharing::kShared;
    archive.size = frames * 4096;
    archive.rights = abi::kMapRead;
    archive.frames = info.boot_module_frames.start;
    const BulkGrant archive_frames{"archive-frames", abi::CapType::kFrame,
                                   info.boot_module_frames.start, info.boot_module_frames.end,
                                   abi::kRightRead};
    const CapGrant store_caps[] = {{"service", store_ep, 0, abi::kRightsAll, 0, false}};
    PdConfig store;
    store.name = "imagestore";
    store.priority = kStorePriority;
    store.arguments = store_args;
    store.parent_endpoint = options.parent_endpoint;
    store.badge = options.store_badge;
    store.fault = FaultPolicy::kCreatorEndpoint;
    store.fault_endpoint = options.parent_endpoint;
    store.fault_badge = options.store_badge;
    store.regions = std::span<const pd::RegionSpec>(&archive, 1);
    store.bulk = std::span<const BulkGrant>(&archive_frames, 1);
    store.caps = store_caps;
    store.heap_size = 0;
    services.store = TRY(spawn_pd(builder, options.store_image, store));

    // The controller: its own pool and ASID pool (moved in), the endpoint it serves, a client
    // capability to the store, and its own CNode, VSpace and TCB to build PDs with.
    uint64_t pools[2] = {options.controller_pools[0], options.controller_pools[1]};
    unsigned pools_bits[2] = {options.controller_pools_bits[0], options.controller_pools_bits[1]};
    if (pools[0] == 0) {
        pools[0] = TRY(make(builder, abi::ObjectType::kUntyped, options.controller_pool_bits,
                            options.controller_pool_bits));
        pools_bits[0] = options.controller_pool_bits;
        pools[1] = 0;
    }
    uint64_t asid_untyped = TRY(make(builder, abi::ObjectType::kUntyped, 12, 12));
    uint64_t asid_pool = builder.slots->allocate();
    InvocationResult a =
        asid_control_make_pool(abi::CapPtr(abi::kSlotAsidControl), abi::CapPtr(asid_untyped),
                               builder.cnode, asid_pool, kDepth);
    if (asid_pool == 0 || !a.ok()) {
        return fail(failure(asid_pool == 0 ? abi::Error::kNotEnoughMemory : a.error));
    }
    char bits_text[2][8];
    BufferWriter bits(bits_text[0], sizeof(bits_text[0]));
    bits.print("{}", pools_bits[0]);
    BufferWriter bits2(bits_text[1], sizeof(bits_text[1]));
    bits2.print("{}", pools_bits[1]);
    const StringView controller_args[] = {"controller", bits.view(), bits2.view()};
    CapGrant controller_caps[6] = {
        {"service", controller_ep, 0, abi::kRightsAll, 0, false},
        {"store", store_ep, 0, abi::kRightWrite | abi::kRightGrantReply,
         service::badge::kControllerClient, false},
        {"pool", pools[0], 0, abi::kRightsAll, 0, true},
        {"asid-pool", asid_pool, 0, abi::kRightsAll, 0, true},
    };
    size_t grants = 4;
    if (pools[1] != 0) {
        controller_caps[grants++] = CapGrant{"pool-2", pools[1], 0, abi::kRightsAll, 0, true};
    }
    if (options.controller_asid_control) {
        controller_caps[grants++] =
            CapGrant{"asid-control", abi::kSlotAsidControl, 0, abi::kRightsAll, 0, false};
    }
    PdConfig controller;
    controller.name = "controller";
    controller.priority = kControllerPriority;
    controller.max_priority = kControllerMaxPriority;
    controller.cnode_radix = 14;  // room for the budget blocks of a thousand PDs
    controller.arguments = std::span<const StringView>(controller_args, pools[1] != 0 ? 3 : 2);
    controller.parent_endpoint = options.parent_endpoint;
    controller.badge = options.controller_badge;
    controller.fault = FaultPolicy::kCreatorEndpoint;
    controller.fault_endpoint = options.parent_endpoint;
    controller.fault_badge = options.controller_badge;
    controller.self_caps = true;
    controller.caps = std::span<const CapGrant>(controller_caps, grants);
    controller.stack_size = uint64_t{128} * 1024;
    controller.heap_size = 0;
    auto started = spawn_pd(builder, options.controller_image, controller);
    // Moved into the controller (or gone with it): their root slots are empty either way.
    for (uint64_t p : pools) {
        builder.slots->free(p);
    }
    builder.slots->free(asid_pool);
    services.controller = TRY(started);
    // Both run below the caller's priority: one request to each lets them finish starting (the
    // controller maps the archive from the store) before the caller goes on.
    (void)service::call(abi::CapPtr(services.store_client), service::StoreList{0});
    (void)service::call(abi::CapPtr(services.controller_client), service::Memory{});
    return services;
}

}  // namespace tessera
