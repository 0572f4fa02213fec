// qkern — SPDX-License-Identifier: Apache-2.0
//
// calib/streaming_histogram.hpp: histograms whose range grows with the data, mergeable exactly.
//
// Grid. Bins have width 2^k and edges at integer multiples of 2^k (anchored at zero): bin j is
// [j*2^k, (j+1)*2^k). A histogram holds a window of B bins starting at bin `base`. Its state is a
// function of the data alone (never of batch order or split):
//   k    = the smallest k in [kMinGridExponent, kMaxGridExponent] with
//          floor(max/2^k) - floor(min/2^k) <= B - 1   and   max(|min|, |max|) < 2^(k+51),
//          where min/max are the exact extremes of the finite values seen (of |x| in |x| mode);
//   base = floor(min/2^k);  count[j - base] = number of finite values x with floor(x/2^k) == j.
// Both conditions only get harder as the range widens, so k never decreases; growth doubles the
// width d = k' - k times and moves old bin j to floor(j / 2^d), which is exact: no count is ever
// interpolated. merge() brings both sides to the k of the combined range and adds: commutative,
// associative, and bit-identical to one pass over all the data, for any split (HS-3, HS-8).
//
// Resolution: the width 2^k is below 2*(max - min)/(B - 1), i.e. within about 2x of the best
// fixed-range histogram of B bins over the final range, except where a floor applies: k >= -126
// (bins narrower than FLT_MIN are useless for a float32 scale) and the magnitude condition (a
// window far from zero, |x|/width < 2^51, keeps indices exact in double). Memory is always B + 5
// counters per channel however far the range grows (HS-6); a huge growth (1e-3 -> 1e30) simply
// coarsens the bins.
//
// Cost: one pass over each batch (SIMD kernel counting into the current window and tracking the
// batch's min/max), processed in cache-sized chunks. A chunk with values outside the window
// triggers a regrid and a scalar re-count of just those values from the chunk (cached, except for
// per-channel chunks of several large rows, see ChannelStreamingHistogram::update).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "qkern/calib/histogram_view.hpp"
#include "qkern/calib/serialization.hpp"
#include "qkern/core/abi.hpp"
#include "qkern/core/error.hpp"
#include "qkern/core/layout.hpp"
#include "qkern/core/value_stats.hpp"
#include "qkern/kernels/kernel_list.hpp"
#include "qkern/reference/histogram.hpp"
#include "qkern/simd/float_env.hpp"

