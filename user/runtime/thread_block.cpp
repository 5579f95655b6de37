// Thread blocks (see tessera/thread_block.hpp). The TLS template and sizes come from user.ld,
// which keeps the TLS segment 16-byte aligned so its data starts right after the header.
#include "tessera/thread_block.hpp"

extern "C" {
extern const uint8_t __tls_template[];       // .tdata's initial contents
extern const uint8_t __tls_template_size[];  // absolute symbols: their address is the value
extern const uint8_t __tls_size[];           // .tdata and .tbss, rounded up to 16
extern uint8_t __main_thread_block[];        // in .bss, sized by user.ld
void* memcpy(void* dest, const void* src, size_t n);
void* memset(void* dest, int value, size_t n);
}

namespace tessera {
namespace {

size_t tls_size() {
    return reinterpret_cast<size_t>(__tls_size);
}

}  // namespace

size_t thread_block_size() {
    return sizeof(ThreadBlockHeader) + tls_size();
}

uint64_t make_thread_block(void* memory, abi::IpcBuffer* ipc_buffer) {
    auto* header = static_cast<ThreadBlockHeader*>(memory);
    header->ipc_buffer = ipc_buffer;
    header->reserved = 0;
    auto* tls = static_cast<uint8_t*>(memory) + sizeof(ThreadBlockHeader);
    size_t template_size = reinterpret_cast<size_t>(__tls_template_size);
    memcpy(tls, __tls_template, template_size);
    memset(tls + template_size, 0, tls_size() - template_size);
    return reinterpret_cast<uint64_t>(memory);
}

uint64_t push_thread_block(uint64_t& stack_top, abi::IpcBuffer* ipc_buffer) {
    uint64_t block = (stack_top - thread_block_size()) & ~uint64_t{kThreadBlockAlignment - 1};
    stack_top = block;
    return make_thread_block(reinterpret_cast<void*>(block), ipc_buffer);
}

}  // namespace tessera

extern "C" void tessera_init_main_thread() {
    auto* ipc_buffer = reinterpret_cast<tessera::abi::IpcBuffer*>(tessera::thread_pointer());
    uint64_t block = tessera::make_thread_block(__main_thread_block, ipc_buffer);
    asm volatile("msr tpidr_el0, %0" ::"r"(block) : "memory");
}
