// qkern — SPDX-License-Identifier: Apache-2.0
//
// requantize.hpp: the public fixed-point requantization API (int32 accumulators -> int8 / uint8 /
// int16 codes, per tensor and per channel) and bias quantization to int32.
//
// Semantics: out = clamp(requant(acc, scale) + zero_point, qmin, qmax), requant being the family's
// exact integer (or fp32) definition in core/requantize_params.hpp and reference/requantize.hpp.
// Identical results on every arch and under any rounding mode / FTZ state of the caller. Every
// int32 input is valid (INT32_MIN and INT32_MAX included: intermediates never overflow).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "qkern/core/abi.hpp"
#include "qkern/core/error.hpp"
#include "qkern/core/layout.hpp"
#include "qkern/core/requantize_params.hpp"
#include "qkern/kernels/kernel_list.hpp"
#include "qkern/reference/requantize.hpp"
#include "qkern/simd/float_env.hpp"

namespace qkern {
inline namespace QKERN_ABI_NS {
namespace detail {

template <class Q>
struct RequantizeKernel;
template <>
struct RequantizeKernel<std::int8_t> {
  using tensor = kernels::s32_s8_requantize;
  using channels = kernels::s32_s8_requantize_channels;
};
template <>
struct RequantizeKernel<std::uint8_t> {
  using tensor = kernels::s32_u8_requantize;
  using channels = kernels::s32_u8_requantize_channels;
};
template <>
struct RequantizeKernel<std::int16_t> {
  using tensor = kernels::s32_s16_requantize;
  using channels = kernels::s32_s16_requantize_channels;
};

template <class Q>
void validate_requantize(const RequantizeParams& p) {
  static_assert(std::is_same<Q, std::int8_t>::value || std::is_same<Q, std::uint8_t>::value ||
                    std::is_same<Q, std::int16_t>::value,
                "requantize writes int8_t, uint8_t or int16_t codes");
  validate_requantize_scale(p.scale, p.rounding, "params.scale");
  validate_requantize_range(p.zero_point, p.qmin, p.qmax, std::numeric_limits<Q>::min(), std::numeric_limits<Q>::max());
}

// Per-channel kernel constants, padded to a multiple of kernels::kMaxLanes by repeating channel 0.
struct ChannelRequantizeStorage {
  std::vector<std::int32_t> multiplier, shift_m1, fix, exponent, mask, half, xlo, xhi;
  std::vector<float> scale;
  kernels::ChannelRequantizeConstants view{};

  explicit ChannelRequantizeStorage(const ChannelRequantizeParams& p) {
    const std::size_t c = p.channels();
    const std::size_t padded = (c + kernels::kMaxLanes - 1) / kernels::kMaxLanes * kernels::kMaxLanes;
    for (auto* v : {&multiplier, &shift_m1, &fix, &exponent, &mask, &half, &xlo, &xhi}) v->resize(padded);
    scale.resize(padded);
    kernels::RequantizeConstants k{};
    for (std::size_t i = 0; i < padded; ++i) {
      k = kernels::make_requantize_constants(p.channel(i < c ? i : 0));
      multiplier[i] = k.multiplier;
      shift_m1[i] = k.shift_m1;
      fix[i] = k.fix;
      exponent[i] = k.exponent;
      mask[i] = k.mask;
      half[i] = k.half;
      xlo[i] = k.xlo;
      xhi[i] = k.xhi;
      scale[i] = k.scale;
    }
    view = {k.kind,      multiplier.data(), shift_m1.data(), fix.data(), exponent.data(),
            mask.data(), half.data(),       xlo.data(),      xhi.data(), k.lo,
            k.hi,        k.zero_point,      scale.data(),    k.flo,      k.fhi};
    view.source_scale = p.scale.data();
    view.rounding = p.rounding;
  }
};

}  // namespace detail

/// Requantizes acc[0, n) into out[0, n): out = clamp(requant(acc) + zero_point, qmin, qmax) under
/// params.rounding. Q is int8_t, uint8_t or int16_t.
/// Throws InvalidArgument naming "params.scale" when the scale is not finite, not > 0 or outside
/// the family's range (gemmlowp [2^-32, 1), tflite_single [2^-32, 2^30), rndnu / fp32 float32
/// [2^-32, 256)), "params.qmin" when qmin > qmax or the range leaves Q, "params.zero_point" when
/// the zero point leaves Q, "acc" / "out" when null with n > 0. n == 0 does nothing.
template <class Q>
void requantize(const std::int32_t* acc, Q* out, std::size_t n, const RequantizeParams& params) {
  detail::validate_requantize<Q>(params);
  if (n != 0 && acc == nullptr) detail::throw_invalid("acc", "is null");
  if (n != 0 && out == nullptr) detail::throw_invalid("out", "is null");
  if (n == 0) return;
  simd::FloatEnvironmentGuard env;
  dispatch::select<typename detail::RequantizeKernel<Q>::tensor>()(acc, out, n,
                                                                   kernels::make_requantize_constants(params));
}

/// Per-channel form: channel c of `layout` uses params.scale[c]; one zero point and clamp range.
/// Throws as the per-tensor form (naming "params.scale" for any bad channel scale) and
/// InvalidArgument naming "params.scale" when its size differs from layout.channels.
template <class Q>
void requantize(const std::int32_t* acc, Q* out, const ChannelLayout& layout, const ChannelRequantizeParams& params) {
  if (params.channels() != layout.channels)
    detail::throw_invalid("params.scale", "has " + std::to_string(params.channels()) + " entries for " +
                                              std::to_string(layout.channels) + " channels");
  for (std::size_t c = 0; c < params.channels(); ++c) detail::validate_requantize<Q>(params.channel(c));
  detail::validate_requantize_range(params.zero_point, params.qmin, params.qmax, std::numeric_limits<Q>::min(),
                                    std::numeric_limits<Q>::max());
  const std::size_t n = layout.size();
  if (n != 0 && acc == nullptr) detail::throw_invalid("acc", "is null");
  if (n != 0 && out == nullptr) detail::throw_invalid("out", "is null");
  if (n == 0) return;
  simd::FloatEnvironmentGuard env;
  const detail::ChannelRequantizeStorage k(params);
  dispatch::select<typename detail::RequantizeKernel<Q>::channels>()(acc, out, layout, k.view);
}

/// What quantize_bias did: how many values saturated to INT32_MIN / INT32_MAX (or were NaN, which
/// give 0) and the first such index (n when none).
struct BiasQuantizeReport {
  std::size_t saturated = 0;
  std::size_t nan = 0;
  std::size_t first_saturated = 0;
  bool ok() const { return saturated == 0 && nan == 0; }
};

/// Quantizes a bias to int32 with zero point 0 and scale input_scale * weight_scales[c] (the
/// product taken in float32, as TFLite and ONNX Runtime do): out[c] = saturate(RNE(bias[c] /
/// scale_c)) for c in [0, n), the quotient in double. weight_scales has n entries (per output
/// channel) or 1 (per tensor). Values beyond int32 saturate and are counted in the report (RQ-6,
/// e.g. a tiny input_scale * weight_scale); NaN gives 0 and is counted; +-Inf saturates.
/// Throws InvalidArgument naming "input_scale" / "weight_scales" for a scale that is not finite and
/// > 0 or whose product underflows float32, "weight_scales" for a size other than 1 or n, and
/// "bias" / "out" when null with n > 0.
inline BiasQuantizeReport quantize_bias(const float* bias, std::int32_t* out, std::size_t n, float input_scale,
                                        const std::vector<float>& weight_scales) {
  detail::require_valid_scale(input_scale, "input_scale");
  if (weight_scales.size() != 1 && weight_scales.size() != n)
    detail::throw_invalid("weight_scales", "has " + std::to_string(weight_scales.size()) +
                                               " entries; need 1 (per tensor) or " + std::to_string(n));
  for (float w : weight_scales) {
    detail::require_valid_scale(w, "weight_scales");
    if (!(input_scale * w > 0.0f) || !::qkern::detail::is_finite(input_scale * w))
      detail::throw_invalid("weight_scales", "input_scale * weight_scale is not a positive finite float32");
  }
  if (n != 0 && bias == nullptr) detail::throw_invalid("bias", "is null");
  if (n != 0 && out == nullptr) detail::throw_invalid("out", "is null");
  simd::FloatEnvironmentGuard env;
  BiasQuantizeReport r;
  r.first_saturated = n;
  for (std::size_t i = 0; i < n; ++i) {
    const float s = input_scale * weight_scales[weight_scales.size() == 1 ? 0 : i];
    if (reference::quantize_bias_value(bias[i], s, &out[i])) {
      if (reference::is_nan(bias[i]))
        ++r.nan;
      else
        ++r.saturated;
      if (r.first_saturated == n) r.first_saturated = i;
    }
  }
  return r;
}

}  // namespace QKERN_ABI_NS
}  // namespace qkern
