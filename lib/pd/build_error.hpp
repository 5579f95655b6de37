// Why building a protection domain failed: the step that failed and its specific cause (the ELF
// reader's, the layout's, the configuration check's or the kernel's error), with the words for
// each. One value type for every failure of the PD builder, from planning to starting the thread.
#pragma once

#include <cstdint>

#include "abi/error.hpp"
#include "elf/elf_reader.hpp"
#include "pd/pd_layout.hpp"

namespace tessera::pd {

enum class SpawnStep : uint8_t {
    kParse,    // the ELF was rejected (see elf_error)
    kConfig,   // the configuration was refused before anything was allocated (see config_error)
    kBudget,   // no untyped memory for the PD's budget
    kObjects,  // creating the TCB, CNode or VSpace
    kImage,    // loading a page of the image
    kRegions,  // stack, heap, IPC buffer, startup record and the configured regions
    kCapabilities,
    kThread,  // configuring and starting the thread
    kCopy,    // copying a page on a write (copy-on-write) or at an eager fork
};

enum class ConfigError : uint8_t {
    kNone,
    kLayout,            // see layout_error; index is the region
    kSourceSlotEmpty,   // a grant names an empty slot of the creator; index is the grant
    kChildSlotInvalid,  // a grant's slot is reserved or outside the child's CNode
    kChildSlotTaken,    // two grants name the same child slot
    kTooManyCaps,       // the grants do not fit the child's CNode or directory
    kNameTooLong,       // a grant's or the PD's name
    kArgumentsTooLong,  // argv and environment do not fit the startup record
    kNotFrames,         // a region's frames are not frame capabilities of its page size
    kNoFaultEndpoint,   // fault policy kCreatorEndpoint without an endpoint
    kBadNumber,         // CNode radix or priority out of range
    kNoOwnRegion,       // a region shared by kind: the creator has no region of that kind
    kOwnFramesSplit,    // give_own_frames: the image's code or data is not one run of pages
    kNotForkable,       // fork: the PD's pages are in too many runs, or no ledger to share them
    kForkRule,          // fork: a rule names a reserved slot or one outside the CNode
    kLedgerFull,        // fork: the copy-on-write ledger has no room for the PD's pages
};

struct SpawnError {
    SpawnStep step = SpawnStep::kParse;
    elf::ElfError elf_error = elf::ElfError::kTruncatedHeader;
    abi::Error kernel_error = abi::Error::kOk;
    ConfigError config_error = ConfigError::kNone;
    LayoutError layout_error = LayoutError::kOverlap;
    int index = -1;  // the grant or region at fault, where that applies

    static SpawnError kernel(SpawnStep step, abi::Error error) {
        SpawnError e;
        e.step = step;
        e.kernel_error = error;
        return e;
    }
    static SpawnError config(ConfigError error, int index = -1) {
        SpawnError e;
        e.step = SpawnStep::kConfig;
        e.config_error = error;
        e.index = index;
        return e;
    }
    static SpawnError layout(LayoutError error, int index = -1) {
        SpawnError e = config(ConfigError::kLayout, index);
        e.layout_error = error;
        return e;
    }
    static SpawnError parse(elf::ElfError error) {
        SpawnError e;
        e.step = SpawnStep::kParse;
        e.elf_error = error;
        return e;
    }
};

// One short line each ("loading the image", ...). Never null.
const char* to_string(SpawnStep step);
const char* to_string(ConfigError error);

// The specific cause in words: the ELF error, the layout error, the configuration error or the
// kernel error's name.
const char* detail(const SpawnError& error);

}  // namespace tessera::pd
