// A program that reports on the world its creator built for it, for tests and for trying
// configurations from the shell. argv[1] picks what it does:
//   args           call the parent with argc, a checksum of argv, envc and $PROBE
//   region NAME    call the parent with region NAME's address and first word, write a word
//                  into it and call again
//   server         the seL4 dynamic-3 exchange: call the "server" endpoint from its
//                  directory, receive a frame capability in the reply, map it, read it, write
//                  to it and report what it read
//   frames NAME    check the frame capabilities its directory lists for region NAME are the
//                  region's pages (the kernel's walk of its own tables agrees), that the
//                  runtime finds the region among its own, then call the parent with the
//                  frame count and the region's first word
//   own            the same check for its own code, data, stack, heap and IPC buffer, then
//                  call the parent with how many own regions the runtime finds
//   authority      what it may do beyond its CSpace: exits with bit 0 set if its console
//                  capability writes and bit 2 if DebugHalt is refused (given a debug
//                  capability, it ends the whole system: only for tests of that refusal)
// It exits with 0 when everything was where the startup record said, and a non-zero code
// naming what was missing otherwise.
#include "abi/invocation.hpp"
#include "abi/ipc_buffer.hpp"
#include "abi/object_type.hpp"
#include "abi/process.hpp"
#include "base/string_view.hpp"
#include "tessera/debug_print.hpp"
#include "tessera/invocation.hpp"
#include "tessera/startup.hpp"
#include "tessera/syscall.hpp"

using namespace tessera;

