// qkern — SPDX-License-Identifier: Apache-2.0
//
// calib/fixed_histogram.hpp: histograms over a range fixed up front (per tensor, and per channel for
// any layout), with every value accounted for and exact merge.
//
// Bin index (the formula every arch computes, bit for bit; reference::fixed_slot):
//     v     = absolute ? |x| : x                       (NaN/+-Inf are classified on the raw x)
//     scale = float(bins / (double(hi) - double(lo)))   (once, at construction)
//     v < lo -> underflow;  v > hi -> overflow;
//     otherwise bin = min(bins - 1, trunc((v - lo) * scale))   (IEEE float32, round to nearest, no FMA)
// Bins are half-open [edge_i, edge_i+1) with the last closed at hi; the index never decreases as v
// grows, and the effective edges are the nominal lo + i * (hi - lo) / bins up to the rounding of the
// two float operations (a value within a few ulps of a nominal edge may land in the neighbouring
// bin, identically on every arch and in the scalar reference). NaN, +Inf and -Inf are counted by
// kind, never binned, also in |x| mode (-Inf stays -Inf).
//
// Other tools' bin formulas (np.histogram, torch.histc), exact per element, with
// BinRule (calib/binning_rules.hpp) as the last constructor argument: FixedHistogram then bins with
// that rule in a scalar loop (the default BinRule::qkern runs the SIMD kernels).
//
// Counts are 64-bit; merge() adds counts, so any split of a stream merged back is bit-identical to
// one pass over all of it.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "qkern/calib/binning_rules.hpp"
#include "qkern/calib/histogram_view.hpp"
#include "qkern/calib/streaming_histogram.hpp"
#include "qkern/core/abi.hpp"
#include "qkern/core/error.hpp"
#include "qkern/core/layout.hpp"
#include "qkern/core/value_stats.hpp"
#include "qkern/kernels/kernel_list.hpp"
#include "qkern/reference/histogram.hpp"
#include "qkern/simd/float_env.hpp"

namespace qkern {
inline namespace QKERN_ABI_NS {
namespace detail {

// The binning of [lo, hi] in `bins` bins, validated: InvalidArgument naming "bins", "lo" or "hi".
inline FixedBinning fixed_binning(float lo, float hi, std::size_t bins, HistogramValues values) {
  if (bins < 1 || bins > kMaxHistogramBins) throw_invalid("bins", "must be in [1, 2^24], got " + std::to_string(bins));
  if (!::qkern::detail::is_finite(lo)) throw_invalid("lo", "must be finite, got " + std::to_string(lo));
  if (!::qkern::detail::is_finite(hi)) throw_invalid("hi", "must be finite, got " + std::to_string(hi));
  if (!(lo < hi))
    throw_invalid("hi", "must be greater than lo (" + std::to_string(lo) + "), got " + std::to_string(hi));
  const float scale = static_cast<float>(double(bins) / (double(hi) - double(lo)));
  if (!::qkern::detail::is_finite(scale))
    throw_invalid("hi", "range [lo, hi] is too narrow for " + std::to_string(bins) + " float32 bins");
  return {lo, hi, scale, static_cast<std::uint32_t>(bins), values == HistogramValues::absolute_values};
}

inline bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof(float)) == 0; }

// DataError unless adding the counters b[0, n) to a[0, n) keeps every group of `stride` counters
// (one histogram's slots) within 2^64 - 1 in total; checked before anything changes.
inline void check_merge_slots(const std::vector<std::uint64_t>& a, const std::vector<std::uint64_t>& b,
                              std::size_t stride) {
  for (std::size_t c0 = 0; c0 + stride <= a.size(); c0 += stride) {
    std::uint64_t ta = 0, tb = 0;
    for (std::size_t i = c0; i < c0 + stride; ++i) {
      ta = add_counts(ta, a[i]);
      tb = add_counts(tb, b[i]);
    }
    add_counts(ta, tb);
  }
}

}  // namespace detail

