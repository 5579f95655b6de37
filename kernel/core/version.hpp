// The kernel's version string, from `git describe` at build time (generated tessera_version.h).
#pragma once

#include "tessera_version.h"

namespace tessera {

inline constexpr const char* kVersion = TESSERA_VERSION;

}  // namespace tessera
