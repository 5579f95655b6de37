// Root task construction. All of its objects come from one region carved out of free memory
// before the rest becomes untyped, so the root task's own objects are never handed out twice.
// Order: plan sizes, reserve the region, build objects, fill the CNode, describe untypeds.
#include "core/root_task.hpp"

#include <initializer_list>
#include <new>

#include "abi/bootinfo.hpp"
#include "arch/layout.hpp"
#include "base/bits.hpp"
#include "core/console.hpp"
#include "core/kernel_memory.hpp"
#include "core/panic.hpp"
#include "core/thread_switch.hpp"
#include "object/vspace.hpp"
#include "pagetable/translation_table.hpp"

extern "C" void* memset(void* dest, int value, size_t n);
extern "C" void* memcpy(void* dest, const void* src, size_t n);

namespace tessera {
namespace {

constexpr uint64_t kPage = 4096;
constexpr uint16_t kRootAsid = 1;
constexpr unsigned kMaxRootTables = 24;

// Bump allocator over the root task's reserved region; everything it returns is zeroed.
class RegionAllocator {
  public:
    RegionAllocator(uint64_t base, uint64_t end) : next_(base), end_(end) {}
    PhysAddr take(uint64_t size, uint64_t alignment) {
        uint64_t at = align_up(next_, alignment).value_or(end_);
        if (at + size > end_ || at + size < at) {
            panic("root task: reserved region too small");
        }
        next_ = at + size;
        memset(arch::phys_to_ptr<void>(PhysAddr(at)), 0, size);
        return PhysAddr(at);
    }

  private:
    uint64_t next_;
    uint64_t end_;
};

struct TableMemory {
    RegionAllocator* allocator;
    PhysAddr tables[kMaxRootTables];
    unsigned count = 0;
    uint64_t* table(PhysAddr pa) { return arch::phys_to_ptr<uint64_t>(pa); }
    Result<PhysAddr, aarch64::MapError> allocate() {
        if (count == kMaxRootTables) {
            return fail(aarch64::MapError::kNoTableMemory);
        }
        tables[count] = allocator->take(kPage, kPage);
        return tables[count++];
    }
};

uint64_t pages_for(uint64_t bytes) {
    return (bytes + kPage - 1) / kPage;
}

void check_image(const RootImageHeader& image) {
    if (image.magic != kRootImageMagic || image.segment_count == 0 ||
        image.segment_count > kRootImageMaxSegments) {
        panic("root task image header is corrupt (magic {:#x}, {} segments)", image.magic,
              image.segment_count);
    }
    for (uint64_t i = 0; i < image.segment_count; ++i) {
        const RootImageSegment& s = image.segments[i];
        bool wx = (s.flags & kRootSegmentWrite) != 0 && (s.flags & kRootSegmentExecute) != 0;
        if (s.address % kPage != 0 || s.file_size > s.memory_size || wx ||
            s.offset + s.file_size > image.total_size || s.address + s.memory_size < s.address ||
            s.address + s.memory_size > abi::kRootBootInfoAddress) {
            panic("root task image segment {} is invalid", i);
        }
    }
}

class RootTaskBuilder {
  public:
    RootTaskBuilder(BootState& state, const RootImageHeader& image)
        : state_(state), image_(image) {}

    void build(const char* name);

  private:
    Cte& slot(uint64_t index) { return cnode_[index]; }
    uint64_t add_cap(const Capability& cap) {
        if (next_slot_ == (uint64_t{1} << abi::kRootCNodeRadix)) {
            panic("root task: root CNode full");
        }
        DerivationTree::insert_original(slot(next_slot_), cap);
        return next_slot_++;
    }
    PhysAddr map_new_page(uint64_t va, aarch64::LeafAttributes attrs) {
        PhysAddr frame = allocator_->take(kPage, kPage);
        auto mapped = vspace_->map(VirtAddr(va), frame, kPage, attrs, false);
        if (!mapped) {
            panic("root task: cannot map {:#x}: {}", va, aarch64::to_string(mapped.error()));
        }
        return frame;
    }
    void load_image();
    void add_table_caps(PhysAddr root);
    void add_boot_module();
    void make_untypeds();
    void add_untyped_range(uint64_t base, uint64_t end, bool device);