/// One fixed-range histogram of `bins` bins (default 2048) over [lo, hi] (see the file comment for
/// the exact bin formula), of the values or of |x|, with underflow/overflow/NaN/+Inf/-Inf counts.
class FixedHistogram {
 public:
  /// Throws InvalidArgument naming "bins" unless 1 <= bins <= 2^24, "lo"/"hi" unless both are finite
  /// and lo < hi ("hi" also when the range is too narrow for float32 bins: scale not finite).
  /// `rule` selects another tool's bin formula (numpy, torch_histc; see calib/binning_rules.hpp).
  FixedHistogram(float lo, float hi, std::size_t bins = 2048, HistogramValues values = HistogramValues::signed_values,
                 BinRule rule = BinRule::qkern)
      : b_(detail::fixed_binning(lo, hi, bins, values)), slots_(bins + kHistogramExtraSlots, 0) {
    if (rule != BinRule::qkern) tool_ = ToolBinning(rule, lo, hi, bins);
  }

  /// Adds x[0, n); every value lands in exactly one count. An empty batch is a no-op. Throws
  /// InvalidArgument naming "x" when x is null and n > 0.
  void update(const float* x, std::size_t n) {
    if (n != 0 && x == nullptr) detail::throw_invalid("x", "is null");
    if (n == 0) return;
    simd::FloatEnvironmentGuard env;
    if (tool_.rule() != BinRule::qkern) return update_tool(x, n);
    dispatch::select<kernels::f32_histogram>()(x, n, b_, slots_.data());
  }

  /// Adds other's counts: bit-identical to one histogram that saw both streams. Throws
  /// InvalidArgument naming "other" unless both have the same bins, lo, hi and value mode, and
  /// DataError (merging nothing) when the counts would exceed 2^64 - 1.
  void merge(const FixedHistogram& other) {
    if (other.b_.bins != b_.bins || !detail::same_bits(other.b_.lo, b_.lo) || !detail::same_bits(other.b_.hi, b_.hi) ||
        other.b_.absolute != b_.absolute || other.tool_.rule() != tool_.rule())
      detail::throw_invalid("other", "histograms differ in bins, range or value mode (" +
                                         std::to_string(other.b_.bins) + " bins over [" + std::to_string(other.b_.lo) +
                                         ", " + std::to_string(other.b_.hi) + "] vs " + std::to_string(b_.bins) +
                                         " bins over [" + std::to_string(b_.lo) + ", " + std::to_string(b_.hi) + "])");
    detail::check_merge_slots(slots_, other.slots_, slots_.size());
    for (std::size_t i = 0; i < slots_.size(); ++i) slots_[i] += other.slots_[i];
  }

  std::size_t bins() const { return b_.bins; }
  BinRule rule() const { return tool_.rule(); }
  float lo() const { return b_.lo; }
  float hi() const { return b_.hi; }
  HistogramValues values() const {
    return b_.absolute ? HistogramValues::absolute_values : HistogramValues::signed_values;
  }
  /// The constants the kernels use (scale included), e.g. for reference::fixed_slot.
  const FixedBinning& binning() const { return b_; }

  /// Counts of the bins (bins() entries).
  const std::uint64_t* bin_counts() const { return slots_.data(); }
  std::uint64_t underflow() const { return slots_[b_.bins + kSlotBelow]; }  ///< finite, v < lo
  std::uint64_t overflow() const { return slots_[b_.bins + kSlotAbove]; }   ///< finite, v > hi
  std::uint64_t nan() const { return slots_[b_.bins + kSlotNaN]; }
  std::uint64_t pos_inf() const { return slots_[b_.bins + kSlotPosInf]; }
  std::uint64_t neg_inf() const { return slots_[b_.bins + kSlotNegInf]; }
  /// Values seen by kind (finite includes underflow and overflow).
  ValueCounts counts() const {
    ValueCounts v;
    for (std::size_t i = 0; i < b_.bins + 2; ++i) v.finite += slots_[i];
    v.nan = nan();
    v.pos_inf = pos_inf();
    v.neg_inf = neg_inf();
    return v;
  }

  /// The bins over [lo, hi] (underflow/overflow/non-finite are not part of a view); valid while this
  /// object lives and is not updated. An empty histogram gives a view of zero counts.
  HistogramView view() const {
    HistogramView v;
    v.counts = slots_.data();
    v.bins = b_.bins;
    v.lo = b_.lo;
    v.hi = b_.hi;
    v.absolute = b_.absolute;
    return v;
  }

