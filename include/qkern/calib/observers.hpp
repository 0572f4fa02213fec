// qkern — SPDX-License-Identifier: Apache-2.0
//
// calib/observers.hpp: calibration observers in PyTorch's vocabulary (MinMax, MovingAverageMinMax,
// PerChannelMinMax, MovingAveragePerChannelMinMax, Histogram, PerChannelHistogram): stateful
// statistics fed batch by batch, mergeable, serializable (calib/serialization.hpp), with 64-bit
// counts and NaN/+-Inf counted by kind.
//
// Deviation from PyTorch (documented on purpose): torch observers let a NaN poison min/max (and
// newer HistogramObserver drops +-Inf with a warning); qkern skips every non-finite value and counts
// it, so one NaN never destroys a calibration and never disappears silently (SF-4, SF-6).
//
// qparams(dtype, options, convention) fits with the min-max method (core/choose_params.hpp) from
// the observer's own range; histogram observers also take qparams(method, dtype, fit options,
// convention) with any calib/fit.hpp method (percentile, MSE, entropy, PyTorch's L2 search, SQNR)
// from the one collected histogram, and expose view() (HistogramView). No data observed, or only
// non-finite values, gives a DataError at fit time (SF-1, SF-5).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "qkern/calib/fit.hpp"
#include "qkern/calib/histogram_view.hpp"
#include "qkern/calib/serialization.hpp"
#include "qkern/calib/streaming_histogram.hpp"
#include "qkern/core/abi.hpp"
#include "qkern/core/choose_params.hpp"
#include "qkern/minmax.hpp"

