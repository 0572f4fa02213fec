// qkern — SPDX-License-Identifier: Apache-2.0
//
// kernels/scalar.hpp: every kernel of kernels/kernel_list.hpp as its scalar reference, with the
// kernel's own signature, for the arch tag simd::scalar_arch. dispatch::select runs these when
// QKERN_SCALAR_KERNELS is on (simd/isa.hpp): on processors without x86 or aarch64 SIMD (riscv64,
// ppc64le, s390x, 32-bit ARM, ...; xsimd 8.1 has no batch API there), and anywhere with
// QKERN_FORCE_SCALAR (so this path is tested natively too).
//
// ScalarKernel<K> is declared in simd/dispatch.hpp (ArchKernel<K, simd::scalar_arch>::run calls
// it); a kernel without a specialization here fails to compile when dispatched that way.
// Each ScalarKernel<K>::run turns the kernel's arguments (precomputed constants, layouts, output
// arrays to merge into) back into what the qkern::reference function of that family takes and
// calls it, so the results are the references' by construction; where a kernel also merges into its
// outputs (per-channel min/max, grid ranges) the merge is the kernel's documented one.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "qkern/kernels/convert.hpp"
#include "qkern/kernels/gemm.hpp"
#include "qkern/kernels/histogram.hpp"
#include "qkern/kernels/metrics.hpp"
#include "qkern/kernels/minmax.hpp"
#include "qkern/kernels/quantize.hpp"
#include "qkern/kernels/requantize.hpp"
#include "qkern/kernels/select.hpp"
#include "qkern/reference/convert.hpp"
#include "qkern/reference/gemm.hpp"
#include "qkern/reference/histogram.hpp"
#include "qkern/reference/metrics.hpp"
#include "qkern/reference/minmax.hpp"
#include "qkern/reference/quantize.hpp"
#include "qkern/reference/requantize.hpp"
#include "qkern/reference/select.hpp"
#include "qkern/simd/dispatch.hpp"

