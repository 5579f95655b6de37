// Self-tests of the exception vectors: a deliberate EL1 data abort is caught and decoded
// (class, fault status, address), and BRK, UDF and SVC from EL1 reach the right vector with the
// right syndrome. (The unrecoverable path, a decoded panic, is checked by the panic-report test.)
#include "arch/exception.hpp"
#include "selftest.hpp"

extern "C" {
uint64_t arch_probe_brk();
uint64_t arch_probe_udf();
uint64_t arch_probe_svc();
}

namespace tessera {

SELFTEST(exception, el1_data_abort_caught) {
    uint64_t before = arch::fixed_up_fault_count();
    VirtAddr hole(0xffff'7000'0000'0008);  // TTBR1 half, far above RAM: nothing mapped
    auto r = arch::probe_read_u64(hole);
    CHECK(!r.ok());
    CHECK_EQ(arch::exception_class(r.error().esr), arch::kEcDataAbortSame);
    CHECK_EQ(r.error().far, hole.value());
    CHECK_EQ(r.error().esr & 0x3c, uint64_t{0x04});   // translation fault
    CHECK_EQ((r.error().esr >> 6) & 1, uint64_t{0});  // a read
    CHECK_EQ(arch::fixed_up_fault_count(), before + 1);
    CHECK(StringView(arch::fault_status_name(r.error().esr & 0x3f)) ==
          StringView("translation fault"));
}

SELFTEST(exception, el1_write_abort_reports_write) {
    VirtAddr hole(0xffff'7000'0000'0010);
    auto r = arch::probe_write_u64(hole, 1);
    CHECK(!r.ok());
    CHECK_EQ((r.error().esr >> 6) & 1, uint64_t{1});  // WnR: a write
}

SELFTEST(exception, brk_reaches_sync_vector) {
    uint64_t esr = arch_probe_brk();
    CHECK_EQ(arch::exception_class(esr), arch::kEcBrk);
    CHECK_EQ(esr & 0xffff, uint64_t{0x7e5});  // the BRK immediate
}

SELFTEST(exception, undefined_instruction_reaches_sync_vector) {
    uint64_t esr = arch_probe_udf();
    CHECK_EQ(arch::exception_class(esr), arch::kEcUnknown);
}

SELFTEST(exception, svc_reaches_sync_vector) {
    uint64_t esr = arch_probe_svc();
    CHECK_EQ(arch::exception_class(esr), arch::kEcSvc64);
    CHECK_EQ(esr & 0xffff, uint64_t{0x42});
}

SELFTEST(exception, class_names_decode) {
    CHECK(StringView(arch::exception_class_name(0x25)) ==
          StringView("data abort from the same EL"));
    CHECK(StringView(arch::exception_class_name(0x15)) == StringView("SVC from AArch64"));
    CHECK(StringView(arch::exception_class_name(0x3f)) == StringView("reserved exception class"));
    CHECK(StringView(arch::fault_status_name(0x0f)) == StringView("permission fault"));
}

}  // namespace tessera
