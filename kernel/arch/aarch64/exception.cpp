// EL1 exception dispatch on AArch64: interrupts go to the generic interrupt layer, kernel
// faults at a probe instruction resume at its fixup, anything else is a decoded panic.
// Invariant: nothing here trusts the frame beyond printing it.
#include "arch/exception.hpp"

#include "arch/backtrace.hpp"
#include "arch/interrupt_controller.hpp"
#include "arch/registers.hpp"
#include "base/bits.hpp"
#include "core/interrupts.hpp"
#include "core/panic.hpp"
#include "core/symbols.hpp"

extern "C" {
extern const char exception_vectors[];
uint64_t arch_probe_read_u64(uint64_t address, uint64_t* value);
uint64_t arch_probe_write_u64(uint64_t address, uint64_t value);

struct FixupEntry {
    uint64_t fault_pc;
    uint64_t resume_pc;
};
extern const FixupEntry __start_fixup_table[];
extern const FixupEntry __stop_fixup_table[];
}

namespace tessera::arch {
namespace {

uint64_t g_fixed_up_faults = 0;

const char* const kVectorNames[16] = {
    "EL1t sync",          "EL1t IRQ",          "EL1t FIQ",          "EL1t SError",
    "EL1h sync",          "EL1h IRQ",          "EL1h FIQ",          "EL1h SError",
    "EL0 sync",           "EL0 IRQ",           "EL0 FIQ",           "EL0 SError",
    "EL0 (AArch32) sync", "EL0 (AArch32) IRQ", "EL0 (AArch32) FIQ", "EL0 (AArch32) SError",
};

bool is_abort(uint32_t ec) {
    return ec == kEcDataAbortSame || ec == kEcDataAbortLower || ec == kEcInstructionAbortSame ||
           ec == kEcInstructionAbortLower;
}

// A synchronous kernel fault at a probe instruction resumes at its fixup with x0 = ESR.
bool try_fixup(ExceptionFrame& frame) {
    for (const FixupEntry* e = __start_fixup_table; e < __stop_fixup_table; ++e) {
        if (e->fault_pc == frame.elr) {
            frame.x[0] = frame.esr;
            frame.x[1] = frame.far;
            frame.elr = e->resume_pc;
            ++g_fixed_up_faults;
            return true;
        }
    }
    return false;
}

void print_symbolised(const char* label, uint64_t pc) {
    Symbol s = lookup_symbol(pc);
    if (s.name != nullptr) {
        kprintln("  {:<5} {}  {}+{:#x}", label, reinterpret_cast<const void*>(pc), s.name,
                 s.offset);
    } else {
        kprintln("  {:<5} {}", label, reinterpret_cast<const void*>(pc));
    }
}

void print_abort_details(uint32_t ec, uint64_t esr) {
    uint32_t fsc = static_cast<uint32_t>(bit_field(esr, 0, 6));
    kprint("  fault: {} (FSC {:#x})", fault_status_name(fsc), fsc);
    if (ec == kEcDataAbortSame || ec == kEcDataAbortLower) {
        kprint(", {}", bit_field(esr, 6, 1) != 0 ? "write" : "read");
        if (bit_field(esr, 24, 1) != 0) {
            kprint(", {}-byte access to x{}", 1u << bit_field(esr, 22, 2), bit_field(esr, 16, 5));
        }
    } else {
        kprint(", instruction fetch");
    }
    kprintln("");
}

}  // namespace

void install_exception_vectors() {
    TESSERA_WRITE_SYSREG(vbar_el1, reinterpret_cast<uint64_t>(exception_vectors));
    isb();
}

uint64_t fixed_up_fault_count() {
    return g_fixed_up_faults;
}

Result<uint64_t, ProbeFault> probe_read_u64(VirtAddr address) {
    uint64_t value = 0;
    uint64_t esr = arch_probe_read_u64(address.value(), &value);
    if (esr != 0) {
        return fail(ProbeFault{esr, TESSERA_READ_SYSREG(far_el1)});
    }
    return value;
}

Result<void, ProbeFault> probe_write_u64(VirtAddr address, uint64_t value) {
    uint64_t esr = arch_probe_write_u64(address.value(), value);
    if (esr != 0) {
        return fail(ProbeFault{esr, TESSERA_READ_SYSREG(far_el1)});
    }
    return {};
}

const char* exception_class_name(uint32_t ec) {
    switch (ec) {
        case 0x00:
            return "unknown reason (undefined instruction)";
        case 0x01:
            return "trapped WFI/WFE";
        case 0x07:
            return "trapped SIMD/FP access";
        case 0x0e:
            return "illegal execution state";
        case 0x15:
            return "SVC from AArch64";
        case 0x16:
            return "HVC from AArch64";
        case 0x17:
            return "SMC from AArch64";
        case 0x18:
            return "trapped system register access";
        case 0x20:
            return "instruction abort from a lower EL";
        case 0x21:
            return "instruction abort from the same EL";
        case 0x22:
            return "PC alignment fault";
        case 0x24:
            return "data abort from a lower EL";
        case 0x25:
            return "data abort from the same EL";
        case 0x26:
            return "SP alignment fault";
        case 0x2c:
            return "trapped floating-point exception";
        case 0x2f:
            return "SError interrupt";
        case 0x30:
            return "breakpoint from a lower EL";
        case 0x31:
            return "breakpoint from the same EL";
        case 0x32:
            return "software step from a lower EL";
        case 0x33:
            return "software step from the same EL";
        case 0x34:
            return "watchpoint from a lower EL";
        case 0x35:
            return "watchpoint from the same EL";
        case 0x3c:
            return "BRK instruction";
        default:
            return "reserved exception class";
    }
}

const char* fault_status_name(uint32_t fsc) {
    switch (fsc) {
        case 0x00:
        case 0x01:
        case 0x02:
        case 0x03:
            return "address size fault";
        case 0x04:
        case 0x05:
        case 0x06:
        case 0x07:
            return "translation fault";
        case 0x09:
        case 0x0a:
        case 0x0b:
            return "access flag fault";
        case 0x0d:
        case 0x0e:
        case 0x0f:
            return "permission fault";
        case 0x10:
            return "synchronous external abort";
        case 0x21:
            return "alignment fault";
        case 0x30:
            return "TLB conflict abort";
        default:
            return "other fault";
    }
}

void print_exception_report(const char* title, VectorKind kind, const ExceptionFrame& frame) {
    uint32_t ec = exception_class(frame.esr);
    kprintln("{} [{}]", title, kVectorNames[static_cast<unsigned>(kind) & 15]);
    kprintln("  class: {} (EC {:#x}), ESR {:#010x}, IL {}", exception_class_name(ec), ec, frame.esr,
             bit_field(frame.esr, 25, 1));
    if (is_abort(ec)) {
        print_abort_details(ec, frame.esr);
    }
    kprintln("  FAR   {}", reinterpret_cast<const void*>(frame.far));
    print_symbolised("ELR", frame.elr);
    print_symbolised("LR", frame.x[30]);
    kprintln("  SPSR  {:#010x} (EL{}{}, DAIF {:#06b})", frame.spsr, bit_field(frame.spsr, 2, 2),
             bit_field(frame.spsr, 0, 1) != 0 ? "h" : "t", bit_field(frame.spsr, 6, 4));
    for (unsigned i = 0; i < 31; i += 2) {
        if (i + 1 < 31) {
            kprintln("  x{:<2} {:#018x}  x{:<2} {:#018x}", i, frame.x[i], i + 1, frame.x[i + 1]);
        } else {
            kprintln("  x{:<2} {:#018x}  sp  {:#018x}", i, frame.x[i], frame.sp);
        }
    }
}

}  // namespace tessera::arch

using tessera::arch::ExceptionFrame;
using tessera::arch::VectorKind;

extern "C" void handle_exception(uint64_t kind_value, ExceptionFrame* frame) {
    auto kind = static_cast<VectorKind>(kind_value);
    switch (kind) {
        case VectorKind::kCurrentSpxIrq:
        case VectorKind::kLower64Irq:
            tessera::arch::handle_pending_interrupts();
            return;
        case VectorKind::kCurrentSpxSync:
            if (tessera::arch::try_fixup(*frame)) {
                return;
            }
            break;
        default:
            break;
    }
    tessera::panic_begin();
    tessera::arch::print_exception_report("unhandled exception", kind, *frame);
    tessera::panic_end(reinterpret_cast<uint64_t>(&frame->record), true);
}
