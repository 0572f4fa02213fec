// qkern — SPDX-License-Identifier: Apache-2.0
//
// kernels/metrics.hpp: one-pass error-metric sums between a reference and a test tensor (sum of
// squared reference, squared test, squared error, dot product, |error|, error, max |error|, NaN/Inf
// counts), per tensor and per channel, accumulated in double; and counts of values outside a clip
// range. Tested bit for bit against reference/metrics.hpp on every arch.
//
// Bit-exactness across vector widths: every run is cut into blocks of kMetricLanes (16) elements
// and element i always adds into double accumulator i % 16, whatever the arch (sse2 keeps 8
// double[2] vectors per sum, avx2 4 double[4], avx512 2 double[8]); the 16 accumulators are combined
// by the same fixed tree as the reference. A pair with a non-finite side contributes +0.0 to every
// accumulator, which equals skipping it because an accumulator starting at +0.0 is never -0.0 under
// round-to-nearest. The tail is a zero-padded block. Contraction is off in the arch translation
// units, so no arch fuses a multiply-add the reference does not.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "qkern/core/layout.hpp"
#include "qkern/core/metric_sums.hpp"
#include "qkern/simd/convert.hpp"

#if QKERN_SIMD_X86
#include <immintrin.h>
#endif

namespace qkern {
namespace kernels {
namespace metrics_detail {

template <class A>
using BF = simd::batch<float, A>;
template <class A>
using BD = simd::batch<double, A>;
template <class A>
using BI = simd::batch<std::int32_t, A>;

// Float lanes widened to two double vectors (low half, high half), exactly.
template <class A>
inline void widen(const BF<A>& v, BD<A>& lo, BD<A>& hi) {
  static_assert(BD<A>::size * 2 == BF<A>::size, "a double vector must hold half the float lanes");
  if constexpr (false) {
#if QKERN_SIMD_NEON64
  } else if constexpr (simd::derives_v<A, xsimd::neon64>) {
    const float32x4_t x = v;
    lo = BD<A>(vcvt_f64_f32(vget_low_f32(x)));
    hi = BD<A>(vcvt_high_f64_f32(x));
#endif
#if QKERN_SIMD_X86
  } else if constexpr (simd::derives_v<A, xsimd::avx512f>) {
    const __m512 x = v;
    lo = BD<A>(_mm512_cvtps_pd(_mm512_castps512_ps256(x)));
    hi = BD<A>(_mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x), 1))));
  } else if constexpr (simd::derives_v<A, xsimd::avx>) {
    const __m256 x = v;
    lo = BD<A>(_mm256_cvtps_pd(_mm256_castps256_ps128(x)));
    hi = BD<A>(_mm256_cvtps_pd(_mm256_extractf128_ps(x, 1)));
  } else if constexpr (simd::derives_v<A, xsimd::sse2>) {
    const __m128 x = v;
    lo = BD<A>(_mm_cvtps_pd(x));
    hi = BD<A>(_mm_cvtps_pd(_mm_movehl_ps(x, x)));
#endif
  } else {
    alignas(64) float f[BF<A>::size];
    alignas(64) double d[BF<A>::size];
    v.store_aligned(f);
    for (std::size_t i = 0; i < BF<A>::size; ++i) d[i] = f[i];
    lo = BD<A>::load_aligned(d);
    hi = BD<A>::load_aligned(d + BD<A>::size);
  }
}

// The bits test of reference::is_nonfinite, per arch (see simd/dispatch.hpp on ODR).
template <class A>
inline bool nonfinite(float v) {
  std::uint32_t b;
  std::memcpy(&b, &v, 4);
  return (b & 0x7f800000u) == 0x7f800000u;
}

template <class A>
inline void count_nonfinite(float v, ValueCounts& c) {
  std::uint32_t b;
  std::memcpy(&b, &v, 4);
  if ((b & 0x7fffffffu) > 0x7f800000u)
    ++c.nan;
  else if (b & 0x80000000u)
    ++c.neg_inf;
  else
    ++c.pos_inf;
}

// Same tree as reference::combine_metric_lanes.
template <class A>
inline double combine_lanes(double* a) {
  for (std::size_t w = kMetricLanes / 2; w >= 1; w /= 2)
    for (std::size_t j = 0; j < w; ++j) a[j] = a[j] + a[j + w];
  return a[0];
}

