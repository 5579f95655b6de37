// Semihosting SYS_EXIT (0x18) with ADP_Stopped_ApplicationExit and a status subcode, the AArch64
// form that carries an exit status. QEMU exits with that status.
#include "arch/semihosting.hpp"
#include "arch/cpu.hpp"

#include <cstdint>

namespace tessera::arch {
namespace {

constexpr uint64_t kSysExit = 0x18;
constexpr uint64_t kAdpStoppedApplicationExit = 0x20026;

}  // namespace

void semihosting_exit(int status) {
    uint64_t block[2] = {kAdpStoppedApplicationExit, static_cast<uint64_t>(status)};
    register uint64_t op asm("x0") = kSysExit;
    register uint64_t arg asm("x1") = reinterpret_cast<uint64_t>(block);
    asm volatile("hlt #0xf000" : "+r"(op) : "r"(arg) : "memory");
    halt_forever();  // semihosting unavailable: stay down
}

}  // namespace tessera::arch