  friend bool operator==(const FixedHistogram& a, const FixedHistogram& b) {
    return a.b_.bins == b.b_.bins && detail::same_bits(a.b_.lo, b.b_.lo) && detail::same_bits(a.b_.hi, b.b_.hi) &&
           a.b_.absolute == b.b_.absolute && a.tool_.rule() == b.tool_.rule() && a.slots_ == b.slots_;
  }
  friend bool operator!=(const FixedHistogram& a, const FixedHistogram& b) { return !(a == b); }

 private:
  // Scalar path of the tool rules; NaN/+-Inf classified on the raw x, as the kernels do.
  void update_tool(const float* x, std::size_t n) {
    const std::size_t B = b_.bins;
    for (std::size_t i = 0; i < n; ++i) {
      const float r = x[i];
      if (!strict::finite(r)) {
        ++slots_[B + (strict::is_nan(r) ? kSlotNaN : r > 0.0f ? kSlotPosInf : kSlotNegInf)];
        continue;
      }
      const float v = b_.absolute ? std::fabs(r) : r;
      const std::int64_t k = tool_.bin(v);
      ++slots_[k < 0                               ? B + kSlotBelow
               : k >= static_cast<std::int64_t>(B) ? B + kSlotAbove
                                                   : static_cast<std::size_t>(k)];
    }
  }

  FixedBinning b_;
  std::vector<std::uint64_t> slots_;
  ToolBinning tool_;
};

/// One fixed-range histogram per channel (each with its own [lo, hi], the same bin count), fed
/// tensors of any layout (ChannelLayout: NCHW is {N, C, H*W}, NHWC is {N*H*W, C, 1}).
class ChannelFixedHistogram {
 public:
  /// Per-channel ranges: lo.size() channels. Throws InvalidArgument naming "hi" when the sizes
  /// differ, "lo" when empty, and as FixedHistogram for each channel's range and for bins.
  ChannelFixedHistogram(const std::vector<float>& lo, const std::vector<float>& hi, std::size_t bins = 2048,
                        HistogramValues values = HistogramValues::signed_values) {
    if (lo.empty()) detail::throw_invalid("lo", "must name at least one channel");
    if (hi.size() != lo.size())
      detail::throw_invalid("hi", "has " + std::to_string(hi.size()) + " entries, lo has " + std::to_string(lo.size()));
    init(lo, hi, bins, values);
  }
  /// The same range [lo, hi] for every one of `channels` channels. Throws InvalidArgument naming
  /// "channels" when 0.
  ChannelFixedHistogram(std::size_t channels, float lo, float hi, std::size_t bins = 2048,
                        HistogramValues values = HistogramValues::signed_values) {
    if (channels == 0) detail::throw_invalid("channels", "must be > 0");
    init(std::vector<float>(channels, lo), std::vector<float>(channels, hi), bins, values);
  }

  /// Adds x laid out as `layout`. Throws InvalidArgument naming "layout" when its channel count
  /// differs, "x" when x is null and the layout non-empty.
  void update(const float* x, const ChannelLayout& layout) {
    if (layout.channels != channels())
      detail::throw_invalid(
          "layout", "has " + std::to_string(layout.channels) + " channels, expected " + std::to_string(channels()));
    if (layout.size() != 0 && x == nullptr) detail::throw_invalid("x", "is null");
    if (layout.size() == 0) return;
    simd::FloatEnvironmentGuard env;
    const FixedChannelBinnings b{lo_.data(), hi_.data(), scale_.data(), bins_, absolute_};
    dispatch::select<kernels::f32_histogram_channels>()(x, layout, b, slots_.data());
  }

  /// Adds other's counts. Throws InvalidArgument naming "other" unless channels, bins, every range
  /// and the value mode match.
  void merge(const ChannelFixedHistogram& other) {
    if (!same_binning(other))
      detail::throw_invalid("other", "histograms differ in channels, bins, ranges or value mode");
    detail::check_merge_slots(slots_, other.slots_, stride());
    for (std::size_t i = 0; i < slots_.size(); ++i) slots_[i] += other.slots_[i];
  }

