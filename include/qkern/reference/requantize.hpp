// qkern — SPDX-License-Identifier: Apache-2.0
//
// reference/requantize.hpp: the scalar definition of every requantization family, written from the
// published formulas (gemmlowp fixedpoint.h, TFLite common.h, XNNPACK requantization.h, FBGEMM
// QuantUtils). One element at a time, 64-bit intermediates, no validation (the public API
// validates); every SIMD kernel is tested bit for bit against it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>

#include "qkern/core/abi.hpp"
#include "qkern/core/layout.hpp"
#include "qkern/core/requantize_params.hpp"
#include "qkern/reference/quantize.hpp"
#include "qkern/simd/float_env.hpp"

namespace qkern {
namespace reference {
inline namespace QKERN_ABI_NS {

/// gemmlowp SaturatingRoundingDoublingHighMul: the high 32 bits of 2*a*b, rounded half toward
/// +inf (C truncating division with a sign-dependent nudge); INT32_MIN * INT32_MIN saturates to
/// INT32_MAX, the only overflow.
inline std::int32_t saturating_rounding_doubling_high_mul(std::int32_t a, std::int32_t b) {
  if (a == b && a == std::numeric_limits<std::int32_t>::min()) return std::numeric_limits<std::int32_t>::max();
  const std::int64_t ab = std::int64_t{a} * std::int64_t{b};
  const std::int64_t nudge = ab >= 0 ? (std::int64_t{1} << 30) : (1 - (std::int64_t{1} << 30));
  return static_cast<std::int32_t>((ab + nudge) / (std::int64_t{1} << 31));  // truncating division
}

/// gemmlowp RoundingDivideByPOT: x / 2^e rounded half away from zero, 0 <= e <= 31.
inline std::int32_t rounding_divide_by_pot(std::int32_t x, int e) {
  const std::int32_t mask = static_cast<std::int32_t>((std::int64_t{1} << e) - 1);
  const std::int32_t remainder = x & mask;
  const std::int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> e) + (remainder > threshold ? 1 : 0);
}

/// TFLite MultiplyByQuantizedMultiplier, default (double rounding), for shift <= 0 (the range
/// qkern supports; TFLite's left shift multiplies in int32 and can overflow).
inline std::int32_t multiply_by_quantized_multiplier_double(std::int32_t x, std::int32_t multiplier, int shift) {
  return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(x, multiplier), -shift);
}

/// Arithmetic right shift of a 64-bit value with rounding half up: floor((p + 2^(s-1)) / 2^s),
/// 1 <= s <= 62 (XNNPACK asr_s64 with its rounding term).
inline std::int64_t rounding_shift_right_half_up(std::int64_t p, int s) {
  return (p + (std::int64_t{1} << (s - 1))) >> s;  // >> of a negative int64 is arithmetic (C++20, GCC)
}

/// TFLITE_SINGLE_ROUNDING: (int64(x) * multiplier + 2^(t-1)) >> t with t = 31 - shift, shift in
/// [-31, 30]. Not saturated (the result can exceed int32 for large multipliers).
inline std::int64_t multiply_by_quantized_multiplier_single(std::int32_t x, std::int32_t multiplier, int shift) {
  return rounding_shift_right_half_up(std::int64_t{x} * multiplier, 31 - shift);
}

/// XNNPACK rndnu: (int64(x) * multiplier + 2^(shift-1)) >> shift, shift in [16, 56).
inline std::int64_t rndnu_multiply(std::int32_t x, const RndnuMultiplier& m) {
  return rounding_shift_right_half_up(std::int64_t{x} * m.multiplier, m.shift);
}

/// Saturates an exact int64 result plus the zero point to [qmin, qmax].
inline std::int32_t add_zero_point_and_clamp(std::int64_t v, std::int32_t zp, std::int32_t qmin, std::int32_t qmax) {
  v += zp;
  return v < qmin ? qmin : v > qmax ? qmax : static_cast<std::int32_t>(v);
}

/// The fixed-point part (before zero point and clamp) of families gemmlowp, tflite_single, rndnu,
/// exactly, for a validated scale. Monotone non-decreasing in acc.
inline std::int64_t requantize_fixed_point(std::int32_t acc, double scale, RequantizeRounding rounding) {
  switch (rounding) {
    case RequantizeRounding::gemmlowp: {
      const QuantizedMultiplier m = detail::decompose_q31(scale);
      return multiply_by_quantized_multiplier_double(acc, m.multiplier, m.shift);
    }
    case RequantizeRounding::tflite_single: {
      const QuantizedMultiplier m = detail::decompose_q31(scale);
      return multiply_by_quantized_multiplier_single(acc, m.multiplier, m.shift);
    }
    default:
      return rndnu_multiply(acc, rndnu_multiplier(static_cast<float>(scale)));
  }
}

/// fp32 family (XNNPACK fp32 / FBGEMM float path): v = clamp((float)acc * scale, qmin - zp,
/// qmax - zp) in float, round half to even, + zp. The scale is rounded to float32 first.
inline std::int32_t requantize_fp32(std::int32_t acc, float scale, std::int32_t zp, std::int32_t qmin,
                                    std::int32_t qmax) {
  float v = static_cast<float>(acc) * scale;
  const float lo = static_cast<float>(qmin - zp), hi = static_cast<float>(qmax - zp);
  v = v < lo ? lo : v;
  v = v > hi ? hi : v;
  return static_cast<std::int32_t>(round_half_to_even(v)) + zp;
}

/// One output code: clamp(requant(acc) + zero_point, qmin, qmax) under the family of `p`.
inline std::int32_t requantize_value(std::int32_t acc, const RequantizeParams& p) {
  if (p.rounding == RequantizeRounding::fp32)
    return requantize_fp32(acc, static_cast<float>(p.scale), p.zero_point, p.qmin, p.qmax);
  return add_zero_point_and_clamp(requantize_fixed_point(acc, p.scale, p.rounding), p.zero_point, p.qmin, p.qmax);
}

template <class Q>
void requantize(const std::int32_t* acc, Q* out, std::size_t n, const RequantizeParams& p) {
  simd::FloatEnvironmentGuard env;
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<Q>(requantize_value(acc[i], p));
}

template <class Q>
void requantize(const std::int32_t* acc, Q* out, const ChannelLayout& l, const ChannelRequantizeParams& p) {
  simd::FloatEnvironmentGuard env;
  for (std::size_t o = 0; o < l.outer; ++o)
    for (std::size_t c = 0; c < l.channels; ++c) {
      const RequantizeParams pc = p.channel(c);
      const std::size_t base = (o * l.channels + c) * l.inner;
      for (std::size_t i = 0; i < l.inner; ++i) out[base + i] = static_cast<Q>(requantize_value(acc[base + i], pc));
    }
}

/// Bias quantization: round half to even of bias / (input_scale * weight_scale) (computed in
/// double), saturated to int32. Returns true when the value saturated (or was NaN, which gives 0).
inline bool quantize_bias_value(float bias, double bias_scale, std::int32_t* out) {
  if (is_nan(bias)) {
    *out = 0;
    return true;
  }
  const double v = std::nearbyint(static_cast<double>(bias) / bias_scale);  // RNE under the guard
  if (v > 2147483647.0) {
    *out = std::numeric_limits<std::int32_t>::max();
    return true;
  }
  if (v < -2147483648.0) {
    *out = std::numeric_limits<std::int32_t>::min();
    return true;
  }
  *out = static_cast<std::int32_t>(v);
  return false;
}

}  // namespace QKERN_ABI_NS
}  // namespace reference
}  // namespace qkern