namespace qkern {
namespace kernels {
inline namespace QKERN_ABI_NS {

namespace scalar_detail {

using Tag = simd::scalar_arch;

// QuantParams of per-tensor constants: lo = qmin - zp and hi = qmax - zp are exact integers.
template <class T = Tag>
inline QuantParams params_of(float scale, std::int32_t zp, float lo, float hi, Arithmetic a) {
  QuantParams p;
  p.scale = scale;
  p.zero_point = zp;
  p.qmin = static_cast<std::int32_t>(lo) + zp;
  p.qmax = static_cast<std::int32_t>(hi) + zp;
  p.arithmetic = a;
  return p;
}

template <class T = Tag>
inline QuantParams params_of(const QuantizeConstants& c) {
  return params_of<T>(c.scale, c.zero_point, c.lo, c.hi, c.arithmetic);
}

template <class T = Tag>
inline QuantParams params_of(const ChannelQuantizeConstants& c, std::size_t ch) {
  return params_of<T>(c.scale[ch], c.zero_point[ch], c.lo[ch], c.hi[ch], c.arithmetic);
}

// f(run of channel c, its length, c) for every (outer, channel) run of a layout.
template <class F>
inline void for_each_run(const ChannelLayout& l, F&& f) {
  for (std::size_t o = 0; o < l.outer; ++o)
    for (std::size_t c = 0; c < l.channels; ++c) f((o * l.channels + c) * l.inner, c);
}

// Min / max of the finite values (|x| in absolute mode) of x[0, n), merged into mn, mx.
template <class T = Tag>
inline void merge_finite_range(const float* x, std::size_t n, bool absolute, float& mn, float& mx) {
  for (std::size_t i = 0; i < n; ++i) {
    if (reference::is_nonfinite(x[i])) continue;
    const float v = absolute ? std::fabs(x[i]) : x[i];
    mn = v < mn ? v : mn;
    mx = v > mx ? v : mx;
  }
}

template <class T = Tag>
inline float positive_zero(float v) {
  return v == 0.0f ? 0.0f : v;
}

}  // namespace scalar_detail

// Quantize family.
template <class Q>
struct ScalarKernel<f32_quantize<Q>> {
  static void run(const float* x, Q* y, std::size_t n, const QuantizeConstants& c) {
    reference::quantize(x, y, n, scalar_detail::params_of(c));
  }
};
template <>
struct ScalarKernel<f32_fake_quantize> {
  static void run(const float* x, float* y, std::size_t n, const QuantizeConstants& c) {
    reference::fake_quantize(x, y, n, scalar_detail::params_of(c));
  }
};
template <class Q>
struct ScalarKernel<dequantize_f32<Q>> {
  static void run(const Q* q, float* y, std::size_t n, const QuantizeConstants& c) {
    reference::dequantize(q, y, n, scalar_detail::params_of(c));
  }
};
template <class Q>
struct ScalarKernel<f32_quantize_channels<Q>> {
  static void run(const float* x, Q* y, const ChannelLayout& l, const ChannelQuantizeConstants& c) {
    scalar_detail::for_each_run(l, [&](std::size_t base, std::size_t ch) {
      reference::quantize(x + base, y + base, l.inner, scalar_detail::params_of(c, ch));
    });
  }
};
template <>
struct ScalarKernel<f32_fake_quantize_channels> {
  static void run(const float* x, float* y, const ChannelLayout& l, const ChannelQuantizeConstants& c) {
    scalar_detail::for_each_run(l, [&](std::size_t base, std::size_t ch) {
      reference::fake_quantize(x + base, y + base, l.inner, scalar_detail::params_of(c, ch));
    });
  }
};
template <class Q>
struct ScalarKernel<dequantize_f32_channels<Q>> {
  static void run(const Q* q, float* y, const ChannelLayout& l, const ChannelQuantizeConstants& c) {
    scalar_detail::for_each_run(l, [&](std::size_t base, std::size_t ch) {
      reference::dequantize(q + base, y + base, l.inner, scalar_detail::params_of(c, ch));
    });
  }
};

// Min / max family (the per-channel kernels merge into their outputs).
template <>
struct ScalarKernel<f32_minmax> {
  static MinMax run(const float* x, std::size_t n) { return reference::minmax(x, n); }
};
template <>
struct ScalarKernel<f32_absmax> {
  static AbsMax run(const float* x, std::size_t n) { return reference::absmax(x, n); }
};
template <>
struct ScalarKernel<f32_minmax_channels> {
  static void run(const float* x, const ChannelLayout& l, float* mn, float* mx, ValueCounts* counts) {
    scalar_detail::for_each_run(l, [&](std::size_t base, std::size_t c) {
      const MinMax r = reference::minmax(x + base, l.inner);
      mn[c] = r.min < mn[c] ? r.min : mn[c];
      mx[c] = r.max > mx[c] ? r.max : mx[c];
      counts[c] += r.counts;
    });
  }
};
template <>
struct ScalarKernel<f32_absmax_channels> {
  static void run(const float* x, const ChannelLayout& l, float* absmax, ValueCounts* counts) {
    scalar_detail::for_each_run(l, [&](std::size_t base, std::size_t c) {
      const AbsMax r = reference::absmax(x + base, l.inner);
      absmax[c] = r.value > absmax[c] ? r.value : absmax[c];
      counts[c] += r.counts;
    });
  }
};

// Histogram family.
template <>
struct ScalarKernel<f32_histogram> {
  static void run(const float* x, std::size_t n, const FixedBinning& b, std::uint64_t* counts) {
    reference::histogram(x, n, b, counts);
  }
};
template <>
struct ScalarKernel<f32_grid_histogram> {
  static MinMax run(const float* x, std::size_t n, const GridBinning& b, std::uint64_t* counts) {
    const std::uint64_t* extra = counts + b.bins;
    const std::uint64_t before[3] = {extra[kSlotNaN], extra[kSlotPosInf], extra[kSlotNegInf]};
    reference::grid_histogram(x, n, b, counts);
    MinMax r;
    scalar_detail::merge_finite_range(x, n, b.absolute, r.min, r.max);
    r.min = scalar_detail::positive_zero(r.min);
    r.max = scalar_detail::positive_zero(r.max);
    r.counts.nan = extra[kSlotNaN] - before[0];
    r.counts.pos_inf = extra[kSlotPosInf] - before[1];
    r.counts.neg_inf = extra[kSlotNegInf] - before[2];
    r.counts.finite = n - (r.counts.nan + r.counts.pos_inf + r.counts.neg_inf);
    return r;
  }
};
template <>
struct ScalarKernel<f32_histogram_channels> {
  static void run(const float* x, const ChannelLayout& l, const FixedChannelBinnings& b, std::uint64_t* counts) {
    reference::histogram(x, l, b, counts);
  }
};
template <>
struct ScalarKernel<f32_grid_histogram_channels> {
  static void run(const float* x, const ChannelLayout& l, const GridChannelBinnings& b, std::uint64_t* counts,
                  float* mn, float* mx) {
    reference::grid_histogram(x, l, b, counts);
    scalar_detail::for_each_run(l, [&](std::size_t base, std::size_t c) {
      scalar_detail::merge_finite_range(x + base, l.inner, b.absolute, mn[c], mx[c]);
    });
    for (std::size_t c = 0; c < l.channels; ++c) {
      mn[c] = scalar_detail::positive_zero(mn[c]);
      mx[c] = scalar_detail::positive_zero(mx[c]);
    }
  }
};

// Selection scan.
template <>
struct ScalarKernel<f32_key_window_scan> {
  static KeyWindowScan run(const float* x, std::size_t n, std::int32_t lo, std::int32_t hi, std::int32_t* out,
                           std::size_t capacity) {
    return reference::key_window_scan(x, n, lo, hi, out, capacity);
  }
};

// Metrics family.
template <>
struct ScalarKernel<f32_metric_sums> {
  static MetricSums run(const float* ref, const float* test, std::size_t n) {
    return reference::metric_sums(ref, test, n);
  }
};
template <>
struct ScalarKernel<f32_metric_sums_channels> {
  static void run(const float* ref, const float* test, const ChannelLayout& l, MetricSums* out) {
    const std::vector<MetricSums> r = reference::metric_sums(ref, test, l);
    for (std::size_t c = 0; c < l.channels; ++c) out[c] = r[c];
  }
};
template <>
struct ScalarKernel<f32_count_outside> {
  static OutsideCounts run(const float* x, std::size_t n, float lo, float hi) {
    return reference::count_outside(x, n, lo, hi);
  }
};

// Requantize family: the constants carry the parameters they were made from.
template <class Q>
struct ScalarKernel<requantize<Q>> {
  static void run(const std::int32_t* acc, Q* out, std::size_t n, const RequantizeConstants& c) {
    reference::requantize(acc, out, n, c.source);
  }
};
template <class Q>
struct ScalarKernel<requantize_channels<Q>> {
  static void run(const std::int32_t* acc, Q* out, const ChannelLayout& l, const ChannelRequantizeConstants& c) {
    ChannelRequantizeParams p;
    p.scale.assign(c.source_scale, c.source_scale + l.channels);
    p.zero_point = c.zero_point;
    p.qmin = c.lo + c.zero_point;
    p.qmax = c.hi + c.zero_point;
    p.rounding = c.rounding;
    reference::requantize(acc, out, l, p);
  }
};

// GEMM: B unpacked from its panels (element (k, n) at ((p * k_groups + g) * 16 + j) * 4 + t with
// n = 16 p + j, k = 4 g + t; see PackedB).
template <class TA>
struct ScalarKernel<gemm_s32<TA>> {
  static void run(std::size_t M, const TA* a, std::size_t lda, const PackedBView& b, std::int32_t* c, std::size_t ldc,
                  bool saturate_pairs) {
    std::vector<std::int8_t> B(b.K * b.N);
    for (std::size_t k = 0; k < b.K; ++k)
      for (std::size_t n = 0; n < b.N; ++n)
        B[k * b.N + n] =
            b.data[(((n / kGemmPanel) * b.k_groups + k / kGemmKGroup) * kGemmPanel + n % kGemmPanel) * kGemmKGroup +
                   k % kGemmKGroup];
    reference::gemm(M, b.N, b.K, a, lda, B.data(), b.N, c, ldc, saturate_pairs);
  }
};

// Conversions to float32.
#define QKERN_DETAIL_SCALAR_CONVERT(KERNEL, ...)                                                         \
  template <>                                                                                            \
  struct ScalarKernel<KERNEL> {                                                                          \
    static void run(const void* src, std::size_t n, float* out) { reference::__VA_ARGS__(src, n, out); } \
  };
QKERN_DETAIL_SCALAR_CONVERT(f16_to_f32, f16_to_f32)
QKERN_DETAIL_SCALAR_CONVERT(bf16_to_f32, bf16_to_f32)
QKERN_DETAIL_SCALAR_CONVERT(f64_to_f32, f64_to_f32)
QKERN_DETAIL_SCALAR_CONVERT(i8_to_f32, int_to_f32<std::int8_t>)
QKERN_DETAIL_SCALAR_CONVERT(u8_to_f32, int_to_f32<std::uint8_t>)
QKERN_DETAIL_SCALAR_CONVERT(i16_to_f32, int_to_f32<std::int16_t>)
QKERN_DETAIL_SCALAR_CONVERT(u16_to_f32, int_to_f32<std::uint16_t>)
QKERN_DETAIL_SCALAR_CONVERT(i32_to_f32, int_to_f32<std::int32_t>)
QKERN_DETAIL_SCALAR_CONVERT(u32_to_f32, int_to_f32<std::uint32_t>)
QKERN_DETAIL_SCALAR_CONVERT(i64_to_f32, int_to_f32<std::int64_t>)
QKERN_DETAIL_SCALAR_CONVERT(u64_to_f32, int_to_f32<std::uint64_t>)
QKERN_DETAIL_SCALAR_CONVERT(bool_to_f32, bool_to_f32)
#undef QKERN_DETAIL_SCALAR_CONVERT

}  // namespace QKERN_ABI_NS
}  // namespace kernels
}  // namespace qkern
