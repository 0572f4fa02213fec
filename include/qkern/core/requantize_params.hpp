// qkern — SPDX-License-Identifier: Apache-2.0
//
// core/requantize_params.hpp: the vocabulary of fixed-point requantization (int32 accumulators to
// int8 / uint8 / int16 codes): the rounding families, the decomposition of a real scale into the
// integer terms each family uses, and the validation of each family's supported scale range.
//
// Families (reference-semantics.md B5.3, B6.3, B7, B8):
//   gemmlowp      TFLite's default MultiplyByQuantizedMultiplier: RoundingDivideByPOT(
//                 SaturatingRoundingDoublingHighMul(acc, M), -shift). Round half up, then half away
//                 from zero (two roundings). Scales in [2^-32, 1): shift in [-31, 0].
//   tflite_single TFLITE_SINGLE_ROUNDING: (int64(acc) * M + 2^(t-1)) >> t, t = 31 - shift. Round
//                 half up. Scales in [2^-32, 2^30): shift in [-31, 30].
//   rndnu         XNNPACK rndnu: 24-bit multiplier and shift taken from the float32 bits of the
//                 scale, (acc * m + 2^(s-1)) >> s, round half up. float scales in [2^-32, 256):
//                 s in [16, 56).
//   fp32          FBGEMM float path / XNNPACK fp32: clamp((float)acc * scale, qmin-zp, qmax-zp),
//                 round half to even, + zp. float scales in [2^-32, 256).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "qkern/core/abi.hpp"
#include "qkern/core/error.hpp"

