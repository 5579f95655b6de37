// Untyped memory: the only source of kernel and user memory. Retype carves objects from an
// untyped region at its watermark (free index), each aligned to its own size; when the untyped
// has no children left the whole region is reusable (after a reset zeroes what was used).
// This file holds the arithmetic (decode side, no side effects), host-tested.
#pragma once

#include <cstdint>

#include "abi/object_type.hpp"
#include "core/capability.hpp"
#include "core/syscall_error.hpp"

namespace tessera {

// Objects one Retype call may create (bounds the time the call takes).
constexpr uint64_t kMaxRetypeObjects = 256;

// Message word positions of UntypedRetype's arguments, reported in InvalidArgument details.
// (The destination CSpace root travels as extra capability 0.)
enum RetypeArgument : uint64_t {
    kRetypeArgType = 0,
    kRetypeArgSizeBits = 1,
    kRetypeArgNodeIndex = 2,
    kRetypeArgNodeDepth = 3,
    kRetypeArgNodeOffset = 4,
    kRetypeArgNumObjects = 5,
};

struct RetypePlan {
    abi::ObjectType type = abi::ObjectType::kUntyped;
    unsigned object_size_bits = 0;  // log2 of each object's size in bytes
    unsigned user_size_bits = 0;    // as given (untyped bytes, CNode slots)
    uint64_t count = 0;
    uint64_t first_offset = 0;    // offset of the first object from the untyped's base
    uint64_t new_free_index = 0;  // watermark after the objects
};

// log2 of the size in bytes of one object of `type` with the caller's size argument, or an
// error naming the argument that is out of range.
SysResult<unsigned> object_size_bits(abi::ObjectType type, uint64_t user_size_bits);

// Bytes an untyped reset zeroes between preemption points.
constexpr uint64_t kResetChunk = uint64_t{64} * 1024;

// Where the reset step below a watermark of free_index (> 0) starts: the chunk boundary just
// below it, so each step ends on the previous one's start.
constexpr uint64_t reset_chunk_start(uint64_t free_index) {
    return (free_index - 1) & ~(kResetChunk - 1);
}

// Plans creating `count` objects from untyped. has_children says whether the untyped still has
// derived capabilities; without any its watermark restarts at 0.
SysResult<RetypePlan> plan_retype(const Capability& untyped, bool has_children, uint64_t type,
                                  uint64_t user_size_bits, uint64_t count);

}  // namespace tessera
