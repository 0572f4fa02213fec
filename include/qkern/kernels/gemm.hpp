// qkern — SPDX-License-Identifier: Apache-2.0
//
// kernels/gemm.hpp: exact int8 x int8 -> int32 and uint8 x int8 -> int32 matrix multiply on a
// packed B, checked bit for bit against reference/gemm.hpp on every arch.
//
// Packed B (see PackedBView): panels of 16 columns; within a panel, groups of 4 consecutive k;
// within a group, for each of the 16 columns its 4 int8 values (64 bytes per group). Columns
// beyond N and k beyond K are zero. This is the operand layout of vpdpbusd (AVX-512 VNNI) and,
// after sign extension to int16, of vpmaddwd.
//
// Arithmetic (all exact): A and B are widened to int16 and multiplied with pmaddwd, whose int32
// lanes sum two products (at most 2 * 255 * 128 in magnitude, far from overflow); the two pair
// sums of a 4-group of the same column are added once at the end (hadd / shuffles). pmaddubsw is
// NOT used on the exact path: it saturates each pair sum to int16 (255 * 127 * 2 > 32767). The
// option saturate_pairs emulates exactly that saturation (RQ-5) with pmaddubsw itself (SSSE3 and
// up; SSE2 computes those lanes in scalar code).
//
// AVX-512: the avx512bw kernel uses vpdpbusd for u8 x s8 (no saturation, unlike vpdpbusds) when
// the CPU reports avx512vnni at run time (xsimd 8.1 has no VNNI arch), the 512-bit pmaddwd path
// otherwise.
//
// aarch64: the packed group is also SDOT's operand layout (4 columns x 4 k per 16 bytes against
// the row's 4 bytes broadcast to every 32-bit lane). neon64_dotprod: SDOT for s8 x s8; u8 x s8 as
// SDOT of (a - 128) plus 128 * the column sums of B (themselves an SDOT against ones), exact in
// int32. neon64_i8mm: USDOT for u8 x s8. neon64: widening multiply-accumulate (vmlal_s16) of
// int16-widened operands into one accumulator per column, reduced by pairwise adds. saturate_pairs:
// the pair sums (vmull + vpaddq) saturated with vqmovn, on every level.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include "qkern/simd/convert.hpp"
#include "qkern/simd/scratch.hpp"

#if QKERN_SIMD_X86
#include <immintrin.h>
#endif

