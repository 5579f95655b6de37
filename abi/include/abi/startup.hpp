// The startup record: one page the creator of a protection domain writes and maps into it before
// it first runs (at kPdStartupRecord, x0 at entry). It says where the PD's capabilities and
// memory regions are and carries its arguments and environment, so a program finds its channels
// by name instead of by convention. All addresses are the PD's own virtual addresses.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tessera::abi {

constexpr uint64_t kStartupMagic = 0x7473'7472'6174'7372;  // "srtatrst"
constexpr uint32_t kStartupVersion = 2;
constexpr unsigned kStartupNameLength = 24;  // NUL-padded; a name fills at most 23 characters
constexpr unsigned kStartupMaxCaps = 20;
// 12 configured + stack + heap + the image's code and data and the IPC buffer (listed when the
// PD is given its own frames).
constexpr unsigned kStartupMaxRegions = 17;

// Kinds of region (the PD builder's configuration uses the same values).
enum class RegionKind : uint32_t {
    kCode = 0,
    kData = 1,
    kStack = 2,
    kHeap = 3,
    kIpcBuffer = 4,
    kStartup = 5,  // this record
    kShared = 6,
    kDevice = 7,
    kAnonymous = 8,
    kCount,
};

// A capability (or `count` consecutive ones of one type) the creator placed in the PD's CSpace,
// listed by name: the PD's directory of channels and servers.
struct StartupCap {
    char name[kStartupNameLength];
    uint64_t slot;   // CapPtr in the PD's own CSpace
    uint32_t count;  // consecutive slots from `slot` (bulk grants); 1 for a single cap
    uint32_t type;   // CapType
    uint64_t badge;  // the badge minted into it (0: none)
};
static_assert(sizeof(StartupCap) == 48);

struct StartupRegion {
    char name[kStartupNameLength];
    uint64_t address;
    uint64_t size;
    uint32_t kind;    // RegionKind
    uint32_t rights;  // MapRights bits
};
static_assert(sizeof(StartupRegion) == 48);

struct StartupRecord {
    uint64_t magic;
    uint32_t version;
    uint32_t size;  // bytes used from the start of the page
    uint64_t argc;
    uint64_t argv;  // address of argc + 1 string addresses (the last is 0)
    uint64_t envc;
    uint64_t envp;             // address of envc + 1 string addresses ("NAME=value")
    uint64_t parent_endpoint;  // slot of the badged endpoint to the creator (0: none)
    uint64_t fault_endpoint;   // slot the PD's faults go to (0: reported by the kernel)
    uint64_t cnode_radix;      // single-level CSpace: slot n is CapPtr(n), n < 2^radix
    uint64_t first_free_slot;  // slots from here to 2^radix - 1 are empty
    uint64_t stack_low;        // lowest mapped stack address; the guard lies below it
    uint64_t stack_top;
    uint64_t heap_base;  // the heap region (size 0: no heap)
    uint64_t heap_size;
    uint64_t ipc_buffer;
    uint64_t cap_count;
    uint64_t region_count;
    StartupCap caps[kStartupMaxCaps];
    StartupRegion regions[kStartupMaxRegions];
    // Followed by the argv and envp arrays and their strings, up to the end of the page.
};
static_assert(offsetof(StartupRecord, caps) == 136);
static_assert(sizeof(StartupRecord) == 136 + 48 * (kStartupMaxCaps + kStartupMaxRegions));
static_assert(sizeof(StartupRecord) <= 2048, "leaves half the page for arguments");

}  // namespace tessera::abi
