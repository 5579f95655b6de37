// Exit of a protection domain created at run time: report the status to the parent on the
// parent endpoint (a Call it never answers); the parent then tears the PD down.
#include "abi/process.hpp"
#include "tessera/debug_print.hpp"
#include "tessera/process.hpp"
#include "tessera/runtime.h"
#include "tessera/syscall.hpp"

namespace tessera {
namespace {

uint64_t g_parent = 0;

}  // namespace

void set_parent_endpoint(uint64_t slot) {
    g_parent = slot;
}

void pd_exit(uint64_t status) {
    if (g_parent == 0) {
        __builtin_trap();  // no one to report to: the fault handler (or the kernel) sees this
    }
    sys::Message m;
    m.info = abi::MessageInfo(static_cast<uint64_t>(abi::ProcessLabel::kExit), 0, 0, 1);
    m.mr[0] = status;
    for (;;) {
        sys::call(abi::CapPtr(g_parent), m);  // never answered: the parent deletes us
    }
}

}  // namespace tessera

extern "C" void tessera_set_parent_endpoint(uint64_t slot) {
    tessera::set_parent_endpoint(slot);
}

extern "C" void tessera_exit(int status) {
    tessera::pd_exit(static_cast<uint64_t>(status));
}