namespace qkern {
namespace kernels {

/// Columns per packed panel and k per group.
inline constexpr std::size_t kGemmPanel = 16;
inline constexpr std::size_t kGemmKGroup = 4;

/// A packed B: panels = ceil(N / 16), k_groups = ceil(K / 4), data of panels * k_groups * 64 bytes.
struct PackedBView {
  const std::int8_t* data;
  std::size_t K, N, k_groups, panels;
};

namespace detail {

template <class A>
using GI = simd::batch<std::int32_t, A>;

#if QKERN_SIMD_NEON64
// SDOT / USDOT, only in translation units compiled for them (the dispatch helper's -march of the
// neon64_dotprod / neon64_i8mm levels).
template <class A>
inline int32x4_t gemm_sdot(int32x4_t acc, int8x16_t b, int8x16_t a) {
#if defined(__ARM_FEATURE_DOTPROD)
  return vdotq_s32(acc, b, a);
#else
  static_assert(sizeof(A) == 0, "neon64_dotprod kernels need -march=armv8.2-a+dotprod");
  (void)a, (void)b;
  return acc;
#endif
}
template <class A>
inline int32x4_t gemm_usdot(int32x4_t acc, uint8x16_t a, int8x16_t b) {
#if defined(__ARM_FEATURE_MATMUL_INT8)
  return vusdotq_s32(acc, a, b);
#else
  static_assert(sizeof(A) == 0, "neon64_i8mm kernels need -march=armv8.2-a+dotprod+i8mm");
  (void)a, (void)b;
  return acc;
#endif
}

// The dot-product levels: 4 SDOT/USDOT per row and 4-group cover the panel's 16 columns.
template <class A, class TA, std::size_t R>
inline void gemm_neon_dot_panel(const std::int32_t* a8, std::size_t KG, const std::int8_t* panel, std::int32_t* out) {
  constexpr bool is_u8 = std::is_same<TA, std::uint8_t>::value;
  int32x4_t acc[R][4], colsum[4];
  for (std::size_t v = 0; v < 4; ++v) {
    colsum[v] = vdupq_n_s32(0);
    for (std::size_t r = 0; r < R; ++r) acc[r][v] = vdupq_n_s32(0);
  }
  for (std::size_t g = 0; g < KG; ++g) {
    int8x16_t b[4];
    for (std::size_t v = 0; v < 4; ++v) b[v] = vld1q_s8(panel + g * 64 + v * 16);
    if constexpr (!is_u8) {
      for (std::size_t r = 0; r < R; ++r) {
        const int8x16_t av = vreinterpretq_s8_s32(vdupq_n_s32(a8[r * KG + g]));
        for (std::size_t v = 0; v < 4; ++v) acc[r][v] = gemm_sdot<A>(acc[r][v], b[v], av);
      }
    } else if constexpr (simd::derives_v<A, simd::neon64_i8mm>) {
      for (std::size_t r = 0; r < R; ++r) {
        const uint8x16_t av = vreinterpretq_u8_s32(vdupq_n_s32(a8[r * KG + g]));
        for (std::size_t v = 0; v < 4; ++v) acc[r][v] = gemm_usdot<A>(acc[r][v], av, b[v]);
      }
    } else {
      const int8x16_t ones = vdupq_n_s8(1);
      for (std::size_t v = 0; v < 4; ++v) colsum[v] = gemm_sdot<A>(colsum[v], b[v], ones);
      for (std::size_t r = 0; r < R; ++r) {
        const std::int32_t flipped =
            static_cast<std::int32_t>(static_cast<std::uint32_t>(a8[r * KG + g]) ^ 0x80808080u);
        const int8x16_t av = vreinterpretq_s8_s32(vdupq_n_s32(flipped));  // a - 128 as int8
        for (std::size_t v = 0; v < 4; ++v) acc[r][v] = gemm_sdot<A>(acc[r][v], b[v], av);
      }
    }
  }
  for (std::size_t r = 0; r < R; ++r)
    for (std::size_t v = 0; v < 4; ++v) {
      int32x4_t c = acc[r][v];
      if constexpr (is_u8 && !simd::derives_v<A, simd::neon64_i8mm>) c = vaddq_s32(c, vshlq_n_s32(colsum[v], 7));
      vst1q_s32(out + r * kGemmPanel + v * 4, c);
    }
}

// One panel (16 columns) of R rows: out[r * kGemmPanel + j]. a16 holds each 4-group of a row as 4
// int16 (an int64), a8 as 4 raw bytes (an int32), both [r * KG + g].
template <class A, class TA, std::size_t R>
inline void gemm_neon_panel(const std::int64_t* a16, const std::int32_t* a8, std::size_t KG, const std::int8_t* panel,
                            std::int32_t* out, bool saturate_pairs) {
  if constexpr (simd::derives_v<A, simd::neon64_dotprod>) {
    if (!saturate_pairs) {
      gemm_neon_dot_panel<A, TA, R>(a8, KG, panel, out);
      return;
    }
  }
  for (std::size_t v = 0; v < 4; ++v) {
    int32x4_t acc[R][4];
    for (std::size_t r = 0; r < R; ++r)
      for (std::size_t j = 0; j < 4; ++j) acc[r][j] = vdupq_n_s32(0);
    for (std::size_t g = 0; g < KG; ++g) {
      const int8x16_t b = vld1q_s8(panel + g * 64 + v * 16);  // columns 4v..4v+3, 4 k each
      const int16x8_t bl = vmovl_s8(vget_low_s8(b)), bh = vmovl_high_s8(b);
      for (std::size_t r = 0; r < R; ++r) {
        const int16x8_t av = vreinterpretq_s16_s64(vdupq_n_s64(a16[r * KG + g]));  // a0..a3 a0..a3
        if (!saturate_pairs) {
          acc[r][0] = vmlal_s16(acc[r][0], vget_low_s16(bl), vget_low_s16(av));
          acc[r][1] = vmlal_high_s16(acc[r][1], bl, av);
          acc[r][2] = vmlal_s16(acc[r][2], vget_low_s16(bh), vget_low_s16(av));
          acc[r][3] = vmlal_high_s16(acc[r][3], bh, av);
        } else {
          // [c k01, c k23] pair sums of two columns, each saturated to int16 as vpmaddubsw does.
          const int32x4_t p01 = vpaddq_s32(vmull_s16(vget_low_s16(bl), vget_low_s16(av)), vmull_high_s16(bl, av));
          const int32x4_t p23 = vpaddq_s32(vmull_s16(vget_low_s16(bh), vget_low_s16(av)), vmull_high_s16(bh, av));
          acc[r][0] = vaddq_s32(acc[r][0], vmovl_s16(vqmovn_s32(p01)));
          acc[r][2] = vaddq_s32(acc[r][2], vmovl_s16(vqmovn_s32(p23)));
        }
      }
    }
    for (std::size_t r = 0; r < R; ++r) {
      int32x4_t c;
      if (!saturate_pairs)
        c = vpaddq_s32(vpaddq_s32(acc[r][0], acc[r][1]), vpaddq_s32(acc[r][2], acc[r][3]));
      else
        c = vpaddq_s32(acc[r][0], acc[r][2]);
      vst1q_s32(out + r * kGemmPanel + v * 4, c);
    }
  }
}
#endif

#if QKERN_SIMD_X86
template <class A>
inline GI<A> gemm_madd(const GI<A>& a, const GI<A>& b) {
  if constexpr (simd::derives_v<A, xsimd::avx512bw>)
    return GI<A>(_mm512_madd_epi16(a, b));
  else if constexpr (simd::derives_v<A, xsimd::avx2>)
    return GI<A>(_mm256_madd_epi16(a, b));
  else
    return GI<A>(_mm_madd_epi16(a, b));
}

// Loads W columns x 4 k (4W bytes) and sign-extends them to int16: lo holds the first W/2 columns.
template <class A>
inline void gemm_load_b(const std::int8_t* p, GI<A>& lo, GI<A>& hi) {
  if constexpr (simd::derives_v<A, xsimd::avx512bw>) {
    lo = GI<A>(_mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))));
    hi = GI<A>(_mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32))));
  } else if constexpr (simd::derives_v<A, xsimd::avx2>) {
    lo = GI<A>(_mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
    hi = GI<A>(_mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16))));
  } else if constexpr (simd::derives_v<A, xsimd::sse4_1>) {
    lo = GI<A>(_mm_cvtepi8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
    hi = GI<A>(_mm_cvtepi8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p + 8))));
  } else {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    lo = GI<A>(_mm_srai_epi16(_mm_unpacklo_epi8(v, v), 8));
    hi = GI<A>(_mm_srai_epi16(_mm_unpackhi_epi8(v, v), 8));
  }
}

