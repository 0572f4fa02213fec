// qkern — SPDX-License-Identifier: Apache-2.0
//
// core/fp.hpp: floating-point helpers for code compiled with the *caller's* flags (everything that is
// not a per-arch dispatch translation unit: observers, choose_params, fitting, folding, metrics,
// analysis, and the kernels themselves in a header-only build). See docs/floating-point.md.
//
// - is_finite / is_nan / is_inf test the bits, so -ffast-math (-ffinite-math-only lets the compiler
//   assume x == x and fold std::isfinite to true) cannot remove them (fault catalogue DT-4). Every
//   gate in front of a float->int conversion or an index uses them.
// - fp_opaque(x) is a rounding barrier: an empty asm statement that takes x in a register and gives
//   it back, so the compiler must materialise the rounded value and cannot see through it. A
//   product passed through it can no longer be contracted with a following add into an FMA
//   (-ffp-contract=fast, GCC's default, with -march levels that have FMA), and -ffast-math cannot
//   reassociate or re-derive across it. Not volatile: it costs no instruction and still lets the
//   compiler drop unused results. fp_mul / fp_add / fp_sub / fp_div round each operation on its own.
// - fp_div divides with the IEEE division instruction also under -ffast-math, which otherwise may
//   turn a / b into a * (1 / b) or a reciprocal estimate.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "qkern/core/abi.hpp"

namespace qkern {
inline namespace QKERN_ABI_NS {
namespace detail {

/// Rounding barrier (see the file comment). Identity on the value; works for float and double.
/// Kernels pass their arch as Tag, so that no untagged copy is emitted in an arch TU.
template <class T, class Tag = void>
inline T fp_opaque(T x) noexcept {
  static_assert(std::is_floating_point<T>::value, "fp_opaque is for float and double");
#if defined(__GNUC__) || defined(__clang__)
#if (defined(__x86_64__) || defined(__i386__)) && defined(__SSE2__)
  __asm__("" : "+x"(x));
#elif defined(__aarch64__)
  __asm__("" : "+w"(x));
#else
  __asm__("" : "+m"(x));
#endif
#endif
  return x;
}

/// a * b, rounded once and opaque (never fused with a later add).
template <class T>
inline T fp_mul(T a, T b) noexcept {
  return fp_opaque(fp_opaque(a) * fp_opaque(b));
}
/// a + b, rounded once and opaque.
template <class T>
inline T fp_add(T a, T b) noexcept {
  return fp_opaque(fp_opaque(a) + fp_opaque(b));
}
/// a - b, rounded once and opaque.
template <class T>
inline T fp_sub(T a, T b) noexcept {
  return fp_opaque(fp_opaque(a) - fp_opaque(b));
}
/// a / b with the IEEE division (correctly rounded) under any flags.
template <class T>
inline T fp_div(T a, T b) noexcept {
  static_assert(std::is_floating_point<T>::value, "fp_div is for float and double");
#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__) && defined(__SSE2__)
  T r;
  if constexpr (std::is_same<T, float>::value) {
#if defined(__AVX__)
    __asm__("vdivss %2, %1, %0" : "=x"(r) : "x"(a), "x"(b));
#else
    r = a;
    __asm__("divss %1, %0" : "+x"(r) : "x"(b));
#endif
  } else {
#if defined(__AVX__)
    __asm__("vdivsd %2, %1, %0" : "=x"(r) : "x"(a), "x"(b));
#else
    r = a;
    __asm__("divsd %1, %0" : "+x"(r) : "x"(b));
#endif
  }
  return r;
#elif (defined(__GNUC__) || defined(__clang__)) && defined(__aarch64__)
  T r;
  if constexpr (std::is_same<T, float>::value)
    __asm__("fdiv %s0, %s1, %s2" : "=w"(r) : "w"(a), "w"(b));
  else
    __asm__("fdiv %d0, %d1, %d2" : "=w"(r) : "w"(a), "w"(b));
  return r;
#else
  return fp_opaque(fp_opaque(a) / fp_opaque(b));
#endif
}

inline std::uint32_t float_bits(float x) noexcept {
  std::uint32_t b;
  std::memcpy(&b, &x, 4);
  return b;
}
inline std::uint64_t double_bits(double x) noexcept {
  std::uint64_t b;
  std::memcpy(&b, &x, 8);
  return b;
}

/// Finite (not NaN, not +-Inf), from the bits.
inline bool is_finite(float x) noexcept { return (float_bits(x) & 0x7f800000u) != 0x7f800000u; }
inline bool is_finite(double x) noexcept { return (double_bits(x) & 0x7ff0000000000000ull) != 0x7ff0000000000000ull; }
/// NaN (any payload, either sign), from the bits.
inline bool is_nan(float x) noexcept { return (float_bits(x) & 0x7fffffffu) > 0x7f800000u; }
inline bool is_nan(double x) noexcept { return (double_bits(x) & 0x7fffffffffffffffull) > 0x7ff0000000000000ull; }
/// +Inf or -Inf, from the bits.
inline bool is_inf(float x) noexcept { return (float_bits(x) & 0x7fffffffu) == 0x7f800000u; }
inline bool is_inf(double x) noexcept { return (double_bits(x) & 0x7fffffffffffffffull) == 0x7ff0000000000000ull; }

}  // namespace detail
}  // namespace QKERN_ABI_NS
}  // namespace qkern
