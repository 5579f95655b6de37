// Shell implementation. One event loop: Recv on the root endpoint, which also returns when the
// bound notification is signalled by the UART's receive interrupt (badge kInputBadge). PDs use
// badges kPdBadgeBase + id for calls and kFaultBit | id for faults, so every event says who
// sent it and a PD cannot forge another's (or the UART's).
#include "shell.hpp"

#include "abi/fault.hpp"
#include "abi/process.hpp"
#include "tessera/debug_print.hpp"
#include "tessera/invocation.hpp"
#include "tessera/syscall.hpp"

namespace tessera {
namespace {

constexpr abi::CapPtr kRoot{abi::kSlotInitThreadCNode};
constexpr abi::CapPtr kVSpace{abi::kSlotInitThreadVSpace};
constexpr uint64_t kInputBadge = 1;
constexpr uint64_t kPdBadgeBase = 0x100;
constexpr uint64_t kFaultBit = uint64_t{1} << 63;
constexpr uint64_t kUartPhysical = 0x0900'0000;
constexpr uint64_t kUartAddress = 0x7c00'0000'0000;
constexpr uint32_t kUartIrq = 33;
constexpr unsigned kMaxPds = 8;
constexpr unsigned kLineLength = 128;

struct Pd {
    bool used = false;
    char name[24] = {};
    PdHandle handle;
};

ShellEnvironment* g_env = nullptr;
Pd g_pds[kMaxPds];
int g_foreground = -1;
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
                uint64_t s = g_env->loader->slots->allocate();
                if (!untyped_retype(ut, abi::ObjectType::kUntyped, bit, kRoot, 0, 0, s, 1).ok()) {
                    return 0;
                }
            }
        }
        uint64_t s = g_env->loader->slots->allocate();
        return untyped_retype(ut, abi::ObjectType::kFrame4K, 0, kRoot, 0, 0, s, 1).ok() ? s : 0;
    }
    return 0;
}

