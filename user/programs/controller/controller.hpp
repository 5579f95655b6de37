// The controller's state and its parts (user/programs/controller): the PD table, the service
// table and the handlers of its requests, shared by the request loop (controller.cpp) and the
// PD management (controller_pds.cpp). Invariant: every PD record is all zero when unused, so
// the tables live in .bss and cost the image file nothing.
#pragma once

#include <optional>

#include "base/string_view.hpp"
#include "cpio/cpio_reader.hpp"
#include "tessera/pd_builder.hpp"
#include "tessera/service_call.hpp"
#include "tessera/syscall.hpp"
#include "tessera/untyped_allocator.hpp"
#include "tessera/vspace_manager.hpp"

namespace tessera::controller {

using service::ControllerLabel;
using service::Ending;
using service::StatusCode;
namespace badge = service::badge;

// The part of its address space the controller manages for its own mappings (the archive),
// below its PD builder's scratch range.
constexpr uint64_t kMappingsLow = 0x7d00'0000'0000;
constexpr uint64_t kMappingsHigh = 0x7e00'0000'0000;
constexpr uint64_t kDepth = abi::kWordBits;  // every slot of a single-level CSpace
constexpr unsigned kMaxPds = 1536;           // its CNode (16,384 slots) holds their budgets' blocks
constexpr unsigned kMaxServices = 4;
constexpr unsigned kMaxArguments = 16;
constexpr uint64_t kChildPriority = 100;

// A PD of the controller's. Every field is zero when unused (the table lives in .bss).
struct Pd {
    PdHandle handle;
    uint64_t waiter = 0;      // reply capability of whoever waits for its end (0: nobody)
    uint64_t any_waiter = 0;  // its own wait for any child: the reply capability
    char name[24] = {};
    uint32_t waiter_plus_one = 0;  // that waiter's PD id plus one (0: a client)
    uint32_t parent_plus_one = 0;  // the PD that started it, plus one (0: a client)
    int service_plus_one = 0;      // the service it serves plus one (0: none)
    bool used = false;
    bool linked = false;  // ends with its parent
    // Ended, with nobody waiting yet: kept (its memory already returned) until its parent PD
    // waits for it, so a wait after the end still learns how it ended.
    bool ended = false;
    Ending ending = Ending::kExited;
    uint64_t status = 0;

    [[nodiscard]] int service() const { return service_plus_one - 1; }
};

struct Service {
    bool used = false;
    char name[24] = {};
    uint64_t endpoint = 0;  // slot of the endpoint (all rights)
    uint64_t block = 0;     // the memory it was made from
};

struct Controller {
    BuilderEnvironment builder;
    SlotAllocator slots;
    abi::CapPtr service_ep;
    abi::CapPtr pool;
    unsigned pool_bits = 0;
    std::optional<cpio::Archive> archive;  // once mapped
    VSpaceManager mappings;
    uint64_t free_at_start = 0;  // the pool's free bytes once ready: what every teardown returns to
    Service services[kMaxServices];
};

extern Controller g_controller;
extern Pd* g_pds;  // kMaxPds of them, in memory of its own (own_memory)
extern UntypedAllocator g_memory;

// Helpers.
void copy_name(char (&dest)[24], StringView name);
StringView describe(const SpawnError& error, char (&text)[160]);
size_t split(StringView line, StringView (&words)[kMaxArguments]);
uint64_t make_object(abi::ObjectType type, uint64_t& block_out);

// PD management (controller_pds.cpp). `asker` is the asking PD's id plus one (0: a client).
int pd_id(uint64_t id);
uint64_t end_pd(unsigned id, Ending how, uint64_t status);
void spawn(sys::Message& m, uint32_t asker);
bool wait(sys::Message& m, uint32_t asker);  // false: the reply is deferred
void kill(sys::Message& m, uint32_t asker);
void exec(unsigned id, StringView line, sys::Message& m);
void list(sys::Message& m);
void kill_all(sys::Message& m);
void memory(sys::Message& m);
void fork(unsigned id, sys::Message& m);  // PD id forks itself

}  // namespace tessera::controller
