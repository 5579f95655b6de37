// The root task of the interactive image: reports what the kernel handed it (capability slots,
// untyped memory) and then suspends itself, leaving the CPU idle. Later stages grow it into the
// controller and shell.
#include "abi/bootinfo.hpp"
#include "tessera/debug_print.hpp"
#include "tessera/invocation.hpp"
#include "tessera/syscall.hpp"

using namespace tessera;

extern "C" void tessera_start(uint64_t argument) {
    const auto* info = reinterpret_cast<const abi::BootInfo*>(argument);
    set_ipc_buffer(reinterpret_cast<abi::IpcBuffer*>(info->ipc_buffer));
    if (info->magic != abi::kBootInfoMagic || info->version != abi::kBootInfoVersion) {
        println("root: bad boot info at {:#x}", argument);
        sys::debug_halt(2);
    }
    uint64_t ram = 0;
    uint64_t device = 0;
    for (uint64_t i = 0; i < info->untyped_count; ++i) {
        uint64_t size = uint64_t{1} << info->untyped_list[i].size_bits;
        (info->untyped_list[i].is_device != 0 ? device : ram) += size;
    }
    println("root: running at EL0; {} KiB of RAM and {} MiB of device memory in {} untypeds",
            ram / 1024, device / (1024 * 1024), info->untyped_count);
    println("root: root CNode has {} slots, {} free from slot {}", 1u << info->root_cnode_radix,
            info->empty.end - info->empty.start, info->empty.start);
    println("root: nothing more to do yet; suspending (QEMU: Ctrl-A X quits)");
    InvocationResult r = tcb_suspend(abi::CapPtr(abi::kSlotInitThreadTcb));
    println("root: suspending myself failed: {}", abi::error_name(r.error));
    sys::debug_halt(3);
}
