// qkern — SPDX-License-Identifier: Apache-2.0
//
// quantize.hpp: the public quantize / dequantize / fake_quantize API, per tensor and per channel.
//
// Semantics (all arches, any rounding mode or FTZ state of the caller):
//   q    = clamp(round(x op scale) + zero_point, qmin, qmax)   op, round: params.arithmetic
//   real = (float)(q - zero_point) * scale
//   fake = dequantize(quantize(x)), bit for bit, for every non-NaN x
// NaN quantizes to the zero point (fake_quantize passes the NaN through); +-Inf and values beyond
// the range saturate to qmax / qmin; -0.0 and |x| < scale/2 give the zero point (fake: +0.0).
// Arguments are validated once here (InvalidArgument naming the argument); n == 0 does nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "qkern/core/abi.hpp"
#include "qkern/core/error.hpp"
#include "qkern/core/layout.hpp"
#include "qkern/core/params.hpp"
#include "qkern/kernels/kernel_list.hpp"
#include "qkern/reference/quantize.hpp"
#include "qkern/simd/float_env.hpp"

namespace qkern {
inline namespace QKERN_ABI_NS {
namespace detail {

template <class Q>
void check_storage(DType dtype, const char* argument) {
  static_assert(is_quantized_storage_v<Q>, "quantized data must be int8_t, uint8_t, int16_t, uint16_t or int32_t");
  if (!stored_in<Q>(dtype))
    throw_invalid(argument, std::string("element type does not store params.dtype ") + dtype_name(dtype));
}

inline void check_pointers(const void* in, const char* in_name, const void* out, const char* out_name, bool nonempty) {
  if (nonempty && in == nullptr) throw_invalid(in_name, "is null");
  if (nonempty && out == nullptr) throw_invalid(out_name, "is null");
}

template <class Q>
struct QuantizeKernel;
template <>
struct QuantizeKernel<std::int8_t> {
  using tensor = kernels::f32_s8_quantize;
  using channels = kernels::f32_s8_quantize_channels;
  using dequant = kernels::s8_f32_dequantize;
  using dequant_channels = kernels::s8_f32_dequantize_channels;
};
template <>
struct QuantizeKernel<std::uint8_t> {
  using tensor = kernels::f32_u8_quantize;
  using channels = kernels::f32_u8_quantize_channels;
  using dequant = kernels::u8_f32_dequantize;
  using dequant_channels = kernels::u8_f32_dequantize_channels;
};
template <>
struct QuantizeKernel<std::int16_t> {
  using tensor = kernels::f32_s16_quantize;
  using channels = kernels::f32_s16_quantize_channels;
  using dequant = kernels::s16_f32_dequantize;
  using dequant_channels = kernels::s16_f32_dequantize_channels;
};
template <>
struct QuantizeKernel<std::uint16_t> {
  using tensor = kernels::f32_u16_quantize;
  using channels = kernels::f32_u16_quantize_channels;
  using dequant = kernels::u16_f32_dequantize;
  using dequant_channels = kernels::u16_f32_dequantize_channels;
};

// Per-channel kernel constants, padded to a multiple of kernels::kMaxLanes by repeating channel 0.
struct ChannelConstantsStorage {
  std::vector<float> scale, scale_op, lo, hi;
  std::vector<std::int32_t> zero_point;
  kernels::ChannelQuantizeConstants view;

  explicit ChannelConstantsStorage(const ChannelQuantParams& p) {
    const std::size_t c = p.channels();
    const std::size_t padded = (c + kernels::kMaxLanes - 1) / kernels::kMaxLanes * kernels::kMaxLanes;
    scale.resize(padded);
    scale_op.resize(padded);
    lo.resize(padded);
    hi.resize(padded);
    zero_point.resize(padded);
    for (std::size_t i = 0; i < padded; ++i) {
      const kernels::QuantizeConstants k = kernels::make_constants(p.channel(i < c ? i : 0));
      scale[i] = k.scale;
      scale_op[i] = k.scale_op;
      lo[i] = k.lo;
      hi[i] = k.hi;
      zero_point[i] = k.zero_point;
    }
    view = {scale.data(), scale_op.data(), lo.data(), hi.data(), zero_point.data(), p.arithmetic};
  }
};

}  // namespace detail

/// Quantizes x[0, n) into q[0, n). Q is the storage of params.dtype (int8_t for int8 and int4, ...).
/// Throws InvalidArgument for invalid params ("params.*"), a storage type that does not match
/// params.dtype ("q"), or null pointers with n > 0 ("x", "q").
template <class Q>
void quantize(const float* x, Q* q, std::size_t n, const QuantParams& params) {
  validate(params);
  detail::check_storage<Q>(params.dtype, "q");
  detail::check_pointers(x, "x", q, "q", n != 0);
  if (n == 0) return;
  simd::FloatEnvironmentGuard env;
  if constexpr (std::is_same<Q, std::int32_t>::value) {
    reference::quantize(x, q, n, params);  // int32 (bias) codes exceed the float clamp window
  } else {
    dispatch::select<typename detail::QuantizeKernel<Q>::tensor>()(x, q, n, kernels::make_constants(params));
  }
}

/// x[i] = (float)(q[i] - zero_point) * scale for i in [0, n). int32 input is exact in the
/// subtraction (done in 64 bits) and rounded once to float.
template <class Q>
void dequantize(const Q* q, float* x, std::size_t n, const QuantParams& params) {
  validate(params);
  detail::check_storage<Q>(params.dtype, "q");
  detail::check_pointers(q, "q", x, "x", n != 0);
  if (n == 0) return;
  simd::FloatEnvironmentGuard env;
  if constexpr (std::is_same<Q, std::int32_t>::value) {
    reference::dequantize(q, x, n, params);
  } else {
    dispatch::select<typename detail::QuantizeKernel<Q>::dequant>()(q, x, n, kernels::make_constants(params));
  }
}

/// y = dequantize(quantize(x)) in one pass, without materialising codes; y == x (in place) is
/// allowed. NaN passes through unchanged. params.dtype may be any type but int32.
inline void fake_quantize(const float* x, float* y, std::size_t n, const QuantParams& params) {
  validate(params);
  if (params.dtype == DType::int32) detail::throw_invalid("params.dtype", "fake_quantize does not support int32");
  detail::check_pointers(x, "x", y, "y", n != 0);
  if (n == 0) return;
  simd::FloatEnvironmentGuard env;
  dispatch::select<kernels::f32_fake_quantize>()(x, y, n, kernels::make_constants(params));
}

/// Per-channel quantize of a tensor laid out as `layout` (outer x channels x inner), with one
/// scale / zero point per channel. Throws as the per-tensor form, and InvalidArgument naming
/// "params.scale" / "params.zero_point" when their sizes differ from layout.channels.
template <class Q>
void quantize(const float* x, Q* q, const ChannelLayout& layout, const ChannelQuantParams& params) {
  validate(params, layout);
  detail::check_storage<Q>(params.dtype, "q");
  detail::check_pointers(x, "x", q, "q", layout.size() != 0);
  if (layout.size() == 0) return;
  simd::FloatEnvironmentGuard env;
  if constexpr (std::is_same<Q, std::int32_t>::value) {
    reference::quantize(x, q, layout, params);
  } else {
    const detail::ChannelConstantsStorage k(params);
    dispatch::select<typename detail::QuantizeKernel<Q>::channels>()(x, q, layout, k.view);
  }
}

template <class Q>
void dequantize(const Q* q, float* x, const ChannelLayout& layout, const ChannelQuantParams& params) {
  validate(params, layout);
  detail::check_storage<Q>(params.dtype, "q");
  detail::check_pointers(q, "q", x, "x", layout.size() != 0);
  if (layout.size() == 0) return;
  simd::FloatEnvironmentGuard env;
  if constexpr (std::is_same<Q, std::int32_t>::value) {
    reference::dequantize(q, x, layout, params);
  } else {
    const detail::ChannelConstantsStorage k(params);
    dispatch::select<typename detail::QuantizeKernel<Q>::dequant_channels>()(q, x, layout, k.view);
  }
}

inline void fake_quantize(const float* x, float* y, const ChannelLayout& layout, const ChannelQuantParams& params) {
  validate(params, layout);
  if (params.dtype == DType::int32) detail::throw_invalid("params.dtype", "fake_quantize does not support int32");
  detail::check_pointers(x, "x", y, "y", layout.size() != 0);
  if (layout.size() == 0) return;
  simd::FloatEnvironmentGuard env;
  const detail::ChannelConstantsStorage k(params);
  dispatch::select<kernels::f32_fake_quantize_channels>()(x, y, layout, k.view);
}

}  // namespace QKERN_ABI_NS
}  // namespace qkern
