// qkern — SPDX-License-Identifier: Apache-2.0
//
// convert.hpp: per-arch integer narrowing and widening that xsimd 8.1 lacks (its converting
// loads/stores truncate, wrap, or go through a scalar copy), and a NaN test that survives
// -ffast-math. Every function is a template on the arch so no two arch translation units ever
// share a symbol.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "qkern/simd/xsimd_compat.hpp"

#if QKERN_SIMD_X86
#include <immintrin.h>
#endif

namespace qkern {
namespace simd {

template <class A, class B>
constexpr bool derives_v = std::is_base_of<B, A>::value;

/// x / y correctly rounded (IEEE-754 division) in every lane. xsimd 8.1's neon64 float division is
/// a reciprocal estimate refined by Newton steps, which misses the correctly rounded quotient near
/// ties (3372 of 33150 near-tie quantize inputs gave another code); AArch64 has a real vector divide.
template <class A>
inline batch<float, A> divide(const batch<float, A>& x, const batch<float, A>& y) {
#if QKERN_SIMD_NEON64
  if constexpr (derives_v<A, xsimd::neon64>) {
    const float32x4_t a = x, b = y;
    return batch<float, A>(vdivq_f32(a, b));
  }
#endif
  return x / y;
}

/// Lanes whose float bits are a NaN. An integer test on the bits, so -ffast-math (which lets the
/// compiler assume x == x) cannot remove it (fault catalogue DT-4).
template <class A>
inline xsimd::batch_bool<std::int32_t, A> nan_mask(const batch<float, A>& x) {
  const auto bits = bitcast<std::int32_t>(x) & batch<std::int32_t, A>(0x7fffffff);
  return bits > batch<std::int32_t, A>(0x7f800000);
}

/// Lanes whose float bits are +-Inf or NaN (exponent all ones).
template <class A>
inline xsimd::batch_bool<std::int32_t, A> nonfinite_mask(const batch<float, A>& x) {
  const auto bits = bitcast<std::int32_t>(x) & batch<std::int32_t, A>(0x7f800000);
  return bits == batch<std::int32_t, A>(0x7f800000);
}

/// Lanes whose float bits are finite, as a float mask (to combine with float compares).
template <class A>
inline xsimd::batch_bool<float, A> finite_mask_f(const batch<float, A>& x) {
#if QKERN_SIMD_NEON64 && (defined(__GNUC__) || defined(__clang__))
  if constexpr (derives_v<A, xsimd::neon64>) {
    // |x| < +Inf as one FACGT (false for NaN), in an asm statement so that -ffast-math cannot fold it.
    uint32x4_t r;
    // +Inf as a MOVI immediate (0x7f << 24): GCC rematerialises it in the loop, and a literal-pool
    // load would cost two instructions there.
    const float32x4_t inf = vreinterpretq_f32_u32(vdupq_n_u32(0x7f800000u)), v = x;
    __asm__("facgt %0.4s, %1.4s, %2.4s" : "=w"(r) : "w"(inf), "w"(v));
    return xsimd::batch_bool<float, A>(r);
  }
#endif
  const auto bits = bitcast<std::int32_t>(x) & batch<std::int32_t, A>(0x7f800000);
  return mask_cast<float>(bits != batch<std::int32_t, A>(0x7f800000));
}

/// Rounding barrier on a vector (see core/fp.hpp fp_opaque): a product passed through it cannot be
/// fused with a later add into an FMA when the kernels are compiled with the caller's flags
/// (header-only use with -march=native and -ffp-contract=fast). No instruction is emitted.
template <class A, class T>
inline batch<T, A> opaque(const batch<T, A>& v) {
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
  typename batch<T, A>::register_type r = v;
#if defined(__AVX512F__)
  __asm__("" : "+v"(r));
#else
  __asm__("" : "+x"(r));
#endif
  return batch<T, A>(r);
#elif (defined(__GNUC__) || defined(__clang__)) && defined(__aarch64__)
  typename batch<T, A>::register_type r = v;
  __asm__("" : "+w"(r));
  return batch<T, A>(r);
#else
  return v;
#endif
}

/// a / b with the IEEE division instruction. Under -ffast-math GCC and clang replace a vector
/// division by a reciprocal estimate and a Newton step (rcpps), which is not correctly rounded
/// (0.75f / 0.5f gave 1.4999999 and quantized to the wrong code); an asm statement cannot be
/// rewritten. Other arches use divide() above (NEON: the vector divide instruction).
template <class A>
inline batch<float, A> exact_div(const batch<float, A>& a, const batch<float, A>& b) {
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
  if constexpr (derives_v<A, xsimd::avx512f>) {
#if defined(__AVX512F__)
    __m512 r;
    const __m512 x = a, y = b;
    __asm__("vdivps %2, %1, %0" : "=v"(r) : "v"(x), "v"(y));
    return r;
#else
    return a / b;  // unreachable: AVX-512 batches need a TU compiled for AVX-512
#endif
  } else if constexpr (derives_v<A, xsimd::avx>) {
#if defined(__AVX__)
    __m256 r;
    const __m256 x = a, y = b;
    __asm__("vdivps %2, %1, %0" : "=x"(r) : "x"(x), "x"(y));
    return r;
#else
    return a / b;  // unreachable, as above
#endif
  } else if constexpr (derives_v<A, xsimd::sse2>) {
    __m128 r = a;
    const __m128 y = b;
#if defined(__AVX__)
    __asm__("vdivps %1, %0, %0" : "+x"(r) : "x"(y));
#else
    __asm__("divps %1, %0" : "+x"(r) : "x"(y));
#endif
    return r;
  } else {
    return a / b;
  }
#else
  return divide(a, b);  // IEEE division on every other arch (NEON: vdivq_f32)
#endif
}

/// Stores the lanes of `v`, each already inside the range of Q, as Q (size lanes, unaligned).
template <class Q, class A>
inline void store_narrow(Q* dst, const batch<std::int32_t, A>& v) {
  constexpr std::size_t n = batch<std::int32_t, A>::size;
  if constexpr (std::is_same<Q, std::int32_t>::value) {
    v.store_unaligned(dst);
#if QKERN_SIMD_NEON64
  } else if constexpr (derives_v<A, xsimd::neon64>) {
    // Saturating narrows (values are in range, so they are exact), one store of 4 codes.
    const int32x4_t x = v;
    if constexpr (std::is_same<Q, std::int8_t>::value) {
      const int16x4_t w = vqmovn_s32(x);
      vst1_lane_s32(reinterpret_cast<std::int32_t*>(static_cast<void*>(dst)),
                    vreinterpret_s32_s8(vqmovn_s16(vcombine_s16(w, w))), 0);
    } else if constexpr (std::is_same<Q, std::uint8_t>::value) {
      const int16x4_t w = vqmovn_s32(x);
      vst1_lane_u32(reinterpret_cast<std::uint32_t*>(static_cast<void*>(dst)),
                    vreinterpret_u32_u8(vqmovun_s16(vcombine_s16(w, w))), 0);
    } else if constexpr (std::is_same<Q, std::int16_t>::value) {
      vst1_s16(dst, vqmovn_s32(x));
    } else {
      vst1_u16(dst, vqmovun_s32(x));
    }
#endif
#if QKERN_SIMD_X86
  } else if constexpr (derives_v<A, xsimd::avx512f>) {
    // Values are in range, so the truncating down-conversions are exact.
    if constexpr (sizeof(Q) == 1)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), _mm512_cvtepi32_epi8(v));
    else
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), _mm512_cvtepi32_epi16(v));
  } else if constexpr (derives_v<A, xsimd::avx2>) {
    const __m256i x = v;
    const __m128i lo = _mm256_castsi256_si128(x), hi = _mm256_extracti128_si256(x, 1);
    if constexpr (std::is_same<Q, std::int8_t>::value) {
      const __m128i w = _mm_packs_epi32(lo, hi);
      _mm_storel_epi64(reinterpret_cast<__m128i*>(dst), _mm_packs_epi16(w, w));
    } else if constexpr (std::is_same<Q, std::uint8_t>::value) {
      const __m128i w = _mm_packs_epi32(lo, hi);
      _mm_storel_epi64(reinterpret_cast<__m128i*>(dst), _mm_packus_epi16(w, w));
    } else if constexpr (std::is_same<Q, std::int16_t>::value) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), _mm_packs_epi32(lo, hi));
    } else {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), _mm_packus_epi32(lo, hi));
    }
  } else if constexpr (derives_v<A, xsimd::sse2> && n == 4) {
    const __m128i x = v;
    if constexpr (std::is_same<Q, std::int8_t>::value || std::is_same<Q, std::uint8_t>::value) {
      const __m128i w = _mm_packs_epi32(x, x);
      const __m128i b = std::is_same<Q, std::int8_t>::value ? _mm_packs_epi16(w, w) : _mm_packus_epi16(w, w);
      const std::int32_t four = _mm_cvtsi128_si32(b);
      std::memcpy(dst, &four, 4);
    } else if constexpr (std::is_same<Q, std::int16_t>::value) {
      _mm_storel_epi64(reinterpret_cast<__m128i*>(dst), _mm_packs_epi32(x, x));
    } else {
      // uint16 without SSE4.1's packus_epi32: bias into int16, pack, flip the sign bit back.
      const __m128i biased = _mm_sub_epi32(x, _mm_set1_epi32(32768));
      const __m128i w = _mm_xor_si128(_mm_packs_epi32(biased, biased), _mm_set1_epi16(-32768));
      _mm_storel_epi64(reinterpret_cast<__m128i*>(dst), w);
    }
#endif
  } else {
    alignas(64) std::int32_t lanes[n];
    v.store_aligned(lanes);
    for (std::size_t i = 0; i < n; ++i) dst[i] = static_cast<Q>(lanes[i]);
  }
}