// lo = [c0 k01, c0 k23, c1 k01, c1 k23, ...] (first W/2 columns), hi the next W/2: the W column
// sums in column order.
template <class A>
inline GI<A> gemm_combine(const GI<A>& lo, const GI<A>& hi) {
  if constexpr (simd::derives_v<A, xsimd::avx512bw>) {
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i odd = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
    return GI<A>(_mm512_add_epi32(_mm512_permutex2var_epi32(lo, even, hi), _mm512_permutex2var_epi32(lo, odd, hi)));
  } else if constexpr (simd::derives_v<A, xsimd::avx2>) {
    // hadd gives [c0 c1 c4 c5 | c2 c3 c6 c7]; reorder the 64-bit pairs.
    return GI<A>(_mm256_permute4x64_epi64(_mm256_hadd_epi32(lo, hi), _MM_SHUFFLE(3, 1, 2, 0)));
  } else {
    const __m128i p = _mm_shuffle_epi32(lo, _MM_SHUFFLE(3, 1, 2, 0)),
                  q = _mm_shuffle_epi32(hi, _MM_SHUFFLE(3, 1, 2, 0));
    return GI<A>(_mm_add_epi32(_mm_unpacklo_epi64(p, q), _mm_unpackhi_epi64(p, q)));
  }
}

