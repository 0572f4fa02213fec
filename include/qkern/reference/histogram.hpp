// qkern — SPDX-License-Identifier: Apache-2.0
//
// reference/histogram.hpp: scalar definition of histogram binning: the fixed-range bin of a value,
// the bin of a value on a zero-anchored power-of-two grid, and how every value that falls in no
// bin is accounted for. The SIMD kernels (kernels/histogram.hpp) reproduce these slots exactly.
//
// Slots. A histogram of B bins is accumulated into B + kHistogramExtraSlots 64-bit counters:
// slots [0, B) are the bins, then below-range, above-range, NaN, +Inf, -Inf (HistogramSlot).
// Nothing is dropped: every value lands in exactly one slot. Non-finite values are classified on
// the raw value, also when binning |x| (-Inf stays -Inf).
//
// Fixed-range bin (FixedBinning, the formula every arch computes, IEEE float32 round-to-nearest,
// no FMA):
//     v = absolute ? |x| : x
//     v < lo -> below;  v > hi -> above;  otherwise bin = min(B - 1, trunc((v - lo) * scale))
// with scale = float(B / (double(hi) - double(lo))) computed once. Bins are half-open [edge_i,
// edge_i+1), the last one closed at hi; the bin index is monotone in v, and the effective edges are
// the nominal lo + i*(hi - lo)/B up to the rounding of the two float operations (values within a few
// ulps of a nominal edge may land in the neighbouring bin, identically on every arch).
//
// Grid bin (GridBinning): bins of width 2^k anchored at 0, bin j = [j*2^k, (j+1)*2^k), and a window
// of B bins starting at bin `base`:
//     t = v * 2^-k                  (exact: a power-of-two scaling, unless it underflows)
//     j = floor(t), and j = -1 when v < 0 and t rounded to -0 (the only underflow that matters)
//     r = j - base                  (exact for every in-window value)
//     r < 0 -> below;  r >= B -> above;  otherwise bin = r
// so bin(x) == floor(x / 2^k) - base exactly, as a real-number identity: no rounding ever moves a
// value across a grid edge, and coarsening to 2^(k+d) is floor(j / 2^d), also exact.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "qkern/core/abi.hpp"
#include "qkern/core/layout.hpp"
#include "qkern/reference/quantize.hpp"

