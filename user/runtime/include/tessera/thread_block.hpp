// Thread blocks: what TPIDR_EL0 points at in every Tessera user thread. The first 16 bytes are
// the header the AArch64 TLS layout ("variant 1") reserves at the thread pointer; Tessera keeps
// the thread's IPC buffer address in its first word. The thread's copy of the program's TLS
// segment (errno and the C library's other per-thread state) follows at offset 16.
#pragma once

#include <cstddef>
#include <cstdint>

#include "abi/ipc_buffer.hpp"

namespace tessera {

struct ThreadBlockHeader {
    abi::IpcBuffer* ipc_buffer;
    uint64_t reserved;  // the second word of the TLS header: unused
};
static_assert(sizeof(ThreadBlockHeader) == 16);
static_assert(offsetof(ThreadBlockHeader, ipc_buffer) == 0);

constexpr size_t kThreadBlockAlignment = 16;

// Bytes of one thread block: the header plus the TLS segment, a multiple of 16.
size_t thread_block_size();

// Builds a thread block in `memory` (16-byte aligned, thread_block_size() bytes): the header
// with ipc_buffer, the TLS template copied, the rest of the TLS segment zeroed. Returns the
// thread pointer to start the thread with (its TPIDR_EL0).
uint64_t make_thread_block(void* memory, abi::IpcBuffer* ipc_buffer);

// The same at the top of a new thread's stack: the block goes just below stack_top, which is
// lowered below it (still 16-byte aligned) to become the thread's initial stack pointer.
uint64_t push_thread_block(uint64_t& stack_top, abi::IpcBuffer* ipc_buffer);

// The calling thread's thread pointer (TPIDR_EL0).
inline uint64_t thread_pointer() {
    uint64_t value;
    asm volatile("mrs %0, tpidr_el0" : "=r"(value));
    return value;
}

}  // namespace tessera

// Called by crt0 right after clearing .bss, before anything uses the IPC buffer or TLS: the
// first thread arrives with TPIDR_EL0 = its IPC buffer; this builds its thread block (reserved
// by user.ld), records the IPC buffer there and points TPIDR_EL0 at the block.
extern "C" void tessera_init_main_thread();