// vpmaddubsw emulation for one 4-group of W columns: a holds 4 u8 (broadcast int32), b the 4W
// raw bytes. Returns per column sat16(a0 b0 + a1 b1) + sat16(a2 b2 + a3 b3).
template <class A>
inline GI<A> gemm_maddubs_group(const GI<A>& a, const std::int8_t* p) {
  if constexpr (simd::derives_v<A, xsimd::avx512bw>) {
    const __m512i b = _mm512_loadu_si512(p);
    return GI<A>(_mm512_madd_epi16(_mm512_maddubs_epi16(a, b), _mm512_set1_epi16(1)));
  } else if constexpr (simd::derives_v<A, xsimd::avx2>) {
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    return GI<A>(_mm256_madd_epi16(_mm256_maddubs_epi16(a, b), _mm256_set1_epi16(1)));
  } else if constexpr (simd::derives_v<A, xsimd::sse4_1>) {  // SSSE3 is part of every sse4 arch
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    return GI<A>(_mm_madd_epi16(_mm_maddubs_epi16(a, b), _mm_set1_epi16(1)));
  } else {
    alignas(16) std::int32_t av[4], out[4];
    a.store_aligned(av);
    std::uint8_t ab[4];
    std::memcpy(ab, &av[0], 4);
    for (int j = 0; j < 4; ++j) {
      std::int32_t s = 0;
      for (int t = 0; t < 4; t += 2) {
        std::int32_t pair = ab[t] * std::int32_t{p[4 * j + t]} + ab[t + 1] * std::int32_t{p[4 * j + t + 1]};
        s += pair < -32768 ? -32768 : pair > 32767 ? 32767 : pair;
      }
      out[j] = s;
    }
    return GI<A>::load_aligned(out);
  }
}

#if defined(__GNUC__)
// u8 x s8 with vpdpbusd: 16 columns per instruction. Runs only when the CPU has AVX512-VNNI.
template <class A, std::size_t R>
__attribute__((target("avx512vnni,avx512bw,avx512f"))) void gemm_vnni_block(const std::int32_t* abytes,
                                                                            std::size_t k_groups,
                                                                            const std::int8_t* panel,
                                                                            std::int32_t* out) {
  __m512i acc[R];
  for (std::size_t r = 0; r < R; ++r) acc[r] = _mm512_setzero_si512();
  for (std::size_t g = 0; g < k_groups; ++g) {
    const __m512i b = _mm512_loadu_si512(panel + g * 64);
    for (std::size_t r = 0; r < R; ++r)
      acc[r] = _mm512_dpbusd_epi32(acc[r], _mm512_set1_epi32(abytes[r * k_groups + g]), b);
  }
  for (std::size_t r = 0; r < R; ++r) _mm512_storeu_si512(out + r * 16, acc[r]);
}

template <class A>
inline bool cpu_has_vnni() {
  static const bool ok = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512vnni") != 0;
  }();
  return ok;
}
#endif
#endif  // QKERN_SIMD_X86

