// qkern — SPDX-License-Identifier: Apache-2.0
//
// percentile.hpp: percentiles from a HistogramView, interpolated inside the crossing bin and
// returned with a bracket guaranteed to contain the exact percentile of the binned data; two-sided
// clipping ranges; per-channel forms; and ModelOpt / ONNX Runtime's left-bin-edge convention for
// users who need those tools' numbers.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "qkern/calib/histogram_view.hpp"
#include "qkern/calib/select.hpp"
#include "qkern/core/abi.hpp"
#include "qkern/core/error.hpp"

namespace qkern {
inline namespace QKERN_ABI_NS {

/// A percentile estimated from a histogram. `lower <= value <= upper`, and the exact percentile
/// of the binned values (numpy 'linear' definition over the values the histogram counted) lies in
/// [lower, upper]: the bracket is the union of the bins holding the two order statistics it
/// interpolates, so its width is one bin (two when they straddle a bin boundary, more only across
/// empty bins).
struct PercentileEstimate {
  double value = 0.0;
  double lower = 0.0;
  double upper = 0.0;
};

/// A clipping range from two percentiles.
struct PercentileRange {
  PercentileEstimate min;
  PercentileEstimate max;
};

namespace detail {

inline void check_view(const HistogramView& h, const char* name) {
  if (h.bins == 0) throw_invalid(name, "has no bins");
  if (h.counts == nullptr) throw_invalid(name, "counts is null");
  if (!::qkern::detail::is_finite(h.lo) || !::qkern::detail::is_finite(h.hi) || !(h.hi >= h.lo))
    throw_invalid(name, "range [lo, hi] must be finite with lo <= hi, got [" + std::to_string(h.lo) + ", " +
                            std::to_string(h.hi) + "]");
  if (h.edges != nullptr) {  // a tool's explicit edges: bins + 1 finite, non-decreasing, from lo to hi
    if (double(h.edges[0]) != h.lo || double(h.edges[h.bins]) != h.hi)
      throw_invalid(name, "explicit edges must start at lo and end at hi (edges[0], edges[bins])");
    for (std::size_t i = 0; i < h.bins; ++i)
      if (!::qkern::detail::is_finite(h.edges[i + 1]) || !(h.edges[i + 1] >= h.edges[i]))
        throw_invalid(name, "explicit edges must be finite and non-decreasing (edge " + std::to_string(i + 1) + ")");
  }
}

inline std::uint64_t require_counts(const HistogramView& h) {
  const std::uint64_t total = h.total();
  if (total == 0) detail::throw_data("empty histogram (no values observed): cannot fit or take a percentile");
  return total;
}

inline double right_edge(const HistogramView& h, std::size_t b) { return b + 1 == h.bins ? h.hi : h.left_edge(b + 1); }

// Bin holding the order statistic of 0-based rank k (k < total), with the count before it.
inline std::size_t bin_of_rank(const HistogramView& h, std::uint64_t k, std::uint64_t& before) {
  std::uint64_t c = 0;
  for (std::size_t b = 0; b < h.bins; ++b) {
    if (k < c + h.counts[b]) {
      before = c;
      return b;
    }
    c += h.counts[b];
  }
  before = c - h.counts[h.bins - 1];
  return h.bins - 1;
}

// Estimate of the rank-k order statistic: the c values of its bin are taken as evenly spread, at
// the centres of c equal sub-intervals; the first and last non-empty bins' extreme values are
// taken at the histogram's data edges (exact when the histogram spans [min, max] of the data).
inline double order_statistic_estimate(const HistogramView& h, std::uint64_t k, std::uint64_t total, std::size_t& bin) {
  std::uint64_t before = 0;
  bin = bin_of_rank(h, k, before);
  const double c = static_cast<double>(h.counts[bin]);
  double l = h.left_edge(bin), r = right_edge(h, bin);
  if (h.has_data_range) {  // the first and last non-empty bins end at the exact extremes
    l = std::max(l, h.data_min);
    r = std::min(r, h.data_max);
  }
  if (total > 1 && k == 0) return l;
  if (total > 1 && k + 1 == total) return r;
  return l + fp_mul(r - l, fp_div(static_cast<double>(k - before) + 0.5, c));
}

inline PercentileEstimate percentile_of(const HistogramView& h, double p, std::uint64_t total) {
  const LinearRank lr = numpy_linear_rank(total, p);
  std::size_t b0 = 0, b1 = 0;
  const double a = order_statistic_estimate(h, lr.previous, total, b0);
  const double b = order_statistic_estimate(h, lr.next, total, b1);
  PercentileEstimate e;
  e.lower = h.left_edge(b0);
  e.upper = right_edge(h, b1);
  if (h.has_data_range) {  // the exact range the collector tracked bounds every order statistic
    e.lower = std::min(std::max(e.lower, h.data_min), h.data_max);
    e.upper = std::min(std::max(e.upper, h.data_min), h.data_max);
  }
  e.value = p == 0.0 ? e.lower : p == 100.0 ? e.upper : a + fp_mul(b - a, lr.gamma);
  e.value = std::min(std::max(e.value, e.lower), e.upper);
  return e;
}

}  // namespace detail

/// How a histogram percentile is read off.
enum class PercentileMode : std::uint8_t {
  interpolated,  ///< qkern: numpy-'linear' ranks, interpolated inside the crossing bin, with a bracket
  left_edge,     ///< ModelOpt HistogramCalibrator / ORT compute_percentile: left edge of the bin where
                 ///< cumsum(hist / total) first reaches p/100 (searchsorted side='left'); biased low
};

/// The p-th percentile (p in [0, 100]) of the values counted by `hist`. interpolated (default):
/// see PercentileEstimate; p = 0 / 100 give the left edge of the first / right edge of the last
/// non-empty bin (the exact min / max when the histogram spans the data's range). When the view
/// carries the exact data range (has_data_range: streaming histograms and observers), value, lower
/// and upper all lie inside [data_min, data_max], and p = 0 / 100 are exactly the min / max. left_edge: the
/// ModelOpt / ONNX Runtime value edges[searchsorted(cumsum(hist/total), p/100)] computed as those
/// tools do in float64 (edges from HistogramView::left_edge; the bracket is then that one bin).
/// Throws InvalidArgument naming "percentile" (p outside [0, 100] or NaN) or "hist" (no bins,
/// null counts, bad range); DataError when the histogram is empty (SF-1).
inline PercentileEstimate percentile(const HistogramView& hist, double p,
                                     PercentileMode mode = PercentileMode::interpolated) {
  detail::check_percentile(p, "percentile");
  detail::check_view(hist, "hist");
  const std::uint64_t total = detail::require_counts(hist);
  if (mode == PercentileMode::interpolated) return detail::percentile_of(hist, p, total);
  // cdf = np.cumsum(hist / total): a sequential float64 sum of the per-bin fractions.
  const double target = p / 100.0;
  double cdf = 0.0;
  std::size_t idx = 0;
  for (; idx < hist.bins; ++idx) {
    cdf += static_cast<double>(hist.counts[idx]) / static_cast<double>(total);
    if (cdf >= target) break;
  }
  const double edge = idx >= hist.bins ? hist.hi : hist.left_edge(idx);
  return {edge, edge, idx >= hist.bins ? hist.hi : detail::right_edge(hist, idx)};
}

/// Two-sided clipping range: the (100 - p)/2 and 100 - (100 - p)/2 percentiles (p in [0, 100];
/// 100 = full range), so (100 - p)% of the values are clipped, half on each side. For a histogram of
/// |x| use percentile() instead: the one-sided p-th percentile is the symmetric amax. Errors as
/// percentile().
inline PercentileRange percentile_range(const HistogramView& hist, double p,
                                        PercentileMode mode = PercentileMode::interpolated) {
  detail::check_percentile(p, "percentile");
  const double cut = (100.0 - p) / 2.0;
  return {percentile(hist, cut, mode), percentile(hist, 100.0 - cut, mode)};
}

/// Per-channel percentiles: one histogram (and one result) per channel. Errors as percentile(),
/// the argument named "hist[c]".
inline std::vector<PercentileEstimate> percentile(const std::vector<HistogramView>& hists, double p,
                                                  PercentileMode mode = PercentileMode::interpolated) {
  detail::check_percentile(p, "percentile");
  std::vector<PercentileEstimate> r;
  r.reserve(hists.size());
  for (std::size_t c = 0; c < hists.size(); ++c) {
    detail::check_view(hists[c], ("hist[" + std::to_string(c) + "]").c_str());
    r.push_back(percentile(hists[c], p, mode));
  }
  return r;
}

inline std::vector<PercentileRange> percentile_range(const std::vector<HistogramView>& hists, double p,
                                                     PercentileMode mode = PercentileMode::interpolated) {
  detail::check_percentile(p, "percentile");
  std::vector<PercentileRange> r;
  r.reserve(hists.size());
  for (std::size_t c = 0; c < hists.size(); ++c) {
    detail::check_view(hists[c], ("hist[" + std::to_string(c) + "]").c_str());
    r.push_back(percentile_range(hists[c], p, mode));
  }
  return r;
}

}  // namespace QKERN_ABI_NS
}  // namespace qkern
