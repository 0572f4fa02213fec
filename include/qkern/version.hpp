// qkern — SIMD numerics kernels for neural-network quantization.
// SPDX-License-Identifier: Apache-2.0
//
// version.hpp: the single source of qkern's version (CMake parses these lines).
#pragma once

#define QKERN_VERSION_MAJOR 0
#define QKERN_VERSION_MINOR 1
#define QKERN_VERSION_PATCH 0
#define QKERN_VERSION (QKERN_VERSION_MAJOR * 10000 + QKERN_VERSION_MINOR * 100 + QKERN_VERSION_PATCH)

#define QKERN_DETAIL_STR2(x) #x
#define QKERN_DETAIL_STR(x) QKERN_DETAIL_STR2(x)
/// "major.minor.patch", spelled from the three macros above (so they stay the only source).
#define QKERN_VERSION_STRING            \
  QKERN_DETAIL_STR(QKERN_VERSION_MAJOR) \
  "." QKERN_DETAIL_STR(QKERN_VERSION_MINOR) "." QKERN_DETAIL_STR(QKERN_VERSION_PATCH)

namespace qkern {
/// The version this header belongs to, as "major.minor.patch".
inline constexpr const char* version_string = QKERN_VERSION_STRING;
}  // namespace qkern
