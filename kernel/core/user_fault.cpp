// User fault handling: deliver the fault to the thread's fault endpoint as a Call, or, without
// one, report it on the console and suspend the thread. Its registers are kept either way.
#include "core/user_fault.hpp"

#include "abi/fault.hpp"
#include "arch/exception.hpp"
#include "core/console.hpp"
#include "core/ipc.hpp"
#include "core/thread_switch.hpp"

namespace tessera {

namespace {

void record_fault(Tcb& t, const UserFault& fault) {
    t.has_fault = true;
    switch (fault.kind) {
        case UserFaultKind::kVmFault: {
            t.fault_kind = static_cast<uint8_t>(abi::FaultType::kVmFault);
            abi::FaultAccess access = fault.instruction ? abi::FaultAccess::kExecute
                                      : fault.write     ? abi::FaultAccess::kWrite
                                                        : abi::FaultAccess::kRead;
            t.fault_data[0] = fault.address;
            t.fault_data[1] = fault.pc;
            t.fault_data[2] = static_cast<uint64_t>(access);
            t.fault_data[3] = fault.syndrome & 0x3f;
            t.fault_data[4] = fault.syndrome;
            break;
        }
        case UserFaultKind::kUnknownSyscall:
            t.fault_kind = static_cast<uint8_t>(abi::FaultType::kUnknownSyscall);
            t.fault_data[0] = t.context.x[arch::kSyscallNumberRegister];
            t.fault_data[1] = fault.pc;
            t.fault_data[2] = t.context.sp;
            t.fault_data[3] = t.context.x[0];
            t.fault_data[4] = fault.syndrome & 0xffff;  // the SVC immediate
            break;
        case UserFaultKind::kUserException:
            t.fault_kind = static_cast<uint8_t>(abi::FaultType::kUserException);
            t.fault_data[0] = fault.pc;
            t.fault_data[1] = t.context.sp;
            t.fault_data[2] = fault.syndrome;
            t.fault_data[3] = arch::exception_class(fault.syndrome);
            break;
    }
}

}  // namespace

void handle_user_fault(Tcb& t, const UserFault& fault) {
    record_fault(t, fault);
    if (deliver_fault(t)) {
        return;
    }
    t.has_fault = false;
    uint32_t ec = arch::exception_class(fault.syndrome);
    switch (fault.kind) {
        case UserFaultKind::kVmFault:
            kprintln("fault: thread \"{}\": {} {} at {:#x}, pc {:#x} ({}); suspended", t.name,
                     fault.instruction ? "instruction fetch" : (fault.write ? "write" : "read"),
                     arch::fault_status_name(static_cast<uint32_t>(fault.syndrome & 0x3f)),
                     fault.address, fault.pc, arch::exception_class_name(ec));
            break;
        case UserFaultKind::kUnknownSyscall:
            kprintln(
                "fault: thread \"{}\": unknown system call {} (svc #{:#x}) at pc {:#x}; "
                "suspended",
                t.name, t.context.x[arch::kSyscallNumberRegister], fault.syndrome & 0xffff,
                fault.pc);
            break;
        case UserFaultKind::kUserException:
            kprintln("fault: thread \"{}\": {} (ESR {:#x}) at pc {:#x}; suspended", t.name,
                     arch::exception_class_name(ec), fault.syndrome, fault.pc);
            break;
    }
    suspend(t);
}

}  // namespace tessera
