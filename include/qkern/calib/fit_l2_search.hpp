// qkern — SPDX-License-Identifier: Apache-2.0
//
// fit_l2_search.hpp: PyTorch HistogramObserver's range search (torch/ao/quantization/observer.py
// ::_non_linear_param_search, itself caffe2's NormMinimization::NonlinearQuantizationParamsSearch),
// so users porting from PyTorch get the same range from the same histogram:
//   * alpha = 0, beta = 1, stepsize 1e-5; each step moves alpha up or beta down by one step and
//     finds the quantile bins l, r of the cumulative histogram; the side that would drop more bins
//     moves;
//   * when the bins change, the L2 error of quantizing the histogram to dst_nbins = 2^bits bins over
//     [start, end] is computed (_compute_quantization_error: uniform density within each bin,
//     clipped mass charged its distance to the edge destination bin's centre); the walk stops at the
//     first step whose error exceeds the best so far;
//   * result: [lo + w * start_bin, lo + w * (end_bin + 1)].
// Differences from PyTorch, all below one source bin (golden-tested on PyTorch's own histograms):
// arithmetic in float64 (PyTorch mixes float32 tensors and Python floats); the quantile walks use a
// binary search on the cumulative sum (same bins: it is monotone); counts beyond 2^24 are exact here.
// dst_nbins is 2^num_bits even for a narrowed quant_min/quant_max, as in PyTorch.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

#include "qkern/calib/fit_options.hpp"
#include "qkern/core/abi.hpp"
#include "qkern/simd/float_env.hpp"

namespace qkern {
inline namespace QKERN_ABI_NS {
namespace detail {

// PyTorch's _compute_quantization_error(next_start_bin, next_end_bin) in float64.
inline double pytorch_quantization_error(const std::vector<double>& hist, double bin_width, double dst_nbins,
                                         std::size_t start_bin, std::size_t end_bin) {
  const double dst_w = bin_width * static_cast<double>(end_bin - start_bin + 1) / dst_nbins;
  if (dst_w == 0.0) return 0.0;
  const double half = dst_w / 2;
  const double full_bin =
      (detail::fp_mul(detail::fp_mul(half, half), half) - detail::fp_mul(detail::fp_mul(-half, -half), -half)) / 3;
  auto clampf = [&](double v) { return v < 0 ? 0.0 : (v > dst_nbins - 1 ? dst_nbins - 1 : v); };
  double norm = 0.0;
  for (std::size_t i = 0; i < hist.size(); ++i) {
    if (hist[i] == 0.0) continue;  // density 0: every term is 0
    const double begin = detail::fp_mul(static_cast<double>(i) - static_cast<double>(start_bin), bin_width);
    const double end = begin + bin_width;
    const double db = clampf(std::floor(begin / dst_w)), de = clampf(std::floor(end / dst_w));
    const double density = hist[i] / bin_width;
    const double d_begin = begin - detail::fp_mul(db + 0.5, dst_w);
    double n = density * ((detail::fp_mul(detail::fp_mul(half, half), half) -
                           detail::fp_mul(detail::fp_mul(d_begin, d_begin), d_begin)) /
                          3);
    n += detail::fp_mul(de - db - 1, detail::fp_mul(density, full_bin));
    const double d_end = end - (detail::fp_mul(de, dst_w) + half);
    n += detail::fp_mul(density, (detail::fp_mul(detail::fp_mul(d_end, d_end), d_end) -
                                  detail::fp_mul(detail::fp_mul(-half, -half), -half)) /
                                     3);
    norm += n;
  }
  return norm;
}

}  // namespace detail

/// PyTorch HistogramObserver's L2 range search on a (signed) histogram over [lo, hi]; the
/// affine range it returns is what calculate_qparams feeds to _calculate_qparams (use
/// Convention::pytorch in fit_params for PyTorch's scale / zero point). symmetric scheme:
/// [-amax, amax] of that range. Errors as fit_range.
inline FitRange fit_l2_search(const HistogramView& hist, const FitOptions& options) {
  simd::FloatEnvironmentGuard env;
  const std::size_t B = hist.bins;
  const double w = hist.bin_width();
  const double dst_nbins = std::ldexp(1.0, options.num_bits);
  std::vector<double> h(B), csum(B);
  double total = 0.0;
  for (std::size_t i = 0; i < B; ++i) {
    h[i] = static_cast<double>(hist.counts[i]);
    total += h[i];
    csum[i] = total;
  }
  const double stepsize = 1e-5;
  double alpha = 0.0, beta = 1.0, norm_min = std::numeric_limits<double>::infinity();
  std::size_t start_bin = 0, end_bin = B - 1;
  while (alpha < beta) {
    const double next_alpha = alpha + stepsize, next_beta = beta - stepsize;
    // l: first index in [start_bin, end_bin) with csum >= next_alpha * total, else end_bin.
    const double ta = next_alpha * total, tb = next_beta * total;
    std::size_t l = static_cast<std::size_t>(std::lower_bound(csum.begin() + static_cast<std::ptrdiff_t>(start_bin),
                                                              csum.begin() + static_cast<std::ptrdiff_t>(end_bin), ta) -
                                             csum.begin());
    // r: last index in (start_bin, end_bin] with csum <= next_beta * total, else start_bin.
    std::size_t r =
        static_cast<std::size_t>(std::upper_bound(csum.begin() + static_cast<std::ptrdiff_t>(start_bin) + 1,
                                                  csum.begin() + static_cast<std::ptrdiff_t>(end_bin) + 1, tb) -
                                 csum.begin());
    r -= 1;  // upper_bound returned start_bin + 1 when none qualifies: r = start_bin, as PyTorch
    std::size_t next_start = start_bin, next_end = end_bin;
    if (l - start_bin > end_bin - r) {
      next_start = l;
      alpha = next_alpha;
    } else {
      next_end = r;
      beta = next_beta;
    }
    if (next_start == start_bin && next_end == end_bin) continue;
    const double norm = detail::pytorch_quantization_error(h, w, dst_nbins, next_start, next_end);
    if (norm > norm_min) break;
    norm_min = norm;
    start_bin = next_start;
    end_bin = next_end;
  }
  const double mn = hist.lo + detail::fp_mul(w, static_cast<double>(start_bin));
  const double mx = hist.lo + detail::fp_mul(w, static_cast<double>(end_bin + 1));
  const char* who = "PyTorch HistogramObserver._non_linear_param_search (float64)";
  if (options.scheme == Scheme::symmetric) return detail::symmetric_range(std::fmax(-mn, mx), options, who);
  return {mn, mx, who};
}

}  // namespace QKERN_ABI_NS
}  // namespace qkern
