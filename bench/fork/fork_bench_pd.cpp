// The PD the fork benchmark forks (bench/fork/fork_bench.cpp is its parent and pager): it writes
// every page of MiB mebibytes of its heap, reads the instruction counter and forks; the child
// reads the counter first thing and reports it; the parent reads it on return, then writes one
// word to each of PAGES pages (a copy-on-write fault each, with the copy) and reports the lot.
// Arguments: MiB, PAGES, and "eager" for an eager fork.
#include "base/format.hpp"
#include "base/string_view.hpp"
#include "tessera/fork.hpp"
#include "tessera/process.hpp"
#include "tessera/startup.hpp"
#include "tessera/syscall.hpp"

using namespace tessera;

namespace {

uint64_t instructions() {
    uint64_t v;
    asm volatile("isb; mrs %0, pmevcntr0_el0" : "=r"(v)::"memory");
    return v;
}

// A report on the parent endpoint: label 1 from the child, 2 from the parent.
void report(uint64_t label, uint64_t a, uint64_t b, uint64_t c) {
    sys::Message m;
    m.info = abi::MessageInfo(label, 0, 0, 3);
    m.mr[0] = a;
    m.mr[1] = b;
    m.mr[2] = c;
    sys::call(abi::CapPtr(startup_record()->parent_endpoint), m);
}

}  // namespace

int main(int argc, char** argv, char** /*envp*/) {
    uint64_t mib = 0;
    uint64_t pages = 0;
    if (argc < 3 || !parse_u64(StringView(argv[1]), mib) ||
        !parse_u64(StringView(argv[2]), pages)) {
        return 1;
    }
    const bool eager = argc >= 4 && StringView(argv[3]) == "eager";
    const abi::StartupRecord* record = startup_record();
    auto* heap = reinterpret_cast<volatile uint64_t*>(record->heap_base);
    const uint64_t touched = mib * 256;
    if (touched * 4096 > record->heap_size || pages > touched) {
        return 2;
    }
    for (uint64_t p = 0; p < touched; ++p) {
        heap[p * 512] = p;
    }
    service::Fork request;
    request.flags = eager ? service::kForkEager : 0;
    const uint64_t before = instructions();
    auto forked = fork(request);
    const uint64_t after = instructions();
    if (!forked) {
        return 3;
    }
    if (forked.value().in_child != 0) {
        report(1, before, after, 0);
        return 0;
    }
    const uint64_t writes = instructions();
    for (uint64_t p = 0; p < pages; ++p) {
        heap[p * 512] = p + 1;
    }
    const uint64_t written = instructions();
    report(2, before, after, written - writes);
    return 0;
}
