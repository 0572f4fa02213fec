// qkern — SPDX-License-Identifier: Apache-2.0
//
// kernels/histogram.hpp: SIMD histogram counting, fixed range and power-of-two grid, per tensor and
// per channel, into 64-bit counters with every value accounted for (bins, below, above, NaN, +Inf,
// -Inf; see reference/histogram.hpp for the exact slot formulas, which these kernels reproduce bit
// for bit on every arch).
//
// Technique. Each vector is first tested for the common case, "every lane finite and inside the
// range" (two compares, a finiteness test on the bits and one mask test: NaN fails the compares
// too, but under -ffast-math the compiler may assume it does not, so only the bit test keeps a NaN
// from reaching the float->int conversion and the counter index); its slots are then computed with the reference's
// fixed sequence of IEEE float operations minus the range selects (no FMA: dispatch TUs compile with
// -ffp-contract=off, and no product feeds an add). A vector with an out-of-range or non-finite lane takes the full
// select path or, for NaN/Inf, a lane-by-lane path. Slot indices reach the counter increments through general-purpose
// registers (simd/lanes.hpp), two vectors after they are computed (DelayedSlots says why: +30-36 % per tensor and per
// channel NCHW). Runs long enough to amortise a flush count into two uint32 sub-histograms, lane l of a vector into
// copy l % 2 (kSubCopies says why two), 16 KB at 2048 bins so the hot counters stay in L1; they are added into the
// uint64 counters every 2^16 vectors (long before a uint32 could overflow) and at the end of each run set or channel.
// Traversal follows memory: channels-first tensors go 8 channels at a time, row by row (count_channels_first),
// channels-last ones in ~32 KB row blocks, column by column (count_channels_last); each driver's comment gives the
// measured reason. The grid kernels track min/max of the in-range vectors in the same pass (two vector ops, no branch)
// and test the window with float bounds precomputed exactly from the grid (grid_window), so the fast path needs no
// clamps.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <utility>
#include <vector>

#include "qkern/core/layout.hpp"
#include "qkern/core/value_stats.hpp"
#include "qkern/reference/histogram.hpp"
#include "qkern/simd/convert.hpp"
#include "qkern/simd/lanes.hpp"
#include "qkern/simd/prefetch.hpp"
#include "qkern/simd/scratch.hpp"

