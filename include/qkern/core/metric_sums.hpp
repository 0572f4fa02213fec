// qkern — SPDX-License-Identifier: Apache-2.0
//
// core/metric_sums.hpp: the raw sums one pass over a (reference, test) pair of tensors produces, from
// which every error metric (MSE, SQNR, cosine, mean/max absolute error) is derived, and the counts of
// values outside a clip range. Plain data, mergeable by adding, shared by the scalar reference and
// the SIMD kernels.
#pragma once

#include <cstddef>
#include <cstdint>

#include "qkern/core/abi.hpp"
#include "qkern/core/value_stats.hpp"

namespace qkern {

// Kernel-signature types: outside the ABI namespace, members always inlined (core/abi.hpp).

/// Number of double accumulators every metric sum is split over, whatever the vector width: element
/// i of a run goes to accumulator i % kMetricLanes and the accumulators are combined by the fixed
/// tree of reference::combine_metric_lanes, so sse2, avx2, avx512 and the scalar reference give
/// bit-identical doubles.
inline constexpr std::size_t kMetricLanes = 16;

/// Sums over the pairs (r, t) = (reference[i], test[i]) where both are finite, with e = t - r, all
/// in double (each float converted exactly, then one rounding per operation, no fused multiply-add).
/// Pairs where either side is NaN or +-Inf are left out of the sums and counted.
struct MetricSums {
  double sum_ref_sq = 0.0;     ///< sum r^2
  double sum_test_sq = 0.0;    ///< sum t^2
  double sum_err_sq = 0.0;     ///< sum e^2
  double sum_dot = 0.0;        ///< sum r * t
  double sum_abs_err = 0.0;    ///< sum |e|
  double sum_err = 0.0;        ///< sum e (signed: the bias of the test side)
  double max_abs_err = 0.0;    ///< max |e| (0 when no pair was compared)
  std::uint64_t compared = 0;  ///< pairs in the sums
  ValueCounts reference;       ///< every reference value by kind (finite, NaN, +Inf, -Inf)
  ValueCounts test;            ///< every test value by kind

  /// Pairs left out because the reference or the test value (or both) was non-finite.
  QKERN_ALWAYS_INLINE std::uint64_t skipped() const { return reference.total() - compared; }

  /// Adds o's sums to these (in that order: this + o), maxes the max, adds the counts. Merging is
  /// deterministic; the sums of a split input differ from one pass only in the last bits.
  QKERN_ALWAYS_INLINE MetricSums& merge(const MetricSums& o) {
    sum_ref_sq += o.sum_ref_sq;
    sum_test_sq += o.sum_test_sq;
    sum_err_sq += o.sum_err_sq;
    sum_dot += o.sum_dot;
    sum_abs_err += o.sum_abs_err;
    sum_err += o.sum_err;
    max_abs_err = o.max_abs_err > max_abs_err ? o.max_abs_err : max_abs_err;
    compared += o.compared;
    reference += o.reference;
    test += o.test;
    return *this;
  }
};

/// How many values of a tensor lie below / above a clip range [lo, hi] (finite values only; NaN and
/// +-Inf are counted in `counts` and never in below/above).
struct OutsideCounts {
  std::uint64_t below = 0;  ///< finite values < lo
  std::uint64_t above = 0;  ///< finite values > hi
  ValueCounts counts;       ///< every value by kind

  QKERN_ALWAYS_INLINE friend bool operator==(const OutsideCounts& a, const OutsideCounts& b) {
    return a.below == b.below && a.above == b.above && a.counts == b.counts;
  }
};

}  // namespace qkern
