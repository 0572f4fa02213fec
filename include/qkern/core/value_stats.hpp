// qkern — SPDX-License-Identifier: Apache-2.0
//
// value_stats.hpp: what a range statistic reports: the extremes of the finite values and how many
// values were finite, NaN, +Inf and -Inf. Non-finite values are data, never silently dropped.
#pragma once

#include <cstdint>
#include <limits>

namespace qkern {

/// How many values a statistic saw, by kind. Merge by adding.
struct ValueCounts {
  std::uint64_t finite = 0;
  std::uint64_t nan = 0;
  std::uint64_t pos_inf = 0;
  std::uint64_t neg_inf = 0;

  std::uint64_t total() const { return finite + nan + pos_inf + neg_inf; }
  /// Values left out of the statistic (NaN and +-Inf).
  std::uint64_t skipped() const { return nan + pos_inf + neg_inf; }
  ValueCounts& operator+=(const ValueCounts& o) {
    finite += o.finite;
    nan += o.nan;
    pos_inf += o.pos_inf;
    neg_inf += o.neg_inf;
    return *this;
  }
  friend bool operator==(const ValueCounts& a, const ValueCounts& b) {
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

  bool has_finite() const { return counts.finite != 0; }
  MinMax& merge(const MinMax& o) {
    min = o.min < min ? o.min : min;
    max = o.max > max ? o.max : max;
    counts += o.counts;
    return *this;
  }
};

/// Largest |x| over the finite values (0 when there is none; check counts.finite).
struct AbsMax {
  float value = 0.0f;
  ValueCounts counts;

  bool has_finite() const { return counts.finite != 0; }
  AbsMax& merge(const AbsMax& o) {
    value = o.value > value ? o.value : value;
    counts += o.counts;
    return *this;
  }
};

}  // namespace qkern