// The int8/uint8 GEMM on packed B, rows in blocks of 4 (rows past M are zero and not stored).
template <class A, class TA>
void gemm_packed(std::size_t M, const TA* a, std::size_t lda, const PackedBView& b, std::int32_t* c, std::size_t ldc,
                 bool saturate_pairs) {
  constexpr std::size_t W = GI<A>::size, R = 4;
  (void)W, (void)saturate_pairs;
  const std::size_t KG = b.k_groups, K = b.K, N = b.N;
  // Per row block: each 4-group of A as 4 int16 (one int64, broadcast to every 64-bit lane) and as
  // 4 raw bytes (one int32, for pmaddubsw / vpdpbusd). Built once per block, reused by all panels.
  simd::ScratchArray<std::int64_t, A> a16(R * KG);
  simd::ScratchArray<std::int32_t, A> a8(R * KG);
  bool use_vnni = false;
  (void)use_vnni;
#if QKERN_SIMD_X86 && defined(__GNUC__)
  if constexpr (simd::derives_v<A, xsimd::avx512bw> && std::is_same<TA, std::uint8_t>::value)
    use_vnni = !saturate_pairs && cpu_has_vnni<A>();
#endif
  alignas(64) std::int32_t tile[R * kGemmPanel];
  for (std::size_t i0 = 0; i0 < M; i0 += R) {
    const std::size_t rows = M - i0 < R ? M - i0 : R;
    for (std::size_t r = 0; r < R; ++r)
      for (std::size_t g = 0; g < KG; ++g) {
        std::uint64_t w = 0;
        std::uint32_t raw = 0;
        for (std::size_t t = 0; t < 4; ++t) {
          const std::size_t k = g * 4 + t;
          const TA v = (r < rows && k < K) ? a[(i0 + r) * lda + k] : TA(0);
          w |= std::uint64_t(std::uint16_t(std::int16_t(v))) << (16 * t);
          raw |= std::uint32_t(std::uint8_t(v)) << (8 * t);
        }
        a16[r * KG + g] = static_cast<std::int64_t>(w);
        a8[r * KG + g] = static_cast<std::int32_t>(raw);
      }
    for (std::size_t p = 0; p < b.panels; ++p) {
      const std::int8_t* panel = b.data + p * KG * 64;
      (void)panel;
      bool done = false;
#if QKERN_SIMD_NEON64
      gemm_neon_panel<A, TA, R>(a16.data(), a8.data(), KG, panel, tile, saturate_pairs);
      done = true;
#endif
#if QKERN_SIMD_X86
#if defined(__GNUC__)
      if constexpr (simd::derives_v<A, xsimd::avx512bw> && std::is_same<TA, std::uint8_t>::value) {
        if (use_vnni) {
          gemm_vnni_block<A, R>(a8.data(), KG, panel, tile);
          done = true;
        }
      }
#endif
      if (!done) {
        for (std::size_t v = 0; v < kGemmPanel / W; ++v) {
          GI<A> acc[R][2];
          for (std::size_t r = 0; r < R; ++r) acc[r][0] = acc[r][1] = GI<A>(0);
          if (saturate_pairs) {
            for (std::size_t g = 0; g < KG; ++g)
              for (std::size_t r = 0; r < R; ++r)
                acc[r][0] = acc[r][0] + gemm_maddubs_group<A>(GI<A>(a8[r * KG + g]), panel + g * 64 + v * W * 4);
            for (std::size_t r = 0; r < R; ++r) acc[r][0].store_aligned(tile + r * kGemmPanel + v * W);
          } else {
            for (std::size_t g = 0; g < KG; ++g) {
              GI<A> lo, hi;
              gemm_load_b<A>(panel + g * 64 + v * W * 4, lo, hi);
              for (std::size_t r = 0; r < R; ++r) {
                const GI<A> av = simd::bitcast<std::int32_t>(simd::batch<std::int64_t, A>(a16[r * KG + g]));
                acc[r][0] = acc[r][0] + gemm_madd<A>(av, lo);
                acc[r][1] = acc[r][1] + gemm_madd<A>(av, hi);
              }
            }
            for (std::size_t r = 0; r < R; ++r)
              gemm_combine<A>(acc[r][0], acc[r][1]).store_aligned(tile + r * kGemmPanel + v * W);
          }
        }
      }
#endif
      (void)done;
      const std::size_t j0 = p * kGemmPanel, cols = N - j0 < kGemmPanel ? N - j0 : kGemmPanel;
      for (std::size_t r = 0; r < rows; ++r)
        std::memcpy(c + (i0 + r) * ldc + j0, tile + r * kGemmPanel, cols * sizeof(std::int32_t));
    }
  }
}

}  // namespace detail

/// C (M x N) = A (M x K, row-major, lda) * packed B, int32, exact. saturate_pairs (u8 A only):
/// emulate vpmaddubsw's int16 saturation of each pair of products.
template <class TA>
struct gemm_s32 {
  using signature = void(std::size_t, const TA*, std::size_t, const PackedBView&, std::int32_t*, std::size_t, bool);
  template <class A>
  void operator()(A, std::size_t M, const TA* a, std::size_t lda, const PackedBView& b, std::int32_t* c,
                  std::size_t ldc, bool saturate_pairs) const {
    detail::gemm_packed<A, TA>(M, a, lda, b, c, ldc, saturate_pairs);
  }
};

using s8s8_s32_gemm = gemm_s32<std::int8_t>;
using u8s8_s32_gemm = gemm_s32<std::uint8_t>;

}  // namespace kernels
}  // namespace qkern

// This family's entries in the kernel list (kernels/kernel_list.hpp).
#define QKERN_GEMM_KERNELS(X) \
  X(s8s8_s32_gemm)            \
  X(u8s8_s32_gemm)