  std::size_t channels() const { return lo_.size() - kernels::kMaxLanes; }
  std::size_t bins() const { return bins_; }
  HistogramValues values() const {
    return absolute_ ? HistogramValues::absolute_values : HistogramValues::signed_values;
  }
  float lo(std::size_t c) const { return lo_[check(c)]; }
  float hi(std::size_t c) const { return hi_[check(c)]; }
  FixedBinning binning(std::size_t c) const {
    check(c);
    return {lo_[c], hi_[c], scale_[c], bins_, absolute_};
  }
  const std::uint64_t* bin_counts(std::size_t c) const { return slots_.data() + check(c) * stride(); }
  std::uint64_t underflow(std::size_t c) const { return bin_counts(c)[bins_ + kSlotBelow]; }
  std::uint64_t overflow(std::size_t c) const { return bin_counts(c)[bins_ + kSlotAbove]; }
  std::uint64_t nan(std::size_t c) const { return bin_counts(c)[bins_ + kSlotNaN]; }
  std::uint64_t pos_inf(std::size_t c) const { return bin_counts(c)[bins_ + kSlotPosInf]; }
  std::uint64_t neg_inf(std::size_t c) const { return bin_counts(c)[bins_ + kSlotNegInf]; }
  ValueCounts counts(std::size_t c) const {
    const std::uint64_t* s = bin_counts(c);
    ValueCounts v;
    for (std::size_t i = 0; i < bins_ + 2; ++i) v.finite += s[i];
    v.nan = s[bins_ + kSlotNaN];
    v.pos_inf = s[bins_ + kSlotPosInf];
    v.neg_inf = s[bins_ + kSlotNegInf];
    return v;
  }
  /// Channel c's bins over [lo(c), hi(c)].
  HistogramView view(std::size_t c) const {
    HistogramView v;
    v.counts = bin_counts(c);
    v.bins = bins_;
    v.lo = lo_[c];
    v.hi = hi_[c];
    v.absolute = absolute_;
    return v;
  }

  friend bool operator==(const ChannelFixedHistogram& a, const ChannelFixedHistogram& b) {
    return a.same_binning(b) && a.slots_ == b.slots_;
  }
  friend bool operator!=(const ChannelFixedHistogram& a, const ChannelFixedHistogram& b) { return !(a == b); }

 private:
  void init(const std::vector<float>& lo, const std::vector<float>& hi, std::size_t bins, HistogramValues values) {
    const std::size_t C = lo.size();
    if (C * (bins + kHistogramExtraSlots) > std::size_t{0x7fffffff})
      detail::throw_invalid("channels", "channels * (bins + 5) must stay below 2^31");
    // Padded by kMaxLanes (repeating channel 0) so a kernel may load whole vectors of constants.
    lo_.assign(C + kernels::kMaxLanes, 0.0f);
    hi_.assign(C + kernels::kMaxLanes, 0.0f);
    scale_.assign(C + kernels::kMaxLanes, 0.0f);
    for (std::size_t c = 0; c < C + kernels::kMaxLanes; ++c) {
      const std::size_t src = c < C ? c : 0;
      const FixedBinning b = detail::fixed_binning(lo[src], hi[src], bins, values);
      lo_[c] = b.lo;
      hi_[c] = b.hi;
      scale_[c] = b.scale;
    }
    bins_ = static_cast<std::uint32_t>(bins);
    absolute_ = values == HistogramValues::absolute_values;
    slots_.assign(C * stride(), 0);
  }
  std::size_t stride() const { return bins_ + kHistogramExtraSlots; }
  std::size_t check(std::size_t c) const {
    if (c >= channels())
      detail::throw_invalid("channel", std::to_string(c) + " is out of range for " + std::to_string(channels()));
    return c;
  }
  bool same_binning(const ChannelFixedHistogram& o) const {
    if (o.bins_ != bins_ || o.absolute_ != absolute_ || o.lo_.size() != lo_.size()) return false;
    for (std::size_t c = 0; c < lo_.size(); ++c)
      if (!detail::same_bits(o.lo_[c], lo_[c]) || !detail::same_bits(o.hi_[c], hi_[c])) return false;
    return true;
  }

  std::vector<float> lo_, hi_, scale_;  // padded by kernels::kMaxLanes
  std::uint32_t bins_ = 0;
  bool absolute_ = false;
  std::vector<std::uint64_t> slots_;
};

}  // namespace QKERN_ABI_NS
}  // namespace qkern
