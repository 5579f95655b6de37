// Arm semihosting (HLT #0xF000 at EL1): used by test and benchmark images to end QEMU with an
// exit status. Only valid when QEMU runs with -semihosting; otherwise HLT is undefined.
#pragma once

namespace tessera::arch {

[[noreturn]] void semihosting_exit(int status);

}  // namespace tessera::arch
