// qkern — SPDX-License-Identifier: Apache-2.0
//
// store.hpp: block stores of four vectors at once, narrowed to the code type and packed into full
// register-width stores, ordinary or streaming (non-temporal). Streaming stores bypass the caches:
// they raise the DRAM-bound throughput of a large map by 17-50%, but are about 3x slower when the
// output would have stayed in cache, so kernels choose them by size (streaming_pays). Every function
// is a template on the arch so no two arch translation units ever share a symbol.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "qkern/simd/convert.hpp"

#if QKERN_SIMD_X86
#include <immintrin.h>
#endif

#ifndef QKERN_STREAMING_MIN_BYTES
/// Bytes (input + output) from which a one-pass map uses streaming stores: beyond a typical L3.
#define QKERN_STREAMING_MIN_BYTES (24u << 20)
#endif

namespace qkern {
namespace simd {

/// True when streaming stores are implemented for A (every x86 arch; elsewhere Stream is ignored:
/// aarch64's STNP is only a hint that the data need not stay in cache, measured nowhere yet).
/// (xsimd 8.1 does not derive avx from sse4_2 nor avx512f from avx2, so each family is named.)
template <class A>
constexpr bool can_stream_v = QKERN_SIMD_X86 &&
                              (derives_v<A, xsimd::sse2> || derives_v<A, xsimd::avx> || derives_v<A, xsimd::avx512f>);

/// Alignment (bytes) a streaming block store needs at its destination, for every arch.
inline constexpr std::size_t kStreamAlign = 64;

/// Bytes (input + output) from which maps use streaming stores; QKERN_STREAMING_MIN_BYTES unless
/// changed at run time (tests set 0 to run the streaming path on small buffers; a host with a very
/// different last-level cache may tune it). Not synchronised: set it before starting kernels.
inline std::size_t streaming_min_bytes = QKERN_STREAMING_MIN_BYTES;

/// Whether a map touching `bytes` bytes in total should use streaming stores.
template <class A>
inline bool streaming_pays(std::size_t bytes) {
  return can_stream_v<A> && bytes >= streaming_min_bytes;
}

/// Orders streaming stores before later stores (call once after a streaming loop).
template <class A>
inline void stream_fence() {
#if QKERN_SIMD_X86
  if constexpr (can_stream_v<A>) _mm_sfence();
#endif
}

namespace detail {

// Register width of A in bytes (16, 32 or 64 on x86, 16 on aarch64).
template <class A>
constexpr std::size_t register_bytes_v = batch<std::int32_t, A>::size * 4;

#if QKERN_SIMD_X86
template <bool Stream, class A>
inline void store_si(void* dst, const typename batch<std::int32_t, A>::register_type& v) {
  if constexpr (register_bytes_v<A> == 16) {
    if (Stream)
      _mm_stream_si128(static_cast<__m128i*>(dst), v);
    else
      _mm_storeu_si128(static_cast<__m128i*>(dst), v);
  } else if constexpr (register_bytes_v<A> == 32) {
    if (Stream)
      _mm256_stream_si256(static_cast<__m256i*>(dst), v);
    else
      _mm256_storeu_si256(static_cast<__m256i*>(dst), v);
  } else {
    if (Stream)
      _mm512_stream_si512(static_cast<__m512i*>(dst), v);
    else
      _mm512_storeu_si512(dst, v);
  }
}
#endif

}  // namespace detail

/// Stores the lanes of a, b, c, d (in this order, each lane already inside the range of Q) as
/// 4 * size values of Q at dst. With Stream (x86), non-temporal stores: dst must be kStreamAlign
/// aligned.
template <class Q, bool Stream, class A>
inline void store_narrow4(Q* dst, const batch<std::int32_t, A>& a, const batch<std::int32_t, A>& b,
                          const batch<std::int32_t, A>& c, const batch<std::int32_t, A>& d) {
  constexpr std::size_t n = batch<std::int32_t, A>::size;
  constexpr bool is_s8 = std::is_same<Q, std::int8_t>::value, is_u8 = std::is_same<Q, std::uint8_t>::value;
  constexpr bool is_s16 = std::is_same<Q, std::int16_t>::value, is_u16 = std::is_same<Q, std::uint16_t>::value;
  (void)is_s8, (void)is_u8, (void)is_s16, (void)is_u16;
  if constexpr (false) {
#if QKERN_SIMD_NEON64
  } else if constexpr (derives_v<A, xsimd::neon64> && (is_s8 || is_u8 || is_s16 || is_u16)) {
    // Saturating narrows (exact: values are in range) into one 16-byte store per 16 codes.
    const int32x4_t va = a, vb = b, vc = c, vd = d;
    if constexpr (sizeof(Q) == 1) {
      const int16x8_t ab = vqmovn_high_s32(vqmovn_s32(va), vb), cd = vqmovn_high_s32(vqmovn_s32(vc), vd);
      if constexpr (is_s8)
        vst1q_s8(reinterpret_cast<std::int8_t*>(dst), vqmovn_high_s16(vqmovn_s16(ab), cd));
      else
        vst1q_u8(reinterpret_cast<std::uint8_t*>(dst), vqmovun_high_s16(vqmovun_s16(ab), cd));
    } else if constexpr (is_s16) {
      vst1q_s16(reinterpret_cast<std::int16_t*>(dst), vqmovn_high_s32(vqmovn_s32(va), vb));
      vst1q_s16(reinterpret_cast<std::int16_t*>(dst) + 2 * n, vqmovn_high_s32(vqmovn_s32(vc), vd));
    } else {
      vst1q_u16(reinterpret_cast<std::uint16_t*>(dst), vqmovun_high_s32(vqmovun_s32(va), vb));
      vst1q_u16(reinterpret_cast<std::uint16_t*>(dst) + 2 * n, vqmovun_high_s32(vqmovun_s32(vc), vd));
    }
#endif
#if QKERN_SIMD_X86
  } else if constexpr (derives_v<A, xsimd::avx512f> && (is_s8 || is_u8 || is_s16 || is_u16)) {
    // Values are in range, so the truncating down-conversions are exact.
    if constexpr (sizeof(Q) == 1) {
      __m512i r = _mm512_castsi128_si512(_mm512_cvtepi32_epi8(a));
      r = _mm512_inserti32x4(r, _mm512_cvtepi32_epi8(b), 1);
      r = _mm512_inserti32x4(r, _mm512_cvtepi32_epi8(c), 2);
      r = _mm512_inserti32x4(r, _mm512_cvtepi32_epi8(d), 3);
      detail::store_si<Stream, A>(dst, r);
    } else {
      const __m512i ab =
          _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvtepi32_epi16(a)), _mm512_cvtepi32_epi16(b), 1);
      const __m512i cd =
          _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvtepi32_epi16(c)), _mm512_cvtepi32_epi16(d), 1);
      detail::store_si<Stream, A>(dst, ab);
      detail::store_si<Stream, A>(dst + 2 * n, cd);
    }
  } else if constexpr (derives_v<A, xsimd::avx2> && (is_s8 || is_u8 || is_s16 || is_u16)) {
    // 256-bit packs work within 128-bit halves; a fixed permutation restores the lane order.
    if constexpr (sizeof(Q) == 1) {
      const __m256i ab = _mm256_packs_epi32(a, b), cd = _mm256_packs_epi32(c, d);
      const __m256i r = is_s8 ? _mm256_packs_epi16(ab, cd) : _mm256_packus_epi16(ab, cd);
      detail::store_si<Stream, A>(dst, _mm256_permutevar8x32_epi32(r, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
    } else {
      const __m256i ab = is_s16 ? _mm256_packs_epi32(a, b) : _mm256_packus_epi32(a, b);
      const __m256i cd = is_s16 ? _mm256_packs_epi32(c, d) : _mm256_packus_epi32(c, d);
      detail::store_si<Stream, A>(dst, _mm256_permute4x64_epi64(ab, 0xd8));
      detail::store_si<Stream, A>(dst + 2 * n, _mm256_permute4x64_epi64(cd, 0xd8));
    }
  } else if constexpr (derives_v<A, xsimd::sse2> && n == 4 && (is_s8 || is_u8 || is_s16)) {
    const __m128i ab = _mm_packs_epi32(a, b), cd = _mm_packs_epi32(c, d);
    if constexpr (sizeof(Q) == 1) {
      detail::store_si<Stream, A>(dst, is_s8 ? _mm_packs_epi16(ab, cd) : _mm_packus_epi16(ab, cd));
    } else {
      detail::store_si<Stream, A>(dst, ab);
      detail::store_si<Stream, A>(dst + 2 * n, cd);
    }
  } else if constexpr (derives_v<A, xsimd::sse2> && n == 4 && is_u16) {
    // uint16 without SSE4.1's packus_epi32: bias into int16, pack, flip the sign bit back.
    const __m128i bias = _mm_set1_epi32(32768), flip = _mm_set1_epi16(-32768);
    const __m128i ab = _mm_xor_si128(_mm_packs_epi32(_mm_sub_epi32(a, bias), _mm_sub_epi32(b, bias)), flip);
    const __m128i cd = _mm_xor_si128(_mm_packs_epi32(_mm_sub_epi32(c, bias), _mm_sub_epi32(d, bias)), flip);
    detail::store_si<Stream, A>(dst, ab);
    detail::store_si<Stream, A>(dst + 2 * n, cd);
#endif
  } else {
    store_narrow<Q>(dst, a);
    store_narrow<Q>(dst + n, b);
    store_narrow<Q>(dst + 2 * n, c);
    store_narrow<Q>(dst + 3 * n, d);
  }
}

/// Stores a, b, c, d at dst (4 * size floats). With Stream (x86), non-temporal stores: dst must be
/// kStreamAlign aligned.
template <bool Stream, class A>
inline void store4(float* dst, const batch<float, A>& a, const batch<float, A>& b, const batch<float, A>& c,
                   const batch<float, A>& d) {
  constexpr std::size_t n = batch<float, A>::size;
  if constexpr (false) {
#if QKERN_SIMD_X86
  } else if constexpr (Stream && can_stream_v<A>) {
    using R = typename batch<float, A>::register_type;
    const batch<float, A>* v[4] = {&a, &b, &c, &d};
    for (std::size_t j = 0; j < 4; ++j) {
      const R r = *v[j];
      if constexpr (detail::register_bytes_v<A> == 16)
        _mm_stream_ps(dst + j * n, r);
      else if constexpr (detail::register_bytes_v<A> == 32)
        _mm256_stream_ps(dst + j * n, r);
      else
        _mm512_stream_ps(dst + j * n, r);
    }
#endif
  } else {
    a.store_unaligned(dst);
    b.store_unaligned(dst + n);
    c.store_unaligned(dst + 2 * n);
    d.store_unaligned(dst + 3 * n);
  }
}

}  // namespace simd
}  // namespace qkern
