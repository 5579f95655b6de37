// Shell implementation. The shell is a client: images come from the image store, PDs are
// spawned, waited for, re-imaged, listed and killed by the controller over IPC. One event loop:
// Recv on the root endpoint, which returns when the bound notification is signalled by the
// UART's receive interrupt (badge kInputBadge) or when a service stops (its badge).
#include "shell.hpp"

#include "abi/fault.hpp"
#include "abi/process.hpp"
#include "tessera/debug_print.hpp"
#include "tessera/invocation.hpp"
#include "tessera/service_call.hpp"
#include "tessera/services.hpp"
#include "tessera/syscall.hpp"
#include "tessera/vspace_manager.hpp"

namespace tessera {
namespace {

using service::StatusCode;

constexpr abi::CapPtr kRoot{abi::kSlotInitThreadCNode};
constexpr abi::CapPtr kVSpace{abi::kSlotInitThreadVSpace};
constexpr uint64_t kInputBadge = 1;
constexpr uint64_t kUartPhysical = 0x0900'0000;
constexpr uint64_t kUartAddress = 0x7c00'0000'0000;
constexpr uint32_t kUartIrq = 33;
constexpr unsigned kLineLength = 128;
constexpr unsigned kMaxWords = 16;

ShellEnvironment* g_env = nullptr;
volatile uint32_t* g_uart = nullptr;
uint64_t g_irq_handler = 0;

// --- the console --------------------------------------------------------------------------

// A frame for the device page at `physical`, carved from the device untyped that covers it by
// stepping the watermark with child untypeds of decreasing size.
uint64_t device_frame_at(uint64_t physical) {
    const abi::BootInfo* info = g_env->info;
    for (uint64_t i = 0; i < info->untyped_count; ++i) {
        const abi::UntypedDescriptor& d = info->untyped_list[i];
        uint64_t size = uint64_t{1} << d.size_bits;
        if (d.is_device == 0 || physical < d.physical_address ||
            physical >= d.physical_address + size) {
            continue;
        }
        abi::CapPtr ut(info->untyped.start + i);
        uint64_t offset = physical - d.physical_address;
        for (unsigned bit = d.size_bits; bit-- > 12;) {
            if (((offset >> bit) & 1) != 0) {
                uint64_t s = g_env->slots->allocate();
                if (!untyped_retype(ut, abi::ObjectType::kUntyped, bit, kRoot, 0, 0, s, 1).ok()) {
                    return 0;
                }
            }
        }
        uint64_t s = g_env->slots->allocate();
        return untyped_retype(ut, abi::ObjectType::kFrame4K, 0, kRoot, 0, 0, s, 1).ok() ? s : 0;
    }
    return 0;
}

bool open_console() {
    uint64_t frame = device_frame_at(kUartPhysical);
    if (frame == 0) {
        return false;
    }
    UntypedTables tables{kRoot, g_env->pool, g_env->slots};
    if (!map_frames(kVSpace, abi::CapPtr(frame), 1, kUartAddress, abi::kMapRead | abi::kMapWrite,
                    abi::MapAttributes::kDevice, false, tables_from(tables))
             .ok()) {
        return false;
    }
    g_uart = reinterpret_cast<volatile uint32_t*>(kUartAddress);
    // Receive interrupts (RX and receive timeout) to a notification bound to this thread.
    uint64_t ntfn = g_env->slots->allocate();
    g_irq_handler = g_env->slots->allocate();
    if (!untyped_retype(g_env->pool, abi::ObjectType::kNotification, 0, kRoot, 0, 0, ntfn, 1)
             .ok() ||
        !irq_control_get(abi::CapPtr(abi::kSlotIrqControl), kUartIrq, kRoot, g_irq_handler, 64)
             .ok()) {
        return false;
    }
    uint64_t badged = g_env->slots->allocate();
    (void)cnode_mint(kRoot, badged, 64, kRoot, ntfn, 64, abi::kRightsAll, kInputBadge);
    (void)irq_handler_set_notification(abi::CapPtr(g_irq_handler), abi::CapPtr(badged));
    (void)tcb_bind_notification(abi::CapPtr(abi::kSlotInitThreadTcb), abi::CapPtr(ntfn));
    g_uart[0x38 / 4] = (1u << 4) | (1u << 6);  // IMSC: RXIM | RTIM
    (void)irq_handler_ack(abi::CapPtr(g_irq_handler));
    return true;
}

int read_char() {
    if ((g_uart[0x18 / 4] & (1u << 4)) != 0) {  // FR.RXFE
        return -1;
    }
    return static_cast<int>(g_uart[0] & 0xff);
}

// --- commands -----------------------------------------------------------------------------

bool word_equals(StringView word, const char* text) {
    return word == StringView(text);
}

// Splits line into up to `max` words.
unsigned split(char* line, StringView* words, unsigned max) {
    unsigned n = 0;
    char* p = line;
    while (*p != '\0' && n < max) {
        while (*p == ' ') {
            ++p;
        }
        if (*p == '\0') {
            break;
        }
        char* start = p;
        while (*p != '\0' && *p != ' ') {
            ++p;
        }
        words[n++] = StringView(start, static_cast<size_t>(p - start));
    }
    return n;
}

// Words [first, end) joined by spaces (a command line for the controller).
StringView join(const StringView* words, unsigned first, unsigned end,
                char (&buffer)[kLineLength]) {
    size_t n = 0;
    for (unsigned i = first; i < end; ++i) {
        for (size_t c = 0; c < words[i].size() && n + 1 < sizeof(buffer); ++c) {
            buffer[n++] = words[i][c];
        }
        if (i + 1 < end && n + 1 < sizeof(buffer)) {
            buffer[n++] = ' ';
        }
    }
    buffer[n] = '\0';
    return StringView(buffer, n);
}

void prompt() {
    print("tessera> ");
}

template <typename Req>
auto ask_controller(const Req& request) {
    return service::call(abi::CapPtr(g_env->controller), request);
}

// A PD id argument, checked as a number (the controller checks that it exists).
bool pd_id(StringView text, const char* command, uint64_t& id) {
    if (!parse_u64(text, id)) {
        println("{}: \"{}\" is not a number (a PD's ID: see ps)", command, text);
        return false;
    }
    return true;
}

void command_ls() {
    for (uint64_t i = 0;; ++i) {
        auto r = service::call(abi::CapPtr(g_env->store), service::StoreList{i});
        if (!r) {
            break;
        }
        println("  {:<16} {:8} bytes", r.value().name.view(), r.value().size);
    }
}

// run IMAGE [ARGS] [&] and serve IMAGE [ARGS]: the controller spawns it; a foreground PD is
// waited for (the controller reports how it ended on the console).
void command_run(StringView* words, unsigned n, bool serve) {
    const char* command = serve ? "serve" : "run";
    if (n < 2) {
        println("usage: {} IMAGE [ARGUMENTS...]{}", command, serve ? "" : " [&]");
        return;
    }
    bool background = serve || word_equals(words[n - 1], "&");
    char line[kLineLength];
    StringView command_line = join(words, 1, n - (word_equals(words[n - 1], "&") ? 1 : 0), line);
    auto r = ask_controller(service::Spawn{serve ? service::kSpawnServe : 0, command_line});
    if (!r && r.error().status == StatusCode::kNoSuchImage) {
        println("{}: no image \"{}\" (try ls)", command, words[1]);
        return;
    }
    if (!r) {
        println("{}: cannot start \"{}\": {}", command, words[1], r.error().message.view());
        return;
    }
    const uint64_t id = r.value().id;
    println("[{}] {} started{}", id, words[1], serve ? " as a service" : "");
    if (!background) {
        (void)ask_controller(service::Wait{id});
    }
}

// The controller's PDs as a tree: children under their parent, indented, linked ones marked.
struct Listed {
    uint64_t id;
    uint64_t parent;
    bool linked;
    uint64_t bytes;
    uint64_t priority;
    service::PdState state;
    char name[24];
};
constexpr size_t kMaxListed = 2048;
Listed g_listed[kMaxListed];

void print_subtree(size_t count, size_t at, unsigned depth) {
    const Listed& pd = g_listed[at];
    char name[48];
    BufferWriter w(name, sizeof(name));
    for (unsigned d = 0; d < depth && d < 8; ++d) {
        w.print("  ");
    }
    w.print("{}{}", StringView(pd.name), pd.linked ? " (linked)" : "");
    char parent[24];
    BufferWriter p(parent, sizeof(parent));
    if (pd.parent == service::kNoParent) {
        p.print("-");
    } else {
        p.print("{}", pd.parent);
    }
    println("  {:<3} {:<6} {:<26} {:<11} {:<5} {} KiB", pd.id, p.view(), w.view(),
            to_string(pd.state), pd.priority, pd.bytes / 1024);
    for (size_t c = 0; c < count; ++c) {
        if (g_listed[c].parent == pd.id) {
            print_subtree(count, c, depth + 1);
        }
    }
}

void command_ps() {
    size_t count = 0;
    uint64_t bytes = 0;
    for (uint64_t i = 0; count < kMaxListed; ++i) {
        auto r = ask_controller(service::List{i});
        if (!r) {
            break;
        }
        const service::ListReply& pd = r.value();
        Listed& l = g_listed[count++];
        l = Listed{pd.id, pd.parent, pd.linked != 0, pd.bytes, pd.priority, pd.state, {}};
        const StringView n = pd.name.view();
        for (size_t k = 0; k < n.size() && k + 1 < sizeof(l.name); ++k) {
            l.name[k] = n[k];
        }
        bytes += pd.bytes;
    }
    println("  ID  PARENT NAME                       STATE       PRIO  MEMORY");
    for (size_t i = 0; i < count; ++i) {
        bool has_parent = false;
        for (size_t p = 0; p < count && !has_parent; ++p) {
            has_parent = g_listed[p].id == g_listed[i].parent;
        }
        if (!has_parent) {
            print_subtree(count, i, 0);
        }
    }
    for (const ShellEnvironment::SystemPd& sys : g_env->system) {
        if (sys.name != nullptr) {
            println("  {:<3} {:<6} {:<26} {:<11} {:<5} {} KiB", "-", "-", sys.name, "system",
                    sys.priority, sys.bytes / 1024);
        }
    }
    println(
        "  {} PDs, {} KiB (and the system's: the image store and the controller, which no "
        "command ends)",
        count, bytes / 1024);
}

// spawn N IMAGE [ARGS]: N tiny PDs in the background, as many as memory allows.
void command_spawn(StringView* words, unsigned n) {
    uint64_t count = 0;
    if (n < 3 || !parse_u64(words[1], count) || count == 0) {
        println("usage: spawn N IMAGE [ARGUMENTS...] (N a number above 0)");
        return;
    }
    char line[kLineLength];
    const StringView command_line = join(words, 2, n, line);
    uint64_t started = 0;
    uint64_t first = 0;
    uint64_t last = 0;
    for (; started < count; ++started) {
        auto r = ask_controller(service::Spawn{service::kSpawnTiny, command_line});
        if (!r) {
            println("spawn: {} of {} started; the next was refused: {}", started, count,
                    r.error().message.view());
            break;
        }
        first = started == 0 ? r.value().id : first;
        last = r.value().id;
    }
    if (started == count) {
        println("[{}-{}] {} PDs of {} started", first, last, started, words[2]);
    }
}

void command_kill_all() {
    auto r = ask_controller(service::KillAll{});
    if (!r) {
        println("kill all: {}", r.error().message.view());
        return;
    }
    const service::KillAllReply& all = r.value();
    if (all.free + all.kept == all.free_at_start) {
        println(
            "{} PDs killed; the pool has {} KiB free: every byte back ({} KiB kept for ASID "
            "pools)",
            all.count, all.free / 1024, all.kept / 1024);
    } else {
        println("{} PDs killed; the pool has {} KiB free, {} KiB missing", all.count,
                all.free / 1024, (all.free_at_start - all.kept - all.free) / 1024);
    }
}

void command_kill(StringView* words, unsigned n) {
    uint64_t id = 0;
    if (n == 2 && word_equals(words[1], "all")) {
        command_kill_all();
        return;
    }
    if (n != 2) {
        println("usage: kill ID (see ps) | kill all");
        return;
    }
    for (const ShellEnvironment::SystemPd& sys : g_env->system) {
        if (sys.name != nullptr && words[1] == StringView(sys.name)) {
            println("kill: {} is a system PD: it cannot be killed", sys.name);
            return;
        }
    }
    if (!pd_id(words[1], "kill", id)) {
        return;
    }
    auto r = ask_controller(service::Kill{id});
    if (!r) {
        println("kill: no PD with ID {} (see ps)", words[1]);
        return;
    }
    if (r.value().count > 1) {
        println("[{}] {} killed, with {} linked PDs below it", id, r.value().name.view(),
                r.value().count - 1);
    } else {
        println("[{}] {} killed", id, r.value().name.view());
    }
}

void command_exec(StringView* words, unsigned n) {
    uint64_t id = 0;
    if (n < 3) {
        println("usage: exec ID IMAGE [ARGUMENTS...]");
        return;
    }
    if (!pd_id(words[1], "exec", id)) {
        return;
    }
    char line[kLineLength];
    auto r = ask_controller(service::Exec{id, join(words, 2, n, line)});
    if (r && r.value().ended_service != 0) {
        println("[{}] now runs {}; the service it served has ended", id, r.value().name.view());
    } else if (r) {
        println("[{}] now runs {}", id, r.value().name.view());
    } else if (r.error().status == StatusCode::kNoSuchPd) {
        println("exec: no PD with ID {} (see ps)", words[1]);
    } else if (r.error().status == StatusCode::kNoSuchImage) {
        println("exec: no image \"{}\" (try ls)", words[2]);
    } else {
        println("exec: {}; [{}] keeps its old image", r.error().message.view(), id);
    }
}

void command_mem() {
    auto r = ask_controller(service::Memory{});
    if (!r) {
        println("mem: the controller did not answer: {}", r.error().message.view());
        return;
    }
    println("  controller pool: {} KiB, {} KiB held by PDs, {} KiB free", r.value().pool / 1024,
            r.value().held / 1024, r.value().free / 1024);
    CapIdentity pool =
        cnode_identify(abi::CapPtr(abi::kSlotInitThreadCNode), g_env->pool.value(), 64);
    uint64_t size = uint64_t{1} << g_env->pool_bits;
    uint64_t used = pool.data > size ? size : pool.data;
    println("  root memory pool: {} KiB, allocated up to {} KiB; {} free root slots", size / 1024,
            used / 1024, g_env->slots->free_count());
}

void execute(char* line) {
    StringView words[kMaxWords];
    unsigned n = split(line, words, kMaxWords);
    if (n == 0) {
        return;
    }
    if (word_equals(words[0], "help")) {
        println("  help                    this list");
        println("  ls                      images in the archive (from the image store)");
        println("  run IMAGE [ARG...] [&]  start IMAGE in a new PD (& = in the background)");
        println("  serve IMAGE [ARG...]    start IMAGE as a service later PDs can call by name");
        println("  spawn N IMAGE [ARG...]  start N tiny PDs of IMAGE in the background (two stack");
        println("                          pages, no heap): `spawn 1000 spinner quiet`");
        println("  ps                      running PDs (the controller's)");
        println("  kill ID | kill all      tear a PD down, or every PD of the controller");
        println("  exec ID IMAGE [ARG...]  re-image a PD, keeping its channels");
        println("  mem                     memory in the pools");
        println("  (`run fork` forks a PD copy-on-write: both sides print, the parent waits; `run");
        println("  family exit` starts a process tree)");
    } else if (word_equals(words[0], "ls")) {
        command_ls();
    } else if (word_equals(words[0], "run")) {
        command_run(words, n, false);
    } else if (word_equals(words[0], "serve")) {
        command_run(words, n, true);
    } else if (word_equals(words[0], "spawn")) {
        command_spawn(words, n);
    } else if (word_equals(words[0], "ps")) {
        command_ps();
    } else if (word_equals(words[0], "kill")) {
        command_kill(words, n);
    } else if (word_equals(words[0], "exec")) {
        command_exec(words, n);
    } else if (word_equals(words[0], "mem")) {
        command_mem();
    } else {
        println("unknown command \"{}\" (try help)", words[0]);
    }
}

// --- events -------------------------------------------------------------------------------

char g_line[kLineLength];
unsigned g_length = 0;

void on_input() {
    for (int c = read_char(); c >= 0; c = read_char()) {
        if (c == '\r' || c == '\n') {
            print("\n");
            g_line[g_length] = '\0';
            execute(g_line);
            g_length = 0;
            prompt();
        } else if (c == 0x7f || c == 0x08) {
            if (g_length > 0) {
                --g_length;
                print("\b \b");
            }
        } else if (c >= 0x20 && c < 0x7f && g_length + 1 < kLineLength) {
            g_line[g_length++] = static_cast<char>(c);
            char echo[2] = {static_cast<char>(c), '\0'};
            print("{}", echo);
        }
    }
    (void)irq_handler_ack(abi::CapPtr(g_irq_handler));
}

}  // namespace

void run_shell(ShellEnvironment& env) {
    g_env = &env;
    if (!open_console()) {
        println("shell: cannot open the serial console; suspending");
        (void)tcb_suspend(abi::CapPtr(abi::kSlotInitThreadTcb));
    }
    println("Tessera shell - type help");
    prompt();
    for (;;) {
        sys::Message m;
        sys::recv(abi::CapPtr(env.endpoint), m);
        if (m.badge_or_cap == kInputBadge) {
            on_input();
        } else {
            // A service faulted or exited: it is left suspended; say so.
            println("shell: a system service stopped (badge {:#x}, label {:#x})", m.badge_or_cap,
                    m.info.label());
        }
    }
}

}  // namespace tessera
