// Invocations of virtual-memory objects: ASID control (MakePool), ASID pools (Assign), page
// tables (Map, Unmap), frames (Map, Unmap, GetAddress, CacheOp) and VSpaces (Map/UnmapFrames:
// a run of frames with one call). Decode validates the address, the rights, the VSpace and the
// entries in the live tables; perform only writes.
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
extern "C" void* memcpy(void* dest, const void* src, size_t n);

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
        return fail(SyscallError::of(abi::Error::kNotEnoughMemory));  // every usable ASID issued
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
    // Never ASID 0, never one the CPU cannot tag with (8-bit ASIDs would alias).
    uint16_t asid = asid_pool_free_asid(*pool, base);
    if (asid == 0) {
        return fail(SyscallError::of(abi::Error::kNotEnoughMemory));  // the pool is full
    }
    pool->vspace[asid - base] = vspace->cap().object().value();
    vspace->update_cap(Capability::vspace(vspace->cap().object(), asid));
    return {};
}

// A page table has one mapping at a time, shared by all its capabilities (copies exist only
// while it is mapped), and one level for life: the level of its first mapping. Unmapping needs
// the last capability and empties the table, so a table that maps again holds nothing from
// before (seL4's performPageTableInvocationUnmap).
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
                    if (table.table_level() != 0 && table.table_level() != level + 1) {
                        return fail(SyscallError::of(abi::Error::kIllegalOperation));
                    }
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
            if (!table.is_mapped()) {
                return {};
            }
            if (!DerivationTree::is_final(slot)) {
                return fail(SyscallError::of(abi::Error::kRevokeFirst));
            }
            page_table_capability_deleted(table);
            // Unlinked from its parent and the ASID's TLB entries gone: nothing walks it now.
            memset(object_at<void>(table.object()), 0, uint64_t{1} << abi::kPageTableSizeBits);
            publish_entry();
            slot.update_cap(Capability::page_table(table.object(), table.table_level()));
            return {};
        default:
            return fail(SyscallError::of(abi::Error::kIllegalOperation));
    }
}

// Rights and attributes of a mapping request, decoded once for one frame or a run of them.
struct Mapping {
    aarch64::LeafAttributes attributes;
    bool write = false;
    bool execute = false;
};

// rights_word and rights_word + 1 hold the rights and the attributes.
SysResult<Mapping> decode_mapping(const Invocation& inv, unsigned rights_word) {
    uint64_t rights = TRY(inv.arg(rights_word));
    uint64_t attributes = TRY(inv.arg(rights_word + 1));
    Mapping m;
    m.write = (rights & abi::kMapWrite) != 0;
    m.execute = (rights & abi::kMapExecute) != 0;
    if ((m.write && m.execute) || (rights & ~uint64_t{7}) != 0 || (rights & abi::kMapRead) == 0) {
        return fail(SyscallError::invalid_argument(rights_word));  // W+X is never mapped
    }
    switch (static_cast<abi::MapAttributes>(attributes)) {
        case abi::MapAttributes::kCached:
            m.attributes.type = aarch64::MemoryType::kNormal;
            break;
        case abi::MapAttributes::kUncached:
            m.attributes.type = aarch64::MemoryType::kNormalNonCacheable;
            break;
        case abi::MapAttributes::kDevice:
            m.attributes.type = aarch64::MemoryType::kDevice;
            break;
        default:
            return fail(SyscallError::invalid_argument(rights_word + 1));
    }
    m.attributes.permissions = aarch64::Permissions{true, m.write, m.execute};
    m.attributes.global = false;
    return m;
}

// Why a frame capability cannot take a mapping: rights it lacks (a capability error) or memory
// of the wrong kind for the attributes (an argument error). Nothing if it can.
enum class FrameRefusal { kNone, kCapability, kAttributes };

