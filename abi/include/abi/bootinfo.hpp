// The boot-info page the kernel gives the root task (x0 at entry holds its address): which
// capabilities are where in the root CNode, and the physical memory behind every untyped.
// Layout is part of the ABI; BootInfo fits in one 4 KiB page.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tessera::abi {

// Fixed slots of the root CNode.
enum InitialSlot : uint64_t {
    kSlotNull = 0,
    kSlotInitThreadTcb = 1,
    kSlotInitThreadCNode = 2,
    kSlotInitThreadVSpace = 3,
    kSlotIrqControl = 4,
    kSlotAsidControl = 5,
    kSlotInitThreadAsidPool = 6,
    kSlotInitThreadIpcBuffer = 7,
    kSlotBootInfoFrame = 8,
    kSlotDebug = 9,          // the debug capability (halt, translate)
    kSlotConsole = 10,       // the console capability
    kFirstDynamicSlot = 11,  // image frames, tables, untypeds, modules, then empty slots
};

constexpr uint64_t kBootInfoMagic = 0x4f464e4942535354;  // "TSSBINFO"
constexpr uint64_t kBootInfoVersion = 2;                 // 2: the kernel command line
constexpr unsigned kRootCNodeRadix = 14;                 // 16,384 slots
constexpr unsigned kMaxBootUntypeds = 200;
constexpr unsigned kBootCommandLineMax = 512;  // bytes of the command line passed on

// [start, end) slot numbers in the root CNode.
struct SlotRange {
    uint64_t start;
    uint64_t end;
};

struct UntypedDescriptor {
    uint64_t physical_address;
    uint8_t size_bits;
    uint8_t is_device;
    uint8_t padding[6];
};
static_assert(sizeof(UntypedDescriptor) == 16);

struct BootInfo {
    uint64_t magic;
    uint64_t version;
    uint64_t ipc_buffer;  // user address of the root task's IPC buffer
    uint64_t root_cnode_radix;
    SlotRange empty;               // unused slots of the root CNode
    SlotRange image_frames;        // frames holding the root task's image
    SlotRange page_tables;         // translation tables of the root task's VSpace
    SlotRange untyped;             // untyped capabilities, described by untyped_list
    SlotRange boot_module_frames;  // read-only frames of the boot module (may be empty)
    uint64_t boot_module_size;     // bytes of the boot module
    uint64_t boot_module_offset;   // where it starts in its first frame
    uint64_t untyped_count;
    UntypedDescriptor untyped_list[kMaxBootUntypeds];
    // The kernel command line (/chosen/bootargs), NUL-terminated, cut to kBootCommandLineMax - 1
    // bytes: root tasks read their own arguments from it ("key=value" words).
    char command_line[kBootCommandLineMax];
};
static_assert(sizeof(BootInfo) <= 4096, "boot info is one page");
static_assert(offsetof(BootInfo, untyped_list) == 136);

// The root task's fixed virtual layout below its image-independent regions.
constexpr uint64_t kRootStackTop = 0x0000'7fff'0000'0000;
constexpr uint64_t kRootStackSize = uint64_t{64} * 1024;
constexpr uint64_t kRootBootInfoAddress = 0x0000'7ffe'0000'0000;
constexpr uint64_t kRootIpcBufferAddress = 0x0000'7ffe'0000'2000;

}  // namespace tessera::abi
