// qkern — SPDX-License-Identifier: Apache-2.0
//
// weight_search.hpp: per-channel clipping search for weights, directly on the data: for each
// channel, each candidate clip (a fraction of the channel's range) is turned into parameters by
// choose_params, the channel is fake-quantized with qkern::fake_quantize (the SIMD kernel, so the
// error measured is the error the deployed arithmetic makes), and the candidate with the smallest
// error wins. Criteria: MSE (sum of squared errors; ModelOpt MseCalibrator's criterion on a finer,
// fixed grid) or SQNR (AIMET TF-Enhanced's weighting: errors of clipped values count gamma times).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "qkern/core/abi.hpp"
#include "qkern/core/choose_params.hpp"
#include "qkern/core/error.hpp"
#include "qkern/core/layout.hpp"
#include "qkern/core/params.hpp"
#include "qkern/quantize.hpp"

namespace qkern {
inline namespace QKERN_ABI_NS {

enum class WeightSearchCriterion : std::uint8_t {
  mse,   ///< sum over the channel of (fake_quant(x) - x)^2
  sqnr,  ///< the same with values outside the quantization grid weighted by gamma (AIMET: 3)
};

struct WeightSearchOptions {
  WeightSearchCriterion criterion = WeightSearchCriterion::mse;
  Scheme scheme = Scheme::symmetric;
  /// Candidate clips: fractions f_k = min_fraction + (1 - min_fraction) * k / candidates, k = 1..candidates,
  /// of the channel's abs-max (symmetric) or of its min and max (affine); f = 1 is min-max.
  std::size_t candidates = 100;
  double min_fraction = 0.0;
  double sqnr_gamma = 3.0;
  bool narrow_range = false;
  bool reduce_range = false;
  bool power_of_two_scale = false;
};

struct WeightSearchResult {
  ChannelQuantParams params;
  std::vector<double> clip_fraction;  ///< the chosen f per channel
  std::vector<double> error;          ///< its criterion value (sum over the channel's finite values)
};

/// Searches each channel of w (laid out as `layout`) for the clip whose parameters minimise the
/// criterion, and returns the per-channel parameters (convention `convention`). NaN and +-Inf
/// weights are left out of the range and of the error. Ties go to the smallest clip (SF-14). Throws
/// InvalidArgument naming "w" (null with a non-empty layout), "options.candidates" (0),
/// "options.min_fraction" (outside [0, 1)), "options.sqnr_gamma" (negative or not finite); DataError
/// naming the channel when it has no finite value; choose_params' errors for dtype / convention.
inline WeightSearchResult search_weight_params(const float* w, const ChannelLayout& layout, DType dtype,
                                               const WeightSearchOptions& options = {},
                                               Convention convention = Convention::qkern) {
  if (layout.size() != 0 && w == nullptr) detail::throw_invalid("w", "is null");
  if (options.candidates == 0) detail::throw_invalid("options.candidates", "must be >= 1");
  if (!(options.min_fraction >= 0.0 && options.min_fraction < 1.0))
    detail::throw_invalid("options.min_fraction", "must be in [0, 1)");
  if (!(options.sqnr_gamma >= 0.0) || !::qkern::detail::is_finite(options.sqnr_gamma))
    detail::throw_invalid("options.sqnr_gamma", "must be finite and >= 0");
  RangeOptions ro;
  ro.scheme = options.scheme;
  ro.narrow_range = options.narrow_range;
  ro.reduce_range = options.reduce_range;
  ro.power_of_two_scale = options.power_of_two_scale;
  WeightSearchResult res;
  res.params.dtype = dtype;
  const QRange qr = detail::convention_range(dtype, ro, convention);
  res.params.qmin = qr.qmin;
  res.params.qmax = qr.qmax;
  res.params.arithmetic = detail::convention_arithmetic(convention);
  std::vector<float> x, y;
  for (std::size_t c = 0; c < layout.channels; ++c) {
    // The channel's finite values, contiguous.
    x.clear();
    float mn = std::numeric_limits<float>::infinity(), mx = -mn;
    for (std::size_t o = 0; o < layout.outer; ++o) {
      const float* p = w + (o * layout.channels + c) * layout.inner;
      for (std::size_t i = 0; i < layout.inner; ++i)
        if (::qkern::detail::is_finite(p[i])) {
          x.push_back(p[i]);
          mn = p[i] < mn ? p[i] : mn;
          mx = p[i] > mx ? p[i] : mx;
        }
    }
    if (x.empty()) detail::throw_data("channel " + std::to_string(c) + " has no finite weight: cannot fit parameters");
    y.resize(x.size());
    const double amax = std::fmax(-static_cast<double>(mn), static_cast<double>(mx));
    double best = std::numeric_limits<double>::infinity(), best_f = 1.0;
    QuantParams best_p = choose_params(mn, mx, dtype, ro, convention);
    for (std::size_t k = 1; k <= options.candidates; ++k) {
      const double f = options.min_fraction +
                       (1.0 - options.min_fraction) * static_cast<double>(k) / static_cast<double>(options.candidates);
      const double lo = options.scheme == Scheme::symmetric ? -f * amax : f * mn;
      const double hi = options.scheme == Scheme::symmetric ? f * amax : f * mx;
      const QuantParams p = choose_params(lo, hi, dtype, ro, convention);
      fake_quantize(x.data(), y.data(), x.size(), p);
      // Values beyond the grid's ends are the clipped ones (SQNR weighting).
      const double grid_lo = (static_cast<double>(p.qmin) - p.zero_point) * p.scale;
      const double grid_hi = (static_cast<double>(p.qmax) - p.zero_point) * p.scale;
      const bool weighted = options.criterion == WeightSearchCriterion::sqnr;
      double err = 0.0;
      for (std::size_t i = 0; i < x.size(); ++i) {
        const double d = static_cast<double>(y[i]) - x[i];
        const bool clipped = weighted && (x[i] < grid_lo || x[i] > grid_hi);
        err += detail::fp_mul(detail::fp_mul(d, d), clipped ? options.sqnr_gamma : 1.0);
      }
      if (err < best) {
        best = err;
        best_f = f;
        best_p = p;
      }
    }
    res.params.scale.push_back(best_p.scale);
    res.params.zero_point.push_back(best_p.zero_point);
    res.clip_fraction.push_back(best_f);
    res.error.push_back(best);
  }
  return res;
}

}  // namespace QKERN_ABI_NS
}  // namespace qkern