FrameRefusal check_frame(const Capability& frame, const Mapping& m) {
    if ((m.write && !frame.has_rights(abi::kRightWrite)) || !frame.has_rights(abi::kRightRead)) {
        return FrameRefusal::kCapability;
    }
    if (frame.frame_is_device() &&
        (m.attributes.type != aarch64::MemoryType::kDevice || m.execute)) {
        return FrameRefusal::kAttributes;  // device memory maps only as device
    }
    return FrameRefusal::kNone;
}

// The entry for va at level in vspace, which must be reachable and empty.
SysResult<uint64_t*> empty_entry(const Capability& vspace, uint64_t va, unsigned level) {
    VSpaceEntry where = vspace_entry(vspace.object(), va, level);
    if (where.blocked) {
        return fail(SyscallError::of(abi::Error::kDeleteFirst));
    }
    if (where.entry == nullptr) {
        return fail(SyscallError::failed_lookup(abi::LookupFailure::kMissingCapability,
                                                where.missing_level));
    }
    return where.entry;
}

Capability mapped_frame(const Capability& frame, uint16_t asid, uint64_t va) {
    return Capability::frame(frame.object(), frame.frame_is_large(), frame.frame_is_device(),
                             frame.rights(), asid, va);
}

SysResult<void> frame_map(const Invocation& inv) {
    // vaddr, rights, attributes; cap: VSpace.
    TRY(inv.require(3, 1));
    Cte& slot = inv.slot();
    const Capability& frame = slot.cap();
    if (frame.is_mapped()) {
        return fail(SyscallError::invalid_capability(0));  // map a copy for a second mapping
    }
    unsigned level = frame.frame_is_large() ? 2 : 3;
    uint64_t va = TRY(user_address(inv, 0, frame.object_size(), frame.object_size()));
    Mapping m = TRY(decode_mapping(inv, 1));
    Capability vspace = TRY(live_vspace(inv, 0));
    switch (check_frame(frame, m)) {
        case FrameRefusal::kCapability:
            return fail(SyscallError::invalid_capability(0));
        case FrameRefusal::kAttributes:
            return fail(SyscallError::invalid_argument(2));
        case FrameRefusal::kNone:
            break;
    }
    uint64_t* entry = TRY(empty_entry(vspace, va, level));
    if (aarch64::Descriptor(*entry).is_valid()) {
        return fail(SyscallError::of(abi::Error::kDeleteFirst));
    }
    *entry = aarch64::Descriptor::leaf(level, frame.object(), m.attributes).raw();
    publish_entry();
    slot.update_cap(mapped_frame(frame, vspace.vspace_asid(), va));
    return {};
}

// The invoked VSpace capability, which must have a live ASID.
SysResult<Capability> invoked_vspace(const Invocation& inv) {
    const Capability& cap = inv.cap();
    if (cap.vspace_asid() == 0 || asid_lookup(cap.vspace_asid()) != cap.object()) {
        return fail(SyscallError::invalid_capability(0));
    }
    return cap;
}

// first, count: the run of slots named by consecutive capability pointers from first.
SysResult<uint64_t> frame_count(const Invocation& inv) {
    uint64_t count = TRY(inv.arg(1));
    if (count == 0 || count > abi::kMaxFramesPerCall) {
        return fail(SyscallError::range(1, abi::kMaxFramesPerCall));
    }
    return count;
}

