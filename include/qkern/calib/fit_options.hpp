// qkern — SPDX-License-Identifier: Apache-2.0
//
// fit_options.hpp: the options every histogram fitting method takes, and the range it returns
// (which tool's formula produced it included), plus the argument checks they share.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>

#include "qkern/calib/histogram_view.hpp"
#include "qkern/calib/percentile.hpp"
#include "qkern/core/abi.hpp"
#include "qkern/core/choose_params.hpp"
#include "qkern/core/error.hpp"

namespace qkern {
inline namespace QKERN_ABI_NS {

/// Options of the histogram fitting methods (each method reads the fields it documents).
struct FitOptions {
  /// symmetric: the methods fit one threshold amax and return [-amax, amax] ([0, amax] when
  /// unsigned_range); affine: they fit [min, max]. The default agrees with RangeOptions (affine);
  /// entropy and histograms of |x| need Scheme::symmetric (InvalidArgument "options.scheme"
  /// otherwise). The tool presets (calib/presets.hpp) set it for you.
  Scheme scheme = Scheme::affine;
  int num_bits = 8;  ///< 2..16; sets the grid the search methods evaluate
  /// ModelOpt's `unsigned`: the unsigned symmetric grid, codes [0, 2^bits - 1] = [0, amax] with zero
  /// point 0, for non-negative data. Needs scheme = symmetric and an unsigned dtype in fit_params
  /// (InvalidArgument "options.unsigned_range" otherwise): it never changes the scheme behind your back.
  bool unsigned_range = false;
  /// percentile: the percentile kept (one-sided on a histogram of |x| for symmetric; two-sided,
  /// (100 - p)/2 cut on each side, for affine).
  double percentile = 99.99;
  PercentileMode percentile_mode = PercentileMode::interpolated;
  /// entropy / mse (ModelOpt): first candidate bin and the step between candidates.
  std::size_t start_bin = 128;
  std::size_t stride = 1;
  /// sqnr (AIMET): weight of the clipping noise, and the candidate grid sizes.
  double sqnr_gamma = 3.0;
  std::size_t sqnr_symmetric_deltas = 101;
  std::size_t sqnr_asymmetric_deltas = 17;
  std::size_t sqnr_offsets = 21;
  /// Restrict the result to power-of-two scales: mse and sqnr (symmetric) search only thresholds
  /// amax = 2^k * (2^(bits-1) - 1); every other method fits as usual and fit_params() rounds the
  /// scale up to a power of two (so the clip threshold only grows).
  bool power_of_two_scale = false;
  /// Passed to choose_params by fit_params (int8 -> [-127, 127]; one bit less).
  bool narrow_range = false;
  bool reduce_range = false;
};

/// A fitted clipping range, and whose algorithm produced it.
struct FitRange {
  double min = 0.0;
  double max = 0.0;
  const char* reproduces = "";  ///< e.g. "ModelOpt HistogramCalibrator 'entropy'"

  double amax() const { return std::fmax(-min, max); }
};

namespace detail {

inline void check_fit_options(const FitOptions& o) {
  if (o.num_bits < 2 || o.num_bits > 16)
    throw_invalid("options.num_bits", "must be in [2, 16], got " + std::to_string(o.num_bits));
  if (o.stride == 0) throw_invalid("options.stride", "must be >= 1");
  check_percentile(o.percentile, "percentile");
  if (!(o.sqnr_gamma >= 0.0) || !::qkern::detail::is_finite(o.sqnr_gamma))
    throw_invalid("options.sqnr_gamma", "must be finite and >= 0");
  if (o.sqnr_symmetric_deltas < 2 || o.sqnr_asymmetric_deltas < 2 || o.sqnr_offsets < 3)
    throw_invalid("options.sqnr_*", "need >= 2 deltas and >= 3 offsets");
}

// Largest code of ModelOpt's symmetric grid: 2^(bits-1) - 1 (127), or 2^bits - 1 when unsigned.
inline double modelopt_max_bound(const FitOptions& o) {
  return std::ldexp(1.0, o.num_bits - 1 + (o.unsigned_range ? 1 : 0)) - 1.0;
}

inline FitRange symmetric_range(double amax, const FitOptions& o, const char* who) {
  return {o.unsigned_range ? 0.0 : -amax, amax, who};
}

// First and last non-empty bins (the view must have counts).
inline void occupied_bins(const HistogramView& h, std::size_t& first, std::size_t& last) {
  first = 0;
  while (first < h.bins && h.counts[first] == 0) ++first;
  last = h.bins - 1;
  while (last > first && h.counts[last] == 0) --last;
}

// Round to nearest, ties to even, for |v| < 2^51 (callers hold a FloatEnvironmentGuard: RNE).
inline double rint_exact(double v) {
  const double magic = 6755399441055744.0;  // 1.5 * 2^52
  return v >= 0 ? (v + magic) - magic : (v - magic) + magic;
}

// The clip thresholds 2^k * bound (k integer) from the smallest >= lo_amax/2^bits up to the first
// >= hi_amax, ascending: the symmetric power-of-two-scale candidates.
template <class F>
inline void for_each_power_of_two_threshold(double bound, double lo_amax, double hi_amax, F&& f) {
  int e = 0;
  std::frexp(lo_amax / bound, &e);
  double t = std::ldexp(bound, e - 1);
  for (int i = 0; i < 4096; ++i, t *= 2.0) {
    f(t);
    if (t >= hi_amax) break;
  }
}

}  // namespace detail
}  // namespace QKERN_ABI_NS
}  // namespace qkern