bool open_console() {
    uint64_t frame = device_frame_at(kUartPhysical);
    if (frame == 0) {
        return false;
    }
    while (frame_map(abi::CapPtr(frame), kVSpace, kUartAddress, abi::kMapRead | abi::kMapWrite,
                     abi::MapAttributes::kDevice)
               .error == abi::Error::kFailedLookup) {
        uint64_t s = g_env->loader->slots->allocate();
        if (!untyped_retype(g_env->pool, abi::ObjectType::kPageTable, 0, kRoot, 0, 0, s, 1).ok() ||
            !page_table_map(abi::CapPtr(s), kVSpace, kUartAddress).ok()) {
            return false;
        }
    }
    g_uart = reinterpret_cast<volatile uint32_t*>(kUartAddress);
    // Receive interrupts (RX and receive timeout) to a notification bound to this thread.
    uint64_t ntfn = g_env->loader->slots->allocate();
    g_irq_handler = g_env->loader->slots->allocate();
    if (!untyped_retype(g_env->pool, abi::ObjectType::kNotification, 0, kRoot, 0, 0, ntfn, 1)
             .ok() ||
        !irq_control_get(abi::CapPtr(abi::kSlotIrqControl), kUartIrq, kRoot, g_irq_handler, 64)
             .ok()) {
        return false;
    }
    uint64_t badged = g_env->loader->slots->allocate();
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

void prompt() {
    print("tessera> ");
}

Pd* pd_by_id(StringView text) {
    uint64_t id = 0;
    if (!parse_u64(text, id) || id >= kMaxPds || !g_pds[id].used) {
        return nullptr;
    }
    return &g_pds[id];
}

void retire(unsigned id) {
    destroy_pd(*g_env->loader, g_pds[id].handle);
    g_pds[id] = Pd{};
    if (g_foreground == static_cast<int>(id)) {
        g_foreground = -1;
    }
}

void command_ls() {
    g_env->archive->for_each_entry([](const cpio::Entry& e) {
        if (e.is_regular_file()) {
            println("  {:<16} {:8} bytes", e.name, e.data.size());
        }
    });
}

void command_run(StringView* words, unsigned n) {
    if (n < 2) {
        println("usage: run IMAGE [ARGUMENT] [&]");
        return;
    }
    auto entry = g_env->archive->find(words[1]);
    if (!entry) {
        println("run: no image \"{}\" (try ls)", words[1]);
        return;
    }
    unsigned id = 0;
    while (id < kMaxPds && g_pds[id].used) {
        ++id;
    }
    if (id == kMaxPds) {
        println("run: {} PDs already running (kill one first)", kMaxPds);
        return;
    }
    bool background = word_equals(words[n - 1], "&");
    uint64_t argument = 0;
    if (n >= 3 && !word_equals(words[2], "&") && !parse_u64(words[2], argument)) {
        println("run: the argument must be a number");
        return;
    }
    SpawnOptions options;
    options.name = words[1];
    options.argument = argument;
    options.parent_endpoint = g_env->endpoint;
    options.badge = kPdBadgeBase + id;
    options.fault_endpoint = g_env->endpoint;
    options.fault_badge = kFaultBit | id;
    auto pd = spawn_pd(*g_env->loader, entry->data, options);
    if (!pd) {
        println("run: cannot start \"{}\": failed while {}", words[1], to_string(pd.error().step));
        return;
    }
    Pd& slot = g_pds[id];
    slot.used = true;
    slot.handle = pd.value();
    for (size_t i = 0; i < words[1].size() && i + 1 < sizeof(slot.name); ++i) {
        slot.name[i] = words[1][i];
    }
    println("[{}] {} started", id, slot.name);
    if (!background) {
        g_foreground = static_cast<int>(id);
    }
}

void command_ps() {
    println("  ID  NAME             MODE        PRIO  MEMORY");
    for (unsigned id = 0; id < kMaxPds; ++id) {
        const Pd& p = g_pds[id];
        if (p.used) {
            uint64_t bytes = (p.handle.pages + p.handle.tables + 1) * 4096 + 8192 + 2048;
            println("  {:<3} {:<16} {:<11} {:<5} {} KiB", id, p.name,
                    g_foreground == static_cast<int>(id) ? "foreground" : "background",
                    SpawnOptions{}.priority, bytes / 1024);
        }
    }
}

void command_kill(StringView* words, unsigned n) {
    if (n != 2) {
        println("usage: kill ID (see ps)");
        return;
    }
    Pd* p = pd_by_id(words[1]);
    if (p == nullptr) {
        println("kill: no PD with ID {} (see ps)", words[1]);
        return;
    }
    unsigned id = static_cast<unsigned>(p - g_pds);
    println("[{}] {} killed", id, p->name);
    retire(id);
}

void command_exec(StringView* words, unsigned n) {
    if (n < 3 || n > 4) {
        println("usage: exec ID IMAGE [ARGUMENT]");
        return;
    }
    Pd* p = pd_by_id(words[1]);
    if (p == nullptr) {
        println("exec: no PD with ID {} (see ps)", words[1]);
        return;
    }
    auto entry = g_env->archive->find(words[2]);
    if (!entry) {
        println("exec: no image \"{}\" (try ls)", words[2]);
        return;
    }
    uint64_t argument = 0;
    if (n >= 4 && !parse_u64(words[3], argument)) {
        println("exec: the argument must be a number");
        return;
    }
    unsigned id = static_cast<unsigned>(p - g_pds);
    SpawnOptions options;
    options.name = words[2];
    options.argument = argument;
    auto result = exec_pd(*g_env->loader, p->handle, entry->data, options);
    if (!result) {
        println("exec: failed while {}; [{}] keeps its old image", to_string(result.error().step),
                id);
        return;
    }
    for (auto& c : p->name) {
        c = '\0';
    }
    for (size_t i = 0; i < words[2].size() && i + 1 < sizeof(p->name); ++i) {
        p->name[i] = words[2][i];
    }
    println("[{}] now runs {}", id, p->name);
}

void command_mem() {
    CapIdentity pool = debug_cap_identify(g_env->pool);
    uint64_t size = uint64_t{1} << g_env->pool_bits;
    uint64_t used = pool.data > size ? size : pool.data;
    println("  memory pool: {} KiB, allocated up to {} KiB ({} KiB never used yet); {} free slots",
            size / 1024, used / 1024, (size - used) / 1024, g_env->loader->slots->free_count());
}

void execute(char* line) {
    StringView words[8];
    unsigned n = split(line, words, 8);
    if (n == 0) {
        return;
    }
    if (word_equals(words[0], "help")) {
        println("  help               this list");
        println("  ls                 images in the archive");
        println("  run IMAGE [N] [&]  start IMAGE in a new PD (argument N; & = background)");
        println("  ps                 running PDs");
        println("  kill ID            tear a PD down");
        println("  exec ID IMAGE [N]  re-image a PD, keeping its capabilities");
        println("  mem                memory in the pool");
    } else if (word_equals(words[0], "ls")) {
        command_ls();
    } else if (word_equals(words[0], "run")) {
        command_run(words, n);
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
            if (g_foreground < 0) {
                prompt();
            }
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

// A message from PD `id`: its calls are answered (hello-style: word 0 times ten), its exit and
// its faults end it.
void on_pd_message(unsigned id, bool fault, sys::Message& m) {
    Pd& p = g_pds[id];
    if (fault) {
        static const char* const kAccess[] = {"read", "write", "execute"};
        println("[{}] {} crashed: {} of {:#x} at pc {:#x}; torn down", id, p.name,
                m.info.label() == static_cast<uint64_t>(abi::FaultType::kVmFault) && m.mr[2] < 3
                    ? kAccess[m.mr[2]]
                    : "exception",
                m.mr[0], m.mr[1]);
        retire(id);
    } else if (m.info.label() == static_cast<uint64_t>(abi::ProcessLabel::kExit)) {
        println("[{}] {} exited with status {}", id, p.name, m.mr[0]);
        retire(id);
    } else {
        m.info = abi::MessageInfo(0, 0, 0, 1);
        m.mr[0] *= 10;
        sys::reply(m);
        return;
    }
    if (g_foreground < 0) {
        prompt();
    }
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
        uint64_t badge = m.badge_or_cap;
        if (badge == kInputBadge) {
            on_input();
        } else if ((badge & kFaultBit) != 0 && (badge & ~kFaultBit) < kMaxPds &&
                   g_pds[badge & ~kFaultBit].used) {
            on_pd_message(static_cast<unsigned>(badge & ~kFaultBit), true, m);
        } else if (badge >= kPdBadgeBase && badge < kPdBadgeBase + kMaxPds &&
                   g_pds[badge - kPdBadgeBase].used) {
            on_pd_message(static_cast<unsigned>(badge - kPdBadgeBase), false, m);
        }
    }
}

}  // namespace tessera