// The slots of a run: consecutive capability pointers naming consecutive slots of one CNode, so
// no two name the same slot (a lookup that ends early can resolve two pointers to one slot).
// Errors name word 0 (the run) and, in detail word 1, the frame's index in it.
SysResult<Cte*> run_frames(const Invocation& inv, uint64_t first, uint64_t count) {
    const Capability& root = inv.caller().cspace_root.cap();
    auto head = resolve_address_bits(root, abi::CapPtr(first), abi::kWordBits);
    if (!head) {
        return fail(SyscallError::make(abi::Error::kInvalidCapability, 0, 0));
    }
    Cte* slots = head.value().slot;
    // Resolved to the last bit: the pointer's low `radix` bits index the CNode, so while they
    // do not overflow, pointer first + i is slot i after the first, with no further walk.
    uint64_t index = first & ((uint64_t{1} << head.value().radix) - 1);
    bool one_walk =
        head.value().bits_remaining == 0 && index + count <= (uint64_t{1} << head.value().radix);
    for (uint64_t i = 0; i < count; ++i) {
        if (!one_walk && i > 0) {
            auto slot = lookup_slot(root, abi::CapPtr(first + i));
            if (!slot || reinterpret_cast<uintptr_t>(slot.value()) !=
                             reinterpret_cast<uintptr_t>(slots) + i * sizeof(Cte)) {
                return fail(SyscallError::make(abi::Error::kInvalidCapability, 0, i));
            }
        }
        if (slots[i].cap().type() != CapType::kFrame) {
            return fail(SyscallError::make(abi::Error::kInvalidCapability, 0, i));
        }
    }
    return slots;
}

SysResult<void> vspace_map_frames(const Invocation& inv) {
    // first, count, vaddr, rights, attributes: frames first .. first + count - 1 at vaddr,
    // vaddr + size, ... all of one size and in one last-level table. Everything is checked
    // before the first entry is written, so the call maps all or nothing.
    TRY(inv.require(5, 0));
    Capability vspace = TRY(invoked_vspace(inv));
    uint64_t first = TRY(inv.arg(0));
    uint64_t count = TRY(frame_count(inv));
    Cte* frames = TRY(run_frames(inv, first, count));
    bool large = frames[0].cap().frame_is_large();
    uint64_t size = frames[0].cap().object_size();
    unsigned level = large ? 2 : 3;
    uint64_t va = TRY(user_address(inv, 2, size, size * count));
    uint64_t index = aarch64::level_index(va, level);
    if (index + count > abi::kMaxFramesPerCall) {
        return fail(SyscallError::range(1, abi::kMaxFramesPerCall - index));  // crosses a table
    }
    Mapping m = TRY(decode_mapping(inv, 3));
    uint64_t* entries = TRY(empty_entry(vspace, va, level));
    for (uint64_t i = 0; i < count; ++i) {
        const Capability& frame = frames[i].cap();
        if (frame.is_mapped() || frame.frame_is_large() != large) {
            return fail(SyscallError::make(abi::Error::kInvalidCapability, 0, i));
        }
        switch (check_frame(frame, m)) {
            case FrameRefusal::kCapability:
                return fail(SyscallError::make(abi::Error::kInvalidCapability, 0, i));
            case FrameRefusal::kAttributes:
                return fail(SyscallError::make(abi::Error::kInvalidArgument, 4, i));
            case FrameRefusal::kNone:
                break;
        }
        if (aarch64::Descriptor(entries[i]).is_valid()) {
            return fail(SyscallError::make(abi::Error::kDeleteFirst, 0, i));
        }
    }
    uint16_t asid = vspace.vspace_asid();
    // Every entry is the same but for its output address (frames are size aligned).
    const uint64_t attributes = aarch64::Descriptor::leaf(level, PhysAddr(0), m.attributes).raw();
    for (uint64_t i = 0; i < count; ++i) {
        const Capability& frame = frames[i].cap();
        entries[i] = attributes | frame.object().value();
        frames[i].update_cap(mapped_frame(frame, asid, va + i * size));
    }
    publish_entry();
    return {};
}

