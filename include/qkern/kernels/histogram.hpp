// qkern — SPDX-License-Identifier: Apache-2.0
//
// kernels/histogram.hpp: SIMD histogram counting, fixed range and power-of-two grid, per tensor and
// per channel, into 64-bit counters with every value accounted for (bins, below, above, NaN, +Inf,
// -Inf; see reference/histogram.hpp for the exact slot formulas, which these kernels reproduce bit
// for bit on every arch).
//
// Technique. The slot of each lane is computed in SIMD with the reference's fixed sequence of IEEE
// float operations (no FMA: dispatch TUs and tests compile with -ffp-contract=off), then the
// counters are incremented from a small index buffer. Runs long enough to amortise it count into
// four uint16 sub-histograms (lane l -> sub-histogram l % 4), which breaks the store-to-load
// dependency chains that repeated values (a ReLU's zeros) would otherwise serialize on, and keeps
// the hot counters in L1; they are flushed into the uint64 counters before any can overflow. A
// vector whose lanes all fall in one slot (runs of equal values) is added in one increment.
// Vectors holding NaN/Inf take a lane-by-lane path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "qkern/core/layout.hpp"
#include "qkern/core/value_stats.hpp"
#include "qkern/reference/histogram.hpp"
#include "qkern/simd/convert.hpp"