namespace qkern {
namespace kernels {
namespace detail {

template <class A>
using HF = simd::batch<float, A>;
template <class A>
using HI = simd::batch<std::int32_t, A>;

// Runs of at least this many times the slot count use the uint32 sub-histograms.
inline constexpr std::size_t kSubHistogramMinRunPerSlot = 2;
// Largest slot count for which the sub-histograms (kSubCopies x 4 bytes per slot) are used.
inline constexpr std::size_t kSubHistogramMaxSlots = 1u << 14;

// Mask that clears the sign bit (absolute mode) or keeps every bit.
template <class A>
inline HF<A> abs_mask(bool absolute) {
  return simd::bitcast<float>(HI<A>(absolute ? 0x7fffffff : -1));
}

// Fixed-range slots of the lanes of v (already |x| in absolute mode); non-finite lanes are garbage.
// Truncation is clamped in float (t < last ? t : last), which equals the reference's unsigned
// min(trunc(t), B - 1) for every t, also +Inf and NaN (an infinite scale).
template <class A>
struct FixedSlots {
  HF<A> lo, hi, scale, last_f;
  HI<A> below, above;
  FixedSlots(const FixedBinning& b)
      : lo(b.lo),
        hi(b.hi),
        scale(b.scale),
        last_f(float(b.bins - 1)),
        below(std::int32_t(b.bins + kSlotBelow)),
        above(std::int32_t(b.bins + kSlotAbove)) {}
  FixedSlots(const HF<A>& lo_, const HF<A>& hi_, const HF<A>& scale_, std::uint32_t bins)
      : lo(lo_),
        hi(hi_),
        scale(scale_),
        last_f(float(bins - 1)),
        below(std::int32_t(bins + kSlotBelow)),
        above(std::int32_t(bins + kSlotAbove)) {}
  // Lanes finite and in [lo, hi] (false for NaN and +-Inf).
  xsimd::batch_bool<float, A> in_range(const HF<A>& v) const { return (v >= lo) & (v <= hi); }
  // Slots of lanes that are in range.
  HI<A> fast(const HF<A>& v) const {
    const HF<A> t = (v - lo) * scale;
    return xsimd::to_int(simd::lane_select(t < last_f, t, last_f));
  }
  // Slots of finite lanes.
  HI<A> operator()(const HF<A>& v) const {
    HI<A> i = fast(v);
    i = simd::lane_select(simd::mask_cast<std::int32_t>(v < lo), below, i);
    return simd::lane_select(simd::mask_cast<std::int32_t>(v > hi), above, i);
  }
};

// Float bounds [flo, fhi] such that a float v lies in them iff it is finite and in the window
// [base * 2^k, (base + bins) * 2^k) of the grid (exact: the edges are computed in double and
// rounded inwards). A window beyond the float range gives bounds no value passes. Also called from
// calib/ with A = void (caller's flags, no arch in the name): always inlined, never emitted.
template <class A>
QKERN_ALWAYS_INLINE void grid_window(float inv_width, float base, std::uint32_t bins, float& flo, float& fhi) {
  const double width = 1.0 / double(inv_width);  // a power of two: exact
  const double elo = double(base) * width, ehi = (double(base) + double(bins)) * width;
  const float fmax = std::numeric_limits<float>::max(), inf = std::numeric_limits<float>::infinity();
  float l = elo < -double(fmax) ? -fmax : elo > double(fmax) ? inf : float(elo);
  if (double(l) < elo) l = std::nextafter(l, inf);
  float h = ehi > double(fmax) ? fmax : ehi < -double(fmax) ? -inf : float(ehi);
  if (double(h) >= ehi) h = std::nextafter(h, -inf);
  flo = l;
  fhi = h;
}

// Grid slots of the lanes of v; non-finite lanes are garbage. Fix: apply the reference's "negative v
// whose t underflowed to -0 is bin -1" on the fast path too (only possible when 2^-k < 1).
template <class A, bool Fix = true>
struct GridSlots {
  HF<A> inv_width, base, bins_f, flo, fhi;
  HI<A> below, above;
  GridSlots(const GridBinning& b)
      : inv_width(b.inv_width),
        base(b.base),
        bins_f(float(b.bins)),
        below(std::int32_t(b.bins + kSlotBelow)),
        above(std::int32_t(b.bins + kSlotAbove)) {
    float l, h;
    grid_window<A>(b.inv_width, b.base, b.bins, l, h);
    flo = HF<A>(l);
    fhi = HF<A>(h);
  }
  GridSlots(const HF<A>& inv_width_, const HF<A>& base_, const HF<A>& flo_, const HF<A>& fhi_, std::uint32_t bins)
      : inv_width(inv_width_),
        base(base_),
        bins_f(float(bins)),
        flo(flo_),
        fhi(fhi_),
        below(std::int32_t(bins + kSlotBelow)),
        above(std::int32_t(bins + kSlotAbove)) {}
  xsimd::batch_bool<float, A> in_range(const HF<A>& v) const { return (v >= flo) & (v <= fhi); }
  HF<A> bin(const HF<A>& v) const {
    const HF<A> zero(0.0f);
    const HF<A> j = xsimd::floor(v * inv_width);
    return simd::lane_select((v < zero) & (j == zero), HF<A>(-1.0f), j);  // a negative v whose t underflowed to -0
  }
  HI<A> fast(const HF<A>& v) const {
    const HF<A> j = Fix ? bin(v) : xsimd::floor(v * inv_width);
    return xsimd::to_int(j - base);
  }
  HI<A> operator()(const HF<A>& v) const {
    const HF<A> zero(0.0f);
    const HF<A> r = bin(v) - base;
    HI<A> i = xsimd::to_int(r);
    i = simd::lane_select(simd::mask_cast<std::int32_t>(r < zero), below, i);
    return simd::lane_select(simd::mask_cast<std::int32_t>(r >= bins_f), above, i);
  }
};

// Min/max of the finite values, carried through a run (used by the grid kernels).
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
  QKERN_ALWAYS_INLINE void lane(float) {}  // no arch in its name: never emitted (core/abi.hpp)
};

// Increments counters of type C at the indices of a vector's lanes.
template <class A, class C>
struct LaneCounts {
  C* counts;
  void add(const HI<A>& idx) const {
    C* c = counts;
    simd::for_each_lane<A>(idx, [c](std::uint32_t i) { ++c[i]; });
  }
};

// Sub-histogram counters: kSubCopies uint32 copies of the slot counters, copy j at offset j * nslots;
// lane l of a vector counts into copy l % kSubCopies. Why two uint32 copies: a value repeated in
// neighbouring lanes (a ReLU's zeros) would otherwise chain every increment of a vector through one
// counter (store-to-load forwarding, ~6 cycles each); two copies halve those chains, while more
// copies, or interleaving them, only enlarge the counters' L1 footprint (8 copies of uint16 fill the
// 32 KB L1 of Zen 3 at 2048 bins). uint16 counters were slower per increment than uint32 on Zen 3
// (memory-destination 16-bit adds; measured 1.2 vs 1.6-1.8 G increments/s in L1).
inline constexpr std::size_t kSubCopies = 2;

template <class A>
inline HI<A> sub_copy_offsets(std::uint32_t nslots) {
  constexpr std::size_t N = HF<A>::size;
  alignas(64) std::int32_t o[N];
  for (std::size_t l = 0; l < N; ++l) o[l] = std::int32_t((l % kSubCopies) * nslots);
  return HI<A>::load_aligned(o);
}

// uint32 sub-histograms in front of a uint64 counter array (see kSubCopies).
template <class A>
class SubCounts {
 public:
  static constexpr std::size_t N = HF<A>::size;
  // Vectors between flushes. A counter receives at most N / kSubCopies increments per vector, so
  // uint32 would last 2^30 vectors; flushing every 2^16 costs ~0.5 % and lets the tests reach it.
  static constexpr std::size_t kBlockVectors = std::size_t{1} << 16;
  static_assert(kBlockVectors * (N / kSubCopies) <= 0xffffffffu, "sub-histogram counters would overflow");