template <class A>
inline void merge_into(MetricSums& s, const MetricSums& o) {
  s.sum_ref_sq = s.sum_ref_sq + o.sum_ref_sq;
  s.sum_test_sq = s.sum_test_sq + o.sum_test_sq;
  s.sum_err_sq = s.sum_err_sq + o.sum_err_sq;
  s.sum_dot = s.sum_dot + o.sum_dot;
  s.sum_abs_err = s.sum_abs_err + o.sum_abs_err;
  s.sum_err = s.sum_err + o.sum_err;
  s.max_abs_err = o.max_abs_err > s.max_abs_err ? o.max_abs_err : s.max_abs_err;
  s.compared += o.compared;
  s.reference.finite += o.reference.finite;
  s.reference.nan += o.reference.nan;
  s.reference.pos_inf += o.reference.pos_inf;
  s.reference.neg_inf += o.reference.neg_inf;
  s.test.finite += o.test.finite;
  s.test.nan += o.test.nan;
  s.test.pos_inf += o.test.pos_inf;
  s.test.neg_inf += o.test.neg_inf;
}

// The six sums and the max over kMetricLanes double lanes, as K vectors each.
template <class A>
struct BlockAccumulator {
  static constexpr std::size_t NF = BF<A>::size;
  static constexpr std::size_t ND = BD<A>::size;
  static constexpr std::size_t FB = kMetricLanes / NF;  // float vectors per block
  static constexpr std::size_t K = kMetricLanes / ND;   // double vectors per sum
  static_assert(kMetricLanes % NF == 0, "a block must be whole float vectors");

  BD<A> r2[K], t2[K], e2[K], dot[K], ae[K], e1[K], mx[K];
  ValueCounts ref_bad, test_bad;  // non-finite values only
  std::uint64_t bad_pairs = 0;

  BlockAccumulator() {
#pragma GCC unroll 16
    for (std::size_t k = 0; k < K; ++k) {
      r2[k] = t2[k] = e2[k] = dot[k] = ae[k] = e1[k] = mx[k] = BD<A>(0.0);
    }
  }

  void update(std::size_t m, const BD<A>& r, const BD<A>& t) {
    const BD<A> e = t - r;
    const BD<A> a = xsimd::abs(e);
    // simd::opaque: each product rounded on its own, never fused with the add (the definition has
    // no FMA; matters when these headers are compiled with the caller's -march and contraction).
    r2[m] = r2[m] + simd::opaque(r * r);
    t2[m] = t2[m] + simd::opaque(t * t);
    e2[m] = e2[m] + simd::opaque(e * e);
    dot[m] = dot[m] + simd::opaque(r * t);
    ae[m] = ae[m] + a;
    e1[m] = e1[m] + e;
    mx[m] = xsimd::max(mx[m], a);
  }

  // kMetricLanes pairs starting at ref / test.
  void add_block(const float* ref, const float* test) {
    BF<A> x[FB], y[FB];
    auto bad = BI<A>(0) != BI<A>(0);
#pragma GCC unroll 16
    for (std::size_t k = 0; k < FB; ++k) {
      x[k] = BF<A>::load_unaligned(ref + k * NF);
      y[k] = BF<A>::load_unaligned(test + k * NF);
      bad = bad || simd::nonfinite_mask(x[k]) || simd::nonfinite_mask(y[k]);
    }
    if (xsimd::any(bad)) {  // rare: count by kind, then zero the pairs with a non-finite side
      for (std::size_t i = 0; i < kMetricLanes; ++i) {
        const bool br = nonfinite<A>(ref[i]), bt = nonfinite<A>(test[i]);
        if (br) count_nonfinite<A>(ref[i], ref_bad);
        if (bt) count_nonfinite<A>(test[i], test_bad);
        if (br || bt) ++bad_pairs;
      }
      for (std::size_t k = 0; k < FB; ++k) {
        const auto m = simd::mask_cast<float>(simd::nonfinite_mask(x[k]) || simd::nonfinite_mask(y[k]));
        x[k] = simd::lane_select(m, BF<A>(0.0f), x[k]);
        y[k] = simd::lane_select(m, BF<A>(0.0f), y[k]);
      }
    }
#pragma GCC unroll 16
    for (std::size_t k = 0; k < FB; ++k) {
      BD<A> xl, xh, yl, yh;
      widen<A>(x[k], xl, xh);
      widen<A>(y[k], yl, yh);
      update(2 * k, xl, yl);
      update(2 * k + 1, xh, yh);
    }
  }

  static double total(const BD<A>* v) {
    alignas(64) double lanes[kMetricLanes];
    for (std::size_t k = 0; k < K; ++k) v[k].store_aligned(lanes + k * ND);
    return combine_lanes<A>(lanes);
  }

  MetricSums finish(std::size_t n) const {
    MetricSums s;
    s.sum_ref_sq = total(r2);
    s.sum_test_sq = total(t2);
    s.sum_err_sq = total(e2);
    s.sum_dot = total(dot);
    s.sum_abs_err = total(ae);
    s.sum_err = total(e1);
    alignas(64) double lanes[kMetricLanes];
    for (std::size_t k = 0; k < K; ++k) mx[k].store_aligned(lanes + k * ND);
    double m = 0.0;
    for (double v : lanes) m = v > m ? v : m;
    s.max_abs_err = m;
    s.compared = n - bad_pairs;
    s.reference = ref_bad;
    s.reference.finite = n - (ref_bad.nan + ref_bad.pos_inf + ref_bad.neg_inf);
    s.test = test_bad;
    s.test.finite = n - (test_bad.nan + test_bad.pos_inf + test_bad.neg_inf);
    return s;
  }
};

