// qkern — SPDX-License-Identifier: Apache-2.0
//
// fit.hpp: one entry point for every scale-fitting method over one collected histogram
// (fit_range -> a clipping range; fit_params -> quantization parameters through choose_params), per
// tensor and per channel (one HistogramView per channel). The method can be chosen after collection.
//
//   method      algorithm (header)                                       reproduces
//   minmax      edges of the first / last non-empty bins                 max calibration (ModelOpt / ORT)
//   percentile  calib/percentile.hpp                                     numpy 'linear' (default) or
//                                                                        ModelOpt / ORT left bin edge
//   mse         calib/fit_mse.hpp                                        ModelOpt 'mse' (symmetric);
//                                                                        qkern closed form (affine)
//   entropy     calib/fit_entropy.hpp                                    ModelOpt 'entropy' (TensorRT KL)
//   l2_search   calib/fit_l2_search.hpp                                  PyTorch HistogramObserver
//   sqnr        calib/fit_sqnr.hpp                                       AIMET v2 TF-Enhanced (SQNR)
//
// Every fitted range is finite and choose_params turns it into parameters that pass validate()
// (SF-15); an all-zero histogram gives the documented all-zero fallback of choose_params (SF-2).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "qkern/calib/fit_entropy.hpp"
#include "qkern/calib/fit_l2_search.hpp"
#include "qkern/calib/fit_mse.hpp"
#include "qkern/calib/fit_options.hpp"
#include "qkern/calib/fit_sqnr.hpp"
#include "qkern/calib/histogram_view.hpp"
#include "qkern/calib/percentile.hpp"
#include "qkern/core/abi.hpp"
#include "qkern/core/choose_params.hpp"