namespace qkern {
namespace kernels {
namespace detail {

template <class A>
using HF = simd::batch<float, A>;
template <class A>
using HI = simd::batch<std::int32_t, A>;

// Runs of at least this many times the slot count use the uint16 sub-histograms.
inline constexpr std::size_t kSubHistogramMinRunPerSlot = 8;
// Largest slot count for which the sub-histograms (4 x 2 bytes per slot) are used.
inline constexpr std::size_t kSubHistogramMaxSlots = 1u << 14;

// Mask that clears the sign bit (absolute mode) or keeps every bit.
template <class A>
inline HF<A> abs_mask(bool absolute) {
  return simd::bitcast<float>(HI<A>(absolute ? 0x7fffffff : -1));
}

// Fixed-range slots of the lanes of v (already |x| in absolute mode); non-finite lanes are garbage.
template <class A>
struct FixedSlots {
  HF<A> lo, hi, scale;
  HI<A> last, below, above;
  FixedSlots(const FixedBinning& b)
      : lo(b.lo),
        hi(b.hi),
        scale(b.scale),
        last(std::int32_t(b.bins - 1)),
        below(std::int32_t(b.bins + kSlotBelow)),
        above(std::int32_t(b.bins + kSlotAbove)) {}
  FixedSlots(const HF<A>& lo_, const HF<A>& hi_, const HF<A>& scale_, std::uint32_t bins)
      : lo(lo_),
        hi(hi_),
        scale(scale_),
        last(std::int32_t(bins - 1)),
        below(std::int32_t(bins + kSlotBelow)),
        above(std::int32_t(bins + kSlotAbove)) {}
  HI<A> operator()(const HF<A>& v) const {
    const HF<A> t = (v - lo) * scale;
    HI<A> i = xsimd::min(xsimd::to_int(t), last);
    i = xsimd::select(simd::mask_cast<std::int32_t>(v < lo), below, i);
    return xsimd::select(simd::mask_cast<std::int32_t>(v > hi), above, i);
  }
};

// Grid slots of the lanes of v; non-finite lanes are garbage.
template <class A>
struct GridSlots {
  HF<A> inv_width, base, bins_f;
  HI<A> below, above;
  GridSlots(const GridBinning& b)
      : inv_width(b.inv_width),
        base(b.base),
        bins_f(float(b.bins)),
        below(std::int32_t(b.bins + kSlotBelow)),
        above(std::int32_t(b.bins + kSlotAbove)) {}
  GridSlots(const HF<A>& inv_width_, const HF<A>& base_, std::uint32_t bins)
      : inv_width(inv_width_),
        base(base_),
        bins_f(float(bins)),
        below(std::int32_t(bins + kSlotBelow)),
        above(std::int32_t(bins + kSlotAbove)) {}
  HI<A> operator()(const HF<A>& v) const {
    const HF<A> zero(0.0f);
    HF<A> j = xsimd::floor(v * inv_width);
    j = xsimd::select((v < zero) & (j == zero), HF<A>(-1.0f), j);  // a negative v whose t underflowed to -0
    const HF<A> r = j - base;
    HI<A> i = xsimd::to_int(r);
    i = xsimd::select(simd::mask_cast<std::int32_t>(r < zero), below, i);
    return xsimd::select(simd::mask_cast<std::int32_t>(r >= bins_f), above, i);
  }
};

// Min/max of the finite lanes of v, carried through a run (used by the grid kernels).
template <class A>
struct RangeTracker {
  HF<A> mn = HF<A>(std::numeric_limits<float>::infinity()), mx = HF<A>(-std::numeric_limits<float>::infinity());
  float smn = std::numeric_limits<float>::infinity(), smx = -std::numeric_limits<float>::infinity();
  void vec(const HF<A>& v) {
    mn = xsimd::min(mn, v);
    mx = xsimd::max(mx, v);
  }
  void lane(float v) {
    smn = v < smn ? v : smn;
    smx = v > smx ? v : smx;
  }
  float min() const {
    const float m = simd::reduce_min(mn);
    return m < smn ? m : smn;
  }
  float max() const {
    const float m = simd::reduce_max(mx);
    return m > smx ? m : smx;
  }
};

struct NoRange {
  template <class V>
  void vec(const V&) {}
  void lane(float) {}
};

// Counts x[0, n) into counts (nslots entries) through `slots` (SIMD) and `scalar_slot` (one value),
// applying `range` to the finite values (|x| in absolute mode).
template <class A, class Slots, class ScalarSlot, class Range>
inline void count_run(const float* x, std::size_t n, std::uint64_t* counts, std::uint32_t nslots, bool absolute,
                      const Slots& slots, ScalarSlot scalar_slot, Range& range) {
  constexpr std::size_t N = HF<A>::size;
  static_assert(N % 4 == 0, "lanes are spread over four sub-histograms");
  const HF<A> amask = abs_mask<A>(absolute);
  alignas(64) std::int32_t idx[N];
  auto scalar_lanes = [&](const float* p, std::size_t m, auto&& add) {
    for (std::size_t l = 0; l < m; ++l) {
      const std::uint32_t s = scalar_slot(p[l]);
      if (!reference::is_nonfinite_value<A>(p[l])) range.lane(absolute ? std::fabs(p[l]) : p[l]);
      add(l, s);
    }
  };
  // Computes the slots of one vector into idx; returns true when all lanes share one slot.
  auto vector_slots = [&](const float* p) -> bool {
    const HF<A> xv = HF<A>::load_unaligned(p);
    if (xsimd::any(simd::nonfinite_mask(xv))) {
      scalar_lanes(p, N, [&](std::size_t l, std::uint32_t s) { idx[l] = std::int32_t(s); });
      return false;
    }
    const HF<A> v = xv & amask;
    range.vec(v);
    const HI<A> s = slots(v);
    s.store_aligned(idx);
    return xsimd::all(s == HI<A>(idx[0]));
  };
  std::size_t i = 0;
  const bool sub = n >= kSubHistogramMinRunPerSlot * nslots && nslots <= kSubHistogramMaxSlots;
  if (sub) {
    // Four uint16 sub-histograms; lane l of every vector goes to sub-histogram l % 4, so each
    // receives n/4 increments per block, flushed before 65535.
    std::vector<std::uint16_t> h(4 * std::size_t{nslots}, 0);
    std::uint16_t* h0 = h.data();
    std::uint16_t* h1 = h0 + nslots;
    std::uint16_t* h2 = h1 + nslots;
    std::uint16_t* h3 = h2 + nslots;
    constexpr std::size_t kBlockElems = (65532 * 4 / N) * N;  // <= 65532 increments per sub-histogram
    auto flush = [&] {
      for (std::size_t s = 0; s < nslots; ++s) {
        counts[s] += std::uint64_t{h0[s]} + h1[s] + h2[s] + h3[s];
        h0[s] = h1[s] = h2[s] = h3[s] = 0;
      }
    };
    while (i + N <= n) {
      const std::size_t end = (n - i) / N * N > kBlockElems ? i + kBlockElems : i + (n - i) / N * N;
      for (; i < end; i += N) {
        if (vector_slots(x + i)) {
          counts[idx[0]] += N;
          continue;
        }
        for (std::size_t l = 0; l < N; l += 4) {
          ++h0[idx[l]];
          ++h1[idx[l + 1]];
          ++h2[idx[l + 2]];
          ++h3[idx[l + 3]];
        }
      }
      flush();
    }
  } else {
    for (; i + N <= n; i += N) {
      if (vector_slots(x + i)) {
        counts[idx[0]] += N;
        continue;
      }
      for (std::size_t l = 0; l < N; ++l) ++counts[idx[l]];
    }
  }
  scalar_lanes(x + i, n - i, [&](std::size_t, std::uint32_t s) { ++counts[s]; });
}

// Channels-last driver (inner == 1): vectors run along the channels of each row; `make_slots(c)`
// gives the SIMD slot function of channels [c, c + N), `scalar_slot(v, c)` one value. Slots are
// offset by channel * stride into one counter array.
template <class A, class MakeSlots, class ScalarSlot, class RangeAt>
inline void count_channels_last(const float* x, const ChannelLayout& l, std::uint64_t* counts, std::uint32_t stride,
                                bool absolute, MakeSlots make_slots, ScalarSlot scalar_slot, RangeAt range_at) {
  constexpr std::size_t N = HF<A>::size;
  const HF<A> amask = abs_mask<A>(absolute);
  alignas(64) std::int32_t idx[N];
  HI<A> lane_offsets;
  {
    alignas(64) std::int32_t o[N];
    for (std::size_t j = 0; j < N; ++j) o[j] = std::int32_t(j * stride);
    lane_offsets = HI<A>::load_aligned(o);
  }
  auto scalar_value = [&](float v, std::size_t c) {
    if (!reference::is_nonfinite_value<A>(v)) range_at(c).lane(absolute ? std::fabs(v) : v);
    ++counts[c * stride + scalar_slot(v, c)];
  };
  for (std::size_t o = 0; o < l.outer; ++o) {
    const float* row = x + o * l.channels;
    std::size_t c = 0;
    for (; c + N <= l.channels; c += N) {
      const HF<A> xv = HF<A>::load_unaligned(row + c);
      if (xsimd::any(simd::nonfinite_mask(xv))) {
        for (std::size_t j = 0; j < N; ++j) scalar_value(row[c + j], c + j);
        continue;
      }
      const HF<A> v = xv & amask;
      range_at.vec(v, c);
      const HI<A> s = make_slots(c)(v) + lane_offsets;
      s.store_aligned(idx);
      std::uint64_t* base = counts + c * stride;
      for (std::size_t j = 0; j < N; ++j) ++base[idx[j]];
    }
    for (; c < l.channels; ++c) scalar_value(row[c], c);
  }
}

// Per-channel min/max arrays seen as trackers (channels-last path).
template <class A>
struct ChannelRanges {
  float* mn;
  float* mx;
  struct Lane {
    float& mn;
    float& mx;
    void lane(float v) {
      mn = v < mn ? v : mn;
      mx = v > mx ? v : mx;
    }
  };
  Lane operator()(std::size_t c) const { return {mn[c], mx[c]}; }
  void vec(const HF<A>& v, std::size_t c) const {
    xsimd::min(HF<A>::load_unaligned(mn + c), v).store_unaligned(mn + c);
    xsimd::max(HF<A>::load_unaligned(mx + c), v).store_unaligned(mx + c);
  }
};

struct NoChannelRanges {
  NoRange operator()(std::size_t) const { return {}; }
  template <class V>
  void vec(const V&, std::size_t) const {}
};

template <class A>
inline float positive_zero(float v) {
  return v == 0.0f ? 0.0f : v;
}

}  // namespace detail

/// Fixed-range histogram of x[0, n), added into counts[bins + kHistogramExtraSlots].
struct f32_histogram {
  using signature = void(const float*, std::size_t, const FixedBinning&, std::uint64_t*);
  template <class A>
  void operator()(A, const float* x, std::size_t n, const FixedBinning& b, std::uint64_t* counts) const {
    detail::NoRange none;
    detail::count_run<A>(
        x, n, counts, std::uint32_t(b.bins + kHistogramExtraSlots), b.absolute, detail::FixedSlots<A>(b),
        [&](float v) { return reference::fixed_slot<A>(v, b); }, none);
  }
};

/// Power-of-two-grid histogram of x[0, n), added into counts[bins + kHistogramExtraSlots]; returns
/// the min/max of the finite values (of |x| in absolute mode) and the value counts.
struct f32_grid_histogram {
  using signature = MinMax(const float*, std::size_t, const GridBinning&, std::uint64_t*);
  template <class A>
  MinMax operator()(A, const float* x, std::size_t n, const GridBinning& b, std::uint64_t* counts) const {
    detail::RangeTracker<A> range;
    const std::uint64_t* extra = counts + b.bins;
    const std::uint64_t before[3] = {extra[kSlotNaN], extra[kSlotPosInf], extra[kSlotNegInf]};
    detail::count_run<A>(
        x, n, counts, std::uint32_t(b.bins + kHistogramExtraSlots), b.absolute, detail::GridSlots<A>(b),
        [&](float v) { return reference::grid_slot<A>(v, b); }, range);
    MinMax r;
    r.min = detail::positive_zero<A>(range.min());
    r.max = detail::positive_zero<A>(range.max());
    r.counts.nan = extra[kSlotNaN] - before[0];
    r.counts.pos_inf = extra[kSlotPosInf] - before[1];
    r.counts.neg_inf = extra[kSlotNegInf] - before[2];
    r.counts.finite = n - r.counts.skipped();
    return r;
  }
};

/// Per-channel fixed-range histograms: channel c adds into counts + c * (bins + kHistogramExtraSlots).
struct f32_histogram_channels {
  using signature = void(const float*, const ChannelLayout&, const FixedChannelBinnings&, std::uint64_t*);
  template <class A>
  void operator()(A, const float* x, const ChannelLayout& l, const FixedChannelBinnings& b,
                  std::uint64_t* counts) const {
    using F = detail::HF<A>;
    const std::uint32_t stride = std::uint32_t(b.bins + kHistogramExtraSlots);
    if (l.inner == 1) {
      detail::count_channels_last<A>(
          x, l, counts, stride, b.absolute,
          [&](std::size_t c) {
            return detail::FixedSlots<A>(F::load_unaligned(b.lo + c), F::load_unaligned(b.hi + c),
                                         F::load_unaligned(b.scale + c), b.bins);
          },
          [&](float v, std::size_t c) { return reference::fixed_slot<A>(v, b.channel(c)); }, detail::NoChannelRanges{});
      return;
    }
    detail::NoRange none;
    for (std::size_t o = 0; o < l.outer; ++o)
      for (std::size_t c = 0; c < l.channels; ++c) {
        const FixedBinning bc = b.channel(c);
        detail::count_run<A>(
            x + (o * l.channels + c) * l.inner, l.inner, counts + c * stride, stride, b.absolute,
            detail::FixedSlots<A>(bc), [&](float v) { return reference::fixed_slot<A>(v, bc); }, none);
      }
  }
};

/// Per-channel grid histograms: channel c adds into counts + c * (bins + kHistogramExtraSlots) and
/// merges the min/max of its finite values (|x| in absolute mode) into mn[c], mx[c] (caller
/// initialises them to +Inf / -Inf for a fresh start; zero extremes come out as +0.0).
struct f32_grid_histogram_channels {
  using signature = void(const float*, const ChannelLayout&, const GridChannelBinnings&, std::uint64_t*, float*,
                         float*);
  template <class A>
  void operator()(A, const float* x, const ChannelLayout& l, const GridChannelBinnings& b, std::uint64_t* counts,
                  float* mn, float* mx) const {
    using F = detail::HF<A>;
    const std::uint32_t stride = std::uint32_t(b.bins + kHistogramExtraSlots);
    if (l.inner == 1) {
      detail::count_channels_last<A>(
          x, l, counts, stride, b.absolute,
          [&](std::size_t c) {
            return detail::GridSlots<A>(F::load_unaligned(b.inv_width + c), F::load_unaligned(b.base + c), b.bins);
          },
          [&](float v, std::size_t c) { return reference::grid_slot<A>(v, b.channel(c)); },
          detail::ChannelRanges<A>{mn, mx});
    } else {
      for (std::size_t o = 0; o < l.outer; ++o)
        for (std::size_t c = 0; c < l.channels; ++c) {
          const GridBinning bc = b.channel(c);
          detail::RangeTracker<A> range;
          detail::count_run<A>(
              x + (o * l.channels + c) * l.inner, l.inner, counts + c * stride, stride, b.absolute,
              detail::GridSlots<A>(bc), [&](float v) { return reference::grid_slot<A>(v, bc); }, range);
          const float rmn = range.min(), rmx = range.max();
          mn[c] = rmn < mn[c] ? rmn : mn[c];
          mx[c] = rmx > mx[c] ? rmx : mx[c];
        }
    }
    for (std::size_t c = 0; c < l.channels; ++c) {
      mn[c] = detail::positive_zero<A>(mn[c]);
      mx[c] = detail::positive_zero<A>(mx[c]);
    }
  }
};

}  // namespace kernels
}  // namespace qkern

// This family's entries in the kernel list (kernels/kernel_list.hpp).
#define QKERN_HISTOGRAM_KERNELS(X) \
  X(f32_histogram)                 \
  X(f32_grid_histogram)            \
  X(f32_histogram_channels)        \
  X(f32_grid_histogram_channels)
