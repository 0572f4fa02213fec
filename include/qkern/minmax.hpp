// qkern — SPDX-License-Identifier: Apache-2.0
//
// minmax.hpp: public min/max and abs-max over the finite values, per tensor and per channel, in
// one pass. NaN and +-Inf are skipped and counted (ValueCounts); a NaN never poisons a range and
// never disappears silently. Empty input gives min = +Inf, max = -Inf, absmax = 0, zero counts.
#pragma once

#include <cstddef>
#include <limits>
#include <vector>

#include "qkern/core/abi.hpp"
#include "qkern/core/error.hpp"
#include "qkern/core/layout.hpp"
#include "qkern/core/value_stats.hpp"
#include "qkern/kernels/kernel_list.hpp"

namespace qkern {
inline namespace QKERN_ABI_NS {

/// Min and max of the finite values of x[0, n).
inline MinMax minmax(const float* x, std::size_t n) {
  if (n != 0 && x == nullptr) detail::throw_invalid("x", "is null");
  if (n == 0) return {};
  return dispatch::select<kernels::f32_minmax>()(x, n);
}

/// max |x| over the finite values of x[0, n).
inline AbsMax absmax(const float* x, std::size_t n) {
  if (n != 0 && x == nullptr) detail::throw_invalid("x", "is null");
  if (n == 0) return {};
  return dispatch::select<kernels::f32_absmax>()(x, n);
}

/// Running per-channel min/max: update() merges a batch, so a stream of batches of the same
/// channel count accumulates exactly (the result does not depend on how the data was split).
class ChannelMinMaxAccumulator {
 public:
  explicit ChannelMinMaxAccumulator(std::size_t channels)
      : min_(channels, std::numeric_limits<float>::infinity()),
        max_(channels, -std::numeric_limits<float>::infinity()),
        counts_(channels) {}

  /// Merges x laid out as `layout`. Throws InvalidArgument naming "layout" when layout.channels
  /// differs from the accumulator's channel count, "x" when x is null and the layout non-empty.
  void update(const float* x, const ChannelLayout& layout) {
    if (layout.channels != min_.size())
      detail::throw_invalid(
          "layout", "has " + std::to_string(layout.channels) + " channels, expected " + std::to_string(min_.size()));
    if (layout.size() != 0 && x == nullptr) detail::throw_invalid("x", "is null");
    if (layout.size() == 0) return;
    dispatch::select<kernels::f32_minmax_channels>()(x, layout, min_.data(), max_.data(), counts_.data());
  }

  void merge(const ChannelMinMaxAccumulator& other) {
    if (other.channels() != channels()) detail::throw_invalid("other", "has a different channel count");
    for (std::size_t c = 0; c < channels(); ++c) {
      min_[c] = other.min_[c] < min_[c] ? other.min_[c] : min_[c];
      max_[c] = other.max_[c] > max_[c] ? other.max_[c] : max_[c];
      counts_[c] += other.counts_[c];
    }
  }

  std::size_t channels() const { return min_.size(); }
  const std::vector<float>& min() const { return min_; }
  const std::vector<float>& max() const { return max_; }
  const std::vector<ValueCounts>& counts() const { return counts_; }
  MinMax channel(std::size_t c) const { return {min_[c], max_[c], counts_[c]}; }

 private:
  std::vector<float> min_, max_;
  std::vector<ValueCounts> counts_;
};

/// Per-channel min/max of the finite values, one MinMax per channel.
inline std::vector<MinMax> minmax(const float* x, const ChannelLayout& layout) {
  ChannelMinMaxAccumulator acc(layout.channels);
  acc.update(x, layout);
  std::vector<MinMax> r(layout.channels);
  for (std::size_t c = 0; c < layout.channels; ++c) r[c] = acc.channel(c);
  return r;
}

/// Per-channel abs-max of the finite values, one AbsMax per channel.
inline std::vector<AbsMax> absmax(const float* x, const ChannelLayout& layout) {
  if (layout.size() != 0 && x == nullptr) detail::throw_invalid("x", "is null");
  std::vector<float> value(layout.channels, 0.0f);
  std::vector<ValueCounts> counts(layout.channels);
  if (layout.size() != 0) dispatch::select<kernels::f32_absmax_channels>()(x, layout, value.data(), counts.data());
  std::vector<AbsMax> r(layout.channels);
  for (std::size_t c = 0; c < layout.channels; ++c) r[c] = {value[c], counts[c]};
  return r;
}

}  // namespace QKERN_ABI_NS
}  // namespace qkern
