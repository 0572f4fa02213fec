// qkern — SPDX-License-Identifier: Apache-2.0
//
// histogram_view.hpp: the read-only view of a uniform histogram that every fitting method and
// percentile function takes, whatever collected it (fixed-range kernel, streaming histogram,
// observer, or counts loaded from another tool).
#pragma once

#include <cstddef>
#include <cstdint>

#include "qkern/core/fp.hpp"

namespace qkern {

/// `bins` uniform bins over [lo, hi]: bin i covers [lo + i*w, lo + (i+1)*w) with w = (hi - lo) / bins,
/// the last bin closed. For histograms of |x|, lo is 0. Counts are 64-bit. Values outside the range
/// and non-finite values are not part of the view (collectors report them separately).
struct HistogramView {
  const std::uint64_t* counts = nullptr;
  std::size_t bins = 0;
  double lo = 0.0;
  double hi = 0.0;
  /// The exact range [data_min, data_max] of the values counted, when the collector tracks it
  /// (StreamingHistogram and the histogram observers do). Percentiles and the brackets read from
  /// the view then never lie outside it (a histogram only knows its bin edges, which may extend
  /// up to a bin beyond the data). Both inside [lo, hi].
  bool has_data_range = false;
  double data_min = 0.0;
  double data_max = 0.0;

  double bin_width() const { return bins == 0 ? 0.0 : detail::fp_div(hi - lo, static_cast<double>(bins)); }
  /// lo + i * bin_width(), each operation rounded on its own (never fused into an FMA, whatever the
  /// caller's flags: numpy and torch compute edges that way).
  double left_edge(std::size_t i) const { return lo + detail::fp_mul(bin_width(), static_cast<double>(i)); }
  std::uint64_t total() const {
    std::uint64_t t = 0;
    for (std::size_t i = 0; i < bins; ++i) t += counts[i];
    return t;
  }
};

}  // namespace qkern
