// qkern — SPDX-License-Identifier: Apache-2.0
//
// reference/quantize.hpp: the scalar definition of quantize, dequantize and fake_quantize. Written
// for clarity, one element at a time; every SIMD kernel is tested bit for bit against it, and it is
// the portable fallback. It does not validate (the public API does) and does not rely on the
// caller's rounding mode: rounding is done by exact integer/fraction arithmetic below, and the
// scale operation runs under FloatEnvironmentGuard.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "qkern/core/abi.hpp"
#include "qkern/core/layout.hpp"
#include "qkern/core/params.hpp"
#include "qkern/simd/float_env.hpp"

namespace qkern {
namespace reference {
inline namespace QKERN_ABI_NS {

/// True for NaN, by bits (immune to -ffast-math).
inline bool is_nan(float x) {
  std::uint32_t b;
  std::memcpy(&b, &x, 4);
  return (b & 0x7fffffffu) > 0x7f800000u;
}

/// True for +-Inf and NaN, by bits.
inline bool is_nonfinite(float x) {
  std::uint32_t b;
  std::memcpy(&b, &x, 4);
  return (b & 0x7f800000u) == 0x7f800000u;
}

/// Round to the nearest integer, ties to even, in any rounding mode (trunc and the fraction are
/// exact). Values with |v| >= 2^23, Inf and NaN are returned unchanged.
inline float round_half_to_even(float v) {
  if (!(std::fabs(v) < 8388608.0f)) return v;
  const float t = std::trunc(v);
  const float f = std::fabs(v - t);
  const bool odd = std::fmod(t, 2.0f) != 0.0f;
  if (f > 0.5f || (f == 0.5f && odd)) return t + std::copysign(1.0f, v);
  return t;
}

/// Round to the nearest integer, ties away from zero (std::round semantics, exact).
inline float round_half_away_from_zero(float v) {
  if (!(std::fabs(v) < 8388608.0f)) return v;
  const float t = std::trunc(v);
  return std::fabs(v - t) >= 0.5f ? t + std::copysign(1.0f, v) : t;
}

/// x op scale, as the arithmetic says (the reciprocal is rounded to float first, as PyTorch does).
inline float apply_scale(float x, float scale, ScaleOp op) {
  return op == ScaleOp::divide ? detail::fp_div(x, scale) : x * detail::fp_div(1.0f, scale);
}

/// The code of one value: saturate(round(x op scale) + zero_point) to [qmin, qmax]; NaN gives the
/// zero point, +-Inf saturates.
inline std::int32_t quantize_value(float x, const QuantParams& p) {
  if (is_nan(x)) return p.zero_point;
  const float v = apply_scale(x, p.scale, p.arithmetic.scale_op);
  const float r =
      p.arithmetic.rounding == Rounding::half_to_even ? round_half_to_even(v) : round_half_away_from_zero(v);
  const double q = static_cast<double>(r) + p.zero_point;  // exact: |r| < 2^128, zp < 2^31
  if (q <= p.qmin) return p.qmin;
  if (q >= p.qmax) return p.qmax;
  return static_cast<std::int32_t>(q);
}

/// real = scale * (q - zero_point); q - zero_point is exact (int64) and rounded once to float.
inline float dequantize_value(std::int64_t q, float scale, std::int32_t zero_point) {
  return static_cast<float>(q - zero_point) * scale;
}

/// dequantize(quantize(x)); NaN stays NaN (the same bits).
inline float fake_quantize_value(float x, const QuantParams& p) {
  if (is_nan(x)) return x;
  return dequantize_value(quantize_value(x, p), p.scale, p.zero_point);
}

template <class Q>
void quantize(const float* x, Q* q, std::size_t n, const QuantParams& p) {
  simd::FloatEnvironmentGuard env;
  for (std::size_t i = 0; i < n; ++i) q[i] = static_cast<Q>(quantize_value(x[i], p));
}

template <class Q>
void dequantize(const Q* q, float* x, std::size_t n, const QuantParams& p) {
  simd::FloatEnvironmentGuard env;
  for (std::size_t i = 0; i < n; ++i) x[i] = dequantize_value(q[i], p.scale, p.zero_point);
}

inline void fake_quantize(const float* x, float* y, std::size_t n, const QuantParams& p) {
  simd::FloatEnvironmentGuard env;
  for (std::size_t i = 0; i < n; ++i) y[i] = fake_quantize_value(x[i], p);
}

template <class Q>
void quantize(const float* x, Q* q, const ChannelLayout& l, const ChannelQuantParams& p) {
  simd::FloatEnvironmentGuard env;
  for (std::size_t o = 0; o < l.outer; ++o)
    for (std::size_t c = 0; c < l.channels; ++c) {
      const QuantParams pc = p.channel(c);
      const std::size_t base = (o * l.channels + c) * l.inner;
      for (std::size_t i = 0; i < l.inner; ++i) q[base + i] = static_cast<Q>(quantize_value(x[base + i], pc));
    }
}

template <class Q>
void dequantize(const Q* q, float* x, const ChannelLayout& l, const ChannelQuantParams& p) {
  simd::FloatEnvironmentGuard env;
  for (std::size_t o = 0; o < l.outer; ++o)
    for (std::size_t c = 0; c < l.channels; ++c) {
      const std::size_t base = (o * l.channels + c) * l.inner;
      for (std::size_t i = 0; i < l.inner; ++i)
        x[base + i] = dequantize_value(q[base + i], p.scale[c], p.zero_point[c]);
    }
}

inline void fake_quantize(const float* x, float* y, const ChannelLayout& l, const ChannelQuantParams& p) {
  simd::FloatEnvironmentGuard env;
  for (std::size_t o = 0; o < l.outer; ++o)
    for (std::size_t c = 0; c < l.channels; ++c) {
      const QuantParams pc = p.channel(c);
      const std::size_t base = (o * l.channels + c) * l.inner;
      for (std::size_t i = 0; i < l.inner; ++i) y[base + i] = fake_quantize_value(x[base + i], pc);
    }
}

}  // namespace QKERN_ABI_NS
}  // namespace reference
}  // namespace qkern
