// qkern — SPDX-License-Identifier: Apache-2.0
//
// reference/convert.hpp: scalar definition of the element conversions to float32 used by the tensor
// file readers (io/), one value at a time. The SIMD kernels in kernels/convert.hpp must agree with
// these bit for bit on every arch.
//
// * f16 -> f32 is exact (every binary16 value, denormals included, is a binary32 value). A NaN keeps
//   its sign and its 10-bit payload shifted to the top of the f32 mantissa, quiet bit included, so a
//   signalling NaN stays signalling (0x7c01 -> 0x7f802000), as NumPy's astype(float32) does; x86
//   F16C (vcvtph2ps) would quiet it (0x7fc02000), so the kernels route vectors holding one around it.
//   Computed with integer operations only, so FTZ/DAZ cannot flush f16 denormals.
// * bf16 -> f32 is exact: the 16 bits become the top half of the f32 (NaN payloads, signalling or
//   not, are kept unchanged).
// * f64 -> f32 rounds to nearest, ties to even (under the default floating-point environment; the
//   hardware conversion the kernels use follows the current rounding mode and FTZ, and so does
//   this reference, which uses the same conversion). Out-of-range values become +-Inf. A NaN keeps
//   its sign and the top 22 bits of its payload and is made quiet (as cvtpd2ps and fcvt do).
// * int8/uint8/int16/uint16 -> f32 are exact; int32/uint32/int64/uint64 -> f32 round to nearest
//   even (values above 2^24 in magnitude may not be representable).
// * bool -> f32: 0 -> 0.0f, any non-zero byte -> 1.0f.
//
// Every function is a template on a tag (default void) only so that a SIMD kernel can call it for
// its tail with its own arch tag and never share an out-of-line copy with another arch's
// translation unit (see simd/dispatch.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "qkern/core/abi.hpp"

namespace qkern {
namespace reference {
inline namespace QKERN_ABI_NS {

template <class Tag = void>
inline float float_from_bits(std::uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}

/// binary16 bits -> float32 (exact; NaN bits kept: sign, quiet bit and payload).
template <class Tag = void>
inline float f16_to_f32(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t exp = (h >> 10) & 0x1fu;
  const std::uint32_t man = h & 0x3ffu;
  if (exp == 0x1fu) return float_from_bits<Tag>(sign | 0x7f800000u | (man << 13));  // Inf or NaN
  if (exp == 0) {
    // Zero or denormal: man * 2^-24, built from integers (the result is a normal float32 or zero).
    if (man == 0) return float_from_bits<Tag>(sign);
    std::uint32_t e = 127 - 15 + 1;  // biased exponent of 2^-14
    std::uint32_t m = man;
    while ((m & 0x400u) == 0) {  // normalise: shift the leading one into the implicit position
      m <<= 1;
      --e;
    }
    return float_from_bits<Tag>(sign | (e << 23) | ((m & 0x3ffu) << 13));
  }
  return float_from_bits<Tag>(sign | ((exp + 127 - 15) << 23) | (man << 13));
}

/// bfloat16 bits -> float32 (exact, bits kept).
template <class Tag = void>
inline float bf16_to_f32(std::uint16_t h) {
  return float_from_bits<Tag>(static_cast<std::uint32_t>(h) << 16);
}

/// float64 -> float32, nearest even; NaN quieted with the top payload bits kept.
template <class Tag = void>
inline float f64_to_f32(double d) {
  std::uint64_t b;
  std::memcpy(&b, &d, 8);
  if ((b & 0x7fffffffffffffffull) > 0x7ff0000000000000ull) {
    const std::uint32_t sign = static_cast<std::uint32_t>(b >> 32) & 0x80000000u;
    const std::uint32_t payload = static_cast<std::uint32_t>((b & 0x000fffffffffffffull) >> 29);
    return float_from_bits<Tag>(sign | 0x7fc00000u | payload);
  }
  return static_cast<float>(d);
}

/// Integer -> float32 (nearest even where inexact).
template <class T, class Tag = void>
inline float int_to_f32(T v) {
  return static_cast<float>(v);
}

/// bool byte -> float32 (non-zero -> 1).
template <class Tag = void>
inline float bool_to_f32(std::uint8_t v) {
  return v != 0 ? 1.0f : 0.0f;
}

/// Converts n elements stored at `src` (any alignment, native byte order) to float32.
/// `T` is the stored type (std::uint16_t for f16/bf16 via the functions above).
template <class Tag = void>
inline void f16_to_f32(const void* src, std::size_t n, float* out) {
  const unsigned char* p = static_cast<const unsigned char*>(src);
  for (std::size_t i = 0; i < n; ++i) {
    std::uint16_t h;
    std::memcpy(&h, p + 2 * i, 2);
    out[i] = f16_to_f32<Tag>(h);
  }
}

template <class Tag = void>
inline void bf16_to_f32(const void* src, std::size_t n, float* out) {
  const unsigned char* p = static_cast<const unsigned char*>(src);
  for (std::size_t i = 0; i < n; ++i) {
    std::uint16_t h;
    std::memcpy(&h, p + 2 * i, 2);
    out[i] = bf16_to_f32<Tag>(h);
  }
}

template <class Tag = void>
inline void f64_to_f32(const void* src, std::size_t n, float* out) {
  const unsigned char* p = static_cast<const unsigned char*>(src);
  for (std::size_t i = 0; i < n; ++i) {
    double d;
    std::memcpy(&d, p + 8 * i, 8);
    out[i] = f64_to_f32<Tag>(d);
  }
}

template <class T, class Tag = void>
inline void int_to_f32(const void* src, std::size_t n, float* out) {
  const unsigned char* p = static_cast<const unsigned char*>(src);
  for (std::size_t i = 0; i < n; ++i) {
    T v;
    std::memcpy(&v, p + sizeof(T) * i, sizeof(T));
    out[i] = int_to_f32<T, Tag>(v);
  }
}

template <class Tag = void>
inline void bool_to_f32(const void* src, std::size_t n, float* out) {
  const unsigned char* p = static_cast<const unsigned char*>(src);
  for (std::size_t i = 0; i < n; ++i) out[i] = bool_to_f32<Tag>(p[i]);
}

}  // namespace QKERN_ABI_NS
}  // namespace reference
}  // namespace qkern
