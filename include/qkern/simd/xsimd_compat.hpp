// qkern — SPDX-License-Identifier: Apache-2.0
//
// xsimd_compat.hpp: every spelling that differs between xsimd 8.1 (Debian bookworm) and current
// xsimd releases. Nothing else in qkern names xsimd::generic, Arch::version(), batch_constant,
// hadd / reduce_*, or the two bitwise_cast spellings.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <xsimd/xsimd.hpp>

#include "qkern/simd/isa.hpp"

#if QKERN_SIMD_NONE
// Without any SIMD arch, xsimd 8.1 declares its batch types but none of its free functions, so the
// kernel templates (never instantiated here: dispatch runs the scalar references) would not even
// parse. Declared deleted: a kernel instantiated on such a target by mistake fails to compile.
namespace xsimd {
template <class... T>
void all(const T&...) = delete;
template <class... T>
void any(const T&...) = delete;
template <class R, class... T>
R bitwise_cast(const T&...) = delete;
template <class... T>
void bool_cast(const T&...) = delete;
template <class... T>
void hadd(const T&...) = delete;
template <class... T>
void nearbyint_as_int(const T&...) = delete;
template <class... T>
void select(const T&...) = delete;
template <class... T>
void to_float(const T&...) = delete;
template <class... T>
void to_int(const T&...) = delete;
}  // namespace xsimd
#endif

namespace qkern {
namespace simd {

template <class T, class A>
using batch = xsimd::batch<T, A>;

/// Reinterpret the bits of a batch as another element type of the same width.
template <class To, class From, class A>
inline batch<To, A> bitcast(const batch<From, A>& x) {
#if QKERN_SIMD_NEON64
  // xsimd 8.1's neon bitwise_cast picks the vreinterpretq from a table of function pointers, which
  // GCC 12 leaves as an out-of-line call in larger loops (and then keeps every live vector on the
  // stack across it: the histogram's fast path reloaded three constants per vector). A cast between
  // same-size NEON vector types is the reinterpretation itself (arm_neon.h spells vreinterpretq so).
  if constexpr (std::is_base_of<xsimd::neon64, A>::value) {
    using To_reg = typename batch<To, A>::register_type;
    using From_reg = typename batch<From, A>::register_type;
    static_assert(sizeof(To_reg) == sizeof(From_reg), "bitcast between registers of different widths");
    return batch<To, A>((To_reg)(From_reg)(x));
  } else
#endif
  {
#if XSIMD_VERSION_MAJOR < 11
    return xsimd::bitwise_cast<batch<To, A>>(x);
#else
    return xsimd::bitwise_cast<To>(x);
#endif
  }
}

/// batch_bool<float> -> batch_bool<int32_t> (and back), same lane count.
template <class To, class From, class A>
inline xsimd::batch_bool<To, A> mask_cast(const xsimd::batch_bool<From, A>& m) {
#if XSIMD_VERSION_MAJOR < 9
  return xsimd::bool_cast(m);
#else
  return xsimd::batch_bool_cast<To>(m);
#endif
}

/// Lane-wise `m ? a : b`: xsimd::select, except where xsimd 8.1 does not compile. Its avx512bw
/// select of integer batches switches on sizeof(T) at run time, so the 8- and 16-bit branches
/// (_mm512_mask_blend_epi8/16) are compiled for 32-bit lanes too, and without optimisation
/// (__OPTIMIZE__ unset: g++ -O0, the Debug build type) GCC's <avx512bwintrin.h> defines those
/// intrinsics as macros that cast their operands to __v64qi / __v32hi, which a batch cannot be cast
/// to: every TU instantiating an AVX-512 integer select failed to compile. 32- and 64-bit integer
/// lanes take the AVX-512F blend here, the instruction xsimd's select reaches for them anyway, so the
/// result is the same at every optimisation level. Kernels call this, never xsimd::select.
template <class T, class A>
inline batch<T, A> lane_select(const xsimd::batch_bool<T, A>& m, const batch<T, A>& a, const batch<T, A>& b) {
#if QKERN_SIMD_X86 && XSIMD_VERSION_MAJOR < 9 && XSIMD_WITH_AVX512BW
  if constexpr (std::is_integral<T>::value && std::is_base_of<xsimd::avx512bw, A>::value) {
    static_assert(sizeof(T) == 4 || sizeof(T) == 8, "qkern::simd::lane_select: add 8/16-bit AVX-512 lanes here");
    if constexpr (sizeof(T) == 4) {
      return _mm512_mask_blend_epi32(m, b, a);
    } else {
      return _mm512_mask_blend_epi64(m, b, a);
    }
  } else
#endif
  {
    return xsimd::select(m, a, b);
  }
}

// Horizontal reductions. xsimd 8.1 has only hadd; min/max are reduced through memory, which is
// exact and order-independent for the NaN-free inputs qkern passes here.
template <class T, class A>
inline T reduce_add(const batch<T, A>& x) {
#if XSIMD_VERSION_MAJOR < 9
  return xsimd::hadd(x);
#else
  return xsimd::reduce_add(x);
#endif
}

template <class T, class A>
inline T reduce_min(const batch<T, A>& x) {
  alignas(64) T lanes[batch<T, A>::size];
  x.store_aligned(lanes);
  T m = lanes[0];
  for (std::size_t i = 1; i < batch<T, A>::size; ++i) m = lanes[i] < m ? lanes[i] : m;
  return m;
}

template <class T, class A>
inline T reduce_max(const batch<T, A>& x) {
  alignas(64) T lanes[batch<T, A>::size];
  x.store_aligned(lanes);
  T m = lanes[0];
  for (std::size_t i = 1; i < batch<T, A>::size; ++i) m = lanes[i] > m ? lanes[i] : m;
  return m;
}

}  // namespace simd
}  // namespace qkern