    BootState& state_;
    const RootImageHeader& image_;
    RegionAllocator* allocator_ = nullptr;
    TableMemory tables_{};
    aarch64::TranslationTable<TableMemory>* vspace_ = nullptr;
    Cte* cnode_ = nullptr;
    abi::BootInfo* bootinfo_ = nullptr;
    uint64_t next_slot_ = abi::kFirstDynamicSlot;
};

void RootTaskBuilder::load_image() {
    uint64_t first = next_slot_;
    const auto* bytes = reinterpret_cast<const uint8_t*>(&image_);
    for (uint64_t i = 0; i < image_.segment_count; ++i) {
        const RootImageSegment& s = image_.segments[i];
        aarch64::LeafAttributes attrs;
        attrs.permissions.user = true;
        attrs.permissions.write = (s.flags & kRootSegmentWrite) != 0;
        attrs.permissions.execute = (s.flags & kRootSegmentExecute) != 0;
        attrs.global = false;
        for (uint64_t off = 0; off < s.memory_size; off += kPage) {
            PhysAddr frame = map_new_page(s.address + off, attrs);
            if (off < s.file_size) {
                uint64_t n = s.file_size - off < kPage ? s.file_size - off : kPage;
                memcpy(arch::phys_to_ptr<void>(frame), bytes + s.offset + off, n);
            }
            Rights rights = abi::kRightRead | (attrs.permissions.write ? abi::kRightWrite : 0);
            add_cap(Capability::frame(frame, false, false, rights, kRootAsid, s.address + off));
        }
    }
    bootinfo_->image_frames = {first, next_slot_};
}

// Capabilities for the VSpace's intermediate tables, each recording where it is mapped so
// the root task can unmap (and reuse) them like tables it mapped itself.
void RootTaskBuilder::add_table_caps(PhysAddr root) {
    uint64_t first = next_slot_;
    struct Level {
        PhysAddr table;
        uint64_t base;
    };
    // At most every table the builder made is pending at once.
    Level stack[kMaxRootTables + 1];
    unsigned depth = 0;
    stack[depth++] = Level{root, 0};
    unsigned levels[kMaxRootTables + 1];
    levels[0] = 0;
    while (depth > 0) {
        --depth;
        Level at = stack[depth];
        unsigned level = levels[depth];
        if (level == 3) {
            continue;
        }
        const uint64_t* entries = object_at<uint64_t>(at.table);
        for (uint64_t i = 0; i < aarch64::kEntriesPerTable; ++i) {
            aarch64::Descriptor d(entries[i]);
            if (!d.is_table(level)) {
                continue;
            }
            uint64_t va = at.base + i * aarch64::level_size(level);
            add_cap(Capability::page_table(d.next_table(), level + 1, kRootAsid, va));
            if (level + 1 < 3 && depth <= kMaxRootTables) {
                stack[depth] = Level{d.next_table(), va};
                levels[depth] = level + 1;
                ++depth;
            }
        }
    }
    bootinfo_->page_tables = {first, next_slot_};
}

// Read-only frame capabilities covering the boot module (the image archive), so the root
// task can map it. Its pages are reserved in the memory map and never become untyped.
void RootTaskBuilder::add_boot_module() {
    uint64_t first = next_slot_;
    std::optional<PhysRange> module = state_.boot_module ? state_.boot_module : state_.board.initrd;
    if (module && module->size > 0) {
        uint64_t base = align_down(module->base.value(), kPage);
        uint64_t end = align_up(module->end().value(), kPage).value_or(base);
        for (uint64_t pa = base; pa < end; pa += kPage) {
            add_cap(Capability::frame(PhysAddr(pa), false, false, abi::kRightRead));
        }
        bootinfo_->boot_module_size = module->size;
        bootinfo_->boot_module_offset = module->base.value() - base;
    }
    bootinfo_->boot_module_frames = {first, next_slot_};
}

void RootTaskBuilder::add_untyped_range(uint64_t base, uint64_t end, bool device) {
    while (base < end) {
        unsigned bits = abi::kMaxUntypedSizeBits;
        while (bits > abi::kMinUntypedSizeBits &&
               ((base & ((uint64_t{1} << bits) - 1)) != 0 || base + (uint64_t{1} << bits) > end)) {
            --bits;
        }
        if ((base & ((uint64_t{1} << bits) - 1)) != 0 || base + (uint64_t{1} << bits) > end) {
            return;  // a fragment below the minimum size
        }
        if (bootinfo_->untyped_count == abi::kMaxBootUntypeds) {
            kprintln("warning: more than {} untyped regions; {:#x}-{:#x} is not handed out",
                     abi::kMaxBootUntypeds, base, end);
            return;
        }
        // RAM is handed out full: its contents are unknown, so the first retype resets
        // (zeroes) it. Device memory is never zeroed.
        add_cap(
            Capability::untyped(PhysAddr(base), bits, device, device ? 0 : uint64_t{1} << bits));
        abi::UntypedDescriptor& d = bootinfo_->untyped_list[bootinfo_->untyped_count++];
        d.physical_address = base;
        d.size_bits = static_cast<uint8_t>(bits);
        d.is_device = device ? 1 : 0;
        base += uint64_t{1} << bits;
    }
}

void RootTaskBuilder::make_untypeds() {
    uint64_t first = next_slot_;
    for (const Range& r : state_.memory.free()) {
        add_untyped_range(r.base, r.end, false);
    }
    // Device memory: the physical space below RAM, except what the kernel drives itself
    // (the interrupt controller). The console UART is included on purpose: a user driver may
    // take it over.
    RangeSet<8> device;
    uint64_t ram_base = state_.memory.ram()[0].base;
    if (device.add(Range{0, ram_base})) {
        for (const PhysRange& r : {state_.board.gic_distributor, state_.board.gic_cpu_interface}) {
            uint64_t lo = align_down(r.base.value(), kPage);
            uint64_t hi = align_up(r.end().value(), kPage).value_or(r.end().value());
            (void)device.remove(Range{lo, hi});
        }
    }
    for (const Range& r : device) {
        add_untyped_range(r.base, r.end, true);
    }
    bootinfo_->untyped = {first, next_slot_};
}

void RootTaskBuilder::build(const char* name) {
    check_image(image_);
    uint64_t image_pages = 0;
    for (uint64_t i = 0; i < image_.segment_count; ++i) {
        image_pages += pages_for(image_.segments[i].memory_size);
    }
    uint64_t cnode_bytes = uint64_t{1} << (abi::kRootCNodeRadix + abi::kSlotSizeBits);
    uint64_t stack_pages = abi::kRootStackSize / kPage;
    // CNode, then TCB, VSpace, tables, IPC buffer, boot info, stack and image pages.
    uint64_t region_size =
        cnode_bytes + kPage * (1 + 1 + 1 + kMaxRootTables + 1 + 1 + stack_pages + image_pages);

    uint64_t region_base = 0;
    for (const Range& r : state_.memory.free()) {
        auto base = align_up(r.base, cnode_bytes);
        if (base && *base + region_size <= r.end) {
            region_base = *base;
            break;
        }
    }
    if (region_base == 0) {
        panic("root task: no free region of {} bytes", region_size);
    }
    if (!state_.memory.reserve(Range{region_base, region_base + region_size},
                               RegionKind::kRootTask)) {
        panic("root task: cannot reserve its region");
    }
    RegionAllocator allocator(region_base, region_base + region_size);
    allocator_ = &allocator;
    tables_.allocator = &allocator;

    PhysAddr cnode_pa = allocator.take(cnode_bytes, cnode_bytes);
    cnode_ = object_at<Cte>(cnode_pa);
    PhysAddr tcb_pa = allocator.take(kPage, kPage);
    auto* tcb = new (object_at<void>(tcb_pa)) Tcb();
    auto root_table = tables_.allocate();
    if (!root_table) {
        panic("root task: no memory for its VSpace");
    }
    PhysAddr vspace_pa = root_table.value();
    aarch64::TranslationTable<TableMemory> vspace(vspace_pa, tables_);
    vspace_ = &vspace;

    // Boot info and IPC buffer pages, read-write, never executable.
    aarch64::LeafAttributes data_attrs;
    data_attrs.permissions = aarch64::Permissions{true, true, false};
    data_attrs.global = false;
    PhysAddr bootinfo_pa = map_new_page(abi::kRootBootInfoAddress, data_attrs);
    bootinfo_ = object_at<abi::BootInfo>(bootinfo_pa);
    PhysAddr ipc_pa = map_new_page(abi::kRootIpcBufferAddress, data_attrs);
    // The stack, with the page below it left unmapped as a guard.
    for (uint64_t va = abi::kRootStackTop - abi::kRootStackSize; va < abi::kRootStackTop;
         va += kPage) {
        (void)map_new_page(va, data_attrs);
    }

    Capability cnode_cap =
        Capability::cnode(cnode_pa, abi::kRootCNodeRadix, 64 - abi::kRootCNodeRadix, 0);
    Capability vspace_cap = Capability::vspace(vspace_pa, kRootAsid);
    DerivationTree::insert_original(slot(abi::kSlotInitThreadTcb), Capability::tcb(tcb_pa));
    DerivationTree::insert_original(slot(abi::kSlotInitThreadCNode), cnode_cap);
    DerivationTree::insert_original(slot(abi::kSlotInitThreadVSpace), vspace_cap);
    DerivationTree::insert_original(slot(abi::kSlotIrqControl), Capability::irq_control());
    DerivationTree::insert_original(slot(abi::kSlotAsidControl), Capability::asid_control());
    DerivationTree::insert_original(slot(abi::kSlotDebug), Capability::debug());
    DerivationTree::insert_original(slot(abi::kSlotConsole), Capability::console());
    DerivationTree::insert_original(
        slot(abi::kSlotInitThreadIpcBuffer),
        Capability::frame(ipc_pa, false, false, abi::kRightRead | abi::kRightWrite, kRootAsid,
                          abi::kRootIpcBufferAddress));
    DerivationTree::insert_original(
        slot(abi::kSlotBootInfoFrame),
        Capability::frame(bootinfo_pa, false, false, abi::kRightRead | abi::kRightWrite, kRootAsid,
                          abi::kRootBootInfoAddress));

    // ASID pool 0, holding the root task's VSpace at ASID 1.
    PhysAddr pool_pa = allocator.take(kPage, kPage);
    auto* pool = object_at<AsidPool>(pool_pa);
    pool->vspace[kRootAsid] = vspace_pa.value();
    asid_pool_install(0, pool);
    DerivationTree::insert_original(slot(abi::kSlotInitThreadAsidPool),
                                    Capability::asid_pool(pool_pa, 0));

    load_image();
    add_table_caps(vspace_pa);
    add_boot_module();
    make_untypeds();

    StringView args = state_.command_line.text();
    size_t n =
        args.size() < abi::kBootCommandLineMax - 1 ? args.size() : abi::kBootCommandLineMax - 1;
    for (size_t i = 0; i < n; ++i) {
        bootinfo_->command_line[i] = args[i];
    }
    bootinfo_->command_line[n] = '\0';
    bootinfo_->magic = abi::kBootInfoMagic;
    bootinfo_->version = abi::kBootInfoVersion;
    bootinfo_->ipc_buffer = abi::kRootIpcBufferAddress;
    bootinfo_->root_cnode_radix = abi::kRootCNodeRadix;
    bootinfo_->empty = {next_slot_, uint64_t{1} << abi::kRootCNodeRadix};

    // The thread: its CSpace and VSpace are copies of the root task's own capabilities.
    DerivationTree::insert_derived(slot(abi::kSlotInitThreadCNode), tcb->cspace_root, cnode_cap);
    DerivationTree::insert_derived(slot(abi::kSlotInitThreadVSpace), tcb->vspace_root, vspace_cap);
    DerivationTree::insert_derived(
        slot(abi::kSlotInitThreadIpcBuffer), tcb->ipc_buffer_frame,
        Capability::frame(ipc_pa, false, false, abi::kRightRead | abi::kRightWrite));
    tcb->set_name(name);
    tcb->priority = kPriorityCount - 1;
    tcb->max_controlled_priority = kPriorityCount - 1;
    tcb->ipc_buffer = abi::kRootIpcBufferAddress;
    tcb->context.pc = image_.entry;
    tcb->context.sp = abi::kRootStackTop;
    tcb->context.spsr = SPSR_EL0T;
    tcb->context.x[0] = abi::kRootBootInfoAddress;
    make_runnable(*tcb);

    char size_text[24];
    BufferWriter writer(size_text, sizeof(size_text));
    print_size(writer.sink(), region_size);
    kprintln("root task \"{}\": {} image pages, {} tables, {} untypeds, {} of objects at {:#x}",
             name, image_pages, tables_.count, bootinfo_->untyped_count, writer.view(),
             region_base);
}

}  // namespace

void create_root_task(BootState& state, const RootImageHeader& image, const char* name) {
    RootTaskBuilder builder(state, image);
    builder.build(name);
}

}  // namespace tessera
