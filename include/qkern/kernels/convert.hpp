// qkern — SPDX-License-Identifier: Apache-2.0
//
// kernels/convert.hpp: element conversions to float32 for tensors read from files (io/): f16, bf16,
// f64 and the integer types and bool. Tested bit for bit against reference/convert.hpp on every
// arch (every f16/bf16 bit pattern, every tail length, misaligned pointers).
//
// Every kernel has the signature void(const void* src, std::size_t n, float* out): src holds n
// stored elements in native byte order at any alignment (file data is often not aligned to the
// element size), out receives n floats (any alignment). Vectors are loaded unaligned; the tail
// (fewer than one vector) goes through the scalar reference.
//
// f16: F16C's vcvtph2ps on fma3<avx2> and avx512bw (their psABI levels include F16C) for vectors
// without an exponent-all-ones value; F16C quiets signalling NaNs and the reference keeps NaN bits,
// so a vector holding Inf or NaN (one and + one compare to detect) takes the integer construction,
// which is also the sse2 / sse4_2 path (normal: exponent rebias; denormal: integer mantissa * 2^-24
// in float, exact and independent of FTZ/DAZ; Inf/NaN: exponent all ones, payload bits kept).
// f64: cvtpd2ps (round per MXCSR, NaN quieted with the top payload bits, as the reference).
// int64/uint64: AVX-512DQ conversions on avx512bw, the scalar reference elsewhere.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "qkern/reference/convert.hpp"
#include "qkern/simd/attributes.hpp"
#include "qkern/simd/convert.hpp"
#include "qkern/simd/store.hpp"

// x86 code (intrinsics, streaming stores) only where x86 is the target: QKERN_SIMD_X86 when
// simd/isa.hpp defines it, else the compiler's own macros. Other targets run the xsimd paths.
#if defined(QKERN_SIMD_X86)
#define QKERN_DETAIL_CONVERT_X86 QKERN_SIMD_X86
#elif defined(__x86_64__) || defined(_M_X64) || ((defined(__i386__) || defined(_M_IX86)) && defined(__SSE2__))
#define QKERN_DETAIL_CONVERT_X86 1
#else
#define QKERN_DETAIL_CONVERT_X86 0
#endif