namespace qkern {
inline namespace QKERN_ABI_NS {
namespace detail {

inline void write_minmax(BlobWriter& w, const MinMax& m) {
  w.f32(m.min);
  w.f32(m.max);
  w.u64(m.counts.finite);
  w.u64(m.counts.nan);
  w.u64(m.counts.pos_inf);
  w.u64(m.counts.neg_inf);
}

// DataError unless every channel of b can be merged into a without a count overflow (checked
// before anything changes, so a failed merge leaves the observer as it was).
inline void check_merge_counts(const std::vector<MinMax>& a, const std::vector<MinMax>& b) {
  for (std::size_t c = 0; c < a.size() && c < b.size(); ++c)
    add_counts(a[c].counts.checked_total(), b[c].counts.checked_total());
}

inline MinMax read_minmax(BlobReader& r) {
  MinMax m;
  m.min = r.f32();
  m.max = r.f32();
  m.counts.finite = r.u64();
  m.counts.nan = r.u64();
  m.counts.pos_inf = r.u64();
  m.counts.neg_inf = r.u64();
  // Canonical encoding only: what serialize() writes for some reachable state.
  if (m.counts.finite == 0) {  // exactly +Inf / -Inf (no NaN, no other payload)
    if (float_bits(m.min) != 0x7f800000u || float_bits(m.max) != 0xff800000u)
      BlobReader::corrupt("min/max of an empty statistic must be +Inf/-Inf");
  } else if (!is_finite(m.min) || !is_finite(m.max) || !(m.min <= m.max)) {
    BlobReader::corrupt("min/max inconsistent with the counts");
  } else if (float_bits(m.min) == 0x80000000u || float_bits(m.max) == 0x80000000u) {
    BlobReader::corrupt("a zero extreme must be +0.0");
  }
  if (!m.counts.total_fits()) BlobReader::corrupt("counts add up to more than 2^64 - 1");
  return m;
}

// +0.0 for a zero (the canonical zero extreme), v otherwise.
inline float positive_zero(float v) { return v == 0.0f ? 0.0f : v; }

// PyTorch's update, in float32: v + c * (cur - v).
// Each operation rounded on its own: fp_mul keeps c * d from being fused with the add into an FMA
// (GCC contracts it at -O2 -march=native, 1 ulp off PyTorch), whatever the caller's flags.
inline float moving_average(float v, float cur, float c) {
  const float d = fp_sub(cur, v);
  const float step = fp_mul(c, d);
  return positive_zero(fp_add(v, step));
}

// The batch-count-weighted mean of two EMA states (merge), in double, rounded once to float.
inline float weighted_mean(float x, double a, float y, double b) {
  const double num = fp_add(fp_mul(double(x), a), fp_mul(double(y), b));
  return positive_zero(static_cast<float>(fp_div(num, fp_add(a, b))));
}

inline bool valid_averaging_constant_value(float c) { return is_finite(c) && c > 0.0f && c <= 1.0f; }

inline float valid_averaging_constant(float c) {
  if (!valid_averaging_constant_value(c))
    throw_invalid("averaging_constant", "must be in (0, 1], got " + std::to_string(c));
  return c;
}

inline MinMax symmetric_of_absolute(const MinMax& m) {
  MinMax r = m;
  r.min = -m.max;
  return r;
}

}  // namespace detail

/// Running min/max of the finite values (PyTorch MinMaxObserver). Merge is exact.
class MinMaxObserver {
 public:
  /// Adds x[0, n); an empty batch is a no-op.
  void update(const float* x, std::size_t n) { range_.merge(minmax(x, n)); }
  void merge(const MinMaxObserver& other) { range_.merge(other.range_); }
  const MinMax& range() const { return range_; }
  /// Min-max parameters. Throws DataError when no finite value was observed.
  QuantParams qparams(DType dtype, RangeOptions options = {}, Convention convention = Convention::qkern) const {
    return choose_params(range_, dtype, options, convention);
  }
  std::vector<std::uint8_t> serialize() const {
    detail::BlobWriter w;
    detail::write_minmax(w, range_);
    return w.finish(StatisticKind::minmax);
  }
  static MinMaxObserver deserialize(const std::vector<std::uint8_t>& blob) {
    detail::BlobReader r(blob.data(), blob.size(), StatisticKind::minmax);
    MinMaxObserver o;
    o.range_ = detail::read_minmax(r);
    r.expect_end();
    return o;
  }

 private:
  MinMax range_;
};

/// Exponential moving average of each batch's min/max (PyTorch MovingAverageMinMaxObserver): the
/// first batch with a finite value sets min/max, later ones do min += c * (batch_min - min) in
/// float32 (same for max). Batches without finite values only add to the counts.
///
/// merge() is NOT exact (an EMA depends on batch order): it averages the two states weighted by
/// their batch counts, which is what combining shards of i.i.d. batches approximates.
class MovingAverageMinMaxObserver {
 public:
  /// Throws InvalidArgument naming "averaging_constant" unless it is in (0, 1].
  explicit MovingAverageMinMaxObserver(float averaging_constant = 0.01f)
      : c_(detail::valid_averaging_constant(averaging_constant)) {}

  void update(const float* x, std::size_t n) {
    const MinMax b = minmax(x, n);
    range_.counts += b.counts;
    if (!b.has_finite()) return;
    if (batches_ == 0) {
      range_.min = b.min;
      range_.max = b.max;
    } else {
      range_.min = detail::moving_average(range_.min, b.min, c_);
      range_.max = detail::moving_average(range_.max, b.max, c_);
    }
    ++batches_;
  }

  void merge(const MovingAverageMinMaxObserver& o) {
    range_.counts += o.range_.counts;
    if (o.batches_ == 0) return;
    if (batches_ == 0) {
      range_.min = o.range_.min;
      range_.max = o.range_.max;
    } else {
      const double a = double(batches_), b = double(o.batches_);
      range_.min = detail::weighted_mean(range_.min, a, o.range_.min, b);
      range_.max = detail::weighted_mean(range_.max, a, o.range_.max, b);
    }
    batches_ += o.batches_;  // no overflow: batches <= finite counts, checked above
  }

  float averaging_constant() const { return c_; }
  std::uint64_t batches() const { return batches_; }
  const MinMax& range() const { return range_; }
  QuantParams qparams(DType dtype, RangeOptions options = {}, Convention convention = Convention::qkern) const {
    return choose_params(range_, dtype, options, convention);
  }
  std::vector<std::uint8_t> serialize() const {
    detail::BlobWriter w;
    w.f32(c_);
    w.u64(batches_);
    detail::write_minmax(w, range_);
    return w.finish(StatisticKind::moving_average_minmax);
  }
  static MovingAverageMinMaxObserver deserialize(const std::vector<std::uint8_t>& blob) {
    detail::BlobReader r(blob.data(), blob.size(), StatisticKind::moving_average_minmax);
    const float c = r.f32();
    if (!detail::valid_averaging_constant_value(c)) detail::BlobReader::corrupt("averaging constant");
    MovingAverageMinMaxObserver o(c);
    o.batches_ = r.u64();
    o.range_ = detail::read_minmax(r);
    if ((o.batches_ == 0) != (o.range_.counts.finite == 0) || o.batches_ > o.range_.counts.finite)
      detail::BlobReader::corrupt("batch count");
    r.expect_end();
    return o;
  }

 private:
  float c_;
  std::uint64_t batches_ = 0;
  MinMax range_;
};

/// Running per-channel min/max (PyTorch PerChannelMinMaxObserver), any layout. Merge is exact.
class PerChannelMinMaxObserver {
 public:
  explicit PerChannelMinMaxObserver(std::size_t channels) : ranges_(channels) {}
  /// Throws InvalidArgument naming "layout" when its channel count differs, "x" when null.
  void update(const float* x, const ChannelLayout& layout) {
    if (layout.channels != channels())
      detail::throw_invalid(
          "layout", "has " + std::to_string(layout.channels) + " channels, expected " + std::to_string(channels()));
    if (layout.size() == 0) return;
    const std::vector<MinMax> b = minmax(x, layout);
    for (std::size_t c = 0; c < channels(); ++c) ranges_[c].merge(b[c]);
  }
  /// Throws InvalidArgument naming "other" when the channel counts differ, DataError (and merges
  /// nothing) when a channel's counts would exceed 2^64 - 1.
  void merge(const PerChannelMinMaxObserver& other) {
    if (other.channels() != channels()) detail::throw_invalid("other", "has a different channel count");
    detail::check_merge_counts(ranges_, other.ranges_);
    for (std::size_t c = 0; c < channels(); ++c) ranges_[c].merge(other.ranges_[c]);
  }
  std::size_t channels() const { return ranges_.size(); }
  const std::vector<MinMax>& ranges() const { return ranges_; }
  /// Per-channel min-max parameters. Throws DataError when a channel saw no finite value.
  ChannelQuantParams qparams(DType dtype, RangeOptions options = {}, Convention convention = Convention::qkern) const {
    return choose_params(ranges_, dtype, options, convention);
  }
  std::vector<std::uint8_t> serialize() const {
    detail::BlobWriter w;
    w.u32(static_cast<std::uint32_t>(channels()));
    for (const MinMax& m : ranges_) detail::write_minmax(w, m);
    return w.finish(StatisticKind::channel_minmax);
  }
  static PerChannelMinMaxObserver deserialize(const std::vector<std::uint8_t>& blob) {
    detail::BlobReader r(blob.data(), blob.size(), StatisticKind::channel_minmax);
    const std::uint32_t channels = r.u32();
    if (channels == 0) detail::BlobReader::corrupt("channel count");
    r.expect_remaining(std::uint64_t{channels} * 40);
    PerChannelMinMaxObserver o(channels);
    for (auto& m : o.ranges_) m = detail::read_minmax(r);
    return o;
  }

 private:
  std::vector<MinMax> ranges_;
};

/// Per-channel EMA of batch min/max (PyTorch MovingAveragePerChannelMinMaxObserver). Each channel
/// starts at its first batch with a finite value. merge() is approximate, as for the per-tensor one.
class MovingAveragePerChannelMinMaxObserver {
 public:
  MovingAveragePerChannelMinMaxObserver(std::size_t channels, float averaging_constant = 0.01f)
      : c_(detail::valid_averaging_constant(averaging_constant)), ranges_(channels), batches_(channels, 0) {}

  void update(const float* x, const ChannelLayout& layout) {
    if (layout.channels != channels())
      detail::throw_invalid(
          "layout", "has " + std::to_string(layout.channels) + " channels, expected " + std::to_string(channels()));
    if (layout.size() == 0) return;
    const std::vector<MinMax> b = minmax(x, layout);
    for (std::size_t c = 0; c < channels(); ++c) {
      ranges_[c].counts += b[c].counts;
      if (!b[c].has_finite()) continue;
      if (batches_[c] == 0) {
        ranges_[c].min = b[c].min;
        ranges_[c].max = b[c].max;
      } else {
        ranges_[c].min = detail::moving_average(ranges_[c].min, b[c].min, c_);
        ranges_[c].max = detail::moving_average(ranges_[c].max, b[c].max, c_);
      }
      ++batches_[c];
    }
  }

  void merge(const MovingAveragePerChannelMinMaxObserver& o) {
    if (o.channels() != channels()) detail::throw_invalid("other", "has a different channel count");
    detail::check_merge_counts(ranges_, o.ranges_);
    for (std::size_t c = 0; c < channels(); ++c) {
      ranges_[c].counts += o.ranges_[c].counts;
      if (o.batches_[c] == 0) continue;
      if (batches_[c] == 0) {
        ranges_[c].min = o.ranges_[c].min;
        ranges_[c].max = o.ranges_[c].max;
      } else {
        const double a = double(batches_[c]), b = double(o.batches_[c]);
        ranges_[c].min = detail::weighted_mean(ranges_[c].min, a, o.ranges_[c].min, b);
        ranges_[c].max = detail::weighted_mean(ranges_[c].max, a, o.ranges_[c].max, b);
      }
      batches_[c] += o.batches_[c];
    }
  }

  std::size_t channels() const { return ranges_.size(); }
  float averaging_constant() const { return c_; }
  const std::vector<MinMax>& ranges() const { return ranges_; }
  ChannelQuantParams qparams(DType dtype, RangeOptions options = {}, Convention convention = Convention::qkern) const {
    return choose_params(ranges_, dtype, options, convention);
  }
  std::vector<std::uint8_t> serialize() const {
    detail::BlobWriter w;
    w.f32(c_);
    w.u32(static_cast<std::uint32_t>(channels()));
    for (std::size_t c = 0; c < channels(); ++c) {
      w.u64(batches_[c]);
      detail::write_minmax(w, ranges_[c]);
    }
    return w.finish(StatisticKind::moving_average_channel_minmax);
  }
  static MovingAveragePerChannelMinMaxObserver deserialize(const std::vector<std::uint8_t>& blob) {
    detail::BlobReader r(blob.data(), blob.size(), StatisticKind::moving_average_channel_minmax);
    const float c = r.f32();
    if (!detail::valid_averaging_constant_value(c)) detail::BlobReader::corrupt("averaging constant");
    const std::uint32_t channels = r.u32();
    if (channels == 0) detail::BlobReader::corrupt("channel count");
    r.expect_remaining(std::uint64_t{channels} * 48);
    MovingAveragePerChannelMinMaxObserver o(channels, c);
    for (std::size_t k = 0; k < channels; ++k) {
      o.batches_[k] = r.u64();
      o.ranges_[k] = detail::read_minmax(r);
      if ((o.batches_[k] == 0) != (o.ranges_[k].counts.finite == 0) || o.batches_[k] > o.ranges_[k].counts.finite)
        detail::BlobReader::corrupt("batch count");
    }
    return o;
  }

 private:
  float c_;
  std::vector<MinMax> ranges_;
  std::vector<std::uint64_t> batches_;
};

/// Per-tensor histogram observer on the exact, mergeable StreamingHistogram (2048 bins by default;
/// unlike PyTorch's HistogramObserver, counts are 64-bit integers and never interpolated).
class HistogramObserver {
 public:
  explicit HistogramObserver(std::size_t bins = 2048, HistogramValues values = HistogramValues::signed_values)
      : hist_(bins, values) {}
  void update(const float* x, std::size_t n) { hist_.update(x, n); }
  void merge(const HistogramObserver& other) { hist_.merge(other.hist_); }
  const StreamingHistogram& histogram() const { return hist_; }
  /// The bins, for the percentile / MSE / entropy fitters. Throws DataError with no finite data.
  HistogramView view() const { return hist_.view(); }
  /// Exact range of the finite values (of |x| in |x| mode).
  MinMax range() const { return hist_.range(); }
  /// Min-max parameters from the exact range ([-max, max] in |x| mode). Throws DataError (SF-1, SF-5).
  QuantParams qparams(DType dtype, RangeOptions options = {}, Convention convention = Convention::qkern) const {
    const MinMax r = hist_.range();
    return choose_params(hist_.values() == HistogramValues::absolute_values ? detail::symmetric_of_absolute(r) : r,
                         dtype, options, convention);
  }
  /// Parameters from the collected histogram with any fitting method (calib/fit.hpp), e.g.
  /// qparams(FitMethod::entropy, DType::int8) on an |x| observer. Errors as fit_params.
  QuantParams qparams(FitMethod method, DType dtype, const FitOptions& options = {},
                      Convention convention = Convention::qkern) const {
    return fit_params(view(), method, dtype, options, convention);
  }
  std::vector<std::uint8_t> serialize() const { return hist_.serialize(); }
  static HistogramObserver deserialize(const std::vector<std::uint8_t>& blob) {
    HistogramObserver o;
    o.hist_ = StreamingHistogram::deserialize(blob);
    return o;
  }

 private:
  StreamingHistogram hist_;
};

/// One streaming histogram per channel, any layout.
class PerChannelHistogramObserver {
 public:
  explicit PerChannelHistogramObserver(std::size_t channels, std::size_t bins = 2048,
                                       HistogramValues values = HistogramValues::signed_values)
      : hist_(channels, bins, values) {}
  void update(const float* x, const ChannelLayout& layout) { hist_.update(x, layout); }
  void merge(const PerChannelHistogramObserver& other) { hist_.merge(other.hist_); }
  std::size_t channels() const { return hist_.channels(); }
  const ChannelStreamingHistogram& histogram() const { return hist_; }
  HistogramView view(std::size_t c) const { return hist_.view(c); }
  MinMax range(std::size_t c) const { return hist_.range(c); }
  ChannelQuantParams qparams(DType dtype, RangeOptions options = {}, Convention convention = Convention::qkern) const {
    std::vector<MinMax> r(channels());
    for (std::size_t c = 0; c < channels(); ++c) {
      r[c] = hist_.range(c);
      if (hist_.values() == HistogramValues::absolute_values) r[c] = detail::symmetric_of_absolute(r[c]);
    }
    return choose_params(r, dtype, options, convention);
  }
  /// Per-channel parameters with any fitting method, each channel from its own histogram.
  ChannelQuantParams qparams(FitMethod method, DType dtype, const FitOptions& options = {},
                             Convention convention = Convention::qkern) const {
    std::vector<HistogramView> views;
    for (std::size_t c = 0; c < channels(); ++c) views.push_back(view(c));
    return fit_params(views, method, dtype, options, convention);
  }
  std::vector<std::uint8_t> serialize() const { return hist_.serialize(); }
  static PerChannelHistogramObserver deserialize(const std::vector<std::uint8_t>& blob) {
    ChannelStreamingHistogram h = ChannelStreamingHistogram::deserialize(blob);
    PerChannelHistogramObserver o(h.channels(), h.bins(), h.values());
    o.hist_ = std::move(h);
    return o;
  }

 private:
  ChannelStreamingHistogram hist_;
};

}  // namespace QKERN_ABI_NS
}  // namespace qkern
