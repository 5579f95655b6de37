// Thread blocks: TPIDR_EL0 points at a 16-byte header holding the thread's IPC buffer, followed
// by the thread's own copy of the TLS segment at the offsets the linker gave its variables; C
// library state such as errno lives there, per thread, and never touches the IPC buffer.
#include <errno.h>

#include "tessera/thread_block.hpp"
#include "user_test.hpp"

extern "C" const uint8_t __tls_template[];

namespace tessera::test {
namespace {

constexpr uint64_t kInitial = 0x7e55'e7a0'0000'0001;
constinit thread_local uint64_t g_initialized = kInitial;  // .tdata
constinit thread_local uint64_t g_zeroed = 0;              // .tbss

// Where a TLS object lies inside the calling thread's block, as an offset from the thread
// pointer (0 if outside the block).
uint64_t offset_in_block(const void* object, uint64_t size) {
    uint64_t tp = thread_pointer();
    uint64_t address = reinterpret_cast<uint64_t>(object);
    if (address < tp + sizeof(ThreadBlockHeader) || address + size > tp + thread_block_size()) {
        return 0;
    }
    return address - tp;
}

struct ThreadView {
    uint64_t thread_pointer = 0;
    uint64_t ipc_buffer = 0;
    uint64_t initialized_offset = 0;
    uint64_t zeroed_offset = 0;
    uint64_t errno_offset = 0;
    uint64_t initialized_seen = 0;  // the values it found at start
    uint64_t zeroed_seen = 1;
    uint64_t ipc_buffer_after_errno = 0;
    bool done = false;
};

ThreadView g_views[2];

void look_around(uint64_t which) {
    ThreadView& v = g_views[which];
    v.thread_pointer = thread_pointer();
    v.ipc_buffer = reinterpret_cast<uint64_t>(ipc_buffer());
    v.initialized_offset = offset_in_block(&g_initialized, sizeof(g_initialized));
    v.zeroed_offset = offset_in_block(&g_zeroed, sizeof(g_zeroed));
    v.errno_offset = offset_in_block(&errno, sizeof(errno));
    v.initialized_seen = g_initialized;
    v.zeroed_seen = g_zeroed;
    // Writes to the thread's own TLS: the other thread and the IPC buffer must not see them.
    g_initialized = which;
    g_zeroed = ~which;
    errno = static_cast<int>(200 + which);
    v.ipc_buffer_after_errno = reinterpret_cast<uint64_t>(ipc_buffer());
    v.done = true;
}

}  // namespace

USER_TEST(thread_block, first_thread_layout) {
    uint64_t tp = thread_pointer();
    CHECK_EQ(tp % kThreadBlockAlignment, uint64_t{0});
    CHECK_EQ(reinterpret_cast<uint64_t>(reinterpret_cast<ThreadBlockHeader*>(tp)->ipc_buffer),
             env().info->ipc_buffer);
    CHECK_EQ(reinterpret_cast<uint64_t>(ipc_buffer()), env().info->ipc_buffer);
    CHECK_EQ(thread_block_size() % kThreadBlockAlignment, uint64_t{0});
    // The linker's offsets for TLS variables land inside the block, past the header.
    uint64_t initialized = offset_in_block(&g_initialized, sizeof(g_initialized));
    uint64_t zeroed = offset_in_block(&g_zeroed, sizeof(g_zeroed));
    CHECK(initialized != 0);
    CHECK(zeroed != 0);
    CHECK(offset_in_block(&errno, sizeof(errno)) != 0);
    // The template holds the initial value at the same offset (less the header).
    uint64_t in_template;
    __builtin_memcpy(&in_template, __tls_template + initialized - sizeof(ThreadBlockHeader),
                     sizeof(in_template));
    CHECK_EQ(in_template, kInitial);
}

USER_TEST(thread_block, each_thread_has_its_own_tls_and_ipc_buffer) {
    g_initialized = 0x1234;  // the first thread's copy only
    g_zeroed = 0x5678;
    errno = 0;
    for (ThreadView& v : g_views) {
        v = ThreadView{};
    }
    TestThread a = start_thread(look_around, 0, kTestPriority);
    TestThread b = start_thread(look_around, 1, kTestPriority);
    CHECK(a.tcb != 0 && b.tcb != 0);
    let_others_run();
    stop_thread(a);
    stop_thread(b);
    CHECK(g_views[0].done && g_views[1].done);
    uint64_t my_offset = offset_in_block(&g_initialized, sizeof(g_initialized));
    for (const ThreadView& v : g_views) {
        // Same layout in every block; fresh values from the template.
        CHECK(v.thread_pointer != thread_pointer());
        CHECK_EQ(v.thread_pointer % kThreadBlockAlignment, uint64_t{0});
        CHECK_EQ(v.initialized_offset, my_offset);
        CHECK_EQ(v.zeroed_offset, offset_in_block(&g_zeroed, sizeof(g_zeroed)));
        CHECK_EQ(v.errno_offset, offset_in_block(&errno, sizeof(errno)));
        CHECK_EQ(v.initialized_seen, kInitial);
        CHECK_EQ(v.zeroed_seen, uint64_t{0});
        // Its own IPC buffer, page aligned, untouched by its errno.
        CHECK(v.ipc_buffer != reinterpret_cast<uint64_t>(ipc_buffer()));
        CHECK_EQ(v.ipc_buffer % 4096, uint64_t{0});
        CHECK_EQ(v.ipc_buffer_after_errno, v.ipc_buffer);
    }
    CHECK(g_views[0].thread_pointer != g_views[1].thread_pointer);
    CHECK(g_views[0].ipc_buffer != g_views[1].ipc_buffer);
    // Their writes stayed in their blocks.
    CHECK_EQ(g_initialized, uint64_t{0x1234});
    CHECK_EQ(g_zeroed, uint64_t{0x5678});
    CHECK_EQ(errno, 0);
    auto* block_a = reinterpret_cast<const uint64_t*>(g_views[0].thread_pointer + my_offset);
    auto* block_b = reinterpret_cast<const uint64_t*>(g_views[1].thread_pointer + my_offset);
    CHECK_EQ(*block_a, uint64_t{0});
    CHECK_EQ(*block_b, uint64_t{1});
}

}  // namespace tessera::test
