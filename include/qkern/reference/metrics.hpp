// qkern — SPDX-License-Identifier: Apache-2.0
//
// reference/metrics.hpp: scalar definition of the error-metric sums (kernels/metrics.hpp) and of
// the clip-range counts. The summation order is part of the definition: element i of a run adds
// into double accumulator i % kMetricLanes, in index order, and the accumulators are combined by a
// fixed pairwise tree; per channel, the per-run totals are merged in outer order.
#pragma once

#include <cmath>
#include <cstddef>
#include <vector>

#include "qkern/core/abi.hpp"
#include "qkern/core/layout.hpp"
#include "qkern/core/metric_sums.hpp"
#include "qkern/reference/minmax.hpp"
#include "qkern/reference/quantize.hpp"

namespace qkern {
namespace reference {
inline namespace QKERN_ABI_NS {

/// The fixed combination order of kMetricLanes accumulators: a[j] += a[j + w] for w = 8, 4, 2, 1.
/// (Overwrites a.)
inline double combine_metric_lanes(double* a) {
  for (std::size_t w = kMetricLanes / 2; w >= 1; w /= 2)
    for (std::size_t j = 0; j < w; ++j) a[j] = a[j] + a[j + w];
  return a[0];
}

/// Metric sums of the pairs (reference[i], test[i]), i in [0, n).
inline MetricSums metric_sums(const float* reference, const float* test, std::size_t n) {
  double acc[6][kMetricLanes] = {};
  MetricSums s;
  for (std::size_t i = 0; i < n; ++i) {
    count_value(reference[i], s.reference);
    count_value(test[i], s.test);
    if (is_nonfinite(reference[i]) || is_nonfinite(test[i])) continue;
    const std::size_t j = i % kMetricLanes;
    const double r = reference[i], t = test[i];
    const double e = t - r;
    const double a = std::fabs(e);
    // fp_mul: the product is rounded on its own (no FMA, whatever the flags this is compiled with).
    acc[0][j] = acc[0][j] + detail::fp_mul(r, r);
    acc[1][j] = acc[1][j] + detail::fp_mul(t, t);
    acc[2][j] = acc[2][j] + detail::fp_mul(e, e);
    acc[3][j] = acc[3][j] + detail::fp_mul(r, t);
    acc[4][j] = acc[4][j] + a;
    acc[5][j] = acc[5][j] + e;
    if (a > s.max_abs_err) s.max_abs_err = a;
    ++s.compared;
  }
  s.sum_ref_sq = combine_metric_lanes(acc[0]);
  s.sum_test_sq = combine_metric_lanes(acc[1]);
  s.sum_err_sq = combine_metric_lanes(acc[2]);
  s.sum_dot = combine_metric_lanes(acc[3]);
  s.sum_abs_err = combine_metric_lanes(acc[4]);
  s.sum_err = combine_metric_lanes(acc[5]);
  return s;
}

/// Per-channel metric sums: for each channel, the sums of its (outer, channel) runs of `inner`
/// elements, each run summed as metric_sums does, merged in outer order into a fresh MetricSums.
inline std::vector<MetricSums> metric_sums(const float* reference, const float* test, const ChannelLayout& l) {
  std::vector<MetricSums> r(l.channels);
  for (std::size_t o = 0; o < l.outer; ++o)
    for (std::size_t c = 0; c < l.channels; ++c) {
      const std::size_t base = (o * l.channels + c) * l.inner;
      r[c].merge(metric_sums(reference + base, test + base, l.inner));
    }
  return r;
}

/// Finite values of x[0, n) below lo and above hi; every value counted by kind.
inline OutsideCounts count_outside(const float* x, std::size_t n, float lo, float hi) {
  OutsideCounts r;
  for (std::size_t i = 0; i < n; ++i) {
    count_value(x[i], r.counts);
    if (is_nonfinite(x[i])) continue;
    if (x[i] < lo) ++r.below;
    if (x[i] > hi) ++r.above;
  }
  return r;
}

}  // namespace QKERN_ABI_NS
}  // namespace reference
}  // namespace qkern
