// qkern — SPDX-License-Identifier: Apache-2.0
//
// fit_mse.hpp: the clip threshold (symmetric) or range (affine) minimising the squared error
// expected over a histogram.
//
// Symmetric: ModelOpt HistogramCalibrator 'mse' (calib/histogram.py::_compute_amax_mse). The bin
// centres stand for the data; candidate amax = centres[i] for i = start_bin, start_bin + stride,
// ... < bins; error(amax) = sum(count * (fake_quant(centre, amax) - centre)^2) with ModelOpt's
// fake quant (narrow range, scale = 2^(bits-1)-1 / amax, round half to even, clamp, divide by the
// scale); the first (smallest) minimum wins. Computed in float64 (ModelOpt uses float32 on the GPU,
// so a near-tie within float32 noise may resolve differently there).
//
// Affine: qkern's closed form of the expected squared error with values uniformly spread inside
// each bin: for a range [a, b] on bin edges, error = clipped mass's squared distance to a or b plus
// in-range mass * step^2 / 12 with step = (b - a) / (2^bits - 1). Every pair of edges is a candidate
// (O(bins^2), O(1) each from prefix sums); the smallest error wins, ties to the narrowest range,
// then the smallest min. The criterion is AIMET MseEncodingAnalyzer's (clip + quantization error
// over a histogram), in closed form; no tool reproduces its numbers.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "qkern/calib/fit_options.hpp"
#include "qkern/core/abi.hpp"
#include "qkern/simd/float_env.hpp"

