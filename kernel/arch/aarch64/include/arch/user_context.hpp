// The user-visible register state of a thread on AArch64, saved on every entry from EL0 and
// restored on every return. It sits at offset 0 of the TCB so the entry path can find it
// through TPIDR_EL1 (which always holds the current TCB) without a scratch register.
#pragma once

#include <cstddef>
#include <cstdint>

#include "arch/asm_constants.h"

namespace tessera::arch {

struct UserContext {
    uint64_t x[31];
    uint64_t sp;     // SP_EL0
    uint64_t pc;     // ELR_EL1: where the thread resumes
    uint64_t spsr;   // SPSR_EL1: EL0t, flags, interrupt mask
    uint64_t tpidr;  // TPIDR_EL0: user thread pointer (TLS)
    uint64_t padding;
};
static_assert(offsetof(UserContext, x) == UCTX_X0);
static_assert(offsetof(UserContext, sp) == UCTX_SP);
static_assert(offsetof(UserContext, pc) == UCTX_PC);
static_assert(offsetof(UserContext, spsr) == UCTX_SPSR);
static_assert(offsetof(UserContext, tpidr) == UCTX_TPIDR);
static_assert(sizeof(UserContext) == UCTX_SIZE);

// SIMD and floating-point registers, switched lazily: the kernel never uses them
// (-mgeneral-regs-only), so they only change hands when another thread touches them.
struct alignas(16) FpuContext {
    __uint128_t q[32];
    uint64_t fpcr;
    uint64_t fpsr;
};
static_assert(sizeof(FpuContext) == 528);

// Argument registers of the system-call ABI (see abi/syscall.hpp).
constexpr unsigned kSyscallNumberRegister = 7;
constexpr unsigned kCapRegister = 0;   // in: capability / out: badge
constexpr unsigned kInfoRegister = 1;  // message info
constexpr unsigned kFirstMessageRegister = 2;

}  // namespace tessera::arch

extern "C" {
// Leaves the kernel for user mode with the given thread's registers; never returns. Sets
// TPIDR_EL1 to context (the current thread) and resets the kernel stack.
[[noreturn]] void arch_return_to_user(tessera::arch::UserContext* context);
void arch_fpu_save(tessera::arch::FpuContext* context);
void arch_fpu_restore(const tessera::arch::FpuContext* context);
}
