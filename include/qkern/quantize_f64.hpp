// qkern — SPDX-License-Identifier: Apache-2.0
//
// quantize_f64.hpp: per-channel quantize / dequantize with float64 scales, bit-exact to PyTorch's
// torch.quantize_per_channel / Tensor.dequantize, whose scales are a float64 tensor (golden-tested
// against torch 1.13 in tests/test_parity_per_channel_f64.cpp).
//   quantize:   ATen quantize_val(double scale, ...) computes inv_scale = 1.0f / (float)scale, so the
//               codes are those of the float32 scale: qkern's SIMD per-channel kernels with the scales
//               rounded to float32 (every arch, the same kernels as quantize(ChannelQuantParams)).
//   dequantize: ATen dequantize_per_channel_affine computes (float(q) - zp) * scale in float64 and
//               stores float32: x = float(double(float(q) - zp) * scale). With a float32 scale that
//               is a different number (3.0999999 vs 3.10000014 for q = 31, scale 0.1), so this
//               dequantize keeps the float64 scale (a scalar loop; the result is one rounding of
//               a float64 product, which no float32 kernel reproduces).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "qkern/core/abi.hpp"
#include "qkern/core/layout.hpp"
#include "qkern/core/params.hpp"
#include "qkern/core/strict_float.hpp"
#include "qkern/quantize.hpp"
#include "qkern/simd/float_env.hpp"

namespace qkern {
inline namespace QKERN_ABI_NS {

/// Per-channel parameters with float64 scales (PyTorch's per-channel scale type) and PyTorch's
/// arithmetic (quantize multiplies by the float32 reciprocal, ties to even).
struct ChannelQuantParamsF64 {
  std::vector<double> scale;
  std::vector<std::int32_t> zero_point;
  DType dtype = DType::int8;
  std::int32_t qmin = -128;
  std::int32_t qmax = 127;

  /// Full range of `dtype`; an empty zero_point means 0 for every channel.
  static ChannelQuantParamsF64 make(DType dtype, std::vector<double> scale, std::vector<std::int32_t> zero_point = {}) {
    ChannelQuantParamsF64 p;
    if (zero_point.empty()) zero_point.assign(scale.size(), 0);
    p.scale = std::move(scale);
    p.zero_point = std::move(zero_point);
    p.dtype = dtype;
    const QRange r = full_range(dtype);
    p.qmin = r.qmin;
    p.qmax = r.qmax;
    return p;
  }
  std::size_t channels() const { return scale.size(); }
  /// The float32-scale parameters torch's quantize effectively uses ((float)scale per channel).
  ChannelQuantParams rounded() const {
    std::vector<float> s(scale.size());
    for (std::size_t c = 0; c < s.size(); ++c) s[c] = static_cast<float>(scale[c]);
    return ChannelQuantParams::make(dtype, std::move(s), zero_point, QRange{qmin, qmax}, Arithmetic::pytorch());
  }
};

/// Throws InvalidArgument as validate(ChannelQuantParams, layout), naming "params.scale[c]" also
/// when a float64 scale is not finite and positive or does not round to a usable float32 scale.
inline void validate(const ChannelQuantParamsF64& p, const ChannelLayout& layout) {
  for (std::size_t c = 0; c < p.scale.size(); ++c)
    detail::require_valid_scale(p.scale[c], ("params.scale[" + std::to_string(c) + "]").c_str());
  validate(p.rounded(), layout);
}

/// torch.quantize_per_channel(x, scales (float64), zero_points, axis, dtype).int_repr(): the SIMD
/// per-channel quantize with the scales rounded to float32 (what ATen's quantize_val does).
template <class Q>
void quantize(const float* x, Q* q, const ChannelLayout& layout, const ChannelQuantParamsF64& params) {
  validate(params, layout);
  quantize(x, q, layout, params.rounded());
}

/// Tensor.dequantize() of a per-channel tensor with float64 scales: x = float(double(float(q) -
/// zp) * scale). Throws as quantize.
template <class Q>
void dequantize(const Q* q, float* x, const ChannelLayout& layout, const ChannelQuantParamsF64& params) {
  static_assert(std::is_integral<Q>::value, "codes are integers");
  validate(params, layout);
  detail::check_storage<Q>(params.dtype, "q");
  detail::check_pointers(q, "q", x, "x", layout.size() != 0);
  if (layout.size() == 0) return;
  simd::FloatEnvironmentGuard env;
  for (std::size_t o = 0; o < layout.outer; ++o)
    for (std::size_t c = 0; c < layout.channels; ++c) {
      const std::size_t base = (o * layout.channels + c) * layout.inner;
      const float zp = static_cast<float>(params.zero_point[c]);
      for (std::size_t i = 0; i < layout.inner; ++i) {
        const float d = strict::sub(static_cast<float>(q[base + i]), zp);
        x[base + i] = static_cast<float>(strict::mul(static_cast<double>(d), params.scale[c]));
      }
    }
}

}  // namespace QKERN_ABI_NS
}  // namespace qkern
