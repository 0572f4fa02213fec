// qkern — SPDX-License-Identifier: Apache-2.0
//
// histogram_view.hpp: the read-only view of a uniform histogram that every fitting method and
// percentile function takes, whatever collected it (fixed-range kernel, streaming histogram,
// observer, or counts loaded from another tool).
#pragma once

#include <cstddef>
#include <cstdint>

#include "qkern/core/abi.hpp"
#include "qkern/core/fp.hpp"

namespace qkern {
inline namespace QKERN_ABI_NS {

/// `bins` uniform bins over [lo, hi]: bin i covers [lo + i*w, lo + (i+1)*w) with w = (hi - lo) / bins,
/// the last bin closed. For histograms of |x|, lo is 0. Counts are 64-bit. Values outside the range
/// and non-finite values are not part of the view (collectors report them separately).
///
/// `absolute` marks a histogram of |x| (set by the |x| collectors): only symmetric fits apply to it.
/// `edges`, when set, holds bins + 1 explicit bin edges (float32, as another tool computed them, e.g.
/// ModelOpt's or numpy's saved `bin_edges`); the fitting methods then read every edge from it, so a
/// threshold that is an edge equals the tool's to the bit. edges[0] must be lo and edges[bins] hi.
struct HistogramView {
  const std::uint64_t* counts = nullptr;
  std::size_t bins = 0;
  double lo = 0.0;
  double hi = 0.0;
  bool absolute = false;
  /// Explicit bin edges (bins + 1 float32 values, as a tool saved them), or nullptr for the uniform
  /// grid lo + i * (hi - lo) / bins.
  const float* edges = nullptr;
  /// The exact range [data_min, data_max] of the values counted, when the collector tracks it
  /// (StreamingHistogram and the histogram observers do). Percentiles and the brackets read from
  /// the view then never lie outside it (a histogram only knows its bin edges, which may extend
  /// up to a bin beyond the data). Both inside [lo, hi].
  bool has_data_range = false;
  double data_min = 0.0;
  double data_max = 0.0;

  double bin_width() const { return bins == 0 ? 0.0 : detail::fp_div(hi - lo, static_cast<double>(bins)); }
  /// edges[i] when explicit edges are given; else lo + i * bin_width(), each operation rounded on its
  /// own (never fused into an FMA, whatever the caller's flags: numpy and torch compute edges that way).
  double left_edge(std::size_t i) const {
    if (edges != nullptr) return static_cast<double>(edges[i]);
    return lo + detail::fp_mul(bin_width(), static_cast<double>(i));
  }
  std::uint64_t total() const {
    std::uint64_t t = 0;
    for (std::size_t i = 0; i < bins; ++i) t += counts[i];
    return t;
  }
};

}  // namespace QKERN_ABI_NS
}  // namespace qkern