/// Loads size codes of type Q (unaligned) widened to int32 lanes.
template <class A, class Q>
inline batch<std::int32_t, A> load_widen(const Q* src) {
  using BI = batch<std::int32_t, A>;
  constexpr std::size_t n = BI::size;
  constexpr bool is_s8 = std::is_same<Q, std::int8_t>::value, is_u8 = std::is_same<Q, std::uint8_t>::value;
  constexpr bool is_s16 = std::is_same<Q, std::int16_t>::value;
  (void)is_s8, (void)is_u8, (void)is_s16;
  if constexpr (std::is_same<Q, std::int32_t>::value) {
    return BI::load_unaligned(src);
#if QKERN_SIMD_NEON64
  } else if constexpr (derives_v<A, xsimd::neon64>) {
    if constexpr (sizeof(Q) == 1) {
      // One 32-bit lane load of 4 codes, then two widening moves.
      const int32x2_t four =
          vld1_lane_s32(reinterpret_cast<const std::int32_t*>(static_cast<const void*>(src)), vdup_n_s32(0), 0);
      if constexpr (is_s8)
        return BI(vmovl_s16(vget_low_s16(vmovl_s8(vreinterpret_s8_s32(four)))));
      else
        return BI(vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(vmovl_u8(vreinterpret_u8_s32(four))))));
    } else if constexpr (is_s16) {
      return BI(vmovl_s16(vld1_s16(src)));
    } else {
      return BI(vreinterpretq_s32_u32(vmovl_u16(vld1_u16(src))));
    }
