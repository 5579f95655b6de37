// The smallest protection domain: exits at once. For benchmarks (which make the counter
// readable at EL0) argv[1] "counter" makes it exit with the low 31 bits of the instruction
// counter it read first, and "wait" makes it call its parent first (exec benchmarks re-image it
// while it waits). Built again with TESSERA_BLOB_BYTES, it carries that many bytes of
// initialized data: the images of the spawn benchmark's size series.
#include "base/string_view.hpp"
#include "tessera/startup.hpp"
#include "tessera/syscall.hpp"

#ifdef TESSERA_BLOB_BYTES
volatile unsigned char g_blob[TESSERA_BLOB_BYTES] = {1};
#endif

int main(int argc, char** argv, char** /*envp*/) {
    tessera::StringView what = argc >= 2 ? tessera::StringView(argv[1]) : "";
    uint64_t now = 0;
    if (what == "counter") {  // readable at EL0 only when the kernel was told (pmu_user)
        asm volatile("isb; mrs %0, pmevcntr0_el0" : "=r"(now));
    }
    if (what == "wait") {
        tessera::sys::Message m;
        m.info = tessera::abi::MessageInfo(1, 0, 0, 0);
        tessera::sys::call(tessera::abi::CapPtr(tessera::startup_record()->parent_endpoint), m);
    }
#ifdef TESSERA_BLOB_BYTES
    now += g_blob[0] - 1;  // the blob is really there
#endif
    return what == "counter" ? static_cast<int>(now & 0x7fff'ffff) : 0;
}
