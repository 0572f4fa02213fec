// qkern — SPDX-License-Identifier: Apache-2.0
//
// kernels/minmax.hpp: one-pass min/max and abs-max over the finite values, per tensor and per
// channel, counting NaN and +-Inf instead of letting them poison the range. Tested bit for bit
// against reference/minmax.hpp on every arch (min and max are exact, so any order agrees; zero
// extremes are reported as +0.0).
//
// The vector loop checks each vector for non-finite lanes with one integer compare; only vectors
// that contain one take the slow lane-by-lane path, so clean data runs at full speed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>

#include "qkern/core/layout.hpp"
#include "qkern/core/value_stats.hpp"
#include "qkern/reference/quantize.hpp"
#include "qkern/simd/attributes.hpp"
#include "qkern/simd/convert.hpp"
#include "qkern/simd/prefetch.hpp"

namespace qkern {
namespace kernels {
namespace detail {

// Scalar helpers below are templated on the arch only so that each arch translation unit has its
// own copy (see simd/dispatch.hpp): calling a plain inline function (reference::is_nan,
// ValueCounts::skipped, ...) from a kernel emits it out of line in unoptimised builds, compiled with
// that arch's flags, and the linker keeps one copy for every arch (found by tests/check_arch_leaks).
template <class A>
inline bool is_nan_bits(float v) {
  std::uint32_t b;
  std::memcpy(&b, &v, 4);
  return (b & 0x7fffffffu) > 0x7f800000u;
}

template <class A>
inline bool is_nonfinite_bits(float v) {
  std::uint32_t b;
  std::memcpy(&b, &v, 4);
  return (b & 0x7f800000u) == 0x7f800000u;
}

template <class A>
inline std::uint64_t skipped_count(const ValueCounts& c) {
  return c.nan + c.pos_inf + c.neg_inf;
}

// Scalar accumulation of one value (the slow path and the tail).
template <class A>
inline void account_value(float v, float& mn, float& mx, ValueCounts& counts) {
  if (is_nonfinite_bits<A>(v)) {
    if (is_nan_bits<A>(v))
      ++counts.nan;
    else if (v > 0)
      ++counts.pos_inf;
    else
      ++counts.neg_inf;
    return;
  }
  mn = v < mn ? v : mn;
  mx = v > mx ? v : mx;
}

template <class A>
inline void account_lanes(const simd::batch<float, A>& x, float& mn, float& mx, ValueCounts& counts) {
  alignas(64) float lanes[simd::batch<float, A>::size];
  x.store_aligned(lanes);
  for (float v : lanes) account_value<A>(v, mn, mx, counts);
}

template <class A>
inline float canonical_zero(float v) {
  return v == 0.0f ? 0.0f : v;
}

// Lanes of any of a, b, c, d that are +-Inf or NaN: |bits| > largest finite, tested once on the
// integer max of the four (cheaper than four exponent compares in the hot loop).
template <class A>
inline bool any_nonfinite4(const simd::batch<float, A>& a, const simd::batch<float, A>& b,
                           const simd::batch<float, A>& c, const simd::batch<float, A>& d) {
  using BI = simd::batch<std::int32_t, A>;
  const BI m(0x7fffffff);
  const BI ab = xsimd::max(simd::bitcast<std::int32_t>(a) & m, simd::bitcast<std::int32_t>(b) & m);
  const BI cd = xsimd::max(simd::bitcast<std::int32_t>(c) & m, simd::bitcast<std::int32_t>(d) & m);
  return xsimd::any(xsimd::max(ab, cd) > BI(0x7f7fffff));
}

// Min/max of x[0, n) over finite values with counts (finite filled in from n at the end). Four
// vectors per iteration with independent accumulators; a block holding a non-finite value takes
// the lane-by-lane path.
template <class A>
QKERN_FLATTEN inline MinMax minmax_run(const float* x, std::size_t n) {
  using B = simd::batch<float, A>;
  constexpr std::size_t N = B::size;
  const float inf = std::numeric_limits<float>::infinity();
  B mn0(inf), mn1(inf), mx0(-inf), mx1(-inf);
  float smn = inf, smx = -inf;
  ValueCounts counts;
  std::size_t i = 0;
  for (; i + 4 * N <= n; i += 4 * N) {
    simd::prefetch_ahead<A, 4 * N * sizeof(float)>(x + i);
    const B a = B::load_unaligned(x + i), b = B::load_unaligned(x + i + N);
    const B c = B::load_unaligned(x + i + 2 * N), d = B::load_unaligned(x + i + 3 * N);
    if (any_nonfinite4<A>(a, b, c, d)) {
      account_lanes<A>(a, smn, smx, counts);
      account_lanes<A>(b, smn, smx, counts);
      account_lanes<A>(c, smn, smx, counts);
      account_lanes<A>(d, smn, smx, counts);
      continue;
    }
    mn0 = xsimd::min(mn0, xsimd::min(a, b));
    mx0 = xsimd::max(mx0, xsimd::max(a, b));
    mn1 = xsimd::min(mn1, xsimd::min(c, d));
    mx1 = xsimd::max(mx1, xsimd::max(c, d));
  }
  for (; i < n; ++i) account_value<A>(x[i], smn, smx, counts);
  const float vmn = simd::reduce_min(xsimd::min(mn0, mn1)), vmx = simd::reduce_max(xsimd::max(mx0, mx1));
  MinMax r;
  r.min = vmn < smn ? vmn : smn;
  r.max = vmx > smx ? vmx : smx;
  r.min = canonical_zero<A>(r.min);
  r.max = canonical_zero<A>(r.max);
  counts.finite = n - skipped_count<A>(counts);
  r.counts = counts;
  return r;
}

template <class A>
QKERN_FLATTEN inline AbsMax absmax_run(const float* x, std::size_t n) {
  using B = simd::batch<float, A>;
  constexpr std::size_t N = B::size;
  B m0(0.0f), m1(0.0f);
  float smn = std::numeric_limits<float>::infinity(), smx = -smn;
  ValueCounts counts;
  std::size_t i = 0;
  for (; i + 4 * N <= n; i += 4 * N) {
    simd::prefetch_ahead<A, 4 * N * sizeof(float)>(x + i);
    const B a = B::load_unaligned(x + i), b = B::load_unaligned(x + i + N);
    const B c = B::load_unaligned(x + i + 2 * N), d = B::load_unaligned(x + i + 3 * N);
    if (any_nonfinite4<A>(a, b, c, d)) {
      account_lanes<A>(a, smn, smx, counts);
      account_lanes<A>(b, smn, smx, counts);
      account_lanes<A>(c, smn, smx, counts);
      account_lanes<A>(d, smn, smx, counts);
      continue;
    }
    m0 = xsimd::max(m0, xsimd::max(xsimd::abs(a), xsimd::abs(b)));
    m1 = xsimd::max(m1, xsimd::max(xsimd::abs(c), xsimd::abs(d)));
  }
  for (; i < n; ++i) account_value<A>(x[i], smn, smx, counts);
  float v = simd::reduce_max(xsimd::max(m0, m1));
  if (smx >= smn) {  // the scalar side saw finite values
    const float s = -smn > smx ? -smn : smx;
    v = s > v ? s : v;
  }
  AbsMax r;
  r.value = v;
  counts.finite = n - skipped_count<A>(counts);
  r.counts = counts;
  return r;
}

}  // namespace detail

/// Min/max over the finite values of x[0, n), NaN and +-Inf counted.
struct f32_minmax {
  using signature = MinMax(const float*, std::size_t);
  template <class A>
  MinMax operator()(A, const float* x, std::size_t n) const {
    return detail::minmax_run<A>(x, n);
  }
};

/// max |x| over the finite values of x[0, n), NaN and +-Inf counted.
struct f32_absmax {
  using signature = AbsMax(const float*, std::size_t);
  template <class A>
  AbsMax operator()(A, const float* x, std::size_t n) const {
    return detail::absmax_run<A>(x, n);
  }
};

namespace detail {

// As account_value for a channel whose finite count was credited in advance (see below).
template <class A>
inline void account_channel_value(float v, float& mn, float& mx, ValueCounts& counts) {
  account_value<A>(v, mn, mx, counts);
  if (is_nonfinite_bits<A>(v)) --counts.finite;
}

// Channels-last traversal (inner == 1) shared by the min/max and abs-max kernels: vectors run along
// the channels of four rows at once (update4(a, b, d, e, c): rows 0-3 at channels [c, c + N)), so
// the caller's accumulators in memory are touched once per four rows; leftover rows go one at a
// time (update1). Vectors holding a non-finite value and channel tails go through account(v, c)
// value by value. The next rows are prefetched (simd/prefetch.hpp).
template <class A, class Update4, class Update1, class Account>
QKERN_FLATTEN inline void channels_last_run(const float* x, std::size_t outer, std::size_t C, Update4 update4,
                                            Update1 update1, Account account) {
  using B = simd::batch<float, A>;
  constexpr std::size_t N = B::size;
  std::size_t o = 0;
  for (; o + 4 <= outer && C >= N; o += 4) {
    const float* row = x + o * C;
    simd::prefetch_range_ahead<A>(row, 4 * C * sizeof(float));
    std::size_t c = 0;
    for (; c + N <= C; c += N) {
      const B a = B::load_unaligned(row + c), b = B::load_unaligned(row + C + c);
      const B d = B::load_unaligned(row + 2 * C + c), e = B::load_unaligned(row + 3 * C + c);
      if (any_nonfinite4<A>(a, b, d, e)) {
        for (std::size_t r = 0; r < 4; ++r)
          for (std::size_t j = 0; j < N; ++j) account(row[r * C + c + j], c + j);
        continue;
      }
      update4(a, b, d, e, c);
    }
    for (std::size_t r = 0; r < 4; ++r)
      for (std::size_t k = c; k < C; ++k) account(row[r * C + k], k);
  }
  for (; o < outer; ++o) {
    const float* row = x + o * C;
    std::size_t c = 0;
    for (; c + N <= C; c += N) {
      const B v = B::load_unaligned(row + c);
      if (xsimd::any(simd::nonfinite_mask(v))) {
        for (std::size_t j = 0; j < N; ++j) account(row[c + j], c + j);
        continue;
      }
      update1(v, c);
    }
    for (; c < C; ++c) account(row[c], c);
  }
}

// Per-channel driver. Each call credits every channel with `outer * inner` finite values up front
// and takes back one per non-finite value met, so the fast vector path needs no counter.
// inner == 1 (channels last): channels_last_run, merging each reduced vector into the caller's
// arrays with vec_update(min, max, c). inner > 1: each (outer, channel) run is reduced with the
// per-tensor loop.
template <class A, class VecUpdate, class RunUpdate>
QKERN_FLATTEN inline void channels_run(const float* x, const ChannelLayout& l, float* mn, float* mx,
                                       ValueCounts* counts, VecUpdate vec_update, RunUpdate run_update) {
  using B = simd::batch<float, A>;
  for (std::size_t c = 0; c < l.channels; ++c) counts[c].finite += l.outer * l.inner;
  if (l.inner == 1) {
    channels_last_run<A>(
        x, l.outer, l.channels,
        [&](const B& a, const B& b, const B& d, const B& e, std::size_t c) {
          vec_update(xsimd::min(xsimd::min(a, b), xsimd::min(d, e)), xsimd::max(xsimd::max(a, b), xsimd::max(d, e)), c);
        },
        [&](const B& v, std::size_t c) { vec_update(v, v, c); },
        [&](float v, std::size_t c) { account_channel_value<A>(v, mn[c], mx[c], counts[c]); });
  } else {
    for (std::size_t o = 0; o < l.outer; ++o)
      for (std::size_t c = 0; c < l.channels; ++c) {
        const MinMax r = run_update(x + (o * l.channels + c) * l.inner, l.inner);
        mn[c] = r.min < mn[c] ? r.min : mn[c];
        mx[c] = r.max > mx[c] ? r.max : mx[c];
        counts[c].finite -= skipped_count<A>(r.counts);
        counts[c].nan += r.counts.nan;
        counts[c].pos_inf += r.counts.pos_inf;
        counts[c].neg_inf += r.counts.neg_inf;
      }
  }
  for (std::size_t c = 0; c < l.channels; ++c) {
    mn[c] = canonical_zero<A>(mn[c]);
    mx[c] = canonical_zero<A>(mx[c]);
  }
}

}  // namespace detail

/// Per-channel min/max, merged into min[c], max[c], counts[c] (arrays of layout.channels entries,
/// initialised by the caller: +Inf / -Inf / zero counts for a fresh start), so a stream of batches
/// accumulates.
struct f32_minmax_channels {
  using signature = void(const float*, const ChannelLayout&, float*, float*, ValueCounts*);
  template <class A>
  void operator()(A, const float* x, const ChannelLayout& l, float* mn, float* mx, ValueCounts* counts) const {
    using B = simd::batch<float, A>;
    detail::channels_run<A>(
        x, l, mn, mx, counts,
        [&](const B& lo, const B& hi, std::size_t c) {
          xsimd::min(B::load_unaligned(mn + c), lo).store_unaligned(mn + c);
          xsimd::max(B::load_unaligned(mx + c), hi).store_unaligned(mx + c);
        },
        [](const float* p, std::size_t n) { return detail::minmax_run<A>(p, n); });
  }
};

/// Per-channel abs-max, merged into absmax[c] and counts[c] (absmax initialised to 0 by the
/// caller for a fresh start).
struct f32_absmax_channels {
  using signature = void(const float*, const ChannelLayout&, float*, ValueCounts*);
  template <class A>
  QKERN_FLATTEN void operator()(A, const float* x, const ChannelLayout& l, float* absmax, ValueCounts* counts) const {
    using B = simd::batch<float, A>;
    for (std::size_t c = 0; c < l.channels; ++c) counts[c].finite += l.outer * l.inner;
    // Slow path: the symmetric range [-absmax, absmax] as a min/max pair; |v| widens it.
    auto account = [&](float v, std::size_t c) {
      float mn = -absmax[c], mx = absmax[c];
      detail::account_channel_value<A>(v, mn, mx, counts[c]);
      const float a = -mn > mx ? -mn : mx;
      absmax[c] = a > absmax[c] ? a : absmax[c];
    };
    if (l.inner == 1) {
      detail::channels_last_run<A>(
          x, l.outer, l.channels,
          [&](const B& a, const B& b, const B& d, const B& e, std::size_t c) {
            const B m = xsimd::max(xsimd::max(xsimd::abs(a), xsimd::abs(b)), xsimd::max(xsimd::abs(d), xsimd::abs(e)));
            xsimd::max(B::load_unaligned(absmax + c), m).store_unaligned(absmax + c);
          },
          [&](const B& v, std::size_t c) {
            xsimd::max(B::load_unaligned(absmax + c), xsimd::abs(v)).store_unaligned(absmax + c);
          },
          account);
      return;
    }
    for (std::size_t o = 0; o < l.outer; ++o)
      for (std::size_t c = 0; c < l.channels; ++c) {
        const AbsMax r = detail::absmax_run<A>(x + (o * l.channels + c) * l.inner, l.inner);
        absmax[c] = r.value > absmax[c] ? r.value : absmax[c];
        counts[c].finite -= detail::skipped_count<A>(r.counts);
        counts[c].nan += r.counts.nan;
        counts[c].pos_inf += r.counts.pos_inf;
        counts[c].neg_inf += r.counts.neg_inf;
      }
  }
};

}  // namespace kernels
}  // namespace qkern

// This family's entries in the kernel list (kernels/kernel_list.hpp).
#define QKERN_MINMAX_KERNELS(X) \
  X(f32_minmax)                 \
  X(f32_absmax)                 \
  X(f32_minmax_channels)        \
  X(f32_absmax_channels)