#endif
#if QKERN_SIMD_X86
  } else if constexpr (derives_v<A, xsimd::avx512f>) {
    if constexpr (sizeof(Q) == 1) {
      const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src));
      return BI(is_s8 ? _mm512_cvtepi8_epi32(b) : _mm512_cvtepu8_epi32(b));
    } else {
      const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src));
      return BI(is_s16 ? _mm512_cvtepi16_epi32(w) : _mm512_cvtepu16_epi32(w));
    }
  } else if constexpr (derives_v<A, xsimd::avx2>) {
    if constexpr (sizeof(Q) == 1) {
      const __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(src));
      return BI(is_s8 ? _mm256_cvtepi8_epi32(b) : _mm256_cvtepu8_epi32(b));
    } else {
      const __m128i w = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src));
      return BI(is_s16 ? _mm256_cvtepi16_epi32(w) : _mm256_cvtepu16_epi32(w));
    }
  } else if constexpr (derives_v<A, xsimd::sse2> && n == 4) {
    if constexpr (sizeof(Q) == 1) {
      std::int32_t four;
      std::memcpy(&four, src, 4);
      const __m128i b = _mm_cvtsi32_si128(four);
      if constexpr (is_s8) {
        const __m128i w = _mm_unpacklo_epi8(b, b);
        return BI(_mm_srai_epi32(_mm_unpacklo_epi16(w, w), 24));
      } else {
        (void)is_u8;
        const __m128i z = _mm_setzero_si128();
        return BI(_mm_unpacklo_epi16(_mm_unpacklo_epi8(b, z), z));
      }
    } else {
      const __m128i w = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(src));
      if constexpr (is_s16)
        return BI(_mm_srai_epi32(_mm_unpacklo_epi16(w, w), 16));
      else
        return BI(_mm_unpacklo_epi16(w, _mm_setzero_si128()));
    }
