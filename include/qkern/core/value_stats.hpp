// qkern — SPDX-License-Identifier: Apache-2.0
//
// value_stats.hpp: what a range statistic reports: the extremes of the finite values and how many
// values were finite, NaN, +Inf and -Inf. Non-finite values are data, never silently dropped.
#pragma once

#include <cstdint>
#include <limits>

#include "qkern/core/abi.hpp"
#include "qkern/core/error.hpp"

namespace qkern {
inline namespace QKERN_ABI_NS {
namespace detail {

/// True when a + b fits in 64 bits.
inline bool counts_fit(std::uint64_t a, std::uint64_t b) { return a <= std::numeric_limits<std::uint64_t>::max() - b; }

/// a + b, or a DataError when the sum does not fit in 64 bits (merging statistics whose counts
/// would wrap: a wrapped count silently corrupts every later fit and the saved state).
inline std::uint64_t add_counts(std::uint64_t a, std::uint64_t b) {
  if (!counts_fit(a, b))
    throw_data("count overflow: merging gives more than 2^64 - 1 values (" + std::to_string(a) + " + " +
               std::to_string(b) + ")");
  return a + b;
}

}  // namespace detail
}  // namespace QKERN_ABI_NS

// ValueCounts, MinMax and AbsMax appear in kernel signatures: outside the ABI namespace (one name for
// the runtime-dispatch interface), so their members are always inlined (core/abi.hpp).

/// How many values a statistic saw, by kind. Merge by adding.
struct ValueCounts {
  std::uint64_t finite = 0;
  std::uint64_t nan = 0;
  std::uint64_t pos_inf = 0;
  std::uint64_t neg_inf = 0;

  QKERN_ALWAYS_INLINE std::uint64_t total() const { return finite + nan + pos_inf + neg_inf; }
  /// Values left out of the statistic (NaN and +-Inf).
  QKERN_ALWAYS_INLINE std::uint64_t skipped() const { return nan + pos_inf + neg_inf; }
  /// True when total() does not wrap (always, for counts qkern produced).
  QKERN_ALWAYS_INLINE bool total_fits() const {
    return detail::counts_fit(finite, nan) && detail::counts_fit(finite + nan, pos_inf) &&
           detail::counts_fit(finite + nan + pos_inf, neg_inf);
  }
  /// The total, or a DataError when it does not fit in 64 bits.
  QKERN_ALWAYS_INLINE std::uint64_t checked_total() const {
    return detail::add_counts(detail::add_counts(detail::add_counts(finite, nan), pos_inf), neg_inf);
  }
  /// Adds o's counts. Throws DataError (and changes nothing) when the total would exceed 2^64 - 1.
  QKERN_ALWAYS_INLINE ValueCounts& operator+=(const ValueCounts& o) {
    detail::add_counts(checked_total(), o.checked_total());
    finite += o.finite;
    nan += o.nan;
    pos_inf += o.pos_inf;
    neg_inf += o.neg_inf;
    return *this;
  }
  QKERN_ALWAYS_INLINE friend bool operator==(const ValueCounts& a, const ValueCounts& b) {
    return a.finite == b.finite && a.nan == b.nan && a.pos_inf == b.pos_inf && a.neg_inf == b.neg_inf;
  }
};

/// Minimum and maximum of the finite values. With no finite value: min = +Inf, max = -Inf (and
/// counts.finite == 0). A zero extreme is always reported as +0.0 so the result does not depend on
/// the order -0.0 and +0.0 were met in (which differs between instruction sets).
struct MinMax {
  float min = std::numeric_limits<float>::infinity();
  float max = -std::numeric_limits<float>::infinity();
  ValueCounts counts;

  QKERN_ALWAYS_INLINE bool has_finite() const { return counts.finite != 0; }
  /// Throws DataError (and changes nothing) when the merged counts would exceed 2^64 - 1.
  QKERN_ALWAYS_INLINE MinMax& merge(const MinMax& o) {
    counts += o.counts;
    min = o.min < min ? o.min : min;
    max = o.max > max ? o.max : max;
    return *this;
  }
};

/// Largest |x| over the finite values (0 when there is none; check counts.finite).
struct AbsMax {
  float value = 0.0f;
  ValueCounts counts;

  QKERN_ALWAYS_INLINE bool has_finite() const { return counts.finite != 0; }
  QKERN_ALWAYS_INLINE AbsMax& merge(const AbsMax& o) {
    counts += o.counts;
    value = o.value > value ? o.value : value;
    return *this;
  }
};

}  // namespace qkern