namespace qkern {
inline namespace QKERN_ABI_NS {

/// What a histogram bins: the values themselves, or their magnitudes |x| (TensorRT/ModelOpt style,
/// for symmetric fitting). Non-finite values are counted by kind in either mode.
enum class HistogramValues : std::uint8_t { signed_values = 0, absolute_values = 1 };

inline constexpr int kMinGridExponent = -126;
inline constexpr int kMaxGridExponent = 130;

namespace detail {

// floor(v / 2^k) in exact double arithmetic (v finite float, k in the grid range).
inline double grid_floor(float v, int k) { return std::floor(std::ldexp(static_cast<double>(v), -k)); }

// The canonical exponent of a range (see the header comment), searched upwards from `from`.
inline int grid_exponent(float mn, float mx, std::size_t bins, int from = kMinGridExponent) {
  const double mag = std::max(std::fabs(double(mn)), std::fabs(double(mx)));
  for (int k = std::max(from, kMinGridExponent); k < kMaxGridExponent; ++k) {
    if (!(std::ldexp(mag, -k) < 0x1p51)) continue;
    if (grid_floor(mx, k) - grid_floor(mn, k) <= double(bins) - 1.0) return k;
  }
  return kMaxGridExponent;
}

// floor(j / 2^d) for d >= 0 (arithmetic shift is floor division for two's complement).
inline std::int64_t coarsen_bin(std::int64_t j, int d) {
  if (d >= 63) return j < 0 ? -1 : 0;
  return j >> d;
}

// C independent grid histograms sharing a bin count: the engine behind StreamingHistogram and
// ChannelStreamingHistogram. Counters of channel c: slots_[c*stride, c*stride + bins + 5).
class GridHistogramSet {
 public:
  GridHistogramSet(std::size_t channels, std::size_t bins, HistogramValues values) : bins_(bins), values_(values) {
    if (bins < 2 || bins > kMaxHistogramBins)
      throw_invalid("bins", "must be in [2, 2^24], got " + std::to_string(bins));
    if (channels * (bins + kHistogramExtraSlots) > std::size_t{0x7fffffff})
      throw_invalid("channels", "channels * (bins + 5) must stay below 2^31");
    resize(channels);
  }

  std::size_t channels() const { return k_.size(); }
  std::size_t bins() const { return bins_; }
  HistogramValues values() const { return values_; }
  bool absolute() const { return values_ == HistogramValues::absolute_values; }
  std::size_t stride() const { return bins_ + kHistogramExtraSlots; }
  bool has_finite(std::size_t c) const { return mn_[c] <= mx_[c]; }
  int exponent(std::size_t c) const { return k_[c]; }
  std::int64_t base(std::size_t c) const { return base_[c]; }
  const std::uint64_t* bin_counts(std::size_t c) const { return slots_.data() + c * stride(); }
  MinMax range(std::size_t c) const {
    MinMax r;
    r.min = mn_[c];
    r.max = mx_[c];
    r.counts = counts(c);
    return r;
  }
  ValueCounts counts(std::size_t c) const {
    const std::uint64_t* s = bin_counts(c);
    ValueCounts v;
    for (std::size_t i = 0; i < bins_; ++i) v.finite += s[i];
    v.nan = s[bins_ + kSlotNaN];
    v.pos_inf = s[bins_ + kSlotPosInf];
    v.neg_inf = s[bins_ + kSlotNegInf];
    return v;
  }
  HistogramView view(std::size_t c) const {
    if (!has_finite(c)) {
      const ValueCounts v = counts(c);
      detail::throw_data(v.total() == 0 ? "no data observed: the histogram is empty"
                                        : "no finite values observed (" + std::to_string(v.skipped()) +
                                              " NaN/Inf counted): the histogram is empty");
    }
    HistogramView v;
    v.absolute = absolute();
    v.counts = bin_counts(c);
    v.bins = bins_;
    v.lo = std::ldexp(double(base_[c]), k_[c]);
    v.hi = std::ldexp(double(base_[c] + std::int64_t(bins_)), k_[c]);
    v.has_data_range = true;
    v.data_min = mn_[c];
    v.data_max = mx_[c];
    return v;
  }

  // Adds a chunk laid out as l (l.channels == channels()).
  void update_chunk(const float* x, const ChannelLayout& l) {
    const std::size_t C = channels();
    bool any_new = false;
    for (std::size_t c = 0; c < C; ++c) any_new |= !has_finite(c);
    if (any_new) {  // place the first window of channels that had no finite value yet
      std::vector<float> mn(C, std::numeric_limits<float>::infinity()), mx(C, -std::numeric_limits<float>::infinity());
      std::vector<ValueCounts> vc(C);
      dispatch::select<kernels::f32_minmax_channels>()(x, l, mn.data(), mx.data(), vc.data());
      for (std::size_t c = 0; c < C; ++c) {
        if (has_finite(c) || vc[c].finite == 0) continue;
        float lo = mn[c], hi = mx[c];
        if (absolute()) {  // the range of |x|, exactly: from the range of x unless x crosses zero
          hi = std::max(std::fabs(lo), std::fabs(hi));
          if (mn[c] < 0.0f && mx[c] > 0.0f)
            lo = min_abs_finite(x, l, c);  // once per channel: the smallest |x| is anywhere in the chunk
          else if (mn[c] == 0.0f || mx[c] == 0.0f)
            lo = 0.0f;
          else
            lo = std::min(std::fabs(mn[c]), std::fabs(mx[c]));
        }
        set_grid(c, grid_exponent(lo, hi, bins_), lo);
        mn_[c] = lo;
        mx_[c] = hi;
      }
    }
    std::vector<float> cmn(C, std::numeric_limits<float>::infinity()), cmx(C, -std::numeric_limits<float>::infinity());
    const GridChannelBinnings b{inv_width_.data(), basef_.data(), static_cast<std::uint32_t>(bins_), absolute()};
    dispatch::select<kernels::f32_grid_histogram_channels>()(x, l, b, slots_.data(), cmn.data(), cmx.data());
    for (std::size_t c = 0; c < C; ++c) {
      if (!(cmn[c] <= cmx[c])) continue;  // no finite value of this channel in the chunk
      std::uint64_t* s = slots_.data() + c * stride();
      const bool outside = s[bins_ + kSlotBelow] != 0 || s[bins_ + kSlotAbove] != 0;
      const float nmn = std::min(mn_[c], cmn[c]), nmx = std::max(mx_[c], cmx[c]);
      if (!outside && nmn == mn_[c] && nmx == mx_[c]) continue;
      const GridBinning old = binning(c);
      mn_[c] = nmn;
      mx_[c] = nmx;
      regrid(c, grid_exponent(nmn, nmx, bins_, k_[c]), nmn);
      if (outside) recount_outside(c, x, l, old);
    }
  }

  void merge(const GridHistogramSet& o) {
    if (o.bins_ != bins_ || o.values_ != values_ || o.channels() != channels())
      throw_invalid("other", "histograms differ in bins, value mode or channel count (" + std::to_string(o.bins_) +
                                 " vs " + std::to_string(bins_) + " bins, " + std::to_string(o.channels()) + " vs " +
                                 std::to_string(channels()) + " channels)");
    // Every counter is at most its channel's total, so totals that fit mean counters that fit.
    // Checked for all channels before anything changes: a failed merge leaves this as it was.
    for (std::size_t c = 0; c < channels(); ++c) add_counts(total_count(c), o.total_count(c));
    for (std::size_t c = 0; c < channels(); ++c) {
      std::uint64_t* s = slots_.data() + c * stride();
      const std::uint64_t* t = o.bin_counts(c);
      for (std::size_t e = bins_; e < stride(); ++e) s[e] += t[e];
      if (!o.has_finite(c)) continue;
      if (!has_finite(c)) {
        set_grid(c, o.k_[c], o.mn_[c]);
        mn_[c] = o.mn_[c];
        mx_[c] = o.mx_[c];
        for (std::size_t i = 0; i < bins_; ++i) s[i] = t[i];
        continue;
      }
      const float nmn = std::min(mn_[c], o.mn_[c]), nmx = std::max(mx_[c], o.mx_[c]);
      const int k = grid_exponent(nmn, nmx, bins_, std::max(k_[c], o.k_[c]));
      mn_[c] = nmn;
      mx_[c] = nmx;
      regrid(c, k, nmn);
      const std::int64_t nbase = base_[c];
      for (std::size_t i = 0; i < bins_; ++i) {
        if (t[i] == 0) continue;
        const std::int64_t r = coarsen_bin(o.base_[c] + std::int64_t(i), k - o.k_[c]) - nbase;
        s[in_window(r)] += t[i];
      }
    }
  }

  friend bool operator==(const GridHistogramSet& a, const GridHistogramSet& b) {
    return a.bins_ == b.bins_ && a.values_ == b.values_ && a.k_ == b.k_ && a.base_ == b.base_ && a.slots_ == b.slots_ &&
           bits_equal(a.mn_, b.mn_) && bits_equal(a.mx_, b.mx_);
  }

  void write(BlobWriter& w) const {
    w.u32(static_cast<std::uint32_t>(bins_));
    w.u8(static_cast<std::uint8_t>(values_));
    w.u32(static_cast<std::uint32_t>(channels()));
    for (std::size_t c = 0; c < channels(); ++c) {
      w.u8(has_finite(c) ? 1 : 0);
      w.i64(k_[c]);
      w.i64(base_[c]);
      w.f32(mn_[c]);
      w.f32(mx_[c]);
      const std::uint64_t* s = bin_counts(c);
      for (std::size_t e = 0; e < stride(); ++e) w.u64(s[e]);
    }
  }

  static GridHistogramSet read(BlobReader& r, std::size_t expected_channels /* 0: any */) {
    const std::uint32_t bins = r.u32();
    const std::uint8_t mode = r.u8();
    const std::uint32_t channels = r.u32();
    if (bins < 2 || bins > kMaxHistogramBins) BlobReader::corrupt("bin count " + std::to_string(bins));
    if (mode > 1) BlobReader::corrupt("value mode " + std::to_string(mode));
    if (channels == 0 || (expected_channels != 0 && channels != expected_channels))
      BlobReader::corrupt("channel count " + std::to_string(channels));
    const std::uint64_t per_channel = 1 + 8 + 8 + 4 + 4 + 8 * (std::uint64_t{bins} + kHistogramExtraSlots);
    r.expect_remaining(per_channel * channels);
    GridHistogramSet h(channels, bins, static_cast<HistogramValues>(mode));
    // Every invariant merge(), regrid() and the fits rely on is checked here, and only the canonical
    // encoding (what write() produces for a reachable state) is accepted.
    for (std::size_t c = 0; c < channels; ++c) {
      const bool finite = r.flag();
      const std::int64_t k = r.i64(), base = r.i64();
      const float mn = r.f32(), mx = r.f32();
      std::uint64_t* s = h.slots_.data() + c * h.stride();
      for (std::size_t e = 0; e < h.stride(); ++e) s[e] = r.u64();
      if (s[bins + kSlotBelow] != 0 || s[bins + kSlotAbove] != 0) BlobReader::corrupt("out-of-window counts");
      std::uint64_t all = 0;
      for (std::size_t e = 0; e < h.stride(); ++e) {
        if (!counts_fit(all, s[e])) BlobReader::corrupt("counts add up to more than 2^64 - 1");
        all += s[e];
      }
      std::uint64_t total = 0;
      for (std::size_t i = 0; i < bins; ++i) total += s[i];
      if (!finite) {
        if (total != 0 || k != kMinGridExponent || base != 0) BlobReader::corrupt("counts without a range");
        if (float_bits(mn) != 0x7f800000u || float_bits(mx) != 0xff800000u)
          BlobReader::corrupt("min/max of an empty channel must be +Inf/-Inf");
        continue;
      }
      if (!is_finite(mn) || !is_finite(mx) || !(mn <= mx) || (h.absolute() && mn < 0.0f)) BlobReader::corrupt("range");
      if (float_bits(mn) == 0x80000000u || float_bits(mx) == 0x80000000u)
        BlobReader::corrupt("a zero extreme must be +0.0");
      const int want_k = grid_exponent(mn, mx, bins);
      if (k != want_k || double(base) != grid_floor(mn, want_k)) BlobReader::corrupt("grid does not match the range");
      const std::int64_t last = std::int64_t(grid_floor(mx, want_k)) - base;
      if (last < 0 || last >= std::int64_t(bins)) BlobReader::corrupt("range wider than the window");
      // The bins of min and max hold a value each, and no value lies beyond max's bin (regrid and
      // merge map every non-empty bin into the window of [min, max]).
      if (s[0] == 0 || s[last] == 0) BlobReader::corrupt("extreme bins empty");
      for (std::size_t i = static_cast<std::size_t>(last) + 1; i < bins; ++i)
        if (s[i] != 0) BlobReader::corrupt("counts above the maximum's bin (bin " + std::to_string(i) + ")");
      h.set_grid(c, want_k, mn);
      h.mn_[c] = mn;
      h.mx_[c] = mx;
    }
    return h;
  }

 private:
  // Index r of a bin of the current window. Always true for a consistent state (every non-empty bin
  // lies in [min, max], which the window covers: deserialize checks it); a DataError rather than an
  // out-of-bounds write if it were ever violated.
  std::size_t in_window(std::int64_t r) const {
    if (r < 0 || r >= static_cast<std::int64_t>(bins_))
      detail::throw_data("histogram state inconsistent: a non-empty bin lies outside the window of its range");
    return static_cast<std::size_t>(r);
  }

  // Every value channel c counted (bins and the NaN/+-Inf slots; below/above are always 0 between
  // calls), or a DataError if that exceeds 2^64 - 1.
  std::uint64_t total_count(std::size_t c) const {
    const std::uint64_t* s = bin_counts(c);
    std::uint64_t t = 0;
    for (std::size_t e = 0; e < stride(); ++e) t = add_counts(t, s[e]);
    return t;
  }

  static bool bits_equal(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
  }

  void resize(std::size_t channels) {
    k_.assign(channels, kMinGridExponent);
    base_.assign(channels, 0);
    inv_width_.assign(channels + kernels::kMaxLanes, std::ldexp(1.0f, -kMinGridExponent));
    basef_.assign(channels + kernels::kMaxLanes, 0.0f);
    mn_.assign(channels, std::numeric_limits<float>::infinity());
    mx_.assign(channels, -std::numeric_limits<float>::infinity());
    slots_.assign(channels * stride(), 0);
  }

  GridBinning binning(std::size_t c) const {
    return {inv_width_[c], basef_[c], static_cast<std::uint32_t>(bins_), absolute()};
  }

  void set_grid(std::size_t c, int k, float mn) {
    k_[c] = k;
    base_[c] = static_cast<std::int64_t>(grid_floor(mn, k));
    inv_width_[c] = std::ldexp(1.0f, -k);
    basef_[c] = static_cast<float>(base_[c]);
  }

  // Moves channel c's bins to exponent k (>= current) and the canonical window of min `mn`.
  void regrid(std::size_t c, int k, float mn) {
    const int old_k = k_[c];
    const std::int64_t old_base = base_[c];
    set_grid(c, k, mn);
    if (k == old_k && base_[c] == old_base) return;
    std::uint64_t* s = slots_.data() + c * stride();
    std::vector<std::uint64_t> moved(bins_, 0);
    for (std::size_t i = 0; i < bins_; ++i) {
      if (s[i] == 0) continue;
      const std::int64_t r = coarsen_bin(old_base + std::int64_t(i), k - old_k) - base_[c];
      moved[in_window(r)] += s[i];  // in range: the new window covers [min, max]
    }
    std::copy(moved.begin(), moved.end(), s);
  }

  // Smallest finite |x| of channel c in a chunk (the caller knows there is a finite value).
  static float min_abs_finite(const float* x, const ChannelLayout& l, std::size_t c) {
    float m = std::numeric_limits<float>::infinity();
    for (std::size_t o = 0; o < l.outer; ++o) {
      const float* run = x + (o * l.channels + c) * l.inner;
      for (std::size_t i = 0; i < l.inner; ++i) {
        const float v = std::fabs(run[i]);
        if (v < m) m = v;  // NaN fails, +Inf never below a finite value already seen
      }
    }
    return m;
  }

  // Re-counts the values of channel c in the chunk that fell outside the old window.
  void recount_outside(std::size_t c, const float* x, const ChannelLayout& l, const GridBinning& old) {
    std::uint64_t* s = slots_.data() + c * stride();
    const GridBinning now = binning(c);
    const std::uint32_t below = old.bins + kSlotBelow, above = old.bins + kSlotAbove;
    // Exact float bounds of the old window: the values inside it (most of them) are skipped with
    // two compares instead of a slot computation; NaN fails both and is checked in full.
    float flo, fhi;
    kernels::detail::grid_window<void>(old.inv_width, old.base, old.bins, flo, fhi);
    for (std::size_t o = 0; o < l.outer; ++o) {
      const float* run = x + (o * l.channels + c) * l.inner;
      for (std::size_t i = 0; i < l.inner; ++i) {
        const float v = old.absolute ? std::fabs(run[i]) : run[i];
        if (v >= flo && v <= fhi) continue;
        const std::uint32_t so = reference::grid_slot(run[i], old);
        if (so == below || so == above) ++s[reference::grid_slot(run[i], now)];
      }
    }
    s[bins_ + kSlotBelow] = 0;
    s[bins_ + kSlotAbove] = 0;
  }

  std::size_t bins_;
  HistogramValues values_;
  std::vector<int> k_;
  std::vector<std::int64_t> base_;
  std::vector<float> inv_width_, basef_;  // kernel constants, padded by kMaxLanes
  std::vector<float> mn_, mx_;
  std::vector<std::uint64_t> slots_;
};

// Elements per chunk: the count pass re-reads a chunk only after growth, from L2.
inline constexpr std::size_t kStreamingChunk = std::size_t{1} << 16;

}  // namespace detail

/// Per-tensor streaming histogram on the zero-anchored power-of-two grid (see the file comment).
class StreamingHistogram {
 public:
  /// Throws InvalidArgument naming "bins" unless 2 <= bins <= 2^24.
  explicit StreamingHistogram(std::size_t bins = 2048, HistogramValues values = HistogramValues::signed_values)
      : set_(1, bins, values) {}

  /// Adds x[0, n). NaN and +-Inf are counted, never binned; an empty batch is a no-op. Throws
  /// InvalidArgument naming "x" when x is null and n > 0.
  void update(const float* x, std::size_t n) {
    if (n != 0 && x == nullptr) detail::throw_invalid("x", "is null");
    simd::FloatEnvironmentGuard env;
    for (std::size_t i = 0; i < n; i += detail::kStreamingChunk) {
      const std::size_t m = std::min(detail::kStreamingChunk, n - i);
      set_.update_chunk(x + i, ChannelLayout{1, 1, m});
    }
  }

  /// Adds other's data: the result is bit-identical to one histogram that saw both streams.
  /// Throws InvalidArgument naming "other" when bins or value mode differ (HS-9).
  void merge(const StreamingHistogram& other) { set_.merge(other.set_); }

  std::size_t bins() const { return set_.bins(); }
  HistogramValues values() const { return set_.values(); }
  /// Exact min and max of the finite values (of |x| in |x| mode) and the counts by kind.
  MinMax range() const { return set_.range(0); }
  ValueCounts counts() const { return set_.counts(0); }
  bool has_finite() const { return set_.has_finite(0); }
  /// Bin width is 2^width_exponent(); the window starts at bin first_bin() (edge first_bin * width).
  int width_exponent() const { return set_.exponent(0); }
  std::int64_t first_bin() const { return set_.base(0); }
  /// The bins as a HistogramView (valid while this object lives and is not updated). Throws
  /// DataError when no finite value was observed (SF-1, SF-5).
  HistogramView view() const { return set_.view(0); }

  std::vector<std::uint8_t> serialize() const {
    detail::BlobWriter w;
    set_.write(w);
    return w.finish(StatisticKind::streaming_histogram);
  }
  /// Throws DataError for truncated, corrupt, wrong-kind or unknown-version input.
  static StreamingHistogram deserialize(const std::uint8_t* data, std::size_t size) {
    detail::BlobReader r(data, size, StatisticKind::streaming_histogram);
    return StreamingHistogram(detail::GridHistogramSet::read(r, 1));
  }
  static StreamingHistogram deserialize(const std::vector<std::uint8_t>& blob) {
    return deserialize(blob.data(), blob.size());
  }

  friend bool operator==(const StreamingHistogram& a, const StreamingHistogram& b) { return a.set_ == b.set_; }
  friend bool operator!=(const StreamingHistogram& a, const StreamingHistogram& b) { return !(a == b); }

 private:
  explicit StreamingHistogram(detail::GridHistogramSet s) : set_(std::move(s)) {}
  detail::GridHistogramSet set_;
};

/// One streaming histogram per channel (each with its own grid), updated from tensors of any layout.
class ChannelStreamingHistogram {
 public:
  ChannelStreamingHistogram(std::size_t channels, std::size_t bins = 2048,
                            HistogramValues values = HistogramValues::signed_values)
      : set_(nonzero_channels(channels), bins, values) {}

  /// Adds x laid out as `layout`. Throws InvalidArgument naming "layout" when its channel count
  /// differs, "x" when x is null and the layout non-empty.
  void update(const float* x, const ChannelLayout& layout) {
    if (layout.channels != channels())
      detail::throw_invalid(
          "layout", "has " + std::to_string(layout.channels) + " channels, expected " + std::to_string(channels()));
    if (layout.size() != 0 && x == nullptr) detail::throw_invalid("x", "is null");
    if (layout.size() == 0) return;
    simd::FloatEnvironmentGuard env;
    const std::size_t row = layout.channels * layout.inner;
    // At least a kernel channel group of rows per chunk: the channels-first kernel counts a
    // channel's runs of several rows through L1-sized sub-histograms, while one row's runs (e.g.
    // one 56x56 image plane) are too short for them and go straight into the 16 KB uint64 counters
    // of each channel (1 MB at 64 channels, L2-missing). Measured, 8x64x56x56 batches: 0.95 -> 1.03
    // G elements/s (medians of 4 alternating runs). Only a channel whose window grows re-reads its
    // part of the chunk.
    const std::size_t rows =
        std::max(std::min(layout.outer, kernels::detail::kChannelGroup), detail::kStreamingChunk * 4 / row);
    for (std::size_t o = 0; o < layout.outer; o += rows) {
      const std::size_t m = std::min(rows, layout.outer - o);
      set_.update_chunk(x + o * row, ChannelLayout{m, layout.channels, layout.inner});
    }
  }

  void merge(const ChannelStreamingHistogram& other) { set_.merge(other.set_); }

  std::size_t channels() const { return set_.channels(); }
  std::size_t bins() const { return set_.bins(); }
  HistogramValues values() const { return set_.values(); }
  MinMax range(std::size_t c) const { return set_.range(check(c)); }
  ValueCounts counts(std::size_t c) const { return set_.counts(check(c)); }
  bool has_finite(std::size_t c) const { return set_.has_finite(check(c)); }
  int width_exponent(std::size_t c) const { return set_.exponent(check(c)); }
  std::int64_t first_bin(std::size_t c) const { return set_.base(check(c)); }
  /// Channel c's bins. Throws DataError when that channel saw no finite value.
  HistogramView view(std::size_t c) const { return set_.view(check(c)); }

  std::vector<std::uint8_t> serialize() const {
    detail::BlobWriter w;
    set_.write(w);
    return w.finish(StatisticKind::channel_streaming_histogram);
  }
  static ChannelStreamingHistogram deserialize(const std::uint8_t* data, std::size_t size) {
    detail::BlobReader r(data, size, StatisticKind::channel_streaming_histogram);
    return ChannelStreamingHistogram(detail::GridHistogramSet::read(r, 0));
  }
  static ChannelStreamingHistogram deserialize(const std::vector<std::uint8_t>& blob) {
    return deserialize(blob.data(), blob.size());
  }

  friend bool operator==(const ChannelStreamingHistogram& a, const ChannelStreamingHistogram& b) {
    return a.set_ == b.set_;
  }
  friend bool operator!=(const ChannelStreamingHistogram& a, const ChannelStreamingHistogram& b) { return !(a == b); }

 private:
  explicit ChannelStreamingHistogram(detail::GridHistogramSet s) : set_(std::move(s)) {}
  static std::size_t nonzero_channels(std::size_t c) {
    if (c == 0) detail::throw_invalid("channels", "must be > 0");
    return c;
  }
  std::size_t check(std::size_t c) const {
    if (c >= channels())
      detail::throw_invalid("channel", std::to_string(c) + " is out of range for " + std::to_string(channels()));
    return c;
  }
  detail::GridHistogramSet set_;
};

}  // namespace QKERN_ABI_NS
}  // namespace qkern