#endif
  } else {
    alignas(64) std::int32_t lanes[n];
    for (std::size_t i = 0; i < n; ++i) lanes[i] = static_cast<std::int32_t>(src[i]);
    return BI::load_aligned(lanes);
  }
}

/// Whether load_widen4_sub has a block implementation for A and Q (NEON: one or two 16-byte loads
/// per 16 codes instead of a load per vector).
template <class A, class Q>
constexpr bool has_load_widen4_sub_v = QKERN_SIMD_NEON64&& derives_v<A, xsimd::neon64> &&
                                       (sizeof(Q) == 1 || sizeof(Q) == 2) && batch<std::int32_t, A>::size == 4;

/// out[k] = the codes src[4k, 4k + 4) widened to int32, minus zp (k < 4: 16 codes), for a zp that
/// Q can represent (then every difference is exact). Only where has_load_widen4_sub_v<A, Q>.
/// The zero point is subtracted while widening the last step (SSUBL / USUBL): 8-bit codes go to
/// int16 with SXTL / UXTL (exact), 16-bit codes are subtracted as they are (USUBL's 32-bit result
/// of two uint16 is the exact difference modulo 2^32, i.e. as int32).
template <class A, class Q>
inline void load_widen4_sub(const Q* src, std::int32_t zp, batch<std::int32_t, A> (&out)[4]) {
  using BI = batch<std::int32_t, A>;
#if QKERN_SIMD_NEON64
  if constexpr (has_load_widen4_sub_v<A, Q>) {
    if constexpr (sizeof(Q) == 1 || std::is_same<Q, std::int16_t>::value) {
      int16x8_t lo, hi;
      if constexpr (std::is_same<Q, std::int8_t>::value) {
        const int8x16_t c = vld1q_s8(src);
        lo = vmovl_s8(vget_low_s8(c));
        hi = vmovl_high_s8(c);
      } else if constexpr (std::is_same<Q, std::uint8_t>::value) {
        const uint8x16_t c = vld1q_u8(src);
        lo = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(c)));
        hi = vreinterpretq_s16_u16(vmovl_high_u8(c));
      } else {
        lo = vld1q_s16(src);
        hi = vld1q_s16(src + 8);
      }
      const int16x8_t z = vdupq_n_s16(static_cast<std::int16_t>(zp));
      out[0] = BI(vsubl_s16(vget_low_s16(lo), vget_low_s16(z)));
      out[1] = BI(vsubl_high_s16(lo, z));
      out[2] = BI(vsubl_s16(vget_low_s16(hi), vget_low_s16(z)));
      out[3] = BI(vsubl_high_s16(hi, z));
    } else {
      const uint16x8_t lo = vld1q_u16(src), hi = vld1q_u16(src + 8);
      const uint16x8_t z = vdupq_n_u16(static_cast<std::uint16_t>(zp));
      out[0] = BI(vreinterpretq_s32_u32(vsubl_u16(vget_low_u16(lo), vget_low_u16(z))));
      out[1] = BI(vreinterpretq_s32_u32(vsubl_high_u16(lo, z)));
      out[2] = BI(vreinterpretq_s32_u32(vsubl_u16(vget_low_u16(hi), vget_low_u16(z))));
      out[3] = BI(vreinterpretq_s32_u32(vsubl_high_u16(hi, z)));
    }
    return;
  }
#endif
  const BI z(zp);
  for (int k = 0; k < 4; ++k) out[k] = load_widen<A>(src + 4 * k) - z;
}

}  // namespace simd
}  // namespace qkern
