// fork, from the inside: a PD that forks itself through its parent (the controller) and checks
// that each side sees its own memory. Exit status 0 when every check held; otherwise the number
// of the check that failed. The first argument says what it does:
//   demo   both sides print; the parent waits for the child (which exits with 7)
//   check  data, .bss, stack and heap pages written after the fork differ between the sides;
//          pages neither writes stay equal; the child's id comes back on both sides
//   tree   fork inside fork: three PDs share a page, each then writes its own value
//   crash  the child crashes; the parent hears of it and its memory is intact
//   exec   the child re-images itself as `hello 3` (which exits with 40)
//   eager  as check, with every page copied at fork
//   many   eight children at once, each writing its own pattern
//   rules  (with `pong` served) per-slot rules: a reserved slot, a slot outside the CNode and a
//          new badge on the badged pong endpoint are refused, the parent unharmed; by default
//          the child has no pong, with a copy rule it calls pong
//   large  (given a private region "big" of 2 MiB pages, by a parent that is its pager) the two
//          sides write the 2 MiB pages after the fork and each sees its own; no waiting: both
//          exit with 0 when their checks held
//   orphan the parent exits soon after the fork, the child having written most of its memory
//          by then: the child takes over the few pages it alone still maps of the parent's image,
//          so that image's memory returns at once; the child checks its memory and exits with 0
//   oom    forks (children spin, holding memory) until a fork is refused for want of memory;
//          then checks its memory is intact and exits with 0. Copy-on-write, its own writes
//          after the refusal may find no memory for their copies: it is then ended as out of
//          memory, as Linux's OOM killer would. oom-eager: each fork copies every page at once,
//          the parent shares nothing and always runs on
#include <cstdlib>

#include "abi/process.hpp"
#include "base/format.hpp"
#include "base/string_view.hpp"
#include "tessera/debug_print.hpp"
#include "tessera/fork.hpp"
#include "tessera/process.hpp"
#include "tessera/service_call.hpp"
#include "tessera/startup.hpp"
#include "tessera/syscall.hpp"

using namespace tessera;