  explicit SubCounts(std::uint32_t nslots)
      : h_(std::size_t{nslots} * kSubCopies), nslots_(nslots), lanes_(sub_copy_offsets<A>(nslots)) {}
  void target(std::uint64_t* counts) { counts_ = counts; }

  // The state the counting loop touches per vector, held by the loop as a local copy: the counter
  // stores go through a uint32_t pointer, and xsimd's vector types may alias anything, so members
  // reached through `this` would be reloaded after every increment.
  struct Cursor {
    std::uint32_t* h;
    HI<A> lanes;
    std::size_t left;
    SubCounts* owner;
    HI<A> index(const HI<A>& slot) const { return slot + lanes; }
    // Counts one vector of sub-histogram indices (from index()).
    void add(const HI<A>& idx) const { LaneCounts<A, std::uint32_t>{h}.add(idx); }
    // How many vectors may be added before used() has to be called.
    std::size_t room() const { return left; }
    void used(std::size_t vectors) {
      left -= vectors;
      if (left == 0) {
        owner->flush();
        left = kBlockVectors;
      }
    }
  };
  Cursor cursor() { return Cursor{h_.data(), lanes_, left_, this}; }
  void restore(const Cursor& c) { left_ = c.left; }

  void flush() {
    std::uint32_t* h = h_.data();
    static_assert(kSubCopies == 2, "add_u32_pairs_to_u64 adds two copies");
    for (std::size_t s = simd::add_u32_pairs_to_u64<A>(counts_, h, h + nslots_, nslots_); s < nslots_; ++s) {
      std::uint64_t t = 0;
      for (std::size_t j = 0; j < kSubCopies; ++j) t += h[j * nslots_ + s];
      counts_[s] += t;
    }
    std::fill(h, h + h_.size(), std::uint32_t{0});
    left_ = kBlockVectors;
  }

