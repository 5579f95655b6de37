// Root task of the user-level system-test image: sets up the test environment from the boot
// info, runs every USER_TEST case at EL0 and ends the run with DebugHalt (status 0 only if all
// passed). The runner (tools/qemu-run) checks the printed lines.
#include "cpio/cpio_reader.hpp"
#include "tessera/boot_info.hpp"
#include "tessera/debug_print.hpp"
#include "tessera/runtime.h"
#include "tessera/syscall.hpp"
#include "user_test.hpp"

extern "C" {
extern const tessera::test::TestCase __start_user_tests[];
extern const tessera::test::TestCase __stop_user_tests[];
}

namespace tessera::test {
namespace {

Environment g_env;

}  // namespace

Environment& env() {
    return g_env;
}

uint64_t new_slot() {
    return g_env.slots.allocate();
}

uint64_t make_objects(uint64_t untyped, abi::ObjectType type, uint64_t size_bits, uint64_t count) {
    // Consecutive slots (cases free slots again, so the lowest free ones may not be).
    uint64_t first = count == 1 ? new_slot() : g_env.slots.allocate_run(count);
    if (first == 0 ||
        !untyped_retype(abi::CapPtr(untyped), type, size_bits, kRootCNode, 0, 0, first, count)
             .ok()) {
        return 0;
    }
    return first;
}

void map_archive() {
    const abi::BootInfo* info = g_env.info;
    static UntypedTables tables;
    tables = UntypedTables{kRootCNode, g_env.pool, &g_env.slots};
    (void)g_env.mappings.init(abi::CapPtr(abi::kSlotInitThreadVSpace), tables_from(tables),
                              kMappingsLow, kMappingsHigh);
    uint64_t frames = info->boot_module_frames.end - info->boot_module_frames.start;
    if (frames == 0) {
        return;
    }
    uint64_t va = g_env.mappings.map_anywhere(abi::CapPtr(info->boot_module_frames.start), frames,
                                              abi::kMapRead);
    if (va == 0) {
        return;
    }
    g_env.archive = reinterpret_cast<const uint8_t*>(va + info->boot_module_offset);
    g_env.archive_size = info->boot_module_size;
}

std::span<const uint8_t> archive_image(StringView name) {
    auto archive =
        cpio::Archive::parse(std::span<const uint8_t>(env().archive, env().archive_size));
    if (!archive) {
        return {};
    }
    auto entry = archive.value().find(name);
    return entry ? entry->data : std::span<const uint8_t>();
}

uint64_t shared_pool() {
    static uint64_t pool = 0;
    if (pool == 0) {
        pool = new_untyped(kSharedPoolBits);
    }
    return pool;
}

// From the pool, and once it is used up from the other RAM untypeds, largest first: the cases
// together need more than the largest one holds.
uint64_t new_untyped(unsigned size_bits) {
    uint64_t made = make_objects(g_env.pool.value(), abi::ObjectType::kUntyped, size_bits);
    for (unsigned bits = 30; made == 0 && bits >= size_bits; --bits) {
        const abi::BootInfo* info = g_env.info;
        for (uint64_t i = 0; i < info->untyped_count && made == 0; ++i) {
            const abi::UntypedDescriptor& d = info->untyped_list[i];
            uint64_t slot = info->untyped.start + i;
            if (d.is_device == 0 && d.size_bits == bits && slot != g_env.pool.value()) {
                made = make_objects(slot, abi::ObjectType::kUntyped, size_bits);
            }
        }
    }
    return made;
}

}  // namespace tessera::test

using namespace tessera;

extern "C" void tessera_start(uint64_t argument, uint64_t /*unused*/) {
    const auto* info = reinterpret_cast<const abi::BootInfo*>(argument);
    set_ipc_buffer(reinterpret_cast<abi::IpcBuffer*>(info->ipc_buffer));
    test::Environment& e = test::env();
    e.info = info;
    e.slots.init(info->empty.start, info->empty.end);
    // The largest RAM untyped is the pool every case draws from.
    BootUntyped best = largest_ram_untyped(*info);
    e.pool = best.slot;
    test::map_archive();
    println("systest: {} untypeds, pool is slot {} (2^{} bytes), {} free slots",
            info->untyped_count, best.slot.value(), best.bits, e.slots.free_count());
    test::TestSummary s =
        test::run_test_cases(__start_user_tests, __stop_user_tests, "", debug_sink());
    tessera_exit(s.failed == 0 && s.passed > 0 ? 0 : 1);
}