namespace qkern {
inline namespace QKERN_ABI_NS {
namespace detail {

// ModelOpt's error for one candidate amax over bin centres with nonzero counts.
inline double modelopt_mse_error(const std::vector<double>& centre, const std::vector<double>& count, double amax,
                                 double max_bound, double min_bound) {
  const double scale = max_bound / amax;
  double err = 0.0;
  for (std::size_t j = 0; j < centre.size(); ++j) {
    double q = centre[j] * scale;
    q = q < min_bound ? min_bound : (q > max_bound ? max_bound : q);  // clamp before rounding: same result
    const double d = rint_exact(q) / scale - centre[j];
    err += detail::fp_mul(detail::fp_mul(d, d), count[j]);
  }
  return err;
}

inline FitRange fit_mse_symmetric(const HistogramView& h, const FitOptions& o) {
  const double max_bound = modelopt_max_bound(o);
  const double min_bound = o.unsigned_range ? 0.0 : -max_bound;
  const double w = h.bin_width();
  std::vector<double> all_centres(h.bins), centre, count;
  for (std::size_t i = 0; i < h.bins; ++i) {
    all_centres[i] = (h.left_edge(i) + (i + 1 == h.bins ? h.hi : h.left_edge(i + 1))) / 2;
    if (h.counts[i] == 0) continue;  // adds exactly 0 to every candidate's error
    centre.push_back(all_centres[i]);
    count.push_back(static_cast<double>(h.counts[i]));
  }
  const char* who = "ModelOpt HistogramCalibrator 'mse' (float64)";
  double best = std::numeric_limits<double>::infinity(), best_amax = 0.0;
  auto consider = [&](double amax) {
    if (!(amax > 0.0)) return;
    const double e = modelopt_mse_error(centre, count, amax, max_bound, min_bound);
    if (e < best) {
      best = e;
      best_amax = amax;
    }
  };
  if (o.power_of_two_scale) {
    std::size_t first = 0, last = 0;
    occupied_bins(h, first, last);
    const double top = std::fmax(std::fabs(h.lo), std::fabs(h.hi));
    for_each_power_of_two_threshold(max_bound, std::fmax(w / 2, top * std::ldexp(1.0, -o.num_bits - 8)), top, consider);
    who = "qkern: ModelOpt 'mse' error over power-of-two-scale thresholds";
  } else {
    for (std::size_t i = o.start_bin; i < h.bins; i += o.stride) consider(all_centres[i]);
  }
  if (!(best_amax > 0.0)) {
    // No positive candidate (start_bin >= bins, or a histogram with no positive centre): the
    // documented fallback is the data's extent, as max calibration would give.
    std::size_t first = 0, last = 0;
    occupied_bins(h, first, last);
    best_amax = std::fmax(std::fabs(h.left_edge(first)), std::fabs(last + 1 == h.bins ? h.hi : h.left_edge(last + 1)));
    who = "qkern: no mse candidate at or after start_bin, max of the histogram";
  }
  return symmetric_range(best_amax, o, who);
}

inline FitRange fit_mse_affine(const HistogramView& h, const FitOptions& o) {
  const std::size_t B = h.bins;
  const double levels = std::ldexp(1.0, o.num_bits) - 1.0;
  std::vector<double> edge(B + 1);
  for (std::size_t i = 0; i <= B; ++i) edge[i] = i == B ? h.hi : h.left_edge(i);
  // Prefix sums over bins of count, and of count * E[x], count * E[x^2] with x uniform in the bin.
  std::vector<double> C(B + 1, 0.0), S1(B + 1, 0.0), S2(B + 1, 0.0);
  for (std::size_t i = 0; i < B; ++i) {
    const double c = static_cast<double>(h.counts[i]), l = edge[i], r = edge[i + 1];
    C[i + 1] = C[i] + c;
    S1[i + 1] = S1[i] + c * (l + r) / 2;
    S2[i + 1] = S2[i] + c * (detail::fp_mul(l, l) + detail::fp_mul(l, r) + detail::fp_mul(r, r)) / 3;
  }
  // Squared distance of bins [0, s) to edge s, and of bins [e, B) to edge e.
  std::vector<double> below(B + 1), above(B + 1);
  for (std::size_t s = 0; s <= B; ++s) {
    const double a = edge[s];
    below[s] = std::fmax(0.0, S2[s] - detail::fp_mul(2 * a, S1[s]) + detail::fp_mul(detail::fp_mul(a, a), C[s]));
    const double c = C[B] - C[s], s1 = S1[B] - S1[s], s2 = S2[B] - S2[s];
    above[s] = std::fmax(0.0, s2 - detail::fp_mul(2 * a, s1) + detail::fp_mul(detail::fp_mul(a, a), c));
  }
  std::size_t first = 0, last = 0;
  occupied_bins(h, first, last);
  double best = std::numeric_limits<double>::infinity();
  std::size_t bs = first, be = last + 1;
  // Range [edge[s], edge[e]], s < e. Ranges reaching past the occupied bins are dominated (same
  // clipping, coarser step), so s in [first, last] and e in (s, last + 1]. 0 is added to the range
  // by choose_params later, so the step is taken over the range widened to include 0. Ties: the
  // narrowest range, then the smallest s.
  // Pruning (exact): below[s] grows with s and above[e] grows as e falls (made monotone below, so
  // rounding cannot break it), and err(s, e) >= below[s] + above[e]; so with e falling from the
  // top, a row stops at the first s whose bound exceeds the best error, and the search stops at
  // the first e whose above[e] does. Candidates that tie are never pruned (strict comparisons).
  for (std::size_t i = 1; i <= B; ++i) below[i] = std::max(below[i], below[i - 1]);
  for (std::size_t i = B; i-- > 0;) above[i] = std::max(above[i], above[i + 1]);
  const double k = 1.0 / (12.0 * levels * levels);
  std::vector<double> a0(B + 1), b0(B + 1);
  for (std::size_t i = 0; i <= B; ++i) {
    a0[i] = edge[i] < 0.0 ? edge[i] : 0.0;
    b0[i] = edge[i] > 0.0 ? edge[i] : 0.0;
  }
  for (std::size_t e = last + 1; e > first; --e) {
    const double be0 = b0[e], ce = C[e], ae = above[e];
    if (ae > best) break;
    for (std::size_t s = first; s < e; ++s) {
      if (below[s] + ae > best) break;
      const double d = be0 - a0[s];
      const double err = below[s] + ae + detail::fp_mul(detail::fp_mul(ce - C[s], detail::fp_mul(d, d)), k);
      const std::size_t width = e - s, bwidth = be - bs;
      if (err < best || (err == best && (width < bwidth || (width == bwidth && s < bs)))) {
        best = err;
        bs = s;
        be = e;
      }
    }
  }
  return {edge[bs], edge[be], "qkern: expected squared error, uniform density within bins (affine)"};
}

}  // namespace detail

/// MSE fit of a histogram (see the file comment for the algorithm per scheme). Throws as fit_range.
inline FitRange fit_mse(const HistogramView& hist, const FitOptions& options) {
  simd::FloatEnvironmentGuard env;
  return options.scheme == Scheme::symmetric ? detail::fit_mse_symmetric(hist, options)
                                             : detail::fit_mse_affine(hist, options);
}

}  // namespace QKERN_ABI_NS
}  // namespace qkern
