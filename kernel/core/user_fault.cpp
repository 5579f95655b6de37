// User fault handling: report and suspend. The thread stays inspectable (its registers are
// kept) and everything else keeps running.
#include "core/user_fault.hpp"

#include "arch/exception.hpp"
#include "core/console.hpp"
#include "core/thread_switch.hpp"

namespace tessera {

void handle_user_fault(Tcb& t, const UserFault& fault) {
    uint32_t ec = arch::exception_class(fault.syndrome);
    switch (fault.kind) {
        case UserFaultKind::kVmFault:
            kprintln("fault: thread \"{}\": {} {} at {:#x}, pc {:#x} ({}); suspended", t.name,
                     fault.instruction ? "instruction fetch" : (fault.write ? "write" : "read"),
                     arch::fault_status_name(static_cast<uint32_t>(fault.syndrome & 0x3f)),
                     fault.address, fault.pc, arch::exception_class_name(ec));
            break;
        case UserFaultKind::kUnknownSyscall:
            kprintln("fault: thread \"{}\": unknown system call {} at pc {:#x}; suspended", t.name,
                     t.context.x[arch::kSyscallNumberRegister], fault.pc);
            break;
        case UserFaultKind::kUserException:
            kprintln("fault: thread \"{}\": {} (ESR {:#x}) at pc {:#x}; suspended", t.name,
                     arch::exception_class_name(ec), fault.syndrome, fault.pc);
            break;
    }
    suspend(t);
}

}  // namespace tessera
