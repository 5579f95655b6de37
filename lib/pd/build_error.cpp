// The words for a failed PD build (pd/build_error.hpp).
#include "pd/build_error.hpp"

namespace tessera::pd {

const char* to_string(SpawnStep step) {
    switch (step) {
        case SpawnStep::kParse:
            return "parsing the ELF image";
        case SpawnStep::kConfig:
            return "checking the configuration";
        case SpawnStep::kBudget:
            return "reserving the PD's memory budget";
        case SpawnStep::kObjects:
            return "creating the TCB, CNode and VSpace";
        case SpawnStep::kImage:
            return "loading the image";
        case SpawnStep::kRegions:
            return "creating the stack, heap, regions and IPC buffer";
        case SpawnStep::kCapabilities:
            return "giving the PD its capabilities";
        case SpawnStep::kThread:
            return "starting the thread";
        case SpawnStep::kCopy:
            return "copying a page";
    }
    return "unknown step";
}

const char* to_string(ConfigError error) {
    switch (error) {
        case ConfigError::kNone:
            return "no error";
        case ConfigError::kLayout:
            return "bad region layout";
        case ConfigError::kSourceSlotEmpty:
            return "a granted capability's slot is empty";
        case ConfigError::kChildSlotInvalid:
            return "a grant's slot is reserved or outside the PD's CNode";
        case ConfigError::kChildSlotTaken:
            return "two grants name the same slot";
        case ConfigError::kTooManyCaps:
            return "too many capabilities for the PD's CNode or directory";
        case ConfigError::kNameTooLong:
            return "name longer than 23 characters";
        case ConfigError::kArgumentsTooLong:
            return "arguments and environment do not fit the startup record";
        case ConfigError::kNotFrames:
            return "a region's frames are not frame capabilities";
        case ConfigError::kNoFaultEndpoint:
            return "fault endpoint is not an endpoint";
        case ConfigError::kBadNumber:
            return "CNode radix (6 to 14) or priority (0 to 255) out of range";
        case ConfigError::kNoOwnRegion:
            return "no region of the creator's has that kind to share";
        case ConfigError::kOwnFramesSplit:
            return "the image's code or data is not one run of pages";
        case ConfigError::kNotForkable:
            return "the PD cannot be forked (its pages are in too many runs, or nothing keeps "
                   "the shared pages)";
        case ConfigError::kForkRule:
            return "a fork rule names a reserved slot or one outside the CNode";
        case ConfigError::kLedgerFull:
            return "no room left to keep the forked PD's shared pages";
    }
    return "unknown configuration error";
}

const char* detail(const SpawnError& error) {
    switch (error.step) {
        case SpawnStep::kParse:
            return elf::to_string(error.elf_error);
        case SpawnStep::kConfig:
            return error.config_error == ConfigError::kLayout ? to_string(error.layout_error)
                                                              : to_string(error.config_error);
        default:
            return abi::error_name(error.kernel_error);
    }
}

}  // namespace tessera::pd
