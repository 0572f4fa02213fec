// qkern — SPDX-License-Identifier: Apache-2.0
//
// choose_params.hpp: quantization parameters from a range [min, max], under named conventions that
// reproduce each framework's numbers exactly (formulas and sources: docs/conventions.md). The range
// is always widened to include 0.
// Degenerate ranges (all zero, constant, tiny, near FLT_MAX) give a valid result, never NaN, Inf
// or a zero scale.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "qkern/core/abi.hpp"
#include "qkern/core/dtype.hpp"
#include "qkern/core/error.hpp"
#include "qkern/core/params.hpp"
#include "qkern/core/value_stats.hpp"
#include "qkern/simd/float_env.hpp"

namespace qkern {
inline namespace QKERN_ABI_NS {

enum class Scheme : std::uint8_t {
  affine,     ///< scale and zero point cover [min(min,0), max(max,0)]
  symmetric,  ///< zero point fixed at the middle code, scale from max(|min|, |max|)
};

/// Whose formulas turn a range into parameters (and, through QuantParams::arithmetic, how the
/// resulting parameters quantize).
enum class Convention : std::uint8_t {
  qkern,        ///< double precision; symmetric scale = amax / min(-qmin, qmax) (no clipping at +amax)
  pytorch,      ///< torch.ao observers' _calculate_qparams: float32, eps clamp, divisor (qmax-qmin)/2
  onnxruntime,  ///< onnxruntime.quantization compute_scale_zp (symmetric/reduced range tables)
  tensorrt,     ///< TensorRT / ModelOpt max calibration: scale = amax / 127, narrow range, zp = 0
  tflite,       ///< TFLite/gemmlowp ChooseQuantizationParams: nudged zero point, ties away
  fbgemm,       ///< FBGEMM ChooseQuantizationParams (symmetric = preserve_sparsity)
};

struct RangeOptions {
  Scheme scheme = Scheme::affine;
  bool narrow_range = false;        ///< signed types drop their lowest code (int8 -> [-127, 127])
  bool reduce_range = false;        ///< one bit less (PyTorch/FBGEMM: halve the bounds; ORT: its table)
  bool power_of_two_scale = false;  ///< round the scale up to a power of two, then refit the zero point
  /// A custom code range replacing the dtype's (PyTorch's quant_min / quant_max; must lie inside the
  /// dtype and contain 0). It bypasses the convention's own range tables (ONNX Runtime's symmetric
  /// and reduced tables, TensorRT's narrow range); narrow_range and reduce_range still apply to it
  /// (reduce_range floor-halves both bounds, as PyTorch's calculate_qmin_qmax does). Under
  /// Convention::pytorch a custom range also selects PyTorch's customized-range symmetric zero point
  /// for unsigned types, (qmin + qmax) // 2, instead of 128.
  std::optional<QRange> range = std::nullopt;
};

/// The smallest scale qkern's own convention returns (FLT_MIN: its reciprocal is finite, so every
/// fitted scale passes validate()).
inline constexpr float kMinScale = std::numeric_limits<float>::min();

/// PyTorch observers' default eps (torch.finfo(torch.float32).eps).
inline constexpr float kPyTorchEps = 1.1920928955078125e-07f;

/// True when the widened range [min(min,0), max(max,0)] has zero width (all-zero data): the fitted
/// parameters are then the documented fallback (scale 1, zero point 0 or the nearest code).
inline bool range_is_degenerate(double min, double max) {
  return std::fmin(min, 0.0) == 0.0 && std::fmax(max, 0.0) == 0.0;
}

namespace detail {

inline std::int32_t clamp_code(double v, QRange r) {
  if (v <= r.qmin) return r.qmin;
  if (v >= r.qmax) return r.qmax;
  return static_cast<std::int32_t>(v);
}

inline double round_half_even(double v) { return std::nearbyint(v); }  // callers hold the RNE guard
inline double round_half_away(double v) { return std::round(v); }

// 2^ceil(log2(s)): the smallest power of two >= s (exact, via frexp).
inline double next_power_of_two(double s) {
  int e = 0;
  const double m = std::frexp(s, &e);  // s = m * 2^e, m in [0.5, 1)
  return m == 0.5 ? s : std::ldexp(1.0, e);
}

inline float to_valid_float_scale(double s) {
  if (!(s >= kMinScale)) return kMinScale;
  if (s > std::numeric_limits<float>::max()) return std::numeric_limits<float>::max();
  return static_cast<float>(s);
}

inline QRange convention_range(DType dtype, const RangeOptions& o, Convention conv) {
  const int bits = bit_width(dtype);
  const bool sgn = is_signed(dtype);
  if (o.range) {  // custom range: no convention tables; narrow / reduce as PyTorch applies them
    QRange r = *o.range;
    if (o.narrow_range && sgn && r.qmin == full_range(dtype).qmin) r.qmin += 1;
    if (o.reduce_range) {
      r.qmin = static_cast<std::int32_t>(std::floor(r.qmin / 2.0));
      r.qmax = static_cast<std::int32_t>(std::floor(r.qmax / 2.0));
    }
    return r;
  }
  QRange r = full_range(dtype);
  if (conv == Convention::onnxruntime) {
    if (o.reduce_range && bits <= 16) {  // ORT's reduced table: int8 (-64, 64), uint8 (0, 127), int4 (-4, 3)
      const std::int32_t h = std::int32_t{1} << (bits - 2);
      if (!sgn) return QRange{0, (std::int32_t{1} << (bits - 1)) - 1};
      return bits == 4 ? QRange{-h, h - 1} : QRange{-h, h};
    }
    if (o.scheme == Scheme::symmetric && bits >= 8 && bits <= 16)  // ORT's symmetric table
      return sgn ? QRange{r.qmin + 1, r.qmax} : QRange{0, r.qmax - 1};
  }
  if (conv == Convention::tensorrt || (conv == Convention::tflite && o.scheme == Scheme::symmetric)) {
    if (sgn) r.qmin += 1;  // narrow range by definition
  }
  if (o.narrow_range && sgn && r.qmin == full_range(dtype).qmin) r.qmin += 1;
  if (o.reduce_range && conv != Convention::onnxruntime) {
    // Floor-halving as PyTorch's calculate_qmin_qmax (== C++ division for these bounds).
    r.qmin = static_cast<std::int32_t>(std::floor(r.qmin / 2.0));
    r.qmax = static_cast<std::int32_t>(std::floor(r.qmax / 2.0));
  }
  return r;
}

inline Arithmetic convention_arithmetic(Convention conv) {
  switch (conv) {
    case Convention::pytorch:
      return Arithmetic::pytorch();
    case Convention::fbgemm:
      return Arithmetic::fbgemm();
    case Convention::tflite:
      return Arithmetic::tflite();
    default:
      return Arithmetic::onnx();
  }
}

// Zero point of the symmetric scheme: 0 for signed ranges around 0, the middle code otherwise.
// PyTorch: 128 for quint8's default range, (qmin + qmax) // 2 for a customized one, even when the
// custom range is [0, 255] (observer.py _calculate_qparams, has_customized_qrange).
inline std::int32_t symmetric_zero_point(DType dtype, QRange r, Convention conv, bool custom_range = false) {
  if (is_signed(dtype)) return 0;
  if (conv == Convention::pytorch)
    return r == full_range(dtype) && !custom_range ? (r.qmax + 1) / 2
                                                   : static_cast<std::int32_t>(std::floor((r.qmin + r.qmax) / 2.0));
  return static_cast<std::int32_t>(std::nearbyint((r.qmin + r.qmax) / 2.0));
}

inline QuantParams choose_qkern(double lo, double hi, DType dtype, QRange r, const RangeOptions& o) {
  QuantParams p = QuantParams::make(dtype, 1.0f, 0, r, Arithmetic::onnx());
  if (lo == 0.0 && hi == 0.0) {  // SF-2: all zero
    p.zero_point =
        o.scheme == Scheme::symmetric ? symmetric_zero_point(dtype, r, Convention::qkern) : clamp_code(0.0, r);
    return p;
  }
  if (o.scheme == Scheme::symmetric) {
    p.zero_point = symmetric_zero_point(dtype, r, Convention::qkern);
    const double amax = std::fmax(-lo, hi);
    const double half = std::fmin(double(p.zero_point) - r.qmin, double(r.qmax) - p.zero_point);
    double s = fp_div(amax, half);
    if (o.power_of_two_scale) s = next_power_of_two(s);
    p.scale = to_valid_float_scale(s);
    return p;
  }
  double s = fp_div(hi - lo, double(r.levels()));
  if (o.power_of_two_scale) s = next_power_of_two(s);
  p.scale = to_valid_float_scale(s);
  p.zero_point = clamp_code(round_half_even(r.qmin - fp_div(lo, double(p.scale))), r);
  return p;
}

inline QuantParams choose_pytorch(double lo_d, double hi_d, DType dtype, QRange r, const RangeOptions& o) {
  // torch computes on float32 tensors: min_neg / max_pos are float32, and so is every step.
  const float lo = static_cast<float>(lo_d), hi = static_cast<float>(hi_d);
  QuantParams p = QuantParams::make(dtype, 1.0f, 0, r, Arithmetic::pytorch());
  float s;
  if (o.scheme == Scheme::symmetric) {
    const float amax = std::fmax(-lo, hi);
    s = fp_div(amax, static_cast<float>((double(r.qmax) - r.qmin) / 2.0));
    if (!::qkern::detail::is_finite(s)) s = static_cast<float>(double(amax) / ((double(r.qmax) - r.qmin) / 2.0));
    s = std::fmax(s, kPyTorchEps);
    if (o.power_of_two_scale) s = static_cast<float>(next_power_of_two(s));
    p.scale = to_valid_float_scale(s);
    p.zero_point = symmetric_zero_point(dtype, r, Convention::pytorch, o.range.has_value());
    return p;
  }
  s = fp_div(hi - lo, static_cast<float>(r.levels()));
  if (!::qkern::detail::is_finite(s)) s = static_cast<float>((double(hi) - lo) / double(r.levels()));  // SF-7
  s = std::fmax(s, kPyTorchEps);
  if (o.power_of_two_scale) s = static_cast<float>(next_power_of_two(s));
  p.scale = to_valid_float_scale(s);
  const float q = std::nearbyint(fp_div(lo, p.scale));  // torch.round: ties to even
  p.zero_point = clamp_code(double(r.qmin) - double(q), r);
  return p;
}

// ONNX Runtime's quant_utils.compute_scale_zp (main, 2026; tests/golden/generate_parity_golden.py
// transcribes it): the range ends are float32 (the calibrated tensor's dtype), rmax - rmin is
// subtracted in float32 and then widened to float64, the scale is that difference / (qmax - qmin) in
// float64, scale < finfo(float32).tiny gives scale 1 and zero point 0, the affine zero point is
// round(qmin - rmin / scale) with the float64 scale (half to even), and the scale is cast to float32
// last. One deliberate deviation: where the float32 difference overflows (a range wider than
// FLT_MAX), ORT's scale is +Inf; qkern subtracts in float64 there and keeps a finite scale.
inline QuantParams choose_onnxruntime(double lo, double hi, DType dtype, QRange r, const RangeOptions& o) {
  QuantParams p = QuantParams::make(dtype, 1.0f, 0, r, Arithmetic::onnx());
  float rmin = static_cast<float>(lo), rmax = static_cast<float>(hi);  // lo <= 0 <= hi
  if (o.scheme == Scheme::symmetric) {
    const float amax = std::fmax(-rmin, rmax);
    rmin = -amax;
    rmax = amax;
  }
  const float dr32 = fp_sub(rmax, rmin);
  double low = rmin, dr = dr32;
  if (!::qkern::detail::is_finite(dr32)) {  // the deviation above: the range in float64
    const double amax = std::fmax(-lo, hi);
    low = o.scheme == Scheme::symmetric ? -amax : lo;
    dr = o.scheme == Scheme::symmetric ? 2.0 * amax : hi - lo;
  }
  double s = fp_div(dr, double(r.levels()));
  if (o.power_of_two_scale) s = next_power_of_two(s);
  if (s < std::numeric_limits<float>::min()) {  // ORT: scale < finfo.tiny -> scale 1, zp 0
    p.scale = 1.0f;
    p.zero_point = clamp_code(0.0, r);
    return p;
  }
  if (o.scheme == Scheme::symmetric)
    p.zero_point = clamp_code(std::nearbyint((r.qmin + r.qmax) / 2.0), r);
  else
    p.zero_point = clamp_code(std::nearbyint(fp_sub(double(r.qmin), fp_div(low, s))), r);
  p.scale = to_valid_float_scale(s);
  return p;
}

inline QuantParams choose_tensorrt(double lo, double hi, DType dtype, QRange r, const RangeOptions& o) {
  if (o.scheme != Scheme::symmetric) throw_invalid("options.scheme", "the TensorRT convention is symmetric only");
  QuantParams p = QuantParams::make(dtype, 1.0f, 0, r, Arithmetic::onnx());
  const double amax = std::fmax(-lo, hi);
  const double bound = is_signed(dtype) ? r.qmax : r.qmax;  // 127 for int8, 255 for uint8
  if (!(amax > std::ldexp(1.0, -24))) return p;             // ModelOpt zeroes the output: scale 1
  double s = fp_div(static_cast<float>(amax), static_cast<float>(bound));
  if (o.power_of_two_scale) s = next_power_of_two(s);
  p.scale = to_valid_float_scale(s);
  return p;
}

inline QuantParams choose_tflite(double lo, double hi, DType dtype, QRange r, const RangeOptions& o) {
  QuantParams p = QuantParams::make(dtype, 1.0f, 0, r, Arithmetic::tflite());
  if (o.scheme == Scheme::symmetric) {
    const double amax = std::fmax(-lo, hi);
    double s = fp_div(amax, double(r.qmax));
    if (o.power_of_two_scale) s = next_power_of_two(s);
    p.scale = amax == 0.0 ? 1.0f : to_valid_float_scale(s);
    p.zero_point = symmetric_zero_point(dtype, r, Convention::tflite);
    return p;
  }
  if (lo == hi) {  // TFLite returns scale 0 here; qkern returns the SF-2 fallback
    p.zero_point = clamp_code(0.0, r);
    return p;
  }
  double s = fp_div(hi - lo, double(r.qmax) - double(r.qmin));
  if (o.power_of_two_scale) s = next_power_of_two(s);
  const double zp_from_min = r.qmin - fp_div(lo, s), zp_from_max = r.qmax - fp_div(hi, s);
  const double err_min = std::fabs(double(r.qmin)) + std::fabs(fp_div(lo, s));
  const double err_max = std::fabs(double(r.qmax)) + std::fabs(fp_div(hi, s));
  const double zp = err_min < err_max ? zp_from_min : zp_from_max;
  p.zero_point = zp < r.qmin ? r.qmin : zp > r.qmax ? r.qmax : static_cast<std::int32_t>(round_half_away(zp));
  p.scale = to_valid_float_scale(s);
  return p;
}

inline QuantParams choose_fbgemm(double min_d, double max_d, DType dtype, QRange r, const RangeOptions& o) {
  float mn = static_cast<float>(min_d), mx = static_cast<float>(max_d);
  const bool sparse = o.scheme == Scheme::symmetric && mn < 0 && mx > 0;
  if (sparse) {
    const double sym_qmin = -((r.qmax - r.qmin) / 2 + 1), sym_qmax = (r.qmax - r.qmin) / 2;
    const double s = std::fmax(std::fabs(mn / sym_qmin), std::fabs(mx / sym_qmax));
    const double fmax = std::numeric_limits<float>::max();  // keep FLT_MAX-sized ranges finite (SF-7)
    mn = static_cast<float>(std::fmax(s * sym_qmin, -fmax));
    mx = static_cast<float>(std::fmin(s * sym_qmax, fmax));
  }
  mn = std::fmin(mn, 0.0f);
  mx = std::fmax(mx, 0.0f);
  float scale = static_cast<float>(fp_div(double(mx) - mn, double(r.qmax) - r.qmin));
  if (scale == 0.0f || ::qkern::detail::is_inf(1.0f / scale)) scale = 0.1f;
  if (o.power_of_two_scale) scale = static_cast<float>(next_power_of_two(scale));
  // FBGEMM's floor; with a power-of-two constraint qkern raises it to 2^-14 so the constraint holds.
  const float kSmallScaleThreshold = o.power_of_two_scale ? 6.103515625e-05f : 6.1e-5f;
  if (scale < kSmallScaleThreshold) {
    const float org = scale;
    scale = kSmallScaleThreshold;
    if (mn == 0.0f)
      mx = kSmallScaleThreshold * float(r.qmax - r.qmin);
    else if (mx == 0.0f)
      mn = -kSmallScaleThreshold * float(r.qmax - r.qmin);
    else {
      const float amp = kSmallScaleThreshold / org;
      mn *= amp;
      mx *= amp;
    }
  }
  const double zp_from_min = r.qmin - fp_div(double(mn), double(scale)),
               zp_from_max = r.qmax - fp_div(double(mx), double(scale));
  const double err_min = std::fabs(double(r.qmin)) + std::fabs(fp_div(double(mn), double(scale)));
  const double err_max = std::fabs(double(r.qmax)) + std::fabs(fp_div(double(mx), double(scale)));
  double zp = err_min < err_max ? zp_from_min : zp_from_max;
  if (sparse) zp = double(r.qmin + r.qmax) / 2;
  QuantParams p = QuantParams::make(dtype, to_valid_float_scale(scale), 0, r, Arithmetic::fbgemm());
  p.zero_point = zp < r.qmin ? r.qmin : zp > r.qmax ? r.qmax : static_cast<std::int32_t>(std::nearbyint(zp));
  return p;
}

}  // namespace detail

/// Parameters for values in [min, max] (widened to include 0) under `convention`. Throws
/// InvalidArgument naming "min"/"max" when either is NaN or infinite or min > max, and
/// "options.scheme" for a scheme the convention does not define, "options.range" for a custom range
/// outside the dtype, without 0, or empty after reduce_range. The arithmetic of the returned
/// parameters is the convention's (PyTorch/FBGEMM multiply by the reciprocal, TFLite rounds ties
/// away, the others divide and round ties to even).
inline QuantParams choose_params(double min, double max, DType dtype, RangeOptions options = {},
                                 Convention convention = Convention::qkern) {
  if (!::qkern::detail::is_finite(min)) detail::throw_invalid("min", "must be finite, got " + std::to_string(min));
  if (!::qkern::detail::is_finite(max)) detail::throw_invalid("max", "must be finite, got " + std::to_string(max));
  if (min > max)
    detail::throw_invalid("min", "is greater than max (" + std::to_string(min) + " > " + std::to_string(max) + ")");
  if (dtype == DType::int32)
    detail::throw_invalid(
        "dtype", "parameters from a range are for int4..int16 codes; int32 biases use input_scale * weight_scale");
  if (options.range) {
    detail::validate_range(dtype, options.range->qmin, options.range->qmax, "options.range");
    if (options.range->qmin > 0 || options.range->qmax < 0)
      detail::throw_invalid("options.range", "must contain 0, got [" + std::to_string(options.range->qmin) + ", " +
                                                 std::to_string(options.range->qmax) + "]");
  }
  const QRange r = detail::convention_range(dtype, options, convention);
  if (options.range) detail::validate_range(dtype, r.qmin, r.qmax, "options.range");  // after reduce_range
  const double lo = std::fmin(min, 0.0), hi = std::fmax(max, 0.0);
  simd::FloatEnvironmentGuard env;
  switch (convention) {
    case Convention::pytorch:
      return detail::choose_pytorch(lo, hi, dtype, r, options);
    case Convention::onnxruntime:
      return detail::choose_onnxruntime(lo, hi, dtype, r, options);
    case Convention::tensorrt:
      return detail::choose_tensorrt(lo, hi, dtype, r, options);
    case Convention::tflite:
      return detail::choose_tflite(lo, hi, dtype, r, options);
    case Convention::fbgemm:
      return detail::choose_fbgemm(min, max, dtype, r, options);
    case Convention::qkern:
      break;
  }
  return detail::choose_qkern(lo, hi, dtype, r, options);
}

/// Parameters from a MinMax statistic. Throws DataError when it saw no finite value (SF-1, SF-5).
inline QuantParams choose_params(const MinMax& range, DType dtype, RangeOptions options = {},
                                 Convention convention = Convention::qkern) {
  if (!range.has_finite())
    detail::throw_data(range.counts.total() == 0
                           ? "no data observed: cannot fit parameters"
                           : "no finite values observed (" + std::to_string(range.counts.skipped()) +
                                 " NaN/Inf skipped): cannot fit parameters");
  return choose_params(range.min, range.max, dtype, options, convention);
}

/// Per-channel parameters, one channel per MinMax (each fitted independently: one degenerate
/// channel does not affect the others).
inline ChannelQuantParams choose_params(const std::vector<MinMax>& ranges, DType dtype, RangeOptions options = {},
                                        Convention convention = Convention::qkern) {
  ChannelQuantParams cp;
  cp.dtype = dtype;
  for (std::size_t c = 0; c < ranges.size(); ++c) {
    const QuantParams p = choose_params(ranges[c], dtype, options, convention);
    cp.scale.push_back(p.scale);
    cp.zero_point.push_back(p.zero_point);
    cp.qmin = p.qmin;
    cp.qmax = p.qmax;
    cp.arithmetic = p.arithmetic;
  }
  if (ranges.empty()) {
    const QRange r = detail::convention_range(dtype, options, convention);
    cp.qmin = r.qmin;
    cp.qmax = r.qmax;
    cp.arithmetic = detail::convention_arithmetic(convention);
  }
  return cp;
}

}  // namespace QKERN_ABI_NS
}  // namespace qkern