namespace qkern {
namespace kernels {
namespace detail {

// f16 bits (zero-extended into int32 lanes) -> f32 lanes, integer construction (see above).
template <class A>
inline simd::batch<float, A> f16_bits_to_f32(const simd::batch<std::int32_t, A>& h) {
  using BI = simd::batch<std::int32_t, A>;
  using BF = simd::batch<float, A>;
  const BI sign = (h & BI(0x8000)) << 16;
  const BI em = h & BI(0x7fff);
  const BI normal = (em << 13) + BI(112 << 23);
  const BI denormal = simd::bitcast<std::int32_t>(xsimd::to_float(em) * BF(5.9604644775390625e-8f));  // 2^-24
  const BI infnan = (em << 13) | BI(0x7f800000);
  const BI r = simd::lane_select(em < BI(0x0400), denormal, simd::lane_select(em >= BI(0x7c00), infnan, normal));
  return simd::bitcast<float>(r | sign);
}

// Stores one vector of floats at p: ordinary (unaligned) stores, or with S non-temporal ones (p then
// aligned to the register width; x86 only, elsewhere ordinary).
template <class A, bool S>
inline void put(float* p, const simd::batch<float, A>& v) {
#if QKERN_DETAIL_CONVERT_X86
  constexpr std::size_t N = simd::batch<float, A>::size;
  if constexpr (S && simd::can_stream_v<A>) {
    if constexpr (N == 16)
      _mm512_stream_ps(p, v);
    else if constexpr (N == 8)
      _mm256_stream_ps(p, v);
    else
      _mm_stream_ps(p, v);
    return;
  }
#endif
  v.store_unaligned(p);
}
#if QKERN_DETAIL_CONVERT_X86
template <class A, bool S>
inline void put512(float* p, __m512 v) {
  if constexpr (S)
    _mm512_stream_ps(p, v);
  else
    _mm512_storeu_ps(p, v);
}
template <class A, bool S>
inline void put256(float* p, __m256 v) {
  if constexpr (S)
    _mm256_stream_ps(p, v);
  else
    _mm256_storeu_ps(p, v);
}
template <class A, bool S>
inline void put128(float* p, __m128 v) {
  if constexpr (S)
    _mm_stream_ps(p, v);
  else
    _mm_storeu_ps(p, v);
}
#endif

// Runs body(integral_constant<bool, Stream>, src, n, out) over n elements of in_size bytes: when the
// map is large enough for streaming stores to pay (simd::streaming_pays, as the quantize maps), the
// elements before the first 64-byte aligned output go through ordinary stores and the rest through
// non-temporal ones (fenced at the end); otherwise ordinary stores throughout.
template <class A, class Body>
inline void streamed(const void* src, std::size_t in_size, std::size_t n, float* out, Body body) {
  const unsigned char* p = static_cast<const unsigned char*>(src);
  const auto addr = reinterpret_cast<std::uintptr_t>(out);
  if (simd::streaming_pays<A>(n * (in_size + 4)) && addr % 4 == 0) {
    const std::size_t head = (simd::kStreamAlign - addr % simd::kStreamAlign) % simd::kStreamAlign / 4;
    if (head < n) {
      body(std::false_type{}, p, head, out);
      body(std::true_type{}, p + head * in_size, n - head, out + head);
      simd::stream_fence<A>();
      return;
    }
  }
  body(std::false_type{}, p, n, out);
}

template <class A, bool S>
QKERN_FLATTEN inline void f16_body(const void* src, std::size_t n, float* out) {
  const unsigned char* p = static_cast<const unsigned char*>(src);
  std::size_t i = 0;
  using BF = simd::batch<float, A>;
  constexpr std::size_t N = BF::size;
#if QKERN_DETAIL_CONVERT_X86 && (defined(__F16C__) || defined(__AVX512F__))
  if constexpr (simd::derives_v<A, xsimd::avx512bw>) {
    const __m512i exp_mask = _mm512_set1_epi16(0x7c00);
    for (; i + 32 <= n; i += 32) {
      const __m512i h = _mm512_loadu_si512(p + 2 * i);
      if (_mm512_cmpeq_epi16_mask(_mm512_and_si512(h, exp_mask), exp_mask) != 0) {
        for (std::size_t k = 0; k < 32; k += N)
          put<A, S>(out + i + k,
                    f16_bits_to_f32<A>(simd::load_widen<A>(reinterpret_cast<const std::uint16_t*>(p + 2 * (i + k)))));
        continue;
      }
      put512<A, S>(out + i, _mm512_cvtph_ps(_mm512_castsi512_si256(h)));
      put512<A, S>(out + i + 16, _mm512_cvtph_ps(_mm512_extracti64x4_epi64(h, 1)));
    }
  } else if constexpr (simd::derives_v<A, xsimd::avx2>) {
    const __m256i exp_mask = _mm256_set1_epi16(0x7c00);
    for (; i + 16 <= n; i += 16) {
      const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 2 * i));
      if (_mm256_movemask_epi8(_mm256_cmpeq_epi16(_mm256_and_si256(h, exp_mask), exp_mask)) != 0) {
        for (std::size_t k = 0; k < 16; k += N)
          put<A, S>(out + i + k,
                    f16_bits_to_f32<A>(simd::load_widen<A>(reinterpret_cast<const std::uint16_t*>(p + 2 * (i + k)))));
        continue;
      }
      put256<A, S>(out + i, _mm256_cvtph_ps(_mm256_castsi256_si128(h)));
      put256<A, S>(out + i + 8, _mm256_cvtph_ps(_mm256_extracti128_si256(h, 1)));
    }
  }
#endif
  for (; i + N <= n; i += N) {
    const auto h = simd::load_widen<A>(reinterpret_cast<const std::uint16_t*>(p + 2 * i));
    put<A, S>(out + i, f16_bits_to_f32<A>(h));
  }
  reference::f16_to_f32<A>(p + 2 * i, n - i, out + i);
}

template <class A, bool S>
QKERN_FLATTEN inline void bf16_body(const void* src, std::size_t n, float* out) {
  using BF = simd::batch<float, A>;
  constexpr std::size_t N = BF::size;
  const unsigned char* p = static_cast<const unsigned char*>(src);
  std::size_t i = 0;
  for (; i + 2 * N <= n; i += 2 * N) {
    const auto a = simd::load_widen<A>(reinterpret_cast<const std::uint16_t*>(p + 2 * i)) << 16;
    const auto b = simd::load_widen<A>(reinterpret_cast<const std::uint16_t*>(p + 2 * i + 2 * N)) << 16;
    put<A, S>(out + i, simd::bitcast<float>(a));
    put<A, S>(out + i + N, simd::bitcast<float>(b));
  }
  reference::bf16_to_f32<A>(p + 2 * i, n - i, out + i);
}

template <class A, bool S>
QKERN_FLATTEN inline void f64_body(const void* src, std::size_t n, float* out) {
  const unsigned char* p = static_cast<const unsigned char*>(src);
  std::size_t i = 0;
#if QKERN_DETAIL_CONVERT_X86
  if constexpr (simd::derives_v<A, xsimd::avx512f>) {
    for (; i + 16 <= n; i += 16) {
      const __m512d a = _mm512_loadu_pd(reinterpret_cast<const double*>(p + 8 * i));
      const __m512d b = _mm512_loadu_pd(reinterpret_cast<const double*>(p + 8 * i + 64));
      put256<A, S>(out + i, _mm512_cvtpd_ps(a));
      put256<A, S>(out + i + 8, _mm512_cvtpd_ps(b));
    }
  } else if constexpr (simd::derives_v<A, xsimd::avx>) {
    for (; i + 8 <= n; i += 8) {
      const __m256d a = _mm256_loadu_pd(reinterpret_cast<const double*>(p + 8 * i));
      const __m256d b = _mm256_loadu_pd(reinterpret_cast<const double*>(p + 8 * i + 32));
      const __m256 r = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm256_cvtpd_ps(a)), _mm256_cvtpd_ps(b), 1);
      put256<A, S>(out + i, r);
    }
  } else if constexpr (simd::derives_v<A, xsimd::sse2>) {
    for (; i + 4 <= n; i += 4) {
      const __m128d a = _mm_loadu_pd(reinterpret_cast<const double*>(p + 8 * i));
      const __m128d b = _mm_loadu_pd(reinterpret_cast<const double*>(p + 8 * i + 16));
      put128<A, S>(out + i, _mm_movelh_ps(_mm_cvtpd_ps(a), _mm_cvtpd_ps(b)));
    }
  }