 private:
  simd::ScratchArray<std::uint32_t, A> h_;
  std::uint32_t nslots_;
  HI<A> lanes_;
  std::uint64_t* counts_ = nullptr;
  std::size_t left_ = kBlockVectors;
};

// Increments straight into the uint64 counters (runs too short to amortise a flush); its own cursor.
template <class A>
struct DirectCounts {
  std::uint64_t* counts;
  HI<A> index(const HI<A>& slot) const { return slot; }
  void add(const HI<A>& idx) const { LaneCounts<A, std::uint64_t>{counts}.add(idx); }
  std::size_t room() const { return std::numeric_limits<std::size_t>::max(); }
  void used(std::size_t) {}
  DirectCounts cursor() const { return *this; }
  void restore(const DirectCounts&) {}
};

// The counter increments of a vector are issued two vectors after its slots are computed. Why: a
// vector's increments (eight on AVX2) are stores whose addresses come at the end of a long chain
// (load, slot arithmetic, conversion, moves to general-purpose registers); issued right away they
// sit in the store queue until that chain completes, and the queue, not the arithmetic, then limits
// how far the core runs ahead. Slots computed two vectors earlier are ready when their increments
// issue. Measured (Zen 3, AVX2, fixed-range slots of 64 Ki floats in L2, stand-alone loop, best of
// 41 runs): 1.73 -> 2.51 G/s on N(0,1) data, 1.34 -> 1.56 on a concentrated ReLU stream.
template <class A>
struct DelayedSlots {
  HI<A> newer = HI<A>(0), older = HI<A>(0);  // initialised only to keep -Wmaybe-uninitialized quiet
  int held = 0;
  // Queues idx; adds the vector queued two pushes ago to `sink`.
  template <class Sink>
  void push(Sink& sink, const HI<A>& idx) {
    if (held == 2)
      sink.add(older);
    else
      ++held;
    older = newer;
    newer = idx;
  }
  // Adds what is still queued (before the counters are read or flushed).
  template <class Sink>
  void drain(Sink& sink) {
    if (held == 2) sink.add(older);
    if (held >= 1) sink.add(newer);
    held = 0;
  }
};

// Counts x[0, n) into `sink` (the slots' counters) and, for non-finite values, `counts` directly,
// through `slots` (SIMD) and `scalar_slot` (one value), applying `range` to the finite values (|x|
// in absolute mode).
template <class A, class Slots, class ScalarSlot, class Range, class Sink>
inline void count_run(const float* x, std::size_t n, std::uint64_t* counts, bool absolute, const Slots& slots_in,
                      ScalarSlot scalar_slot, Range& range_io, Sink& sink_io) {
  constexpr std::size_t N = HF<A>::size;
  const HF<A> amask = abs_mask<A>(absolute);
  // Local copies of everything the loop reads per vector (see SubCounts::Cursor).
  const Slots slots = slots_in;
  Range range = range_io;
  auto sink = sink_io.cursor();
  auto scalar_lanes = [&](const float* p, std::size_t m) {
    for (std::size_t l = 0; l < m; ++l) {
      if (!reference::is_nonfinite_value<A>(p[l])) range.lane(absolute ? std::fabs(p[l]) : p[l]);
      ++counts[scalar_slot(p[l])];
    }
  };
  std::size_t i = 0;
  DelayedSlots<A> delayed;
  // Blocks of at most sink.room() vectors, so the per-vector loop carries no flush counter.
  while (n - i >= N) {
    const std::size_t vectors = std::min((n - i) / N, sink.room());
    const std::size_t end = i + vectors * N;
    for (; i < end; i += N) {
      simd::prefetch_ahead<A, N * sizeof(float)>(x + i);
      const HF<A> xv = HF<A>::load_unaligned(x + i);
      const HF<A> v = xv & amask;
      HI<A> s;
      if (xsimd::all(slots.in_range(v) & simd::finite_mask_f(xv))) {
        range.vec(v);
        s = slots.fast(v);
      } else if (xsimd::any(simd::nonfinite_mask(xv))) {
        scalar_lanes(x + i, N);
        continue;
      } else {
        range.vec(v);
        s = slots(v);
      }
      delayed.push(sink, sink.index(s));
    }
    delayed.drain(sink);
    sink.used(vectors);
  }
  scalar_lanes(x + i, n - i);
  range_io = range;
  sink_io.restore(sink);
}

// Whether a run of n values into nslots slots is worth the sub-histograms.
template <class A>
inline bool use_sub_counts(std::size_t n, std::size_t nslots) {
  return n >= kSubHistogramMinRunPerSlot * nslots && nslots <= kSubHistogramMaxSlots;
}

// Channels counted together by the channels-first driver (see count_channels_first).
inline constexpr std::size_t kChannelGroup = 8;

// Per-tensor / channels-first driver: channel c's values are the runs x + (o * channels + c) *
// inner, o < outer; they count into counts + c * stride through make_slots(c) and scalar_slot(v,
// c), and range_at(c) receives their finite values (one tracker per channel, reduced after).
// Channels go in groups of kChannelGroup, each group row by row (o), so the runs read one after
// another are neighbours in memory (channels c0..c0+7 of row o): one channel at a time would jump
// channels * inner floats after every run, and a plain read in that order streams at only ~0.7 of
// the sequential rate on Zen 3 (measured; a group of 8 reads at the sequential rate). Each channel
// of the group keeps its own sub-histograms (8 x 16 KB at 2048 bins, L2-resident between runs):
// per-channel NCHW 64 x 3136 counting went from 0.36-0.39 to 0.43-0.46 of a read loop's rate.
template <class A, class MakeSlots, class ScalarSlot, class MakeRange, class DoneRange>
inline void count_channels_first(const float* x, const ChannelLayout& l, std::uint64_t* counts, std::uint32_t stride,
                                 bool absolute, MakeSlots make_slots, ScalarSlot scalar_slot, MakeRange make_range,
                                 DoneRange done_range) {
  const bool sub = use_sub_counts<A>(l.outer * l.inner, stride);
  using Slots = decltype(make_slots(0));
  using Range = decltype(make_range());
  const std::size_t group = std::min(l.outer > 1 ? kChannelGroup : 1, l.channels);
  std::vector<SubCounts<A>> subs;
  if (sub) {
    subs.reserve(group);
    for (std::size_t j = 0; j < group; ++j) subs.emplace_back(stride);
  }
  std::vector<Slots> slots;  // per channel of the group, built once (grid slots cost ~100 ops)
  slots.reserve(group);
  for (std::size_t c0 = 0; c0 < l.channels; c0 += group) {
    const std::size_t g = std::min(group, l.channels - c0);
    Range ranges[kChannelGroup];
    slots.clear();
    for (std::size_t j = 0; j < g; ++j) {
      slots.push_back(make_slots(c0 + j));
      ranges[j] = make_range();
      if (sub) subs[j].target(counts + (c0 + j) * stride);
    }
    for (std::size_t o = 0; o < l.outer; ++o)
      for (std::size_t j = 0; j < g; ++j) {
        const std::size_t c = c0 + j;
        std::uint64_t* cc = counts + c * stride;
        auto one = [&](float v) { return scalar_slot(v, c); };
        const float* run = x + (o * l.channels + c) * l.inner;
        if (sub) {
          count_run<A>(run, l.inner, cc, absolute, slots[j], one, ranges[j], subs[j]);
        } else {
          DirectCounts<A> direct{cc};
          count_run<A>(run, l.inner, cc, absolute, slots[j], one, ranges[j], direct);
        }
      }
    for (std::size_t j = 0; j < g; ++j) {
      if (sub) subs[j].flush();
      done_range(c0 + j, ranges[j]);
    }
  }
}

// Channels-last rows are counted in blocks of about this many bytes (see count_channels_last).
inline constexpr std::size_t kChannelsLastBlockBytes = std::size_t{32} << 10;
// Rows between flushes of the channels-last uint32 sub-counters (a row adds at most 1 to each; far
// below overflow, so that the tests reach a mid-call flush).
inline constexpr std::size_t kChannelsLastFlushRows = std::size_t{1} << 16;

// Counts rows [o0, o1) of the channels [0, vector_channels) of a channels-last tensor, column by
// column, into `counters` (channel c's slots at c * stride; uint64 counts or uint32 sub-counters).
template <class A, class Counter, class MakeSlots, class ScalarValue, class RangeAt>
inline void count_channels_last_block(const float* x, const ChannelLayout& l, std::size_t o0, std::size_t o1,
                                      std::size_t vector_channels, Counter* counters, std::uint32_t stride,
                                      const HF<A>& amask, const HI<A>& lane_offsets, MakeSlots& make_slots,
                                      ScalarValue& scalar_value, RangeAt& range_at) {
  constexpr std::size_t N = HF<A>::size;
  const std::size_t row_bytes = l.channels * sizeof(float);
  for (std::size_t c = 0; c < vector_channels; c += N) {
    const auto slots = make_slots(c);
    auto range = range_at.tracker();
    LaneCounts<A, Counter> sink{counters + c * stride};
    DelayedSlots<A> delayed;
    for (std::size_t o = o0; o < o1; ++o) {
      const float* row = x + o * l.channels;
      if (c == 0) simd::prefetch_range_ahead<A>(row, row_bytes);  // the first column brings the block in
      const HF<A> xv = HF<A>::load_unaligned(row + c);
      const HF<A> v = xv & amask;
      HI<A> s;
      if (xsimd::all(slots.in_range(v) & simd::finite_mask_f(xv))) {
        s = slots.fast(v);
      } else if (xsimd::any(simd::nonfinite_mask(xv))) {
        for (std::size_t j = 0; j < N; ++j) scalar_value(row[c + j], c + j);
        continue;
      } else {
        s = slots(v);
      }
      range.vec(v);
      delayed.push(sink, s + lane_offsets);
    }
    delayed.drain(sink);
    range_at.merge(range, c);
  }
}

// Channels-last driver (inner == 1): vectors run along the channels of each row; `make_slots(c)`
// gives the SIMD slot function of channels [c, c + N), `scalar_slot(v, c)` one value. Slots are
// offset by channel * stride into one counter array. Rows go in blocks of ~32 KB (L1), each block
// column by column (channels [c, c + N) of every row of the block, then the next N), so only N
// channels' counters are hot at a time and their slot constants and min/max stay in registers;
// row by row, the counters of all channels (1 MB at 64 channels x 2048 bins) are touched in turn.
// With enough rows the vector channels count into uint32 sub-counters (half the footprint of the
// uint64 counts), flushed every kChannelsLastFlushRows rows and at the end. Measured (64 channels,
// 2048 bins, 64 Mi values): 0.17 -> 0.22 of a read loop's rate.
template <class A, class MakeSlots, class ScalarSlot, class RangeAt>
inline void count_channels_last(const float* x, const ChannelLayout& l, std::uint64_t* counts, std::uint32_t stride,
                                bool absolute, MakeSlots make_slots, ScalarSlot scalar_slot, RangeAt range_at) {
  constexpr std::size_t N = HF<A>::size;
  const HF<A> amask = abs_mask<A>(absolute);
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
  const std::size_t block_rows = std::max<std::size_t>(1, kChannelsLastBlockBytes / (l.channels * sizeof(float)));
  const std::size_t vector_channels = l.channels - l.channels % N;
  const bool sub = use_sub_counts<A>(l.outer, stride);
  simd::ScratchArray<std::uint32_t, A> sub_counts(sub ? vector_channels * stride : 0);
  auto flush = [&] {
    for (std::size_t k = 0; k < vector_channels * stride; ++k) counts[k] += sub_counts[k];
    std::fill(sub_counts.data(), sub_counts.data() + sub_counts.size(), std::uint32_t{0});
  };
  std::size_t pending_rows = 0;
  for (std::size_t o0 = 0; o0 < l.outer; o0 += block_rows) {
    const std::size_t o1 = std::min(l.outer, o0 + block_rows);
    if (sub) {
      if (pending_rows + (o1 - o0) > kChannelsLastFlushRows) {
        flush();
        pending_rows = 0;
      }
      pending_rows += o1 - o0;
      count_channels_last_block<A>(x, l, o0, o1, vector_channels, sub_counts.data(), stride, amask, lane_offsets,
                                   make_slots, scalar_value, range_at);
    } else {
      count_channels_last_block<A>(x, l, o0, o1, vector_channels, counts, stride, amask, lane_offsets, make_slots,
                                   scalar_value, range_at);
    }
    for (std::size_t o = o0; o < o1; ++o)
      for (std::size_t c = vector_channels; c < l.channels; ++c) scalar_value(x[o * l.channels + c], c);
  }
  if (sub) flush();
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
  // Min/max of channels [c, c + N) over some rows, lane by lane (only its vector part is used);
  // merge() adds them into the arrays.
  RangeTracker<A> tracker() const { return {}; }
  void merge(const RangeTracker<A>& t, std::size_t c) const {
    xsimd::min(HF<A>::load_unaligned(mn + c), t.mn).store_unaligned(mn + c);
    xsimd::max(HF<A>::load_unaligned(mx + c), t.mx).store_unaligned(mx + c);
  }
};

struct NoChannelRanges {
  NoRange operator()(std::size_t) const { return {}; }
  NoRange tracker() const { return {}; }
  void merge(const NoRange&, std::size_t) const {}
};

template <class A>
inline float positive_zero(float v) {
  return v == 0.0f ? 0.0f : v;
}

// Runs f(std::true_type) when some grid width 2^k exceeds 1 (so 2^-k < 1 and a tiny negative v can
// underflow to -0 on the fast path), f(std::false_type) otherwise.
template <class A, class F>
inline void with_grid_fix(bool needed, F f) {
  if (needed)
    f(std::true_type{});
  else
    f(std::false_type{});
}

}  // namespace detail

/// Fixed-range histogram of x[0, n), added into counts[bins + kHistogramExtraSlots].
struct f32_histogram {
  using signature = void(const float*, std::size_t, const FixedBinning&, std::uint64_t*);
  template <class A>
  void operator()(A, const float* x, std::size_t n, const FixedBinning& b, std::uint64_t* counts) const {
    detail::count_channels_first<A>(
        x, ChannelLayout{1, 1, n}, counts, std::uint32_t(b.bins + kHistogramExtraSlots), b.absolute,
        [&](std::size_t) { return detail::FixedSlots<A>(b); },
        [&](float v, std::size_t) { return reference::fixed_slot<A>(v, b); }, [] { return detail::NoRange{}; },
        [](std::size_t, const detail::NoRange&) {});
  }
};

/// Power-of-two-grid histogram of x[0, n), added into counts[bins + kHistogramExtraSlots]; returns
/// the min/max of the finite values (of |x| in absolute mode) and the value counts.
struct f32_grid_histogram {
  using signature = MinMax(const float*, std::size_t, const GridBinning&, std::uint64_t*);
  template <class A>
  MinMax operator()(A, const float* x, std::size_t n, const GridBinning& b, std::uint64_t* counts) const {
    const std::uint64_t* extra = counts + b.bins;
    const std::uint64_t before[3] = {extra[kSlotNaN], extra[kSlotPosInf], extra[kSlotNegInf]};
    float mn = 0.0f, mx = 0.0f;
    detail::with_grid_fix<A>(b.inv_width < 1.0f, [&](auto fix) {
      constexpr bool F = decltype(fix)::value;
      detail::count_channels_first<A>(
          x, ChannelLayout{1, 1, n}, counts, std::uint32_t(b.bins + kHistogramExtraSlots), b.absolute,
          [&](std::size_t) { return detail::GridSlots<A, F>(b); },
          [&](float v, std::size_t) { return reference::grid_slot<A>(v, b); }, [] { return detail::RangeTracker<A>{}; },
          [&](std::size_t, const detail::RangeTracker<A>& r) {
            mn = r.min();
            mx = r.max();
          });
    });
    MinMax r;
    r.min = detail::positive_zero<A>(mn);
    r.max = detail::positive_zero<A>(mx);
    r.counts.nan = extra[kSlotNaN] - before[0];
    r.counts.pos_inf = extra[kSlotPosInf] - before[1];
    r.counts.neg_inf = extra[kSlotNegInf] - before[2];
    // Spelled out: a plain inline member (ValueCounts::skipped) called here would be emitted untagged
    // in every arch TU where it is not inlined (tests/check_arch_leaks.cmake).
    r.counts.finite = n - (r.counts.nan + r.counts.pos_inf + r.counts.neg_inf);
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
    if (l.inner == 1 && l.channels > 1) {
      detail::count_channels_last<A>(
          x, l, counts, stride, b.absolute,
          [&](std::size_t c) {
            return detail::FixedSlots<A>(F::load_unaligned(b.lo + c), F::load_unaligned(b.hi + c),
                                         F::load_unaligned(b.scale + c), b.bins);
          },
          [&](float v, std::size_t c) { return reference::fixed_slot<A>(v, b.template channel<A>(c)); },
          detail::NoChannelRanges{});
      return;
    }
    detail::count_channels_first<A>(
        x, l, counts, stride, b.absolute,
        [&](std::size_t c) { return detail::FixedSlots<A>(b.template channel<A>(c)); },
        [&](float v, std::size_t c) { return reference::fixed_slot<A>(v, b.template channel<A>(c)); },
        [] { return detail::NoRange{}; }, [](std::size_t, const detail::NoRange&) {});
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
    bool fix = false;
    for (std::size_t c = 0; c < l.channels; ++c) fix |= b.inv_width[c] < 1.0f;
    if (l.inner == 1 && l.channels > 1) {
      simd::ScratchArray<float, A> flo(l.channels), fhi(l.channels);
      for (std::size_t c = 0; c < l.channels; ++c)
        detail::grid_window<A>(b.inv_width[c], b.base[c], b.bins, flo[c], fhi[c]);
      detail::count_channels_last<A>(
          x, l, counts, stride, b.absolute,
          [&](std::size_t c) {
            return detail::GridSlots<A>(F::load_unaligned(b.inv_width + c), F::load_unaligned(b.base + c),
                                        F::load_unaligned(flo.data() + c), F::load_unaligned(fhi.data() + c), b.bins);
          },
          [&](float v, std::size_t c) { return reference::grid_slot<A>(v, b.template channel<A>(c)); },
          detail::ChannelRanges<A>{mn, mx});
    } else {
      detail::with_grid_fix<A>(fix, [&](auto f) {
        constexpr bool Fix = decltype(f)::value;
        detail::count_channels_first<A>(
            x, l, counts, stride, b.absolute,
            [&](std::size_t c) { return detail::GridSlots<A, Fix>(b.template channel<A>(c)); },
            [&](float v, std::size_t c) { return reference::grid_slot<A>(v, b.template channel<A>(c)); },
            [] { return detail::RangeTracker<A>{}; },
            [&](std::size_t c, const detail::RangeTracker<A>& r) {
              const float rmn = r.min(), rmx = r.max();
              mn[c] = rmn < mn[c] ? rmn : mn[c];
              mx[c] = rmx > mx[c] ? rmx : mx[c];
            });
      });
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
