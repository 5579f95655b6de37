// Invocations of virtual-memory objects: ASID control (MakePool), ASID pools (Assign), page
// tables (Map, Unmap) and frames (Map, Unmap, GetAddress). Decode validates the address, the
// rights, the VSpace and the slot in the live tables; perform writes one entry.
#include "arch/address_space.hpp"
#include "arch/cache.hpp"
#include "arch/layout.hpp"
#include "core/cspace.hpp"
#include "core/kernel_memory.hpp"
#include "core/user_address.hpp"
#include "object/vspace.hpp"
#include "object/vspace_walk.hpp"
#include "pagetable/descriptor.hpp"
#include "syscall/invocation.hpp"

extern "C" void* memset(void* dest, int value, size_t n);

namespace tessera {
namespace {

using abi::InvocationLabel;

// The VSpace capability in extra cap `index`, which must have a live ASID.
SysResult<Capability> live_vspace(const Invocation& inv, unsigned index) {
    Cte* slot = TRY(inv.extra_cap(index));
    const Capability& cap = slot->cap();
    if (cap.type() != CapType::kVSpace || cap.vspace_asid() == 0 ||
        asid_lookup(cap.vspace_asid()) != cap.object()) {
        return fail(SyscallError::invalid_capability(1 + index));
    }
    return cap;
}

// Message word `word` as a user address for an object of `size` bytes aligned to `alignment`.
SysResult<uint64_t> user_address(const Invocation& inv, unsigned word, uint64_t alignment,
                                 uint64_t size) {
    UserAddress a = TRY(UserAddress::make(TRY(inv.arg(word)), alignment, size, word));
    return a.value();
}

void publish_entry() {
    asm volatile("dsb ishst; isb" ::: "memory");
}

SysResult<void> asid_control(const Invocation& inv) {
    if (static_cast<InvocationLabel>(inv.label()) != InvocationLabel::kAsidControlMakePool) {
        return fail(SyscallError::of(abi::Error::kIllegalOperation));
    }
    // index, depth; caps: untyped (exactly one page, no children), dest root.
    TRY(inv.require(2, 2));
    uint64_t index = TRY(inv.arg(0));
    uint64_t depth = TRY(inv.arg(1));
    Cte* untyped = TRY(inv.extra_cap(0));
    const Capability& ut = untyped->cap();
    if (ut.type() != CapType::kUntyped || ut.untyped_size_bits() != abi::kPageSizeBits ||
        ut.untyped_is_device() || DerivationTree::has_children(*untyped)) {
        return fail(SyscallError::invalid_capability(1));
    }
    Cte* dest = TRY(inv.empty_destination(1, index, depth));
    uint16_t base = asid_free_pool_base();
    if (base == 0) {
        return fail(SyscallError::of(abi::Error::kNotEnoughMemory));  // all 65536 ASIDs issued
    }
    auto* pool = object_at<AsidPool>(ut.object());
    memset(pool, 0, sizeof(AsidPool));
    untyped->update_cap(ut.with_free_index(uint64_t{1} << abi::kPageSizeBits));
    asid_pool_install(base, pool);
    DerivationTree::insert_new_object(*untyped, *dest, Capability::asid_pool(ut.object(), base));
    return {};
}

SysResult<void> asid_pool_assign(const Invocation& inv) {
    if (static_cast<InvocationLabel>(inv.label()) != InvocationLabel::kAsidPoolAssign) {
        return fail(SyscallError::of(abi::Error::kIllegalOperation));
    }
    TRY(inv.require(0, 1));
    Cte* vspace = TRY(inv.extra_cap(0));
    if (vspace->cap().type() != CapType::kVSpace || vspace->cap().vspace_asid() != 0) {
        return fail(SyscallError::invalid_capability(1));
    }
    auto* pool = object_at<AsidPool>(inv.cap().object());
    uint16_t base = inv.cap().asid_base();
    for (unsigned i = 0; i < kAsidsPerPool; ++i) {
        if (base + i == 0 || pool->vspace[i] != 0) {
            continue;  // ASID 0 is never valid
        }
        pool->vspace[i] = vspace->cap().object().value();
        vspace->update_cap(
            Capability::vspace(vspace->cap().object(), static_cast<uint16_t>(base + i)));
        return {};
    }
    return fail(SyscallError::of(abi::Error::kNotEnoughMemory));  // the pool is full
}

SysResult<void> page_table(const Invocation& inv) {
    Cte& slot = inv.slot();
    const Capability& table = slot.cap();
    switch (static_cast<InvocationLabel>(inv.label())) {
        case InvocationLabel::kPageTableMap: {
            // vaddr; cap: VSpace. The table goes where the walk for vaddr first finds nothing.
            TRY(inv.require(1, 1));
            if (table.is_mapped()) {
                return fail(SyscallError::invalid_capability(0));
            }
            uint64_t va = TRY(user_address(inv, 0, 1, 1));
            Capability vspace = TRY(live_vspace(inv, 0));
            PhysAddr node = vspace.object();
            for (unsigned level = 0; level < 3; ++level) {
                uint64_t* e = object_at<uint64_t>(node) + aarch64::level_index(va, level);
                aarch64::Descriptor d(*e);
                if (!d.is_valid()) {
                    *e = aarch64::Descriptor::table(table.object(), true).raw();
                    publish_entry();
                    uint64_t span = aarch64::level_size(level);
                    slot.update_cap(Capability::page_table(table.object(), level + 1,
                                                           vspace.vspace_asid(), va & ~(span - 1)));
                    return {};
                }
                if (!d.is_table(level)) {
                    return fail(SyscallError::of(abi::Error::kDeleteFirst));  // a large page
                }
                node = d.next_table();
            }
            return fail(SyscallError::of(abi::Error::kDeleteFirst));  // every level is present
        }
        case InvocationLabel::kPageTableUnmap:
            page_table_capability_deleted(table);
            slot.update_cap(Capability::page_table(table.object(), 0));
            return {};
        default:
            return fail(SyscallError::of(abi::Error::kIllegalOperation));
    }
}

SysResult<void> frame_map(const Invocation& inv) {
    // vaddr, rights, attributes; cap: VSpace.
    TRY(inv.require(3, 1));
    Cte& slot = inv.slot();
    const Capability& frame = slot.cap();
    if (frame.is_mapped()) {
        return fail(SyscallError::invalid_capability(0));  // map a copy for a second mapping
    }
    bool large = frame.frame_is_large();
    unsigned level = large ? 2 : 3;
    uint64_t va = TRY(user_address(inv, 0, frame.object_size(), frame.object_size()));
    uint64_t rights = TRY(inv.arg(1));
    uint64_t attributes = TRY(inv.arg(2));
    Capability vspace = TRY(live_vspace(inv, 0));
    bool write = (rights & abi::kMapWrite) != 0;
    bool execute = (rights & abi::kMapExecute) != 0;
    if ((write && execute) || (rights & ~uint64_t{7}) != 0 || (rights & abi::kMapRead) == 0) {
        return fail(SyscallError::invalid_argument(1));  // W+X is never mapped
    }
    if ((write && !frame.has_rights(abi::kRightWrite)) || !frame.has_rights(abi::kRightRead)) {
        return fail(SyscallError::invalid_capability(0));
    }
    aarch64::MemoryType type = aarch64::MemoryType::kNormal;
    switch (static_cast<abi::MapAttributes>(attributes)) {
        case abi::MapAttributes::kCached:
            type = aarch64::MemoryType::kNormal;
            break;
        case abi::MapAttributes::kUncached:
            type = aarch64::MemoryType::kNormalNonCacheable;
            break;
        case abi::MapAttributes::kDevice:
            type = aarch64::MemoryType::kDevice;
            break;
        default:
            return fail(SyscallError::invalid_argument(2));
    }
    if (frame.frame_is_device() && (type != aarch64::MemoryType::kDevice || execute)) {
        return fail(SyscallError::invalid_argument(2));  // device memory maps only as device
    }
    VSpaceEntry where = vspace_entry(vspace.object(), va, level);
    if (where.blocked) {
        return fail(SyscallError::of(abi::Error::kDeleteFirst));
    }
    if (where.entry == nullptr) {
        return fail(SyscallError::failed_lookup(abi::LookupFailure::kMissingCapability,
                                                where.missing_level));
    }
    if (aarch64::Descriptor(*where.entry).is_valid()) {
        return fail(SyscallError::of(abi::Error::kDeleteFirst));
    }
    aarch64::LeafAttributes attrs;
    attrs.permissions = aarch64::Permissions{true, write, execute};
    attrs.type = type;
    attrs.global = false;
    *where.entry = aarch64::Descriptor::leaf(level, frame.object(), attrs).raw();
    publish_entry();
    slot.update_cap(Capability::frame(frame.object(), large, frame.frame_is_device(),
                                      frame.rights(), vspace.vspace_asid(), va));
    return {};
}

// op, offset, size: maintenance on part of a mapped frame, through the kernel's own mapping of
// it (so it can never fault) after checking the user mapping is still the live one.
SysResult<void> frame_cache_op(const Invocation& inv) {
    TRY(inv.require(3, 0));
    const Capability& frame_cap = inv.cap();
    uint64_t op = TRY(inv.arg(0));
    uint64_t offset = TRY(inv.arg(1));
    uint64_t size = TRY(inv.arg(2));
    if (op > static_cast<uint64_t>(abi::CacheOp::kUnifyInstruction)) {
        return fail(SyscallError::invalid_argument(0));
    }
    uint64_t frame_size = frame_cap.object_size();
    if (size == 0 || offset >= frame_size || size > frame_size - offset) {
        return fail(SyscallError::range(0, frame_size));
    }
    if (frame_cap.frame_is_device()) {
        return fail(SyscallError::of(abi::Error::kIllegalOperation));
    }
    // Only a mapping that still exists: a stale or unmapped capability has nothing to maintain.
    unsigned level = frame_cap.frame_is_large() ? 2 : 3;
    PhysAddr root = frame_cap.is_mapped() ? asid_lookup(frame_cap.mapped_asid()) : PhysAddr();
    VSpaceEntry e =
        root.value() != 0 ? vspace_entry(root, frame_cap.mapped_address(), level) : VSpaceEntry{};
    if (e.entry == nullptr || !aarch64::Descriptor(*e.entry).is_leaf(level) ||
        aarch64::Descriptor(*e.entry).output_address(level) != frame_cap.object()) {
        return fail(SyscallError::of(abi::Error::kIllegalOperation));
    }
    if (op == static_cast<uint64_t>(abi::CacheOp::kInvalidate) &&
        !frame_cap.has_rights(abi::kRightWrite)) {
        return fail(SyscallError::invalid_capability(0));  // discarding data is a write
    }
    VirtAddr start = arch::phys_to_virt(frame_cap.object().offset(offset));
    switch (static_cast<abi::CacheOp>(op)) {
        case abi::CacheOp::kClean:
        case abi::CacheOp::kInvalidate:
        case abi::CacheOp::kCleanInvalidate:
            // Invalidation without cleaning could expose stale memory to other mappings of the
            // frame, so every variant cleans.
            arch::clean_invalidate_to_coherency(start, size);
            break;
        case abi::CacheOp::kUnifyInstruction:
            arch::sync_instruction_cache(start, size);
            break;
    }
    return {};
}

SysResult<void> frame(const Invocation& inv) {
    Cte& slot = inv.slot();
    const Capability& frame_cap = slot.cap();
    switch (static_cast<InvocationLabel>(inv.label())) {
        case InvocationLabel::kFrameMap:
            return frame_map(inv);
        case InvocationLabel::kFrameUnmap:
            frame_capability_deleted(frame_cap);
            slot.update_cap(Capability::frame(frame_cap.object(), frame_cap.frame_is_large(),
                                              frame_cap.frame_is_device(), frame_cap.rights()));
            return {};
        case InvocationLabel::kFrameGetAddress:
            inv.set_reply(0, frame_cap.object().value());
            return {};
        case InvocationLabel::kFrameCacheOp:
            return frame_cache_op(inv);
        default:
            return fail(SyscallError::of(abi::Error::kIllegalOperation));
    }
}

}  // namespace

SysResult<void> invoke_asid_control(const Invocation& inv) {
    return asid_control(inv);
}
SysResult<void> invoke_asid_pool(const Invocation& inv) {
    return asid_pool_assign(inv);
}
SysResult<void> invoke_page_table(const Invocation& inv) {
    return page_table(inv);
}
SysResult<void> invoke_frame(const Invocation& inv) {
    return frame(inv);
}

}  // namespace tessera