namespace qkern {

/// Offsets of the accounting slots after the B bins of a histogram's counter array.
enum HistogramSlot : std::uint32_t {
  kSlotBelow = 0,  ///< finite, below the range (fixed) or the window (grid)
  kSlotAbove = 1,  ///< finite, above the range or the window
  kSlotNaN = 2,
  kSlotPosInf = 3,
  kSlotNegInf = 4,
};
inline constexpr std::size_t kHistogramExtraSlots = 5;

/// Largest bin count a histogram kernel accepts (slots stay exact int32 and float integers).
inline constexpr std::size_t kMaxHistogramBins = std::size_t{1} << 24;

/// Precomputed constants of a fixed-range histogram (see the formula above).
struct FixedBinning {
  float lo = 0.0f;
  float hi = 1.0f;
  float scale = 1.0f;  ///< float(bins / (double(hi) - double(lo)))
  std::uint32_t bins = 1;
  bool absolute = false;  ///< bin |x| instead of x
};

/// Precomputed constants of a window of a power-of-two grid (see the formula above).
struct GridBinning {
  float inv_width = 1.0f;  ///< 2^-k, exactly
  float base = 0.0f;       ///< index of the first bin of the window (an integer-valued float)
  std::uint32_t bins = 1;
  bool absolute = false;
};

/// Per-channel constants: arrays of `channels` entries; every channel has `bins` bins and its
/// counters start at c * (bins + kHistogramExtraSlots).
struct FixedChannelBinnings {
  const float* lo;
  const float* hi;
  const float* scale;
  std::uint32_t bins;
  bool absolute;
  /// Channel c's binning. Always inlined: these types are outside the ABI namespace (they are in
  /// kernel signatures), and an out-of-line copy compiled into every arch TU (at -O1 the kernels
  /// call channel() without a tag) could be merged by the linker into one arch's copy.
  template <class Tag = void>
  QKERN_ALWAYS_INLINE FixedBinning channel(std::size_t c) const {
    return {lo[c], hi[c], scale[c], bins, absolute};
  }
};

struct GridChannelBinnings {
  const float* inv_width;
  const float* base;
  std::uint32_t bins;
  bool absolute;
  template <class Tag = void>
  QKERN_ALWAYS_INLINE GridBinning channel(std::size_t c) const {  // always inlined: see FixedChannelBinnings
    return {inv_width[c], base[c], bins, absolute};
  }
};

namespace reference {
inline namespace QKERN_ABI_NS {

// The scalar helpers below are templates on a tag (default void) so the SIMD kernels can call
// their own per-arch copy (`fixed_slot<A>`): a plain inline function compiled into several arch
// translation units could be merged by the linker into one AVX-encoded copy.
template <class Tag = void>
inline bool is_nonfinite_value(float x) {
  std::uint32_t b;
  std::memcpy(&b, &x, 4);
  return (b & 0x7f800000u) == 0x7f800000u;
}

/// The slot of a non-finite value (NaN, +Inf, -Inf) after `bins` bins.
template <class Tag = void>
inline std::uint32_t nonfinite_slot(float x, std::uint32_t bins) {
  std::uint32_t bits;
  std::memcpy(&bits, &x, 4);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return bins + kSlotNaN;
  return bins + (x > 0 ? kSlotPosInf : kSlotNegInf);
}

/// Slot of x in a fixed-range histogram.
template <class Tag = void>
inline std::uint32_t fixed_slot(float x, const FixedBinning& b) {
  if (is_nonfinite_value<Tag>(x)) return nonfinite_slot<Tag>(x, b.bins);
  const float v = b.absolute ? std::fabs(x) : x;
  if (v < b.lo) return b.bins + kSlotBelow;
  if (v > b.hi) return b.bins + kSlotAbove;
  const float t = (v - b.lo) * b.scale;
  // Clamped in float before the conversion (as the SIMD kernels do): t may be +Inf or NaN (0 times
  // an infinite scale), which no float->int conversion may see (UBSan float-cast-overflow).
  const float last = static_cast<float>(b.bins - 1);
  return static_cast<std::uint32_t>(t < last ? t : last);
}

/// Slot of x in a window of the power-of-two grid.
template <class Tag = void>
inline std::uint32_t grid_slot(float x, const GridBinning& b) {
  if (is_nonfinite_value<Tag>(x)) return nonfinite_slot<Tag>(x, b.bins);
  const float v = b.absolute ? std::fabs(x) : x;
  float j = std::floor(v * b.inv_width);
  if (v < 0.0f && j == 0.0f) j = -1.0f;
  const float r = j - b.base;
  if (r < 0.0f) return b.bins + kSlotBelow;
  if (r >= static_cast<float>(b.bins)) return b.bins + kSlotAbove;
  return static_cast<std::uint32_t>(r);
}

/// counts[slot(x[i])] += 1 for i in [0, n): counts has bins + kHistogramExtraSlots entries.
inline void histogram(const float* x, std::size_t n, const FixedBinning& b, std::uint64_t* counts) {
  for (std::size_t i = 0; i < n; ++i) ++counts[fixed_slot(x[i], b)];
}

inline void grid_histogram(const float* x, std::size_t n, const GridBinning& b, std::uint64_t* counts) {
  for (std::size_t i = 0; i < n; ++i) ++counts[grid_slot(x[i], b)];
}

/// Per channel: channel c accumulates into counts + c * (bins + kHistogramExtraSlots).
inline void histogram(const float* x, const ChannelLayout& l, const FixedChannelBinnings& b, std::uint64_t* counts) {
  const std::size_t stride = b.bins + kHistogramExtraSlots;
  for (std::size_t o = 0; o < l.outer; ++o)
    for (std::size_t c = 0; c < l.channels; ++c)
      histogram(x + (o * l.channels + c) * l.inner, l.inner, b.channel(c), counts + c * stride);
}

inline void grid_histogram(const float* x, const ChannelLayout& l, const GridChannelBinnings& b,
                           std::uint64_t* counts) {
  const std::size_t stride = b.bins + kHistogramExtraSlots;
  for (std::size_t o = 0; o < l.outer; ++o)
    for (std::size_t c = 0; c < l.channels; ++c)
      grid_histogram(x + (o * l.channels + c) * l.inner, l.inner, b.channel(c), counts + c * stride);
}

}  // namespace QKERN_ABI_NS
}  // namespace reference
}  // namespace qkern
