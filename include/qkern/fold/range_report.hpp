// qkern — SPDX-License-Identifier: Apache-2.0
//
// range_report.hpp: per-output-channel weight ranges before and after BatchNorm folding, with the
// spread across channels and the channels whose range is far wider than the typical one: those
// are what make a folded (BN-less) layer hard to quantize per tensor.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "qkern/core/abi.hpp"
#include "qkern/core/error.hpp"
#include "qkern/core/value_stats.hpp"
#include "qkern/fold/weight_layout.hpp"
#include "qkern/minmax.hpp"

namespace qkern {
inline namespace QKERN_ABI_NS {

/// Range of one output channel's weights (finite values only; NaN / Inf counted in range.counts).
struct ChannelRange {
  MinMax range;         ///< min / max of the finite weights of the channel
  float absmax = 0.0f;  ///< max |w| over the finite weights (0 when there is none)

  /// Width of the range a quantizer must cover, widened to include 0: max(max, 0) - min(min, 0),
  /// in double. 0 when the channel has no finite value.
  double width() const {
    if (!range.has_finite()) return 0.0;
    return std::fmax(double(range.max), 0.0) - std::fmin(double(range.min), 0.0);
  }
};

/// Per-output-channel ranges of one weight tensor.
struct ChannelRangeReport {
  std::vector<ChannelRange> channels;  ///< indexed by output channel
  double median_width = 0.0;           ///< median of channels[c].width() (mean of the middle two if even)
  double max_width = 0.0;              ///< largest channel width
  /// max_width / median_width: how much of a per-tensor range the typical channel leaves unused.
  /// 1 when every width is 0; +Inf when the median width is 0 but some channel is not.
  double spread_ratio = 1.0;
  double wide_factor = 0.0;                ///< the threshold the flags below used
  std::vector<std::size_t> wide_channels;  ///< channels with width > wide_factor * median_width, ascending
};

/// The same weight tensor before and after folding.
struct FoldRangeReport {
  ChannelRangeReport before;
  ChannelRangeReport after;
};

/// Per-output-channel min / max / absmax of `weight` (spec.size() floats laid out as `spec`; for
/// iohw with groups the output channel is group-aware), the spread ratio, and the channels whose
/// width exceeds `wide_factor` times the median width. Min / max come from qkern::minmax per
/// channel (SIMD, NaN / Inf skipped and counted). Throws InvalidArgument as validate(spec),
/// "weight" when null, "wide_factor" unless finite and >= 1.
inline ChannelRangeReport report_channel_ranges(const float* weight, const WeightSpec& spec,
                                                double wide_factor = 10.0) {
  validate(spec);
  if (weight == nullptr) detail::throw_invalid("weight", "is null");
  if (!(wide_factor >= 1.0) || !::qkern::detail::is_finite(wide_factor))
    detail::throw_invalid("wide_factor", "must be finite and >= 1, got " + std::to_string(wide_factor));
  const std::size_t o = spec.out_channels();
  ChannelRangeReport r;
  r.wide_factor = wide_factor;
  r.channels.resize(o);
  for (const detail::OutChannelBlock& b : detail::out_channel_blocks(spec)) {
    const std::vector<MinMax> mm = minmax(weight + b.offset, b.layout);
    for (std::size_t c = 0; c < mm.size(); ++c) {
      ChannelRange& cr = r.channels[b.first_channel + c];
      cr.range.merge(mm[c]);
      if (mm[c].has_finite()) cr.absmax = std::max({cr.absmax, std::fabs(mm[c].min), std::fabs(mm[c].max)});
    }
  }
  std::vector<double> widths(o);
  for (std::size_t c = 0; c < o; ++c) widths[c] = r.channels[c].width();
  std::vector<double> sorted = widths;
  std::sort(sorted.begin(), sorted.end());
  r.median_width = o % 2 == 1 ? sorted[o / 2] : 0.5 * (sorted[o / 2 - 1] + sorted[o / 2]);
  r.max_width = sorted.back();
  if (r.median_width > 0.0)
    r.spread_ratio = r.max_width / r.median_width;
  else
    r.spread_ratio = r.max_width > 0.0 ? std::numeric_limits<double>::infinity() : 1.0;
  for (std::size_t c = 0; c < o; ++c)
    if (widths[c] > wide_factor * r.median_width) r.wide_channels.push_back(c);
  return r;
}

/// report_channel_ranges of the weights before and after folding (same spec: folding keeps shape).
inline FoldRangeReport report_fold_ranges(const float* weight_before, const float* weight_after, const WeightSpec& spec,
                                          double wide_factor = 10.0) {
  return {report_channel_ranges(weight_before, spec, wide_factor),
          report_channel_ranges(weight_after, spec, wide_factor)};
}

/// A plain-text table of the report: one line per channel (min, max, absmax before and after, and
/// a '*' on channels flagged wide after folding), then the spread ratios. For logs and examples.
inline std::string format_fold_range_report(const FoldRangeReport& r) {
  std::string s;
  char line[200];
  std::snprintf(line, sizeof line, "%7s %12s %12s %12s | %12s %12s %12s\n", "channel", "min", "max", "absmax", "min'",
                "max'", "absmax'");
  s += line;
  const std::size_t n = std::min(r.before.channels.size(), r.after.channels.size());
  for (std::size_t c = 0; c < n; ++c) {
    const ChannelRange &b = r.before.channels[c], &a = r.after.channels[c];
    const bool wide = std::binary_search(r.after.wide_channels.begin(), r.after.wide_channels.end(), c);
    std::snprintf(line, sizeof line, "%7zu %12.5g %12.5g %12.5g | %12.5g %12.5g %12.5g%s\n", c, double(b.range.min),
                  double(b.range.max), double(b.absmax), double(a.range.min), double(a.range.max), double(a.absmax),
                  wide ? " *" : "");
    s += line;
  }
  std::snprintf(line, sizeof line,
                "spread (max width / median width): before %.4g, after %.4g; %zu wide channel(s) after\n",
                r.before.spread_ratio, r.after.spread_ratio, r.after.wide_channels.size());
  s += line;
  return s;
}

}  // namespace QKERN_ABI_NS
}  // namespace qkern
