// qkern — SPDX-License-Identifier: Apache-2.0
//
// kernels/requantize.hpp: SIMD requantization of int32 accumulators to s8 / u8 / s16 codes, per
// tensor and per channel, for every family of core/requantize_params.hpp. Functors templated on the
// xsimd arch; checked bit for bit against reference/requantize.hpp on every arch.
//
// How each family is computed exactly in 32-bit lanes:
// * The input is first clamped to [xlo, xhi], precomputed on the host from the reference: every
//   family is monotone in acc, so inputs beyond the first one that reaches qmax - zp (or qmin - zp)
//   give the same clamped code, and after this clamp every intermediate fits in int32.
// * 64-bit products: _mm512/_mm256/_mm_mul_epi32 on the even and odd lanes (SSE2 has only the
//   unsigned _mm_mul_epu32; the signed product is that minus (m << 32) for negative x).
// * Rounding shift floor((p + 2^(s-1)) / 2^s), s in [1, 62], without 64-bit arithmetic shifts
//   (AVX2 and SSE have none): flip the sign bit (p + 2^63 is non-negative), logical shift by s - 1,
//   add 1, logical shift by 1; the low 32 bits minus low32(2^(63-s)) are the result.
//   gemmlowp's SaturatingRoundingDoublingHighMul is this with s = 31 (its INT32_MIN * INT32_MIN
//   case cannot occur: multipliers are positive); RoundingDivideByPOT follows in 32 bits.
// * Per-lane variable shifts (per channel, channels last): AVX2 / AVX-512 srlv / srav; SSE has
//   none, so per-lane counts there are done one 64-bit lane at a time (srl twice + move_sd) and the
//   32-bit arithmetic shift lane by lane through memory (scalar, SSE per-channel only).
// * fp32: (float)acc * scale, clamped in float, cvtps2dq (RNE under FloatEnvironmentGuard), + zp.
// * aarch64 (NEON): the 64-bit products are vmull_s32 / vmull_high_s32 and the rounding shift is
//   one vrshlq_s64 by -s (SRSHL rounds with unbounded intermediate precision, so no bias trick),
//   narrowed with vmovn; gemmlowp's SRDHM (s = 31) is vqrdmulhq_s32 itself, and the per-lane
//   arithmetic shifts are vshlq_s32 by negative counts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "qkern/core/layout.hpp"
#include "qkern/core/requantize_params.hpp"
#include "qkern/kernels/quantize.hpp"
#include "qkern/reference/requantize.hpp"
#include "qkern/simd/convert.hpp"

