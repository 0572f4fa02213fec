// qkern — SPDX-License-Identifier: Apache-2.0
//
// params.hpp: quantization parameters (per-tensor and per-channel), the arithmetic a convention
// uses to apply them, and their validation. How parameters are *chosen* from a range lives in
// core/choose_params.hpp.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "qkern/core/abi.hpp"
#include "qkern/core/dtype.hpp"
#include "qkern/core/error.hpp"
#include "qkern/core/layout.hpp"

namespace qkern {
inline namespace QKERN_ABI_NS {

/// How a value is rounded to an integer code.
enum class Rounding : std::uint8_t {
  half_to_even,         ///< ties to the even code: ONNX, PyTorch, FBGEMM, XNNPACK (RNE)
  half_away_from_zero,  ///< ties away from zero: TFLite reference (std::round)
};

/// How the scale is applied before rounding.
enum class ScaleOp : std::uint8_t {
  divide,                  ///< x / scale (ONNX QuantizeLinear, TFLite reference, ORT tools)
  multiply_by_reciprocal,  ///< x * (1.0f / scale) (PyTorch ATen, FBGEMM, XNNPACK)
};

/// The arithmetic of quantize: q = saturate(round(x op scale) + zero_point). The two choices give
/// different codes near ties (x / 0.1f and x * (1.0f / 0.1f) differ in the last bit), so each
/// framework's results are reproduced only with its own arithmetic.
struct Arithmetic {
  ScaleOp scale_op = ScaleOp::divide;
  Rounding rounding = Rounding::half_to_even;

  static constexpr Arithmetic onnx() { return {ScaleOp::divide, Rounding::half_to_even}; }
  static constexpr Arithmetic pytorch() { return {ScaleOp::multiply_by_reciprocal, Rounding::half_to_even}; }
  static constexpr Arithmetic fbgemm() { return pytorch(); }
  static constexpr Arithmetic xnnpack() { return pytorch(); }
  static constexpr Arithmetic tflite() { return {ScaleOp::divide, Rounding::half_away_from_zero}; }
  friend constexpr bool operator==(Arithmetic a, Arithmetic b) {
    return a.scale_op == b.scale_op && a.rounding == b.rounding;
  }
};

/// Per-tensor parameters: real = scale * (q - zero_point), codes clamped to [qmin, qmax].
struct QuantParams {
  float scale = 1.0f;
  std::int32_t zero_point = 0;
  DType dtype = DType::int8;
  std::int32_t qmin = -128;
  std::int32_t qmax = 127;
  Arithmetic arithmetic = Arithmetic::onnx();

  /// Parameters over the full range of `dtype`.
  static QuantParams make(DType dtype, float scale, std::int32_t zero_point = 0,
                          Arithmetic arithmetic = Arithmetic::onnx()) {
    const QRange r = full_range(dtype);
    return {scale, zero_point, dtype, r.qmin, r.qmax, arithmetic};
  }
  /// Parameters over a custom range inside `dtype` (narrow ranges, reduce_range, ...).
  static QuantParams make(DType dtype, float scale, std::int32_t zero_point, QRange range,
                          Arithmetic arithmetic = Arithmetic::onnx()) {
    return {scale, zero_point, dtype, range.qmin, range.qmax, arithmetic};
  }
  QRange range() const { return {qmin, qmax}; }
};

/// Per-channel parameters: one scale and zero point per channel of a ChannelLayout.
struct ChannelQuantParams {
  std::vector<float> scale;
  std::vector<std::int32_t> zero_point;
  DType dtype = DType::int8;
  std::int32_t qmin = -128;
  std::int32_t qmax = 127;
  Arithmetic arithmetic = Arithmetic::onnx();

  /// Per-channel parameters over the full range of `dtype` (as QuantParams::make); an empty
  /// zero_point means 0 for every channel.
  static ChannelQuantParams make(DType dtype, std::vector<float> scale, std::vector<std::int32_t> zero_point = {},
                                 Arithmetic arithmetic = Arithmetic::onnx()) {
    return make(dtype, std::move(scale), std::move(zero_point), full_range(dtype), arithmetic);
  }
  /// Per-channel parameters over a custom range inside `dtype` (narrow ranges, PyTorch's
  /// quant_min / quant_max, ...). Checked by validate(params, layout) as usual.
  static ChannelQuantParams make(DType dtype, std::vector<float> scale, std::vector<std::int32_t> zero_point,
                                 QRange range, Arithmetic arithmetic = Arithmetic::onnx()) {
    ChannelQuantParams p;
    if (zero_point.empty()) zero_point.assign(scale.size(), 0);
    p.scale = std::move(scale);
    p.zero_point = std::move(zero_point);
    p.dtype = dtype;
    p.qmin = range.qmin;
    p.qmax = range.qmax;
    p.arithmetic = arithmetic;
    return p;
  }

  std::size_t channels() const { return scale.size(); }
  QRange range() const { return {qmin, qmax}; }
  /// Channel c as per-tensor parameters.
  QuantParams channel(std::size_t c) const { return {scale[c], zero_point[c], dtype, qmin, qmax, arithmetic}; }
};

namespace detail {

inline void validate_range(DType dtype, std::int32_t qmin, std::int32_t qmax, const char* what) {
  const QRange full = full_range(dtype);
  if (qmin >= qmax)
    throw_invalid(what, "qmin (" + std::to_string(qmin) + ") must be < qmax (" + std::to_string(qmax) + ")");
  if (qmin < full.qmin || qmax > full.qmax)
    throw_invalid(what, "range [" + std::to_string(qmin) + ", " + std::to_string(qmax) + "] lies outside " +
                            dtype_name(dtype) + " [" + std::to_string(full.qmin) + ", " + std::to_string(full.qmax) +
                            "]");
}

inline void validate_zero_point(std::int32_t zp, std::int32_t qmin, std::int32_t qmax, const char* what) {
  if (zp < qmin || zp > qmax)
    throw_invalid(what, "zero point " + std::to_string(zp) + " lies outside [" + std::to_string(qmin) + ", " +
                            std::to_string(qmax) + "]");
}

}  // namespace detail

/// Throws InvalidArgument (naming "params.scale", "params.qmin/qmax" or "params.zero_point") unless
/// the parameters are usable: finite positive scale with a finite reciprocal, qmin < qmax inside
/// the type, zero point inside [qmin, qmax]. (Fault catalogue QP-1, QP-3.)
inline void validate(const QuantParams& p) {
  detail::require_valid_scale(p.scale, "params.scale");
  detail::validate_range(p.dtype, p.qmin, p.qmax, "params.qmin/qmax");
  detail::validate_zero_point(p.zero_point, p.qmin, p.qmax, "params.zero_point");
}

/// As validate(QuantParams) for every channel, plus the channel count against `layout`
/// (InvalidArgument naming "params.scale" / "params.zero_point" on a size mismatch, QZ-13).
inline void validate(const ChannelQuantParams& p, const ChannelLayout& layout) {
  if (p.scale.size() != layout.channels)
    detail::throw_invalid("params.scale", "has " + std::to_string(p.scale.size()) + " entries but the layout has " +
                                              std::to_string(layout.channels) + " channels");
  if (p.zero_point.size() != layout.channels)
    detail::throw_invalid("params.zero_point", "has " + std::to_string(p.zero_point.size()) +
                                                   " entries but the layout has " + std::to_string(layout.channels) +
                                                   " channels");
  detail::validate_range(p.dtype, p.qmin, p.qmax, "params.qmin/qmax");
  for (std::size_t c = 0; c < p.scale.size(); ++c) {
    const std::string idx = "[" + std::to_string(c) + "]";
    detail::require_valid_scale(p.scale[c], ("params.scale" + idx).c_str());
    detail::validate_zero_point(p.zero_point[c], p.qmin, p.qmax, ("params.zero_point" + idx).c_str());
  }
}

}  // namespace QKERN_ABI_NS
}  // namespace qkern
