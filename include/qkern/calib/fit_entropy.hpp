// qkern — SPDX-License-Identifier: Apache-2.0
//
// fit_entropy.hpp: the KL-divergence ("entropy") threshold of TensorRT's calibrator, as ModelOpt's
// HistogramCalibrator 'entropy' computes it (calib/histogram.py::_compute_amax_entropy) on a
// histogram of |x|:
//   * bins[0] = bins[1] (ModelOpt's suppression of the zero spike);
//   * nq = 2^(bits-1) quantized bins (128 for int8; 2^bits when unsigned);
//   * for i = start_bin, start_bin + stride, ... <= bins: p = bins[:i] with the outliers sum(bins[i:])
//     added to p[i-1]; q = bins[:i] merged into nq groups by np.digitize(range(i), linspace(0, i,
//     nq + 1)) - 1, each group's sum spread evenly over its non-empty bins (empty bins stay 0);
//     divergence = scipy.stats.entropy(p, q) (both normalised);
//   * the LAST minimum wins (ModelOpt: len - 1 - argmin(reversed)); amax = edges[i].
// Same candidates, same grouping and the same argmin rule; the divergence is evaluated in closed
// form from prefix sums (sum p log p - sum_groups P_g log(S_g / nz_g) + log-normalisers), O(nq) per
// candidate instead of O(i), so a 2048-bin fit takes ~2 ms instead of ModelOpt's seconds.
//
// No log(0) and no NaN (SF-13): a zero p term contributes 0 (scipy's rel_entr); a candidate whose
// last bin is empty while outliers remain has p > 0 where q = 0, divergence +Inf (scipy agrees);
// when no candidate has a finite divergence (e.g. all mass in bin 0, which the bins[0] = bins[1]
// step erases; ModelOpt then computes 0/0 = NaN everywhere) qkern returns the right edge of the
// last non-empty bin, the max calibration value, instead of ModelOpt's NaN-driven pick.
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

/// Entropy (KL) threshold of a histogram of |x| (lo >= 0). Throws InvalidArgument naming "hist"
/// when lo < 0 (the method is defined on |x| only) and "options.start_bin" when start_bin > bins
/// (no candidate; ModelOpt fails there too, on an empty argmin). Returns [-amax, amax] (or
/// [0, amax] when unsigned_range) whatever options.scheme.
inline FitRange fit_entropy(const HistogramView& hist, const FitOptions& options) {
  if (hist.lo < 0.0)
    detail::throw_invalid("hist",
                          "entropy calibration needs a histogram of |x| (lo >= 0), as TensorRT/ModelOpt collect");
  if (options.start_bin > hist.bins)
    detail::throw_invalid("options.start_bin", "is " + std::to_string(options.start_bin) + " but the histogram has " +
                                                   std::to_string(hist.bins) + " bins: no candidate threshold");
  simd::FloatEnvironmentGuard env;
  const std::size_t B = hist.bins;
  const std::size_t nq = std::size_t{1} << (options.num_bits - 1 + (options.unsigned_range ? 1 : 0));
  std::vector<double> bins(B);
  for (std::size_t k = 0; k < B; ++k) bins[k] = static_cast<double>(hist.counts[k]);
  if (B >= 2) bins[0] = bins[1];
  // Prefix sums: mass, mass * log(mass), number of non-empty bins.
  std::vector<double> P(B + 1, 0.0), PLP(B + 1, 0.0);
  std::vector<std::size_t> NZ(B + 1, 0);
  for (std::size_t k = 0; k < B; ++k) {
    P[k + 1] = P[k] + bins[k];
    PLP[k + 1] = PLP[k] + (bins[k] > 0 ? detail::fp_mul(bins[k], std::log(bins[k])) : 0.0);
    NZ[k + 1] = NZ[k] + (bins[k] > 0 ? 1 : 0);
  }
  const double T = P[B];
  std::vector<double> log_n(B + 1, 0.0);
  for (std::size_t k = 1; k <= B; ++k) log_n[k] = std::log(static_cast<double>(k));

  double best = std::numeric_limits<double>::infinity();
  std::size_t best_i = 0;
  for (std::size_t i = std::max<std::size_t>(options.start_bin, 1); i <= B; i += options.stride) {
    const double Sq = P[i];
    const double tail = T - P[i];
    const double plast = bins[i - 1] + tail;
    if (!(T > 0.0) || !(Sq > 0.0)) continue;         // q (or p) is all zero: no divergence defined
    if (bins[i - 1] == 0.0 && tail > 0.0) continue;  // p > 0 where q = 0: divergence +Inf
    double sum_plogp = PLP[i - 1] + (plast > 0 ? detail::fp_mul(plast, std::log(plast)) : 0.0);
    double sum_plogq = 0.0;
    const double step = static_cast<double>(i) / static_cast<double>(nq);  // np.linspace(0, i, nq + 1)
    std::size_t s = 0;
    for (std::size_t g = 0; g < nq && s < i; ++g) {
      std::size_t e = g + 1 == nq ? i : static_cast<std::size_t>(std::ceil(static_cast<double>(g + 1) * step));
      if (e > i) e = i;
      if (e <= s) continue;
      const std::size_t nz = NZ[e] - NZ[s];
      if (nz != 0) {
        const double Sg = P[e] - P[s];
        const double mass = Sg + (e == i ? tail : 0.0);
        sum_plogq += detail::fp_mul(mass, std::log(Sg) - log_n[nz]);
      }
      s = e;
    }
    const double kl = (sum_plogp - sum_plogq) / T + std::log(Sq / T);
    if (kl <= best) {  // ModelOpt keeps the last minimum
      best = kl;
      best_i = i;
    }
  }
  if (best_i == 0) {
    std::size_t first = 0, last = 0;
    detail::occupied_bins(hist, first, last);
    if (hist.total() == 0) detail::throw_data("empty histogram (no values observed): cannot fit");
    return detail::symmetric_range(last + 1 == B ? hist.hi : hist.left_edge(last + 1), options,
                                   "qkern: no finite KL divergence, max of the histogram");
  }
  return detail::symmetric_range(best_i == B ? hist.hi : hist.left_edge(best_i), options,
                                 "ModelOpt HistogramCalibrator 'entropy' (TensorRT KL)");
}

}  // namespace QKERN_ABI_NS
}  // namespace qkern