#endif
  reference::f64_to_f32<A>(p + 8 * i, n - i, out + i);
}

// int8/uint8/int16/uint16/int32: widen to int32 lanes, convert (exact below 2^24, else nearest even).
template <class A, class Q, bool S>
QKERN_FLATTEN inline void small_int_body(const void* src, std::size_t n, float* out) {
  using BF = simd::batch<float, A>;
  constexpr std::size_t N = BF::size;
  const unsigned char* p = static_cast<const unsigned char*>(src);
  std::size_t i = 0;
  for (; i + N <= n; i += N) {
    const auto v = simd::load_widen<A>(reinterpret_cast<const Q*>(p + sizeof(Q) * i));
    put<A, S>(out + i, xsimd::to_float(v));
  }
  reference::int_to_f32<Q, A>(p + sizeof(Q) * i, n - i, out + i);
}

// uint32: hi * 65536 + lo, both halves exact in float, the product exact, so the one rounding is the
// sum's: nearest even of the uint32, as the reference. AVX-512 has the direct conversion.
template <class A, bool S>
QKERN_FLATTEN inline void u32_body(const void* src, std::size_t n, float* out) {
  using BF = simd::batch<float, A>;
  using BI = simd::batch<std::int32_t, A>;
  constexpr std::size_t N = BF::size;
  const unsigned char* p = static_cast<const unsigned char*>(src);
  std::size_t i = 0;
  for (; i + N <= n; i += N) {
    const BI v = BI::load_unaligned(reinterpret_cast<const std::int32_t*>(p + 4 * i));
#if QKERN_DETAIL_CONVERT_X86 && defined(__AVX512F__)
    if constexpr (simd::derives_v<A, xsimd::avx512f>) {
      put512<A, S>(out + i, _mm512_cvtepu32_ps(v));
      continue;
    }
#endif
    const BF hi = xsimd::to_float((v >> 16) & BI(0xffff)), lo = xsimd::to_float(v & BI(0xffff));
    const BF scaled = hi * BF(65536.0f);
    put<A, S>(out + i, scaled + lo);
  }
  reference::int_to_f32<std::uint32_t, A>(p + 4 * i, n - i, out + i);
}

template <class A, class Q, bool S>
QKERN_FLATTEN inline void int64_body(const void* src, std::size_t n, float* out) {
  const unsigned char* p = static_cast<const unsigned char*>(src);
  std::size_t i = 0;
#if QKERN_DETAIL_CONVERT_X86 && defined(__AVX512DQ__)
  if constexpr (simd::derives_v<A, xsimd::avx512dq>) {
    for (; i + 8 <= n; i += 8) {
      const __m512i v = _mm512_loadu_si512(p + 8 * i);
      if constexpr (std::is_same<Q, std::int64_t>::value)
        put256<A, S>(out + i, _mm512_cvtepi64_ps(v));
      else
        put256<A, S>(out + i, _mm512_cvtepu64_ps(v));
    }
  }
#endif
  reference::int_to_f32<Q, A>(p + 8 * i, n - i, out + i);
}

template <class A, bool S>
QKERN_FLATTEN inline void bool_body(const void* src, std::size_t n, float* out) {
  using BF = simd::batch<float, A>;
  using BI = simd::batch<std::int32_t, A>;
  constexpr std::size_t N = BF::size;
  const unsigned char* p = static_cast<const unsigned char*>(src);
  std::size_t i = 0;
  for (; i + N <= n; i += N) {
    const BI v = simd::load_widen<A>(reinterpret_cast<const std::uint8_t*>(p + i));
    put<A, S>(out + i, simd::bitcast<float>(simd::lane_select(v != BI(0), BI(0x3f800000), BI(0))));
  }
  reference::bool_to_f32<A>(p + i, n - i, out + i);
}