SysResult<void> vspace_unmap_frames(const Invocation& inv) {
    // first, count: each frame mapped in this VSpace is unmapped; unmapped frames are left as
    // they are. A frame mapped in another VSpace refuses the whole call.
    TRY(inv.require(2, 0));
    Capability vspace = TRY(invoked_vspace(inv));
    uint64_t first = TRY(inv.arg(0));
    uint64_t count = TRY(frame_count(inv));
    uint16_t asid = vspace.vspace_asid();
    Cte* frames = TRY(run_frames(inv, first, count));
    for (uint64_t i = 0; i < count; ++i) {
        const Capability& frame = frames[i].cap();
        if (frame.is_mapped() && frame.mapped_asid() != asid) {
            return fail(SyscallError::make(abi::Error::kInvalidCapability, 0, i));
        }
    }
    // Past a few pages, dropping the ASID's entries costs less than one invalidation each.
    constexpr uint64_t kPagesWorthInvalidating = 16;
    bool each = count <= kPagesWorthInvalidating;
    bool cleared = false;
    arch::begin_user_invalidation();
    for (uint64_t i = 0; i < count; ++i) {
        Cte* slot = &frames[i];
        const Capability& frame = slot->cap();
        if (!frame.is_mapped()) {
            continue;
        }
        if (clear_frame_mapping(frame)) {
            cleared = true;
            if (each) {
                arch::invalidate_user_page_unordered(asid, VirtAddr(frame.mapped_address()));
            }
        }
        slot->update_cap(Capability::frame(frame.object(), frame.frame_is_large(),
                                           frame.frame_is_device(), frame.rights()));
    }
    if (cleared && !each) {
        arch::invalidate_asid(asid);
    } else {
        arch::end_user_invalidation();
    }
    return {};
}

// New rights for a mapping: read only, read-write or read-execute (never W+X, never other
// bits), decoded from argument `word`.
struct Remap {
    bool write = false;
    bool execute = false;
};
SysResult<Remap> decode_remap(const Invocation& inv, unsigned word) {
    uint64_t rights = TRY(inv.arg(word));
    Remap r{(rights & abi::kMapWrite) != 0, (rights & abi::kMapExecute) != 0};
    if ((r.write && r.execute) || (rights & ~uint64_t{7}) != 0 || (rights & abi::kMapRead) == 0) {
        return fail(SyscallError::invalid_argument(word));
    }
    return r;
}

// The live entry mapping `frame` in the VSpace at root (the frame's own mapping, still there),
// or null; and whether the frame's capability allows the new rights.
uint64_t* live_mapping(const Capability& frame, PhysAddr root) {
    const unsigned level = frame.frame_is_large() ? 2 : 3;
    VSpaceEntry e = vspace_entry(root, frame.mapped_address(), level);
    if (e.entry == nullptr || !aarch64::Descriptor(*e.entry).is_leaf(level) ||
        aarch64::Descriptor(*e.entry).output_address(level) != frame.object()) {
        return nullptr;
    }
    return e.entry;
}
bool allows(const Capability& frame, const Remap& r) {
    return frame.has_rights(abi::kRightRead) && (!r.write || frame.has_rights(abi::kRightWrite)) &&
           !(r.execute && frame.frame_is_device());
}

// Rewrites the live entry with the new permissions, keeping its memory type.
void rewrite(uint64_t* entry, const Capability& frame, const Remap& r) {
    const unsigned level = frame.frame_is_large() ? 2 : 3;
    aarch64::LeafAttributes a = aarch64::Descriptor(*entry).attributes();
    a.permissions = aarch64::Permissions{true, r.write, r.execute};
    a.global = false;
    *entry = aarch64::Descriptor::leaf(level, frame.object(), a).raw();
}

