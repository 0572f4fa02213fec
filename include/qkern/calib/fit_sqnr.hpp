// qkern — SPDX-License-Identifier: Apache-2.0
//
// fit_sqnr.hpp: AIMET's TF-Enhanced (SQNR) search, as aimet_torch v2 SqnrEncodingAnalyzer
// (quantization/encoding_analyzer.py) runs it on a histogram:
//   * min = min(lo, 0), max = max(hi, 0, min + eps * num_steps) with num_steps = 2^bits - 1 and
//     eps = float32 epsilon (AIMET's _MINIMUM_SCALE);
//   * symmetric candidates: delta = (2 * max(|min|, max) / num_steps) * k / (N - 1), k = 1..N
//     (N = 101, so up to 1.01x the full-range delta), offset = floor(-num_steps / 2);
//   * asymmetric candidates: delta = ((max - min) / num_steps) * k / (Nd - 1), k = 1..Nd (Nd = 17),
//     offsets round(-num_steps + j * num_steps / (No - 2)), j = 0..No-2, plus the observed offset
//     round(min / delta_full) (No = 21); every (delta, offset) pair is clamped into the observed
//     grid-aligned range, then delta and offset are recomputed (_clamp_delta_offset_values);
//   * noise = sum over bin midpoints of count * (dq(mid) - mid)^2, where q = round(mid / delta -
//     offset) clamped to [0, num_steps], dq = (q + offset) * delta, and clipped entries weighted by
//     gamma (3.0);
//   * the first minimum in candidate order wins (torch.min): for symmetric, the smallest delta.
// Computed in float64 (AIMET: float32 tensors). The range returned is AIMET's [offset * delta,
// (offset + num_steps) * delta] for affine; for symmetric, [-amax, amax] with amax = floor(num_steps
// / 2) * delta, so that choose_params (qkern / TensorRT conventions: scale = amax / 127 for int8)
// returns AIMET's delta as the scale.
#pragma once

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

struct SqnrBins {
  std::vector<double> mid, count;
};

inline SqnrBins sqnr_bins(const HistogramView& h) {
  SqnrBins b;
  const double w = h.bin_width();
  for (std::size_t j = 0; j < h.bins; ++j) {
    if (h.counts[j] == 0) continue;
    b.mid.push_back((h.lo + w / 2) + detail::fp_mul(w, static_cast<double>(j)));
    b.count.push_back(static_cast<double>(h.counts[j]));
  }
  return b;
}

inline double sqnr_noise(const SqnrBins& b, double delta, double offset, double num_steps, double gamma) {
  double noise = 0.0;
  for (std::size_t j = 0; j < b.mid.size(); ++j) {
    double q = rint_exact(std::fmax(std::fmin(b.mid[j] / delta - offset, 4.0e15), -4.0e15));
    const bool clipped = q < 0.0 || q > num_steps;
    q = q < 0.0 ? 0.0 : (q > num_steps ? num_steps : q);
    const double d = detail::fp_mul(q + offset, delta) - b.mid[j];
    noise += detail::fp_mul(detail::fp_mul(detail::fp_mul(d, d), b.count[j]), clipped ? gamma : 1.0);
  }
  return noise;
}

}  // namespace detail

/// AIMET TF-Enhanced SQNR fit of a histogram (see the file comment). Errors as fit_range.
inline FitRange fit_sqnr(const HistogramView& hist, const FitOptions& options) {
  simd::FloatEnvironmentGuard env;
  const double eps = 1.1920928955078125e-07;  // torch.finfo(torch.float32).eps
  const double num_steps = std::ldexp(1.0, options.num_bits) - 1.0;
  const double gamma = options.sqnr_gamma;
  const detail::SqnrBins bins = detail::sqnr_bins(hist);
  double mn = std::fmin(hist.lo, 0.0), mx = std::fmax(hist.hi, 0.0);
  mx = std::fmax(mx, mn + detail::fp_mul(eps, num_steps));
  double best = std::numeric_limits<double>::infinity(), best_delta = 0.0, best_offset = 0.0;
  auto consider = [&](double delta, double offset) {
    const double e = detail::sqnr_noise(bins, delta, offset, num_steps, gamma);
    if (e < best) {
      best = e;
      best_delta = delta;
      best_offset = offset;
    }
  };
  if (options.scheme == Scheme::symmetric) {
    const bool unsig = options.unsigned_range && mn == 0.0;
    const double max_delta = unsig ? mx / num_steps : 2 * std::fmax(mx, -mn) / num_steps;
    const double offset = unsig ? 0.0 : std::floor(-num_steps / 2);
    const double half_steps = unsig ? num_steps : std::floor(num_steps / 2);
    if (options.power_of_two_scale) {
      detail::for_each_power_of_two_threshold(1.0, max_delta * std::ldexp(1.0, -options.num_bits - 8), max_delta,
                                              [&](double d) { consider(d, offset); });
    } else {
      const std::size_t N = options.sqnr_symmetric_deltas;
      for (std::size_t k = 1; k <= N; ++k)
        consider(std::fmax(max_delta * static_cast<double>(k) / static_cast<double>(N - 1), eps), offset);
    }
    const char* who = options.power_of_two_scale ? "qkern: AIMET SQNR noise over power-of-two deltas"
                                                 : "AIMET v2 SqnrEncodingAnalyzer (symmetric, float64)";
    return detail::symmetric_range(half_steps * best_delta, options, who);
  }
  const double max_delta = (mx - mn) / num_steps;
  const double observed_offset = detail::rint_exact(mn / max_delta);
  const double observed_min = max_delta * observed_offset;
  const double observed_max = observed_min + detail::fp_mul(max_delta, num_steps);
  const std::size_t No = std::min<std::size_t>(static_cast<std::size_t>(num_steps) + 2, options.sqnr_offsets);
  const double offset_step = num_steps / static_cast<double>(No - 2);
  std::vector<double> offsets;
  for (std::size_t j = 0; j + 1 < No; ++j)
    offsets.push_back(detail::rint_exact(-num_steps + detail::fp_mul(offset_step, static_cast<double>(j))));
  offsets.push_back(observed_offset);
  const std::size_t Nd = options.sqnr_asymmetric_deltas;
  for (std::size_t k = 1; k <= Nd; ++k) {
    const double delta = max_delta * static_cast<double>(k) / static_cast<double>(Nd - 1);
    for (double off : offsets) {
      double tmin = delta * off;
      double tmax = tmin + detail::fp_mul(delta, num_steps);
      tmin = std::fmax(observed_min, tmin);
      tmax = std::fmin(observed_max, tmax);
      const double d = std::fmax((tmax - tmin) / num_steps, eps);
      consider(d, detail::rint_exact(tmin / d));
    }
  }
  const double lo = best_offset * best_delta;
  return {lo, lo + detail::fp_mul(num_steps, best_delta), "AIMET v2 SqnrEncodingAnalyzer (asymmetric, float64)"};
}

}  // namespace QKERN_ABI_NS
}  // namespace qkern