// The kernels' entry points: the bodies above behind the streaming decision (streamed()).
template <class A>
inline void f16_run(const void* src, std::size_t n, float* out) {
  streamed<A>(src, 2, n, out, [](auto s, const unsigned char* p, std::size_t m, float* o) {
    f16_body<A, decltype(s)::value>(p, m, o);
  });
}
template <class A>
inline void bf16_run(const void* src, std::size_t n, float* out) {
  streamed<A>(src, 2, n, out, [](auto s, const unsigned char* p, std::size_t m, float* o) {
    bf16_body<A, decltype(s)::value>(p, m, o);
  });
}
template <class A>
inline void f64_run(const void* src, std::size_t n, float* out) {
  streamed<A>(src, 8, n, out, [](auto s, const unsigned char* p, std::size_t m, float* o) {
    f64_body<A, decltype(s)::value>(p, m, o);
  });
}
template <class A, class Q>
inline void small_int_run(const void* src, std::size_t n, float* out) {
  streamed<A>(src, sizeof(Q), n, out, [](auto s, const unsigned char* p, std::size_t m, float* o) {
    small_int_body<A, Q, decltype(s)::value>(p, m, o);
  });
}
template <class A>
inline void u32_run(const void* src, std::size_t n, float* out) {
  streamed<A>(src, 4, n, out, [](auto s, const unsigned char* p, std::size_t m, float* o) {
    u32_body<A, decltype(s)::value>(p, m, o);
  });
}
template <class A, class Q>
inline void int64_run(const void* src, std::size_t n, float* out) {
  streamed<A>(src, 8, n, out, [](auto s, const unsigned char* p, std::size_t m, float* o) {
    int64_body<A, Q, decltype(s)::value>(p, m, o);
  });
}
template <class A>
inline void bool_run(const void* src, std::size_t n, float* out) {
  streamed<A>(src, 1, n, out, [](auto s, const unsigned char* p, std::size_t m, float* o) {
    bool_body<A, decltype(s)::value>(p, m, o);
  });
}

}  // namespace detail

#define QKERN_DETAIL_CONVERT_KERNEL(NAME, ...)                             \
  struct NAME {                                                            \
    using signature = void(const void*, std::size_t, float*);              \
    template <class A>                                                     \
    void operator()(A, const void* src, std::size_t n, float* out) const { \
      detail::__VA_ARGS__(src, n, out);                                    \
    }                                                                      \
  };

/// binary16 -> float32 (exact, NaN bits kept).
QKERN_DETAIL_CONVERT_KERNEL(f16_to_f32, f16_run<A>)
/// bfloat16 -> float32 (exact).
QKERN_DETAIL_CONVERT_KERNEL(bf16_to_f32, bf16_run<A>)
/// float64 -> float32 (nearest even; NaN quieted).
QKERN_DETAIL_CONVERT_KERNEL(f64_to_f32, f64_run<A>)
QKERN_DETAIL_CONVERT_KERNEL(i8_to_f32, small_int_run<A, std::int8_t>)
QKERN_DETAIL_CONVERT_KERNEL(u8_to_f32, small_int_run<A, std::uint8_t>)
QKERN_DETAIL_CONVERT_KERNEL(i16_to_f32, small_int_run<A, std::int16_t>)
QKERN_DETAIL_CONVERT_KERNEL(u16_to_f32, small_int_run<A, std::uint16_t>)
QKERN_DETAIL_CONVERT_KERNEL(i32_to_f32, small_int_run<A, std::int32_t>)
QKERN_DETAIL_CONVERT_KERNEL(u32_to_f32, u32_run<A>)
QKERN_DETAIL_CONVERT_KERNEL(i64_to_f32, int64_run<A, std::int64_t>)
QKERN_DETAIL_CONVERT_KERNEL(u64_to_f32, int64_run<A, std::uint64_t>)
/// bool bytes -> 0.0f / 1.0f (any non-zero byte is true).
QKERN_DETAIL_CONVERT_KERNEL(bool_to_f32, bool_run<A>)

#undef QKERN_DETAIL_CONVERT_KERNEL

}  // namespace kernels
}  // namespace qkern

#define QKERN_CONVERT_KERNELS(X) \
  X(f16_to_f32)                  \
  X(bf16_to_f32)                 \
  X(f64_to_f32)                  \
  X(i8_to_f32)                   \
  X(u8_to_f32)                   \
  X(i16_to_f32)                  \
  X(u16_to_f32)                  \
  X(i32_to_f32)                  \
  X(u32_to_f32)                  \
  X(i64_to_f32)                  \
  X(u64_to_f32)                  \
  X(bool_to_f32)