SysResult<void> vspace_remap_frames(const Invocation& inv) {
    // first, count, rights: each frame of the run, mapped in this VSpace, gets the new rights
    // (within its capability's). Everything is checked before the first entry changes, so the
    // call changes all or nothing; the pages' TLB entries go.
    TRY(inv.require(3, 0));
    Capability vspace = TRY(invoked_vspace(inv));
    uint64_t first = TRY(inv.arg(0));
    uint64_t count = TRY(frame_count(inv));
    Remap r = TRY(decode_remap(inv, 2));
    Cte* frames = TRY(run_frames(inv, first, count));
    const uint16_t asid = vspace.vspace_asid();
    for (uint64_t i = 0; i < count; ++i) {
        const Capability& frame = frames[i].cap();
        if (!frame.is_mapped() || frame.mapped_asid() != asid || !allows(frame, r) ||
            live_mapping(frame, vspace.object()) == nullptr) {
            return fail(SyscallError::make(abi::Error::kInvalidCapability, 0, i));
        }
    }
    constexpr uint64_t kPagesWorthInvalidating = 16;
    const bool each = count <= kPagesWorthInvalidating;
    arch::begin_user_invalidation();
    for (uint64_t i = 0; i < count; ++i) {
        const Capability& frame = frames[i].cap();
        rewrite(live_mapping(frame, vspace.object()), frame, r);
        if (each) {
            arch::invalidate_user_page_unordered(asid, VirtAddr(frame.mapped_address()));
        }
    }
    if (!each) {
        arch::invalidate_asid(asid);
    } else {
        arch::end_user_invalidation();
    }
    return {};
}

// rights: the one frame's mapping gets them (within the capability's rights).
SysResult<void> frame_remap(const Invocation& inv) {
    TRY(inv.require(1, 0));
    const Capability& frame = inv.cap();
    Remap r = TRY(decode_remap(inv, 0));
    PhysAddr root = frame.is_mapped() ? asid_lookup(frame.mapped_asid()) : PhysAddr();
    uint64_t* entry = root.value() != 0 ? live_mapping(frame, root) : nullptr;
    if (entry == nullptr || !allows(frame, r)) {
        return fail(SyscallError::invalid_capability(0));
    }
    rewrite(entry, frame, r);
    arch::begin_user_invalidation();
    arch::invalidate_user_page_unordered(frame.mapped_asid(), VirtAddr(frame.mapped_address()));
    arch::end_user_invalidation();
    return {};
}

// cap: the source frame. This frame's contents become the source's, copied through the
// kernel's own mappings of both, so neither need be mapped anywhere (a pager copying a page on
// a write fault needs no scratch mapping). The destination needs the write right and the source
// the read right; both are memory of one size, never device frames (reads there have effects).
SysResult<void> frame_copy(const Invocation& inv) {
    TRY(inv.require(0, 1));
    const Capability& dest = inv.cap();
    Cte* source_slot = TRY(inv.extra_cap(0));
    const Capability& source = source_slot->cap();
    if (!dest.has_rights(abi::kRightWrite) || dest.frame_is_device()) {
        return fail(SyscallError::invalid_capability(0));
    }
    if (source.type() != CapType::kFrame || !source.has_rights(abi::kRightRead) ||
        source.frame_is_device() || source.object_size() != dest.object_size()) {
        return fail(SyscallError::invalid_capability(1));
    }
    if (source.object() != dest.object()) {
        memcpy(arch::phys_to_ptr<void>(dest.object()), arch::phys_to_ptr<void>(source.object()),
               dest.object_size());
    }
    return {};
}

SysResult<void> vspace(const Invocation& inv) {
    switch (static_cast<InvocationLabel>(inv.label())) {
        case InvocationLabel::kVSpaceMapFrames:
            return vspace_map_frames(inv);
        case InvocationLabel::kVSpaceUnmapFrames:
            return vspace_unmap_frames(inv);
        case InvocationLabel::kVSpaceRemapFrames:
            return vspace_remap_frames(inv);
        default:
            return fail(SyscallError::of(abi::Error::kIllegalOperation));
    }
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
        case InvocationLabel::kFrameRemap:
            return frame_remap(inv);
        case InvocationLabel::kFrameCopy:
            return frame_copy(inv);
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
SysResult<void> invoke_vspace(const Invocation& inv) {
    return vspace(inv);
}

}  // namespace tessera