namespace {

constexpr uint64_t kWords = 2048;     // 16 KiB: four pages
uint64_t g_data[kWords] = {1, 2, 3};  // .data
uint64_t g_bss[kWords];               // .bss
volatile uint64_t g_untouched[512] = {0x600d};

abi::CapPtr parent() {
    return abi::CapPtr(startup_record()->parent_endpoint);
}

void fill(uint64_t* words, uint64_t n, uint64_t seed) {
    for (uint64_t i = 0; i < n; ++i) {
        words[i] = seed * 0x1000 + i;
    }
}

bool holds(const uint64_t* words, uint64_t n, uint64_t seed) {
    for (uint64_t i = 0; i < n; ++i) {
        if (words[i] != seed * 0x1000 + i) {
            return false;
        }
    }
    return true;
}

// Waits for child id; its ending and status, or ~0 status when the wait was refused.
service::WaitReply wait_for(uint64_t id) {
    auto r = service::call(parent(), service::Wait{id});
    if (!r) {
        println("fork: wait for {} refused: {}", id, r.error().message.view());
        return service::WaitReply{service::Ending::kKilled, ~uint64_t{0}, id};
    }
    return r.value();
}

// Forks; on refusal prints why and exits 100.
service::ForkReply fork_or_exit(const service::Fork& request) {
    auto r = fork(request);
    if (!r) {
        println("fork: refused: {}", r.error().message.view());
        pd_exit(100);
    }
    return r.value();
}
service::ForkReply fork_or_exit(uint64_t flags = 0) {
    service::Fork request;
    request.flags = flags;
    return fork_or_exit(request);
}

int demo() {
    uint64_t counter = 41;
    const service::ForkReply f = fork_or_exit();
    if (f.in_child != 0) {
        ++counter;
        println("fork: child {}: counter {} (the parent's stays 41)", f.id, counter);
        return 7;
    }
    println("fork: parent: started child {}", f.id);
    const service::WaitReply w = wait_for(f.id);
    println("fork: parent: child {} {} with status {}; counter {}", f.id, to_string(w.ending),
            w.status, counter);
    return w.ending == service::Ending::kExited && w.status == 7 && counter == 41 ? 0 : 1;
}

int check(uint64_t flags) {
    fill(g_data, kWords, 1);
    fill(g_bss, kWords, 2);
    uint64_t stack[kWords];
    fill(stack, kWords, 3);
    auto* heap = static_cast<uint64_t*>(malloc(kWords * 8));
    if (heap == nullptr) {
        return 2;
    }
    fill(heap, kWords, 4);
    const service::ForkReply f = fork_or_exit(flags);
    if (f.in_child != 0) {
        // Before writing, the child sees the parent's memory.
        if (!holds(g_data, kWords, 1) || !holds(g_bss, kWords, 2) || !holds(stack, kWords, 3) ||
            !holds(heap, kWords, 4) || g_untouched[0] != 0x600d) {
            return 10;
        }
        fill(g_data, kWords, 11);
        fill(g_bss, kWords, 12);
        fill(stack, kWords, 13);
        fill(heap, kWords, 14);
        return holds(g_data, kWords, 11) && holds(stack, kWords, 13) ? 0 : 11;
    }
    // The parent writes half of its pages while the child may be writing its own.
    fill(g_bss, kWords, 22);
    const service::WaitReply w = wait_for(f.id);
    if (w.ending != service::Ending::kExited || w.status != 0) {
        println("fork: the child {} with status {}", to_string(w.ending), w.status);
        return 3;
    }
    // The child's writes are its own; the parent's pages that only it wrote are still its.
    if (!holds(g_data, kWords, 1) || !holds(g_bss, kWords, 22) || !holds(stack, kWords, 3) ||
        !holds(heap, kWords, 4) || g_untouched[0] != 0x600d) {
        return 4;
    }
    // Now the only owner: writing takes the pages back without a copy, and works.
    fill(g_data, kWords, 5);
    fill(heap, kWords, 6);
    free(heap);
    return holds(g_data, kWords, 5) ? 0 : 5;
}

int tree() {
    fill(g_data, kWords, 1);
    const service::ForkReply a = fork_or_exit();
    if (a.in_child != 0) {
        const service::ForkReply b = fork_or_exit();  // the page is shared three ways now
        if (b.in_child != 0) {
            if (!holds(g_data, kWords, 1)) {
                return 20;
            }
            fill(g_data, kWords, 3);
            return holds(g_data, kWords, 3) ? 0 : 21;
        }
        fill(g_data, kWords, 2);
        const service::WaitReply w = wait_for(b.id);
        return w.ending == service::Ending::kExited && w.status == 0 && holds(g_data, kWords, 2)
                   ? 0
                   : 22;
    }
    const service::WaitReply w = wait_for(a.id);
    if (w.ending != service::Ending::kExited || w.status != 0) {
        println("fork: the child {} with status {}", to_string(w.ending), w.status);
        return 23;
    }
    return holds(g_data, kWords, 1) ? 0 : 24;
}

int crash() {
    fill(g_data, kWords, 1);
    const service::ForkReply f = fork_or_exit();
    if (f.in_child != 0) {
        fill(g_data, kWords, 9);
        *reinterpret_cast<volatile uint64_t*>(8) = 1;
        return 30;
    }
    const service::WaitReply w = wait_for(f.id);
    return w.ending == service::Ending::kCrashed && holds(g_data, kWords, 1) ? 0 : 31;
}

int exec_child() {
    const service::ForkReply f = fork_or_exit();
    if (f.in_child != 0) {
        auto r = service::call(parent(), service::ExecSelf{"hello 3"});
        println("fork: exec refused: {}", r ? StringView("?") : r.error().message.view());
        return 40 + 1;
    }
    const service::WaitReply w = wait_for(f.id);
    return w.ending == service::Ending::kExited && w.status == 40 ? 0 : 41;
}

int many() {
    constexpr unsigned kChildren = 8;
    uint64_t ids[kChildren] = {};
    fill(g_data, kWords, 1);
    for (unsigned c = 0; c < kChildren; ++c) {
        const service::ForkReply f = fork_or_exit();
        if (f.in_child != 0) {
            fill(g_data, kWords, 100 + c);
            return holds(g_data, kWords, 100 + c) ? 0 : 50;
        }
        ids[c] = f.id;
    }
    for (uint64_t id : ids) {
        const service::WaitReply w = wait_for(id);
        if (w.ending != service::Ending::kExited || w.status != 0) {
            return 51;
        }
    }
    return holds(g_data, kWords, 1) ? 0 : 52;
}

// One call to the service at slot: true if it answered as pong does.
bool pong_answers(uint64_t slot) {
    sys::Message m;
    m.info = abi::MessageInfo(0, 0, 0, 1);
    m.mr[0] = 41;
    sys::call(abi::CapPtr(slot), m);
    return m.info.label() == 0 && m.mr[0] == 42;
}

int rules() {
    const abi::StartupCap* pong = find_cap("pong");
    if (pong == nullptr || !pong_answers(pong->slot)) {
        return 70;
    }
    const uint64_t outside = uint64_t{1} << startup_record()->cnode_radix;
    const service::Fork::Rule refused[] = {
        {abi::kPdSlotSelfCNode, service::ForkAction::kCopy, 0},  // reserved
        {outside, service::ForkAction::kCopy, 0},
        {pong->slot, service::ForkAction::kMint, 77},  // badged already: the kernel refuses
    };
    for (const service::Fork::Rule& rule : refused) {
        service::Fork request;
        request.rule_count = 1;
        request.rule[0] = rule;
        auto r = fork(request);
        if (r || r.error().status != service::StatusCode::kRefused) {
            return 71;  // (a child made here would exit at once: 0)
        }
    }
    service::Fork keep;
    keep.rule_count = 1;
    keep.rule[0] = {pong->slot, service::ForkAction::kCopy, 0};
    for (const bool copy : {false, true}) {
        const service::ForkReply f = fork_or_exit(copy ? keep : service::Fork{});
        if (f.in_child != 0) {
            return pong_answers(pong->slot) == copy ? 0 : 72;
        }
        const service::WaitReply w = wait_for(f.id);
        if (w.ending != service::Ending::kExited || w.status != 0) {
            return copy ? 74 : 73;
        }
    }
    return pong_answers(pong->slot) ? 0 : 75;  // the parent's own is untouched
}

int large() {
    constexpr uint64_t kLarge = uint64_t{2} << 20;
    const abi::StartupRegion* big = find_region("big");
    if (big == nullptr || big->size < kLarge) {
        return 80;
    }
    auto* words = reinterpret_cast<volatile uint64_t*>(big->address);
    const uint64_t last = big->size / 8 - 1;
    const uint64_t at[] = {0, kLarge / 8 - 1, last};
    for (uint64_t i : at) {
        words[i] = 0x1000 + i;
    }
    const service::ForkReply f = fork_or_exit();
    for (uint64_t i : at) {
        if (words[i] != 0x1000 + i) {
            return 81;
        }
    }
    if (f.in_child != 0) {
        for (uint64_t i : at) {
            words[i] = 0x2000 + i;
        }
        for (uint64_t i : at) {
            if (words[i] != 0x2000 + i) {
                return 82;
            }
        }
        return 0;
    }
    words[0] = 0x3000;
    return words[0] == 0x3000 && words[kLarge / 8 - 1] == 0x1000 + kLarge / 8 - 1 ? 0 : 83;
}

constexpr uint64_t kBigWords = uint64_t{512} * 256;  // 1 MiB: 256 pages
uint64_t g_big[kBigWords];

int orphan() {
    fill(g_big, kBigWords, 7);
    fill(g_data, kWords, 8);
    const service::ForkReply f = fork_or_exit();
    if (f.in_child == 0) {
        for (int i = 0; i < 1000; ++i) {
            sys::yield();  // the child's turn: a copy per turn, its 256 pages first
        }
        return 0;
    }
    fill(g_big, kBigWords, 9);  // copies of its own
    for (int i = 0; i < 2000; ++i) {
        sys::yield();  // the parent ends meanwhile
    }
    // Pages it never wrote (now its own, taken over from the parent's image) and pages it did.
    return holds(g_data, kWords, 8) && holds(g_big, kBigWords, 9) ? 0 : 90;
}

int oom(uint64_t flags) {
    fill(g_data, kWords, 1);
    for (unsigned forks = 0; forks < 1000; ++forks) {
        service::Fork request;
        request.flags = flags;
        auto r = fork(request);
        if (!r) {
            if (r.error().status != service::StatusCode::kNoMemory) {
                println("fork: refused, but not for memory: {}", r.error().message.view());
                return 60;
            }
            println("fork: {} forks, then: {}", forks, r.error().message.view());
            return forks > 0 && holds(g_data, kWords, 1) ? 0 : 61;
        }
        if (r.value().in_child != 0) {
            for (;;) {
                sys::yield();  // holds its memory to the end
            }
        }
    }
    return 62;
}

}  // namespace

int main(int argc, char** argv, char** /*envp*/) {
    const StringView what = argc >= 2 ? StringView(argv[1]) : StringView("demo");
    int status = 99;
    if (what == "demo") {
        status = demo();
    } else if (what == "check") {
        status = check(0);
    } else if (what == "eager") {
        status = check(service::kForkEager);
    } else if (what == "tree") {
        status = tree();
    } else if (what == "crash") {
        status = crash();
    } else if (what == "exec") {
        status = exec_child();
    } else if (what == "many") {
        status = many();
    } else if (what == "large") {
        status = large();
    } else if (what == "rules") {
        status = rules();
    } else if (what == "orphan") {
        status = orphan();
    } else if (what == "oom") {
        status = oom(0);
    } else if (what == "oom-eager") {
        status = oom(service::kForkEager);
    } else {
        println(
            "fork: usage: fork "
            "[demo|check|eager|tree|crash|exec|many|rules|large|orphan|oom|oom-eager]");
        return 98;
    }
    if (what != "demo") {
        println("fork {}: {}", what, status == 0 ? StringView("ok") : StringView("FAILED"));
    }
    return status;
}