template <class A>
inline MetricSums sums_run(const float* ref, const float* test, std::size_t n) {
  BlockAccumulator<A> acc;
  std::size_t i = 0;
  for (; i + kMetricLanes <= n; i += kMetricLanes) acc.add_block(ref + i, test + i);
  if (i < n) {  // zero pairs add +0.0: the same as not being there
    float rb[kMetricLanes] = {}, tb[kMetricLanes] = {};
    std::memcpy(rb, ref + i, (n - i) * sizeof(float));
    std::memcpy(tb, test + i, (n - i) * sizeof(float));
    acc.add_block(rb, tb);
  }
  return acc.finish(n);
}

// Channels-last accumulation for one chunk of channels: plain per-channel double sums, one element
// per outer row in outer order (a run of one element has the total 0.0 + v, so this equals the
// reference's merge of one-element runs).
template <class A>
struct ChannelChunk {
  static constexpr std::size_t kMax = 256;  // channels per chunk (stack arrays)
  alignas(64) double r2[kMax], t2[kMax], e2[kMax], dot[kMax], ae[kMax], e1[kMax], mx[kMax];

  void scalar_pair(float rf, float tf, std::size_t j, MetricSums& out) {
    const bool br = nonfinite<A>(rf), bt = nonfinite<A>(tf);
    if (br || bt) {
      if (br) {
        count_nonfinite<A>(rf, out.reference);
        --out.reference.finite;
      }
      if (bt) {
        count_nonfinite<A>(tf, out.test);
        --out.test.finite;
      }
      --out.compared;
      return;
    }
    const double r = rf, t = tf;
    const double e = t - r;
    const double a = std::fabs(e);
    r2[j] = r2[j] + qkern::detail::fp_opaque<double, A>(r * r);
    t2[j] = t2[j] + qkern::detail::fp_opaque<double, A>(t * t);
    e2[j] = e2[j] + qkern::detail::fp_opaque<double, A>(e * e);
    dot[j] = dot[j] + qkern::detail::fp_opaque<double, A>(r * t);
    ae[j] = ae[j] + a;
    e1[j] = e1[j] + e;
    mx[j] = a > mx[j] ? a : mx[j];
  }

  static void vector_update(double* p, const BD<A>& v) { (BD<A>::load_aligned(p) + v).store_aligned(p); }

  void vector_pairs(const BD<A>& r, const BD<A>& t, std::size_t j) {
    const BD<A> e = t - r;
    const BD<A> a = xsimd::abs(e);
    vector_update(r2 + j, simd::opaque(r * r));
    vector_update(t2 + j, simd::opaque(t * t));
    vector_update(e2 + j, simd::opaque(e * e));
    vector_update(dot + j, simd::opaque(r * t));
    vector_update(ae + j, a);
    vector_update(e1 + j, e);
    xsimd::max(BD<A>::load_aligned(mx + j), a).store_aligned(mx + j);
  }

  void run(const float* ref, const float* test, const ChannelLayout& l, std::size_t c0, std::size_t c1,
           MetricSums* out) {
    constexpr std::size_t NF = BF<A>::size, ND = BD<A>::size;
    const std::size_t w = c1 - c0;
    for (std::size_t j = 0; j < w; ++j) r2[j] = t2[j] = e2[j] = dot[j] = ae[j] = e1[j] = mx[j] = 0.0;
    for (std::size_t o = 0; o < l.outer; ++o) {
      const float* rr = ref + o * l.channels + c0;
      const float* tr = test + o * l.channels + c0;
      std::size_t j = 0;
      for (; j + NF <= w; j += NF) {
        const BF<A> x = BF<A>::load_unaligned(rr + j), y = BF<A>::load_unaligned(tr + j);
        if (xsimd::any(simd::nonfinite_mask(x) || simd::nonfinite_mask(y))) {
          for (std::size_t k = 0; k < NF; ++k) scalar_pair(rr[j + k], tr[j + k], j + k, out[c0 + j + k]);
          continue;
        }
        BD<A> xl, xh, yl, yh;
        widen<A>(x, xl, xh);
        widen<A>(y, yl, yh);
        vector_pairs(xl, yl, j);
        vector_pairs(xh, yh, j + ND);
      }
      for (; j < w; ++j) scalar_pair(rr[j], tr[j], j, out[c0 + j]);
    }
    for (std::size_t j = 0; j < w; ++j) {
      MetricSums& s = out[c0 + j];
      s.sum_ref_sq = r2[j];
      s.sum_test_sq = t2[j];
      s.sum_err_sq = e2[j];
      s.sum_dot = dot[j];
      s.sum_abs_err = ae[j];
      s.sum_err = e1[j];
      s.max_abs_err = mx[j];
    }
  }
};

}  // namespace metrics_detail