namespace qkern {
namespace kernels {

/// How the kernel computes (the families tflite_single and rndnu share the rounding shift).
enum class RequantizeKind : std::uint8_t { double_rounding, shift_half_up, fp32 };

/// Per-tensor kernel constants (see make_requantize_constants).
struct RequantizeConstants {
  RequantizeKind kind;
  std::int32_t multiplier;  ///< Q31 (gemmlowp: SRDHM operand) or the 64-bit product multiplier
  std::int32_t shift_m1;    ///< s - 1 of the rounding shift (gemmlowp: 30)
  std::int32_t fix;         ///< low32(2^(63 - s)), subtracted after the biased logical shift
  std::int32_t exponent;    ///< RoundingDivideByPOT exponent (double rounding; 0 otherwise)
  std::int32_t mask, half;  ///< 2^exponent - 1 and mask >> 1
  std::int32_t xlo, xhi;    ///< input pre-clamp
  std::int32_t lo, hi;      ///< qmin - zp, qmax - zp
  std::int32_t zero_point;
  float scale, flo, fhi;    ///< fp32 family
  RequantizeParams source;  ///< what the constants were made from (the scalar kernel, kernels/scalar.hpp)
};

namespace detail {

inline std::int64_t fixed_point_term(std::int32_t x, const RequantizeParams& p) {
  return reference::requantize_fixed_point(x, p.scale, p.rounding);
}

// Smallest x with f(x) >= target (INT32_MAX when none); f monotone non-decreasing.
inline std::int32_t first_reaching(std::int64_t target, const RequantizeParams& p) {
  std::int64_t a = std::numeric_limits<std::int32_t>::min(), b = std::numeric_limits<std::int32_t>::max();
  if (fixed_point_term(static_cast<std::int32_t>(b), p) < target) return static_cast<std::int32_t>(b);
  while (a < b) {
    const std::int64_t m = a + (b - a) / 2;
    if (fixed_point_term(static_cast<std::int32_t>(m), p) >= target)
      b = m;
    else
      a = m + 1;
  }
  return static_cast<std::int32_t>(a);
}

// Largest x with f(x) <= target (INT32_MIN when none).
inline std::int32_t last_reaching(std::int64_t target, const RequantizeParams& p) {
  std::int64_t a = std::numeric_limits<std::int32_t>::min(), b = std::numeric_limits<std::int32_t>::max();
  if (fixed_point_term(static_cast<std::int32_t>(a), p) > target) return static_cast<std::int32_t>(a);
  while (a < b) {
    const std::int64_t m = a + (b - a + 1) / 2;
    if (fixed_point_term(static_cast<std::int32_t>(m), p) <= target)
      a = m;
    else
      b = m - 1;
  }
  return static_cast<std::int32_t>(a);
}

QKERN_ALWAYS_INLINE std::int32_t low32_pow2(int e) {  // low 32 bits of 2^e, 0 <= e <= 63
  return e >= 32 ? 0 : static_cast<std::int32_t>(static_cast<std::uint32_t>(std::uint64_t{1} << e));
}

}  // namespace detail

/// Kernel constants for validated parameters (scale in the family's range, qmin <= zp-window).
inline RequantizeConstants make_requantize_constants(const RequantizeParams& p) {
  RequantizeConstants c{};
  c.source = p;
  c.zero_point = p.zero_point;
  c.lo = p.qmin - p.zero_point;
  c.hi = p.qmax - p.zero_point;
  c.xlo = std::numeric_limits<std::int32_t>::min();
  c.xhi = std::numeric_limits<std::int32_t>::max();
  c.scale = static_cast<float>(p.scale);
  c.flo = static_cast<float>(c.lo);
  c.fhi = static_cast<float>(c.hi);
  int s = 31;
  switch (p.rounding) {
    case RequantizeRounding::gemmlowp: {
      const QuantizedMultiplier m = qkern::detail::decompose_q31(p.scale);
      c.kind = RequantizeKind::double_rounding;
      c.multiplier = m.multiplier;
      c.exponent = -m.shift;
      break;
    }
    case RequantizeRounding::tflite_single: {
      const QuantizedMultiplier m = qkern::detail::decompose_q31(p.scale);
      c.kind = RequantizeKind::shift_half_up;
      c.multiplier = m.multiplier;
      s = 31 - m.shift;
      break;
    }
    case RequantizeRounding::rndnu: {
      const RndnuMultiplier m = rndnu_multiplier(static_cast<float>(p.scale));
      c.kind = RequantizeKind::shift_half_up;
      c.multiplier = m.multiplier;
      s = m.shift;
      break;
    }
    default:
      c.kind = RequantizeKind::fp32;
      return c;
  }
  c.shift_m1 = s - 1;
  c.fix = detail::low32_pow2(63 - s);
  c.mask = static_cast<std::int32_t>((std::int64_t{1} << c.exponent) - 1);
  c.half = c.mask >> 1;
  c.xlo = detail::last_reaching(c.lo, p);
  c.xhi = detail::first_reaching(c.hi, p);
  return c;
}

/// Per-channel constants: arrays of `padded` entries (a multiple of kMaxLanes), one per channel.
struct ChannelRequantizeConstants {
  RequantizeKind kind;
  const std::int32_t *multiplier, *shift_m1, *fix, *exponent, *mask, *half, *xlo, *xhi;
  std::int32_t lo, hi, zero_point;
  const float* scale;
  float flo, fhi;
  const double* source_scale = nullptr;  ///< the channels' real multipliers (the scalar kernel)
  RequantizeRounding rounding = RequantizeRounding::gemmlowp;
};

namespace detail {

template <class A>
using RI = simd::batch<std::int32_t, A>;
template <class A>
using RF = simd::batch<float, A>;

// Lane constants of one vector (broadcast per tensor, loaded per channel).
template <class A>
struct RqLanes {
  RI<A> multiplier, shift_m1, fix, exponent, mask, half, xlo, xhi, lo, hi, zp;
  RF<A> scale, flo, fhi;
};

// Per arch: low32(floor((x * m + 2^(s-1)) / 2^s)) with s - 1 in lanes `sm1` (Uniform: all equal).
template <bool Uniform, class A>
inline RI<A> rounding_shift_lanes(const RI<A>& x, const RI<A>& m, const RI<A>& sm1, const RI<A>& fix) {
  if constexpr (false) {
#if QKERN_SIMD_NEON64
  } else if constexpr (simd::derives_v<A, xsimd::neon64>) {
    (void)fix;
    const int32x4_t xv = x, mv = m, sv = sm1;
    const int32x4_t neg_s = vmvnq_s32(sv);  // -(s - 1) - 1 = -s: SRSHL by -s rounds and shifts right
    const int64x2_t lo = vrshlq_s64(vmull_s32(vget_low_s32(xv), vget_low_s32(mv)), vmovl_s32(vget_low_s32(neg_s)));
    const int64x2_t hi = vrshlq_s64(vmull_high_s32(xv, mv), vmovl_high_s32(neg_s));
    return RI<A>(vmovn_high_s64(vmovn_s64(lo), hi));
#endif
#if QKERN_SIMD_X86
  } else if constexpr (simd::derives_v<A, xsimd::avx512f>) {
    const __m512i xv = x, mv = m, sv = sm1;
    const __m512i sign = _mm512_set1_epi64(static_cast<long long>(0x8000000000000000ull)), one = _mm512_set1_epi64(1);
    const __m512i ce = _mm512_and_si512(sv, _mm512_set1_epi64(0xFFFFFFFFll)), co = _mm512_srli_epi64(sv, 32);
    __m512i pe = _mm512_xor_si512(_mm512_mul_epi32(xv, mv), sign);
    __m512i po = _mm512_xor_si512(_mm512_mul_epi32(_mm512_srli_epi64(xv, 32), _mm512_srli_epi64(mv, 32)), sign);
    pe = _mm512_srli_epi64(_mm512_add_epi64(_mm512_srlv_epi64(pe, ce), one), 1);
    po = _mm512_srli_epi64(_mm512_add_epi64(_mm512_srlv_epi64(po, co), one), 1);
    const __m512i r = _mm512_mask_blend_epi32(0xAAAA, pe, _mm512_slli_epi64(po, 32));
    return RI<A>(r) - fix;
  } else if constexpr (simd::derives_v<A, xsimd::avx2>) {
    const __m256i xv = x, mv = m, sv = sm1;
    const __m256i sign = _mm256_set1_epi64x(static_cast<long long>(0x8000000000000000ull)), one = _mm256_set1_epi64x(1);
    __m256i pe = _mm256_xor_si256(_mm256_mul_epi32(xv, mv), sign);
    __m256i po = _mm256_xor_si256(_mm256_mul_epi32(_mm256_srli_epi64(xv, 32), _mm256_srli_epi64(mv, 32)), sign);
    if constexpr (Uniform) {
      const __m128i cnt = _mm_cvtsi32_si128(_mm256_cvtsi256_si32(sv));
      pe = _mm256_srl_epi64(pe, cnt);
      po = _mm256_srl_epi64(po, cnt);
    } else {
      pe = _mm256_srlv_epi64(pe, _mm256_and_si256(sv, _mm256_set1_epi64x(0xFFFFFFFFll)));
      po = _mm256_srlv_epi64(po, _mm256_srli_epi64(sv, 32));
    }
    pe = _mm256_srli_epi64(_mm256_add_epi64(pe, one), 1);
    po = _mm256_srli_epi64(_mm256_add_epi64(po, one), 1);
    return RI<A>(_mm256_blend_epi32(pe, _mm256_slli_epi64(po, 32), 0xAA)) - fix;
  } else if constexpr (simd::derives_v<A, xsimd::sse2>) {
    const __m128i xv = x, mv = m, sv = sm1;
    const __m128i sign = _mm_set1_epi64x(static_cast<long long>(0x8000000000000000ull)), one = _mm_set1_epi64x(1);
    const __m128i xo = _mm_srli_epi64(xv, 32), mo = _mm_srli_epi64(mv, 32);
    __m128i pe, po;
    if constexpr (simd::derives_v<A, xsimd::sse4_1>) {
      pe = _mm_mul_epi32(xv, mv);
      po = _mm_mul_epi32(xo, mo);
    } else {
      // Signed from unsigned: x * m = (unsigned)x * m - 2^32 * m for x < 0 (m > 0, m < 2^31).
      const __m128i neg = _mm_srai_epi32(xv, 31), nego = _mm_srai_epi32(xo, 31);
      pe = _mm_sub_epi64(_mm_mul_epu32(xv, mv), _mm_slli_epi64(_mm_and_si128(neg, mv), 32));
      po = _mm_sub_epi64(_mm_mul_epu32(xo, mo), _mm_slli_epi64(_mm_and_si128(nego, mo), 32));
    }
    pe = _mm_xor_si128(pe, sign);
    po = _mm_xor_si128(po, sign);
    const __m128i low = _mm_set_epi32(0, -1, 0, -1);
    const __m128i ce = _mm_and_si128(sv, low), co = _mm_srli_epi64(sv, 32);
    if constexpr (Uniform) {
      pe = _mm_srl_epi64(pe, ce);
      po = _mm_srl_epi64(po, ce);
    } else {
      // One count per 64-bit lane: shift twice, keep lane 0 of the first and lane 1 of the second.
      const auto srlv = [](__m128i v, __m128i c) {
        const __m128i a = _mm_srl_epi64(v, c), b = _mm_srl_epi64(v, _mm_unpackhi_epi64(c, c));
        return _mm_castpd_si128(_mm_move_sd(_mm_castsi128_pd(b), _mm_castsi128_pd(a)));
      };
      pe = srlv(pe, ce);
      po = srlv(po, co);
    }
    pe = _mm_srli_epi64(_mm_add_epi64(pe, one), 1);
    po = _mm_srli_epi64(_mm_add_epi64(po, one), 1);
    const __m128i r = _mm_or_si128(_mm_and_si128(pe, low), _mm_slli_epi64(po, 32));
    return RI<A>(r) - fix;
#endif
  } else {
    static_assert(sizeof(A) == 0, "no rounding_shift_lanes for this arch");
    (void)m, (void)sm1, (void)fix;
    return x;
  }
}

// Arithmetic right shift of each lane by its own count in [0, 31].
template <bool Uniform, class A>
inline RI<A> shift_right_lanes(const RI<A>& v, const RI<A>& e) {
  if constexpr (false) {
#if QKERN_SIMD_NEON64
  } else if constexpr (simd::derives_v<A, xsimd::neon64>) {
    const int32x4_t vv = v, ev = e;
    return RI<A>(vshlq_s32(vv, vnegq_s32(ev)));
#endif
#if QKERN_SIMD_X86
  } else if constexpr (simd::derives_v<A, xsimd::avx512f>) {
    return RI<A>(_mm512_srav_epi32(v, e));
  } else if constexpr (simd::derives_v<A, xsimd::avx2>) {
    return RI<A>(_mm256_srav_epi32(v, e));
  } else if constexpr (Uniform) {
    return RI<A>(_mm_sra_epi32(v, _mm_cvtsi32_si128(_mm_cvtsi128_si32(e))));
  } else if constexpr (simd::derives_v<A, xsimd::sse2>) {
    alignas(16) std::int32_t lanes[4], counts[4];  // SSE has no per-lane shift counts
    v.store_aligned(lanes);
    e.store_aligned(counts);
    for (int i = 0; i < 4; ++i) lanes[i] >>= counts[i];
    return RI<A>::load_aligned(lanes);
#endif
  } else {
    static_assert(sizeof(A) == 0, "no shift_right_lanes for this arch");
    (void)e;
    return v;
  }
}

// The fixed-point term of family K: gemmlowp's SRDHM for double rounding (s = 31), the general
// rounding shift otherwise.
template <RequantizeKind K, bool Uniform, class A>
inline RI<A> fixed_point_lanes(const RI<A>& x, const RqLanes<A>& c) {
#if QKERN_SIMD_NEON64
  if constexpr (K == RequantizeKind::double_rounding && simd::derives_v<A, xsimd::neon64>) {
    const int32x4_t xv = x, mv = c.multiplier;
    return RI<A>(vqrdmulhq_s32(xv, mv));  // no saturation: the multiplier is positive
  }
#endif
  return rounding_shift_lanes<Uniform, A>(x, c.multiplier, c.shift_m1, c.fix);
}

template <RequantizeKind K, bool Uniform, class A>
inline RI<A> requantize_lanes(const RI<A>& acc, const RqLanes<A>& c) {
  if constexpr (K == RequantizeKind::fp32) {
    RF<A> v = xsimd::to_float(acc) * c.scale;
    v = xsimd::min(xsimd::max(v, c.flo), c.fhi);
    return xsimd::nearbyint_as_int(v) + c.zp;
  } else {
    const RI<A> x = xsimd::min(xsimd::max(acc, c.xlo), c.xhi);
    RI<A> v = fixed_point_lanes<K, Uniform, A>(x, c);
    if constexpr (K == RequantizeKind::double_rounding) {
      // RoundingDivideByPOT: (v >> e) + (rem > (mask >> 1) + (v < 0)).
      const RI<A> rem = v & c.mask;
      const RI<A> threshold = c.half - (v >> 31);
      v = shift_right_lanes<Uniform, A>(v, c.exponent) + simd::lane_select(rem > threshold, RI<A>(1), RI<A>(0));
    }
    return xsimd::min(xsimd::max(v, c.lo), c.hi) + c.zp;
  }
}

template <class A>
inline RqLanes<A> broadcast_lanes(const RequantizeConstants& k) {
  return {RI<A>(k.multiplier), RI<A>(k.shift_m1), RI<A>(k.fix), RI<A>(k.exponent), RI<A>(k.mask),
          RI<A>(k.half),       RI<A>(k.xlo),      RI<A>(k.xhi), RI<A>(k.lo),       RI<A>(k.hi),
          RI<A>(k.zero_point), RF<A>(k.scale),    RF<A>(k.flo), RF<A>(k.fhi)};
}

// A function object, not a function pointer, so the maps inline it (see quantize.hpp's LoadF32).
template <class A>
struct LoadI32 {
  RI<A> operator()(const std::int32_t* p) const { return RI<A>::load_unaligned(p); }
};

template <class F>
inline void with_kind(RequantizeKind k, F&& f) {
  using D = std::integral_constant<RequantizeKind, RequantizeKind::double_rounding>;
  using S = std::integral_constant<RequantizeKind, RequantizeKind::shift_half_up>;
  using P = std::integral_constant<RequantizeKind, RequantizeKind::fp32>;
  if (k == RequantizeKind::double_rounding)
    f(D{});
  else if (k == RequantizeKind::shift_half_up)
    f(S{});
  else
    f(P{});
}

// Per-channel driver for requantization. inner == 1 (channels last): vectors run along the
// channels of each row with vectors of channel constants (arrays padded to kMaxLanes), the row tail
// through a padded copy. inner > 1: each (outer, channel) run is a per-tensor map.
template <class A, class In, class Out, class Load, class MakeOp>
inline void map_channel_rows(const In* x, Out* y, const ChannelLayout& l, Load load, const MakeOp& make_op) {
  constexpr std::size_t N = RF<A>::size;
  if (l.inner == 1) {
    for (std::size_t o = 0; o < l.outer; ++o) {
      const In* xr = x + o * l.channels;
      Out* yr = y + o * l.channels;
      std::size_t c = 0;
      for (; c + N <= l.channels; c += N) store_lanes<A>(yr + c, make_op(c)(load(xr + c)));
      if (c < l.channels) map_partial<A>(xr + c, yr + c, l.channels - c, load, make_op(c));
    }
    return;
  }
  for (std::size_t o = 0; o < l.outer; ++o)
    for (std::size_t ch = 0; ch < l.channels; ++ch) {
      const std::size_t base = (o * l.channels + ch) * l.inner;
      map_lanes<A>(x + base, y + base, l.inner, load, make_op.broadcast(ch), /*stream=*/false);
    }
}

template <class A, RequantizeKind K>
struct ChannelRequantizeOp {
  const ChannelRequantizeConstants& c;
  auto operator()(std::size_t ch) const {
    RqLanes<A> l{RI<A>::load_unaligned(c.multiplier + ch),
                 RI<A>::load_unaligned(c.shift_m1 + ch),
                 RI<A>::load_unaligned(c.fix + ch),
                 RI<A>::load_unaligned(c.exponent + ch),
                 RI<A>::load_unaligned(c.mask + ch),
                 RI<A>::load_unaligned(c.half + ch),
                 RI<A>::load_unaligned(c.xlo + ch),
                 RI<A>::load_unaligned(c.xhi + ch),
                 RI<A>(c.lo),
                 RI<A>(c.hi),
                 RI<A>(c.zero_point),
                 RF<A>::load_unaligned(c.scale + ch),
                 RF<A>(c.flo),
                 RF<A>(c.fhi)};
    return [l](const RI<A>& v) { return requantize_lanes<K, false, A>(v, l); };
  }
  auto broadcast(std::size_t ch) const {
    RqLanes<A> l{
        RI<A>(c.multiplier[ch]), RI<A>(c.shift_m1[ch]), RI<A>(c.fix[ch]), RI<A>(c.exponent[ch]), RI<A>(c.mask[ch]),
        RI<A>(c.half[ch]),       RI<A>(c.xlo[ch]),      RI<A>(c.xhi[ch]), RI<A>(c.lo),           RI<A>(c.hi),
        RI<A>(c.zero_point),     RF<A>(c.scale[ch]),    RF<A>(c.flo),     RF<A>(c.fhi)};
    return [l](const RI<A>& v) { return requantize_lanes<K, true, A>(v, l); };
  }
};

}  // namespace detail

/// int32 -> Q requantize, per tensor.
template <class Q>
struct requantize {
  using signature = void(const std::int32_t*, Q*, std::size_t, const RequantizeConstants&);
  template <class A>
  void operator()(A, const std::int32_t* acc, Q* out, std::size_t n, const RequantizeConstants& c) const {
    using namespace detail;
    const RqLanes<A> l = broadcast_lanes<A>(c);
    with_kind(c.kind, [&](auto kind) {
      map_lanes<A>(
          acc, out, n, LoadI32<A>{},
          [&](const RI<A>& v) { return requantize_lanes<decltype(kind)::value, true, A>(v, l); },
          simd::streaming_pays<A>(n * (sizeof(std::int32_t) + sizeof(Q))));
    });
  }
};

/// int32 -> Q requantize, per channel (one multiplier per channel).
template <class Q>
struct requantize_channels {
  using signature = void(const std::int32_t*, Q*, const ChannelLayout&, const ChannelRequantizeConstants&);
  template <class A>
  void operator()(A, const std::int32_t* acc, Q* out, const ChannelLayout& l,
                  const ChannelRequantizeConstants& c) const {
    using namespace detail;
    with_kind(c.kind, [&](auto kind) {
      map_channel_rows<A>(acc, out, l, LoadI32<A>{}, ChannelRequantizeOp<A, decltype(kind)::value>{c});
    });
  }
};

using s32_s8_requantize = requantize<std::int8_t>;
using s32_u8_requantize = requantize<std::uint8_t>;
using s32_s16_requantize = requantize<std::int16_t>;
using s32_s8_requantize_channels = requantize_channels<std::int8_t>;
using s32_u8_requantize_channels = requantize_channels<std::uint8_t>;
using s32_s16_requantize_channels = requantize_channels<std::int16_t>;

}  // namespace kernels
}  // namespace qkern

// This family's entries in the kernel list (kernels/kernel_list.hpp).
#define QKERN_REQUANTIZE_KERNELS(X) \
  X(s32_s8_requantize)              \
  X(s32_u8_requantize)              \
  X(s32_s16_requantize)             \
  X(s32_s8_requantize_channels)     \
  X(s32_u8_requantize_channels)     \
  X(s32_s16_requantize_channels)