namespace qkern {
inline namespace QKERN_ABI_NS {

/// The rounding family of a requantization (see the file comment for each exact definition).
enum class RequantizeRounding : std::uint8_t {
  gemmlowp,       ///< TFLite default: SRDHM then RoundingDivideByPOT (double rounding)
  tflite_single,  ///< TFLITE_SINGLE_ROUNDING: one 64-bit rounding shift, ties up
  rndnu,          ///< XNNPACK rndnu: multiplier and shift from the float32 bits, ties up
  fp32,           ///< FBGEMM / XNNPACK fp32: float multiply, clamp, round half to even
};

inline const char* rounding_name(RequantizeRounding r) {
  switch (r) {
    case RequantizeRounding::gemmlowp:
      return "gemmlowp";
    case RequantizeRounding::tflite_single:
      return "tflite_single";
    case RequantizeRounding::rndnu:
      return "rndnu";
    case RequantizeRounding::fp32:
      return "fp32";
  }
  return "?";
}

/// A real multiplier as a Q31 fixed-point mantissa and a power of two, TFLite's convention:
/// real ~= multiplier * 2^(shift - 31), multiplier in [2^30, 2^31), shift > 0 a left shift.
struct QuantizedMultiplier {
  std::int32_t multiplier = 0;
  int shift = 0;
};

/// XNNPACK rndnu terms: real == multiplier * 2^-shift exactly for the float32 scale,
/// multiplier in [2^23, 2^24), shift in [16, 56).
struct RndnuMultiplier {
  std::int32_t multiplier = 0;
  int shift = 0;
};

/// Per-tensor requantization: out = clamp(requant(acc, scale) + zero_point, qmin, qmax). qmin/qmax
/// are the output type's range or a fused activation's bounds inside it.
struct RequantizeParams {
  double scale = 1.0;  ///< real multiplier, e.g. input_scale * weight_scale / output_scale
  std::int32_t zero_point = 0;
  std::int32_t qmin = -128;
  std::int32_t qmax = 127;
  RequantizeRounding rounding = RequantizeRounding::gemmlowp;
};

/// Per-channel requantization: one real multiplier per channel of a ChannelLayout, one output
/// zero point and clamp range (TFLite / XNNPACK per-channel convolutions).
struct ChannelRequantizeParams {
  std::vector<double> scale;
  std::int32_t zero_point = 0;
  std::int32_t qmin = -128;
  std::int32_t qmax = 127;
  RequantizeRounding rounding = RequantizeRounding::gemmlowp;

  std::size_t channels() const { return scale.size(); }
  RequantizeParams channel(std::size_t c) const { return {scale[c], zero_point, qmin, qmax, rounding}; }
};

namespace detail {

// TFLite QuantizeMultiplier without validation: frexp, round half away from zero of q * 2^31,
// renormalise a mantissa that rounded up to 2^31 (RQ-4).
inline QuantizedMultiplier decompose_q31(double real) {
  int shift = 0;
  const double q = std::frexp(real, &shift);
  auto q_fixed = static_cast<std::int64_t>(std::round(q * 2147483648.0));
  if (q_fixed == (std::int64_t{1} << 31)) {
    q_fixed /= 2;
    ++shift;
  }
  return {static_cast<std::int32_t>(q_fixed), shift};
}

inline std::string scale_text(double s) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", s);
  return buf;
}

}  // namespace detail

/// Decomposes a real multiplier as TFLite's QuantizeMultiplier does: real ~= multiplier *
/// 2^(shift - 31) with multiplier in [2^30, 2^31) (rounded half away from zero, a mantissa that
/// rounds to 2^31 is halved and the shift incremented), error at most half a Q31 unit.
/// Throws InvalidArgument naming "real" unless real is finite, > 0 and the shift lies in
/// [-31, 30] (about [2^-32, 2^30)); TFLite flushes smaller multipliers to zero, qkern refuses them.
inline QuantizedMultiplier quantize_multiplier(double real) {
  if (!::qkern::detail::is_finite(real) || !(real > 0.0))
    detail::throw_invalid("real", "multiplier must be finite and > 0, got " + detail::scale_text(real));
  const QuantizedMultiplier m = detail::decompose_q31(real);
  if (m.shift < -31 || m.shift > 30)
    detail::throw_invalid("real", "multiplier " + detail::scale_text(real) +
                                      " is outside the Q31 decomposition range [2^-32, 2^30) (shift " +
                                      std::to_string(m.shift) + " not in [-31, 30])");
  return m;
}

/// XNNPACK's rndnu decomposition of a float32 scale (exact): multiplier = mantissa | 2^23,
/// shift = 150 - biased exponent. Throws InvalidArgument naming "scale" unless scale is in
/// [2^-32, 256), i.e. shift in [16, 56).
inline RndnuMultiplier rndnu_multiplier(float scale) {
  if (!(scale >= 0x1p-32f && scale < 256.0f))
    detail::throw_invalid("scale", "rndnu needs a float32 scale in [2^-32, 256), got " + detail::scale_text(scale));
  std::uint32_t bits;
  std::memcpy(&bits, &scale, 4);
  return {static_cast<std::int32_t>((bits & 0x7FFFFFu) | 0x800000u), 127 + 23 - static_cast<int>(bits >> 23)};
}

namespace detail {

/// Checks that `scale` is inside what `rounding` supports (RQ-3); names `argument` otherwise.
inline void validate_requantize_scale(double scale, RequantizeRounding rounding, const char* argument) {
  if (!::qkern::detail::is_finite(scale) || !(scale > 0.0))
    throw_invalid(argument, "requantization scale must be finite and > 0, got " + scale_text(scale));
  const std::string fam = rounding_name(rounding);
  switch (rounding) {
    case RequantizeRounding::gemmlowp: {
      const QuantizedMultiplier m = decompose_q31(scale);
      if (m.shift < -31 || m.shift > 0)
        throw_invalid(argument, "gemmlowp double rounding supports scales in [2^-32, 1) (right shifts 0..31), got " +
                                    scale_text(scale));
      break;
    }
    case RequantizeRounding::tflite_single: {
      const QuantizedMultiplier m = decompose_q31(scale);
      if (m.shift < -31 || m.shift > 30)
        throw_invalid(argument,
                      "tflite_single supports scales in [2^-32, 2^30) (shift in [-31, 30]), got " + scale_text(scale));
      break;
    }
    case RequantizeRounding::rndnu:
    case RequantizeRounding::fp32: {
      const float f = static_cast<float>(scale);
      if (!(f >= 0x1p-32f && f < 256.0f))
        throw_invalid(argument, fam + " supports float32 scales in [2^-32, 256), got " + scale_text(scale));
      break;
    }
    default:
      throw_invalid("rounding", "unknown requantization rounding family");
  }
}

inline void validate_requantize_range(std::int32_t zp, std::int32_t qmin, std::int32_t qmax, std::int32_t tmin,
                                      std::int32_t tmax) {
  if (qmin > qmax)
    throw_invalid("params.qmin", "qmin (" + std::to_string(qmin) + ") must be <= qmax (" + std::to_string(qmax) + ")");
  if (qmin < tmin || qmax > tmax)
    throw_invalid("params.qmin", "clamp range [" + std::to_string(qmin) + ", " + std::to_string(qmax) +
                                     "] lies outside the output type [" + std::to_string(tmin) + ", " +
                                     std::to_string(tmax) + "]");
  if (zp < tmin || zp > tmax)
    throw_invalid("params.zero_point", "zero point " + std::to_string(zp) + " lies outside the output type [" +
                                           std::to_string(tmin) + ", " + std::to_string(tmax) + "]");
}

}  // namespace detail
}  // namespace QKERN_ABI_NS
}  // namespace qkern