/// Metric sums of the pairs (reference[i], test[i]), i in [0, n) (see core/metric_sums.hpp).
struct f32_metric_sums {
  using signature = MetricSums(const float*, const float*, std::size_t);
  template <class A>
  MetricSums operator()(A, const float* reference, const float* test, std::size_t n) const {
    return metrics_detail::sums_run<A>(reference, test, n);
  }
};

/// Per-channel metric sums of two tensors laid out as `layout`, written to out[0, channels) (fresh
/// values, not merged with out's previous contents).
struct f32_metric_sums_channels {
  using signature = void(const float*, const float*, const ChannelLayout&, MetricSums*);
  template <class A>
  void operator()(A, const float* reference, const float* test, const ChannelLayout& l, MetricSums* out) const {
    using namespace metrics_detail;
    for (std::size_t c = 0; c < l.channels; ++c) {
      out[c] = MetricSums();
      if (l.inner == 1) {  // credited up front; the slow path takes back what it skips
        out[c].compared = l.outer;
        out[c].reference.finite = l.outer;
        out[c].test.finite = l.outer;
      }
    }
    if (l.inner == 1) {
      ChannelChunk<A> chunk;
      for (std::size_t c0 = 0; c0 < l.channels; c0 += ChannelChunk<A>::kMax) {
        const std::size_t c1 = c0 + ChannelChunk<A>::kMax < l.channels ? c0 + ChannelChunk<A>::kMax : l.channels;
        chunk.run(reference, test, l, c0, c1, out);
      }
      return;
    }
    for (std::size_t o = 0; o < l.outer; ++o)
      for (std::size_t c = 0; c < l.channels; ++c) {
        const std::size_t base = (o * l.channels + c) * l.inner;
        merge_into<A>(out[c], sums_run<A>(reference + base, test + base, l.inner));
      }
  }
};

/// Finite values of x[0, n) below lo and above hi, every value counted by kind (lo, hi not NaN).
struct f32_count_outside {
  using signature = OutsideCounts(const float*, std::size_t, float, float);
  template <class A>
  OutsideCounts operator()(A, const float* x, std::size_t n, float lo, float hi) const {
    using namespace metrics_detail;
    constexpr std::size_t N = BF<A>::size;
    // int32 lane counters are flushed well before they could overflow.
    constexpr std::size_t kFlush = std::size_t(1) << 24;
    const BF<A> vlo(lo), vhi(hi);
    const BI<A> one(1), zero(0);
    OutsideCounts r;
    std::size_t i = 0;
    while (i + N <= n) {
      BI<A> below(0), above(0);
      const std::size_t stop = (n - i) / N > kFlush ? i + kFlush * N : n;
      for (; i + N <= stop; i += N) {
        const BF<A> v = BF<A>::load_unaligned(x + i);
        BI<A> lt = simd::lane_select(simd::mask_cast<std::int32_t>(v < vlo), one, zero);
        BI<A> gt = simd::lane_select(simd::mask_cast<std::int32_t>(v > vhi), one, zero);
        const auto bad = simd::nonfinite_mask(v);
        if (xsimd::any(bad)) {  // rare: count by kind; -Inf < lo and +Inf > hi are not "outside"
          for (std::size_t k = 0; k < N; ++k)
            if (nonfinite<A>(x[i + k])) count_nonfinite<A>(x[i + k], r.counts);
          lt = simd::lane_select(bad, zero, lt);
          gt = simd::lane_select(bad, zero, gt);
        }
        below = below + lt;
        above = above + gt;
      }
      r.below += static_cast<std::uint64_t>(simd::reduce_add(below));
      r.above += static_cast<std::uint64_t>(simd::reduce_add(above));
    }
    for (; i < n; ++i) {
      if (nonfinite<A>(x[i])) {
        count_nonfinite<A>(x[i], r.counts);
        continue;
      }
      if (x[i] < lo) ++r.below;
      if (x[i] > hi) ++r.above;
    }
    r.counts.finite = n - (r.counts.nan + r.counts.pos_inf + r.counts.neg_inf);
    return r;
  }
};

}  // namespace kernels
}  // namespace qkern

// This family's entries in the kernel list (kernels/kernel_list.hpp).
#define QKERN_METRICS_KERNELS(X) \
  X(f32_metric_sums)             \
  X(f32_metric_sums_channels)    \
  X(f32_count_outside)