namespace {

constexpr uint64_t kLabelArgs = 1;
constexpr uint64_t kLabelRegion = 2;
constexpr uint64_t kLabelRegionWritten = 3;
constexpr uint64_t kLabelServer = 4;
constexpr uint64_t kLabelFrameRead = 5;
constexpr uint64_t kLabelFrames = 6;
constexpr uint64_t kLabelOwn = 7;

abi::CapPtr parent() {
    return abi::CapPtr(startup_record()->parent_endpoint);
}

int report_args(int argc, char** argv) {
    uint64_t sum = 0;
    for (int i = 0; i < argc; ++i) {
        for (const char* p = argv[i]; *p != '\0'; ++p) {
            sum = sum * 31 + static_cast<uint8_t>(*p);
        }
    }
    uint64_t probe = 0;
    const char* value = find_environment("PROBE");
    if (value != nullptr) {
        (void)parse_u64(StringView(value), probe);
    }
    sys::Message m;
    m.info = abi::MessageInfo(kLabelArgs, 0, 0, 4);
    m.mr[0] = static_cast<uint64_t>(argc);
    m.mr[1] = sum;
    m.mr[2] = startup_record()->envc;
    m.mr[3] = probe;
    sys::call(parent(), m);
    return 0;
}

int report_region(StringView name) {
    const abi::StartupRegion* r = find_region(name);
    if (r == nullptr) {
        println("probe: no region \"{}\"", name);
        return 2;
    }
    auto* words = reinterpret_cast<volatile uint64_t*>(r->address);
    sys::Message m;
    m.info = abi::MessageInfo(kLabelRegion, 0, 0, 3);
    m.mr[0] = r->address;
    m.mr[1] = words[0];
    m.mr[2] = r->size;
    uint64_t first = words[0];
    sys::call(parent(), m);
    if ((r->rights & abi::kMapWrite) != 0) {
        words[1] = first + 0xc0ffee;
        words[r->size / 8 - 1] = 0x1a57;  // the last word: every page is there
    }
    m.info = abi::MessageInfo(kLabelRegionWritten, 0, 0, 1);
    m.mr[0] = words[1];
    sys::call(parent(), m);
    return 0;
}

int dynamic_server() {
    const abi::StartupCap* server = find_cap("server");
    const abi::StartupCap* vspace = find_cap("self-vspace");
    const abi::StartupCap* cnode = find_cap("self-cnode");
    if (server == nullptr || vspace == nullptr || cnode == nullptr) {
        println("probe: no \"server\", \"self-vspace\" or \"self-cnode\" in my directory");
        return 3;
    }
    // The granted frame lands in my first free slot.
    uint64_t slot = startup_record()->first_free_slot;
    abi::IpcBuffer* buffer = ipc_buffer();
    buffer->receive_cnode = abi::CapPtr(cnode->slot);
    buffer->receive_index = slot;
    buffer->receive_depth = 64;  // my self-cnode capability carries the guard
    sys::Message m;
    m.info = abi::MessageInfo(kLabelServer, 0, 0, 1);
    m.mr[0] = 42;
    sys::call(abi::CapPtr(server->slot), m);
    if (m.info.extra_caps() != 1) {
        println("probe: the reply carried no capability");
        return 4;
    }
    // Below my stack's guard, in the 2 MiB window whose table my stack already uses.
    uint64_t at = startup_record()->stack_top & ~uint64_t{0x1f'ffff};
    InvocationResult r = frame_map(abi::CapPtr(slot), abi::CapPtr(vspace->slot), at,
                                   abi::kMapRead | abi::kMapWrite, abi::MapAttributes::kCached);
    if (!r.ok()) {
        println("probe: mapping the granted frame failed: {}", abi::error_name(r.error));
        return 5;
    }
    auto* words = reinterpret_cast<volatile uint64_t*>(at);
    uint64_t seen = words[0];
    words[1] = seen * 2;
    m.info = abi::MessageInfo(kLabelFrameRead, 0, 0, 2);
    m.mr[0] = seen;
    m.mr[1] = m.info.label();
    sys::call(parent(), m);
    return 0;
}

// 0 if region NAME's frames are listed and are its pages, and the runtime finds it among the
// regions it owns; a non-zero code naming what is wrong otherwise.
int check_frames(StringView name) {
    const abi::StartupCap* cap = find_cap(name);
    const abi::StartupRegion* region = find_region(name);
    if (cap == nullptr || region == nullptr) {
        println("probe: no capability or region \"{}\"", name);
        return 2;
    }
    if (cap->type != static_cast<uint32_t>(abi::CapType::kFrame) || cap->count == 0 ||
        cap->count * uint64_t{4096} != region->size) {
        println("probe: \"{}\" lists {} capabilities of type {}", name, cap->count, cap->type);
        return 3;
    }
    for (uint64_t i = 0; i < cap->count; ++i) {
        uint64_t frame = frame_get_address(abi::CapPtr(cap->slot + i));
        if (frame == 0 ||
            frame != debug_translate(debug_capability(), region->address + i * 4096).walked) {
            println("probe: frame {} of \"{}\" is not the page mapped there", i, name);
            return 4;
        }
    }
    OwnRegion own[abi::kStartupMaxRegions];
    size_t count = own_regions_from_startup(*startup_record(), own);
    bool found = false;
    for (size_t i = 0; i < count && i < abi::kStartupMaxRegions; ++i) {
        found = found ||
                (own[i].name == name && own[i].frames == cap->slot && own[i].size == region->size &&
                 static_cast<uint32_t>(own[i].kind) == region->kind &&
                 own[i].address == region->address);
    }
    if (!found) {
        println("probe: \"{}\" is not among my own regions", name);
        return 5;
    }
    return 0;
}

int report_frames(StringView name) {
    int status = check_frames(name);
    if (status != 0) {
        return status;
    }
    const abi::StartupCap* cap = find_cap(name);
    const abi::StartupRegion* region = find_region(name);
    sys::Message m;
    m.info = abi::MessageInfo(kLabelFrames, 0, 0, 2);
    m.mr[0] = cap->count;
    m.mr[1] = *reinterpret_cast<volatile uint64_t*>(region->address);
    sys::call(parent(), m);
    return 0;
}

int report_own() {
    static const StringView kNames[] = {"code", "data", "stack", "heap", "ipc-buffer"};
    for (StringView name : kNames) {
        int status = check_frames(name);
        if (status != 0) {
            return 10 + status;
        }
    }
    OwnRegion own[abi::kStartupMaxRegions];
    size_t count = own_regions_from_startup(*startup_record(), own);
    sys::Message m;
    m.info = abi::MessageInfo(kLabelOwn, 0, 0, 1);
    m.mr[0] = count;
    sys::call(parent(), m);
    return 0;
}

int report_authority() {
    int status = 0;
    const char line[] = "probe: writing through my console capability\n";
    if (console_write(console_capability(), line, sizeof(line) - 1) != 0) {
        status |= 1;
    }
    if (!debug_halt(debug_capability(), 77).ok()) {
        status |= 4;
    }
    return status;
}

}  // namespace

int main(int argc, char** argv, char** /*envp*/) {
    StringView what = argc >= 2 ? StringView(argv[1]) : StringView("");
    if (what == "args") {
        return report_args(argc, argv);
    }
    if (what == "region" && argc >= 3) {
        return report_region(StringView(argv[2]));
    }
    if (what == "server") {
        return dynamic_server();
    }
    if (what == "frames" && argc >= 3) {
        return report_frames(StringView(argv[2]));
    }
    if (what == "own") {
        return report_own();
    }
    if (what == "authority") {
        return report_authority();
    }
    println("probe: usage: probe args | region NAME | server | frames NAME | own | authority");
    return 1;
}
