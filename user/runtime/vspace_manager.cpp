// Mapping runs of frames with their page tables, and the VSpace manager on top of it.
#include "tessera/vspace_manager.hpp"

namespace tessera {
namespace {

constexpr uint64_t kSmallPage = uint64_t{1} << 12;
constexpr uint64_t kLargePage = uint64_t{1} << 21;
constexpr uint64_t kEntriesPerTable = 512;

InvocationResult failure(abi::Error error, uint64_t detail0 = 0) {
    InvocationResult r;
    r.error = error;
    r.detail[0] = detail0;
    return r;
}

// Maps one run that stays inside one last-level table, making the missing tables once.
InvocationResult map_in_table(abi::CapPtr vspace, abi::CapPtr first, uint64_t count, uint64_t va,
                              uint64_t rights, abi::MapAttributes attributes, bool large,
                              const TableSource& tables, uint64_t* tables_made) {
    const uint64_t leaf_level = large ? 2 : 3;
    InvocationResult r = vspace_map_frames(vspace, first, count, va, rights, attributes);
    if (r.error != abi::Error::kFailedLookup || r.detail[1] < 1 || r.detail[1] > leaf_level) {
        return r;
    }
    const uint64_t missing = leaf_level - r.detail[1] + 1;
    const uint64_t made = tables.make == nullptr ? 0 : tables.make(tables.context, missing);
    if (made == 0) {
        return failure(abi::Error::kNotEnoughMemory);
    }
    for (uint64_t t = 0; t < missing; ++t) {
        InvocationResult m = page_table_map(abi::CapPtr(made + t), vspace, va);
        if (!m.ok()) {
            return m;
        }
        if (tables_made != nullptr) {
            ++*tables_made;
        }
    }
    return vspace_map_frames(vspace, first, count, va, rights, attributes);
}

uint64_t make_untyped_tables(void* context, uint64_t count) {
    const auto& source = *static_cast<UntypedTables*>(context);
    uint64_t first = source.slots->allocate_run(count);
    if (first == 0) {
        return 0;
    }
    if (!untyped_retype(source.untyped, abi::ObjectType::kPageTable, 0, source.cnode, 0, 0, first,
                        count)
             .ok()) {
        for (uint64_t s = first; s < first + count; ++s) {
            source.slots->free(s);
        }
        return 0;
    }
    return first;
}

}  // namespace

TableSource tables_from(UntypedTables& source) {
    return TableSource{&make_untyped_tables, &source};
}

InvocationResult map_frames(abi::CapPtr vspace, abi::CapPtr first, uint64_t count, uint64_t va,
                            uint64_t rights, abi::MapAttributes attributes, bool large,
                            const TableSource& tables, uint64_t* tables_made) {
    const uint64_t page = large ? kLargePage : kSmallPage;
    uint64_t done = 0;
    while (done < count) {
        const uint64_t at = va + done * page;
        const uint64_t in_table = kEntriesPerTable - (at / page) % kEntriesPerTable;
        const uint64_t n = count - done < in_table ? count - done : in_table;
        InvocationResult r = map_in_table(vspace, abi::CapPtr(first.value() + done), n, at, rights,
                                          attributes, large, tables, tables_made);
        if (!r.ok()) {
            return r;
        }
        done += n;
    }
    return {};
}

InvocationResult unmap_frames(abi::CapPtr vspace, abi::CapPtr first, uint64_t count) {
    for (uint64_t done = 0; done < count; done += abi::kMaxFramesPerCall) {
        const uint64_t n =
            count - done < abi::kMaxFramesPerCall ? count - done : abi::kMaxFramesPerCall;
        InvocationResult r = vspace_unmap_frames(vspace, abi::CapPtr(first.value() + done), n);
        if (!r.ok()) {
            return r;
        }
    }
    return {};
}

bool VSpaceManager::init(abi::CapPtr vspace, const TableSource& tables, uint64_t low,
                         uint64_t high) {
    vspace_ = vspace;
    tables_ = tables;
    tables_made_ = 0;
    return ranges_.init(low, high);
}

InvocationResult VSpaceManager::map(abi::CapPtr first, uint64_t count, uint64_t va, uint64_t rights,
                                    abi::MapAttributes attributes, bool large) {
    const uint64_t page = large ? kLargePage : kSmallPage;
    if (count == 0 || count > (~uint64_t{0} - va) / page) {
        return failure(abi::Error::kInvalidArgument, 1);
    }
    if (!ranges_.is_reserved(va, count * page)) {
        return failure(abi::Error::kInvalidArgument, 2);  // map into what was reserved here
    }
    return map_frames(vspace_, first, count, va, rights, attributes, large, tables_, &tables_made_);
}

uint64_t VSpaceManager::map_anywhere(abi::CapPtr first, uint64_t count, uint64_t rights,
                                     abi::MapAttributes attributes, bool large) {
    const uint64_t page = large ? kLargePage : kSmallPage;
    if (count == 0 || count > ~uint64_t{0} / page) {
        return 0;
    }
    const uint64_t va = ranges_.reserve_any(count * page, page);
    if (va == 0) {
        return 0;
    }
    if (!map(first, count, va, rights, attributes, large).ok()) {
        (void)unmap(first, count);
        (void)ranges_.release(va, count * page);
        return 0;
    }
    return va;
}

}  // namespace tessera
