// Exceptions on AArch64: the saved frame every vector builds, installing the vector table, and
// kernel probes that turn a synchronous abort into an error value instead of a panic.
#pragma once

#include <cstddef>
#include <cstdint>

#include "arch/asm_constants.h"
#include "base/address.hpp"
#include "base/result.hpp"

namespace tessera::arch {

struct ExceptionFrame {
    uint64_t x[31];
    uint64_t sp;  // interrupted stack pointer (SP_EL0 for EL0, SP_EL1 otherwise)
    uint64_t elr;
    uint64_t spsr;
    uint64_t esr;
    uint64_t far;
    uint64_t record[2];  // frame record {fp, pc} linking backtraces into the interrupted code
};
static_assert(offsetof(ExceptionFrame, x) == FRAME_X0);
static_assert(offsetof(ExceptionFrame, sp) == FRAME_SP);
static_assert(offsetof(ExceptionFrame, elr) == FRAME_ELR);
static_assert(offsetof(ExceptionFrame, spsr) == FRAME_SPSR);
static_assert(offsetof(ExceptionFrame, esr) == FRAME_ESR);
static_assert(offsetof(ExceptionFrame, far) == FRAME_FAR);
static_assert(offsetof(ExceptionFrame, record) == FRAME_RECORD);
static_assert(sizeof(ExceptionFrame) == FRAME_SIZE && FRAME_SIZE % 16 == 0);

// Which of the 16 vectors was taken.
enum class VectorKind : uint8_t {
    kCurrentSp0Sync = 0,
    kCurrentSp0Irq,
    kCurrentSp0Fiq,
    kCurrentSp0SError,
    kCurrentSpxSync,
    kCurrentSpxIrq,
    kCurrentSpxFiq,
    kCurrentSpxSError,
    kLower64Sync,
    kLower64Irq,
    kLower64Fiq,
    kLower64SError,
    kLower32Sync,
    kLower32Irq,
    kLower32Fiq,
    kLower32SError,
};

void install_exception_vectors();

// A synchronous abort caught by a probe: the syndrome and fault address.
struct ProbeFault {
    uint64_t esr;
    uint64_t far;
};

// Reads / writes 8 bytes at a kernel virtual address; an abort becomes a ProbeFault.
Result<uint64_t, ProbeFault> probe_read_u64(VirtAddr address);
Result<void, ProbeFault> probe_write_u64(VirtAddr address, uint64_t value);

// ESR_EL1 decoding used by panics, fault reports and tests.
inline uint32_t exception_class(uint64_t esr) {
    return static_cast<uint32_t>((esr >> 26) & 0x3f);
}
const char* exception_class_name(uint32_t ec);
const char* fault_status_name(uint32_t fsc);  // DFSC/IFSC
constexpr uint32_t kEcUnknown = 0x00;
constexpr uint32_t kEcSvc64 = 0x15;
constexpr uint32_t kEcInstructionAbortLower = 0x20;
constexpr uint32_t kEcInstructionAbortSame = 0x21;
constexpr uint32_t kEcDataAbortLower = 0x24;
constexpr uint32_t kEcDataAbortSame = 0x25;
constexpr uint32_t kEcBrk = 0x3c;

// Prints a full decoded report of frame (class, syndrome, addresses, registers, backtrace).
void print_exception_report(const char* title, VectorKind kind, const ExceptionFrame& frame);

// Number of exceptions handled since boot that were synchronous kernel faults fixed up by a
// probe (tests check the counter moves).
uint64_t fixed_up_fault_count();

}  // namespace tessera::arch
