// qkern — SPDX-License-Identifier: Apache-2.0
//
// reference/select.hpp: scalar definition of the key-window scan behind the exact percentile
// (calib/select.hpp): one pass that counts the values below a window of the float order, gathers
// the order keys inside it and counts the non-finite values on each side.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "qkern/core/abi.hpp"

namespace qkern {

/// What a key-window scan saw. Signed order key of a float (bits b as int32):
/// b ^ ((b >> 31) & 0x7fffffff), so that a < b as floats iff key(a) < key(b) as int32 (-0.0 just
/// below +0.0, -Inf and negative NaNs below every finite value, +Inf and positive NaNs above).
struct KeyWindowScan {
  std::uint64_t below = 0;          ///< values with key < lo (negative non-finite values included)
  std::uint64_t inside = 0;         ///< values with lo <= key <= hi (all counted, even beyond the capacity)
  std::uint64_t neg_nonfinite = 0;  ///< -Inf and NaNs with the sign bit set
  std::uint64_t pos_nonfinite = 0;  ///< +Inf and NaNs without it
};

/// Key bounds of the finite floats: keys of -FLT_MAX and FLT_MAX.
inline constexpr std::int32_t kLowestFiniteKey = -0x7f800000;  // key(-FLT_MAX)
inline constexpr std::int32_t kHighestFiniteKey = 0x7f7fffff;  // key(FLT_MAX)

QKERN_ALWAYS_INLINE std::int32_t signed_order_key(std::uint32_t bits) {
  const std::int32_t b = static_cast<std::int32_t>(bits);
  return b ^ ((b >> 31) & 0x7fffffff);
}

namespace reference {
inline namespace QKERN_ABI_NS {

/// Scans x[0, n): counts, and writes the keys inside [lo, hi] in input order to out[0, min(inside,
/// capacity)). lo and hi must be finite keys.
inline KeyWindowScan key_window_scan(const float* x, std::size_t n, std::int32_t lo, std::int32_t hi, std::int32_t* out,
                                     std::size_t capacity) {
  KeyWindowScan s;
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t bits;
    std::memcpy(&bits, x + i, 4);
    const std::int32_t k = signed_order_key(bits);
    if (k < kLowestFiniteKey) ++s.neg_nonfinite;
    if (k > kHighestFiniteKey) ++s.pos_nonfinite;
    if (k < lo) {
      ++s.below;
    } else if (k <= hi) {
      if (s.inside < capacity) out[s.inside] = k;
      ++s.inside;
    }
  }
  return s;
}

}  // namespace QKERN_ABI_NS
}  // namespace reference
}  // namespace qkern