namespace qkern {
inline namespace QKERN_ABI_NS {

enum class FitMethod : std::uint8_t { minmax, percentile, mse, entropy, l2_search, sqnr };

inline const char* fit_method_name(FitMethod m) {
  switch (m) {
    case FitMethod::minmax:
      return "minmax";
    case FitMethod::percentile:
      return "percentile";
    case FitMethod::mse:
      return "mse";
    case FitMethod::entropy:
      return "entropy";
    case FitMethod::l2_search:
      return "l2_search";
    case FitMethod::sqnr:
      return "sqnr";
  }
  return "?";
}

namespace detail {

inline FitRange fit_minmax(const HistogramView& h, const FitOptions& o) {
  std::size_t first = 0, last = 0;
  occupied_bins(h, first, last);
  const double mn = h.left_edge(first), mx = last + 1 == h.bins ? h.hi : h.left_edge(last + 1);
  const char* who = "max calibration: extent of the non-empty bins";
  if (o.scheme == Scheme::symmetric) return symmetric_range(std::fmax(std::fabs(mn), std::fabs(mx)), o, who);
  return {mn, mx, who};
}

inline FitRange fit_percentile(const HistogramView& h, const FitOptions& o) {
  const char* who = o.percentile_mode == PercentileMode::left_edge
                        ? "ModelOpt HistogramCalibrator / ORT 'percentile' (left bin edge)"
                        : "qkern: numpy-'linear' percentile interpolated in its bin";
  if (o.scheme == Scheme::symmetric) {
    if (h.lo >= 0.0) return symmetric_range(percentile(h, o.percentile, o.percentile_mode).value, o, who);
    const PercentileRange r = percentile_range(h, o.percentile, o.percentile_mode);
    return symmetric_range(std::fmax(std::fabs(r.min.value), std::fabs(r.max.value)), o, who);
  }
  const PercentileRange r = percentile_range(h, o.percentile, o.percentile_mode);
  return {r.min.value, r.max.value, who};
}

// The unsigned symmetric grid of unsigned_range ([0, amax] on codes [qmin, qmax], zero point qmin) is
// computed as the affine grid of [0, amax], which is the same grid; fit_params has checked the dtype.
inline RangeOptions range_options_of(const FitOptions& o) {
  RangeOptions r;
  r.scheme = o.unsigned_range ? Scheme::affine : o.scheme;
  r.narrow_range = o.narrow_range;
  r.reduce_range = o.reduce_range;
  r.power_of_two_scale = o.power_of_two_scale;
  return r;
}

inline void check_unsigned_range(const FitOptions& o, DType dtype) {
  if (o.unsigned_range && is_signed(dtype))
    throw_invalid("options.unsigned_range",
                  std::string("needs an unsigned dtype (its codes are [0, 2^bits - 1]), got ") + dtype_name(dtype));
}

}  // namespace detail

/// The clipping range `method` fits to the values counted by `hist`. Throws InvalidArgument naming
/// "hist" (no bins, null counts, non-finite or reversed range, or a signed histogram for entropy),
/// "percentile" (outside [0, 100] or NaN, SF-9) or "options.*"; DataError when the histogram is
/// empty (SF-1, SF-5: a collector that saw only NaN/Inf has an empty histogram).
inline FitRange fit_range(const HistogramView& hist, FitMethod method, const FitOptions& options = {}) {
  detail::check_fit_options(options);
  detail::check_view(hist, "hist");
  detail::require_counts(hist);
  if (options.scheme == Scheme::affine && hist.absolute)
    detail::throw_invalid("options.scheme", "is affine but the histogram is of |x|: only a symmetric fit applies");
  if (options.scheme == Scheme::affine && method == FitMethod::entropy)
    detail::throw_invalid("options.scheme", "entropy calibration fits a symmetric threshold: set Scheme::symmetric");
  if (options.unsigned_range && options.scheme != Scheme::symmetric)
    detail::throw_invalid("options.unsigned_range", "is the unsigned symmetric grid: it needs Scheme::symmetric");
  if (hist.hi == hist.lo) {
    // Zero-width histogram: constant data c (all zero included). Every method's answer is c; the
    // search methods would otherwise invent a width (AIMET's eps widening), and choose_params gives
    // the documented SF-2 / SF-3 results from [c, c].
    const char* who = "qkern: zero-width histogram (constant data)";
    if (options.scheme == Scheme::symmetric) return detail::symmetric_range(std::fabs(hist.lo), options, who);
    return {hist.lo, hist.hi, who};
  }
  switch (method) {
    case FitMethod::minmax:
      return detail::fit_minmax(hist, options);
    case FitMethod::percentile:
      return detail::fit_percentile(hist, options);
    case FitMethod::mse:
      return fit_mse(hist, options);
    case FitMethod::entropy:
      return fit_entropy(hist, options);
    case FitMethod::l2_search:
      return fit_l2_search(hist, options);
    case FitMethod::sqnr:
      return fit_sqnr(hist, options);
  }
  detail::throw_invalid("method", "unknown fitting method");
}

/// Parameters from the fitted range: choose_params(range, dtype, {scheme (affine when
/// unsigned_range), narrow_range, reduce_range, power_of_two_scale}, convention). Errors as
/// fit_range and choose_params.
inline QuantParams fit_params(const HistogramView& hist, FitMethod method, DType dtype, const FitOptions& options = {},
                              Convention convention = Convention::qkern) {
  detail::check_unsigned_range(options, dtype);
  const FitRange r = fit_range(hist, method, options);
  return choose_params(r.min, r.max, dtype, detail::range_options_of(options), convention);
}

/// Per-channel ranges: one histogram per channel, each fitted independently. Errors as fit_range
/// (the argument named "hist[c]").
inline std::vector<FitRange> fit_range(const std::vector<HistogramView>& hists, FitMethod method,
                                       const FitOptions& options = {}) {
  std::vector<FitRange> r;
  r.reserve(hists.size());
  for (std::size_t c = 0; c < hists.size(); ++c) {
    detail::check_view(hists[c], ("hist[" + std::to_string(c) + "]").c_str());
    if (hists[c].total() == 0) detail::throw_data("channel " + std::to_string(c) + ": empty histogram, cannot fit");
    r.push_back(fit_range(hists[c], method, options));
  }
  return r;
}

/// Per-channel parameters (one scale / zero point per histogram).
inline ChannelQuantParams fit_params(const std::vector<HistogramView>& hists, FitMethod method, DType dtype,
                                     const FitOptions& options = {}, Convention convention = Convention::qkern) {
  detail::check_unsigned_range(options, dtype);
  const std::vector<FitRange> ranges = fit_range(hists, method, options);
  const RangeOptions ro = detail::range_options_of(options);
  ChannelQuantParams cp;
  cp.dtype = dtype;
  const QRange qr = detail::convention_range(dtype, ro, convention);
  cp.qmin = qr.qmin;
  cp.qmax = qr.qmax;
  cp.arithmetic = detail::convention_arithmetic(convention);
  for (const FitRange& r : ranges) {
    const QuantParams p = choose_params(r.min, r.max, dtype, ro, convention);
    cp.scale.push_back(p.scale);
    cp.zero_point.push_back(p.zero_point);
    cp.qmin = p.qmin;
    cp.qmax = p.qmax;
  }
  return cp;
}

}  // namespace QKERN_ABI_NS
}  // namespace qkern
