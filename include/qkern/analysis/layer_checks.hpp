// qkern — SPDX-License-Identifier: Apache-2.0
//
// analysis/layer_checks.hpp: per-layer quantization diagnostics.
//   channel_range_spread  largest per-channel range / median per-channel range of a layer's
//                         activations or weights; above the threshold (default 10x) one per-tensor
//                         scale wastes most codes on the narrow channels (typical of convolutions
//                         without BatchNorm): quantize per channel, or equalise (CLE) first
//   clip_fractions        the fraction of values each candidate clip range cuts
//   LayerNoiseTable       the SQNR of fake_quantize(x) against x for each fitting method side by
//                         side, one row per layer, flagging layers whose best SQNR is under a
//                         threshold (default 10 dB), like the SNR-per-layer reports of accelerator
//                         SDKs
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "qkern/analysis/metrics.hpp"
#include "qkern/core/abi.hpp"
#include "qkern/core/error.hpp"
#include "qkern/core/layout.hpp"
#include "qkern/core/params.hpp"
#include "qkern/minmax.hpp"
#include "qkern/quantize.hpp"

namespace qkern {
inline namespace QKERN_ABI_NS {
namespace analysis {

/// Default range-spread ratio above which a layer is flagged.
inline constexpr double kDefaultRangeSpreadThreshold = 10.0;
/// Default SQNR (dB) under which a layer is flagged.
inline constexpr double kDefaultNoiseThresholdDb = 10.0;

struct ChannelRangeSpread {
  std::vector<float> channel_range;  ///< max - min of each channel's finite values (0 when it has none)
  double median_range = 0.0;
  double largest_range = 0.0;
  std::size_t largest_channel = 0;
  /// largest_range / median_range; +Inf when the median is 0 and the largest is not; 1 when all are 0.
  double spread = 1.0;
  double threshold = kDefaultRangeSpreadThreshold;
  bool flagged = false;                    ///< spread > threshold
  std::vector<std::size_t> wide_channels;  ///< channels whose range exceeds threshold x median
  std::string explanation;                 ///< one line
};

/// Per-channel range spread of x laid out as `layout`. Throws InvalidArgument naming "x" (null with
/// data), "layout" (no channels) or "threshold" (not > 1).
inline ChannelRangeSpread channel_range_spread(const float* x, const ChannelLayout& layout,
                                               double threshold = kDefaultRangeSpreadThreshold) {
  if (layout.channels == 0) qkern::detail::throw_invalid("layout", "has no channels");
  if (!(threshold > 1.0)) qkern::detail::throw_invalid("threshold", "must be > 1");
  const std::vector<MinMax> mm = minmax(x, layout);
  ChannelRangeSpread r;
  r.threshold = threshold;
  r.channel_range.resize(layout.channels);
  std::vector<double> ranges(layout.channels);
  for (std::size_t c = 0; c < layout.channels; ++c) {
    // In double: max - min of two floats can overflow float.
    const double w = mm[c].has_finite() ? static_cast<double>(mm[c].max) - static_cast<double>(mm[c].min) : 0.0;
    ranges[c] = w;
    r.channel_range[c] = static_cast<float>(w);
    if (w > r.largest_range) {
      r.largest_range = w;
      r.largest_channel = c;
    }
  }
  std::vector<double> sorted = ranges;
  std::sort(sorted.begin(), sorted.end());
  const std::size_t m = sorted.size() / 2;
  r.median_range = sorted.size() % 2 ? sorted[m] : 0.5 * (sorted[m - 1] + sorted[m]);
  if (r.median_range > 0.0)
    r.spread = r.largest_range / r.median_range;
  else
    r.spread = r.largest_range > 0.0 ? std::numeric_limits<double>::infinity() : 1.0;
  r.flagged = r.spread > threshold;
  for (std::size_t c = 0; c < layout.channels; ++c)
    if (ranges[c] > threshold * r.median_range) r.wide_channels.push_back(c);
  char buf[320];
  if (r.flagged)
    std::snprintf(buf, sizeof buf,
                  "channel %zu spans %.4g, %.3gx the median channel range %.4g (%zu channels above %.3gx): one "
                  "per-tensor scale wastes most codes on the narrow channels; quantize per channel or equalise "
                  "(CLE); typical of layers without BatchNorm",
                  r.largest_channel, r.largest_range, r.spread, r.median_range, r.wide_channels.size(), threshold);
  else
    std::snprintf(buf, sizeof buf, "largest channel range %.4g is %.3gx the median %.4g (threshold %.3gx)",
                  r.largest_range, r.spread, r.median_range, threshold);
  r.explanation = buf;
  return r;
}

/// A candidate clip range [lo, hi] with a name (a fitting method, a percentile...).
struct ClipCandidate {
  std::string name;
  float lo = 0.0f;
  float hi = 0.0f;

  /// The range a set of parameters represents: the dequantized extreme codes,
  /// [(qmin - zp) * scale, (qmax - zp) * scale].
  static ClipCandidate from_params(std::string name, const QuantParams& p) {
    validate(p);
    return {std::move(name), static_cast<float>(static_cast<double>(p.qmin - p.zero_point) * p.scale),
            static_cast<float>(static_cast<double>(p.qmax - p.zero_point) * p.scale)};
  }
};

struct ClipFraction {
  std::string name;
  float lo = 0.0f, hi = 0.0f;
  double below = 0.0;    ///< fraction of the finite values < lo
  double above = 0.0;    ///< fraction of the finite values > hi
  double total = 0.0;    ///< below + above
  OutsideCounts counts;  ///< the raw counts (NaN / Inf counted, never cut)
};

/// For each candidate, the fraction of x[0, n)'s finite values it cuts (SIMD count per candidate).
/// With no finite value the fractions are 0. Throws InvalidArgument naming "x" (null with n > 0) or
/// "candidates" (a NaN bound or lo > hi).
inline std::vector<ClipFraction> clip_fractions(const float* x, std::size_t n,
                                                const std::vector<ClipCandidate>& candidates) {
  if (n != 0 && x == nullptr) qkern::detail::throw_invalid("x", "is null");
  std::vector<ClipFraction> r;
  simd::FloatEnvironmentGuard env;
  for (const ClipCandidate& c : candidates) {
    if (::qkern::detail::is_nan(c.lo) || ::qkern::detail::is_nan(c.hi) || c.lo > c.hi)
      qkern::detail::throw_invalid("candidates", "'" + c.name + "' has an empty or NaN range");
    ClipFraction f;
    f.name = c.name;
    f.lo = c.lo;
    f.hi = c.hi;
    if (n != 0) f.counts = dispatch::select<kernels::f32_count_outside>()(x, n, c.lo, c.hi);
    const double finite = static_cast<double>(f.counts.counts.finite);
    if (finite > 0.0) {
      f.below = static_cast<double>(f.counts.below) / finite;
      f.above = static_cast<double>(f.counts.above) / finite;
      f.total = f.below + f.above;
    }
    r.push_back(f);
  }
  return r;
}

/// Parameters one fitting method produced for a layer.
struct FitCandidate {
  std::string name;
  QuantParams params;
};

/// One layer's row of the noise table.
struct LayerNoiseRow {
  std::string layer;
  std::vector<ErrorMetrics> metrics;  ///< per method: fake_quantize(x) against x
  std::vector<double> clipped;        ///< per method: fraction of finite values outside its range
  std::size_t best = 0;               ///< method with the highest SQNR (first on ties)
  double best_sqnr_db = 0.0;
  bool flagged = false;  ///< best_sqnr_db < threshold (or no finite value to judge)
};

/// One row: the SQNR of fake_quantize(activations, params) against the activations for each
/// candidate. Throws InvalidArgument naming "activations" (null with n > 0), "candidates" (empty),
/// or "candidates[i].params" (invalid params, int32).
inline LayerNoiseRow layer_noise(std::string layer, const float* activations, std::size_t n,
                                 const std::vector<FitCandidate>& candidates,
                                 double threshold_db = kDefaultNoiseThresholdDb) {
  if (n != 0 && activations == nullptr) qkern::detail::throw_invalid("activations", "is null");
  if (candidates.empty()) qkern::detail::throw_invalid("candidates", "is empty");
  LayerNoiseRow row;
  row.layer = std::move(layer);
  std::vector<float> fq(n);
  double best = -std::numeric_limits<double>::infinity();
  for (std::size_t k = 0; k < candidates.size(); ++k) {
    const QuantParams& p = candidates[k].params;
#if QKERN_NO_EXCEPTIONS
    validate(p);  // the handler gets the inner argument name ("params.scale", ...)
    if (p.dtype == DType::int32) qkern::detail::throw_invalid("params.dtype", "int32 cannot be fake-quantized");
#else
    try {
      validate(p);
      if (p.dtype == DType::int32) qkern::detail::throw_invalid("params.dtype", "int32 cannot be fake-quantized");
    } catch (const InvalidArgument& e) {
      qkern::detail::throw_invalid(("candidates[" + std::to_string(k) + "].params").c_str(), e.what());
    }
#endif
    fake_quantize(activations, fq.data(), n, p);
    row.metrics.push_back(compare(activations, fq.data(), n));
    const ClipFraction cf = clip_fractions(activations, n, {ClipCandidate::from_params(candidates[k].name, p)})[0];
    row.clipped.push_back(cf.total);
    const double s = row.metrics.back().sqnr_db;
    if (s > best) {  // NaN (nothing compared) never wins
      best = s;
      row.best = k;
    }
  }
  row.best_sqnr_db = row.metrics[row.best].sqnr_db;
  row.flagged = !(row.best_sqnr_db >= threshold_db);
  return row;
}

/// The per-layer noise table: add() one row per layer (the same candidate names, in the same
/// order, for every layer), then table() prints the methods side by side.
class LayerNoiseTable {
 public:
  explicit LayerNoiseTable(double threshold_db = kDefaultNoiseThresholdDb) : threshold_db_(threshold_db) {}

  /// Adds a layer. Throws as layer_noise, and InvalidArgument naming "candidates" when the method
  /// names differ from the first layer's.
  const LayerNoiseRow& add(std::string layer, const float* activations, std::size_t n,
                           const std::vector<FitCandidate>& candidates) {
    std::vector<std::string> names;
    for (const FitCandidate& c : candidates) names.push_back(c.name);
    if (rows_.empty())
      methods_ = names;
    else if (names != methods_)
      qkern::detail::throw_invalid("candidates", "the methods must be the same, in the same order, for every layer");
    rows_.push_back(layer_noise(std::move(layer), activations, n, candidates, threshold_db_));
    return rows_.back();
  }

  double threshold_db() const { return threshold_db_; }
  const std::vector<std::string>& methods() const { return methods_; }
  const std::vector<LayerNoiseRow>& rows() const { return rows_; }

  /// Names of the layers whose best SQNR is under the threshold, in the order added.
  std::vector<std::string> flagged() const {
    std::vector<std::string> r;
    for (const LayerNoiseRow& row : rows_)
      if (row.flagged) r.push_back(row.layer);
    return r;
  }

  /// Fixed-width text: one column of SQNR (dB) per method, then the best method, the fraction its
  /// range clips, and a flag for layers under the threshold.
  std::string table() const {
    std::size_t lw = 5;
    for (const LayerNoiseRow& row : rows_) lw = std::max(lw, row.layer.size());
    std::size_t mw = 8;
    for (const std::string& m : methods_) mw = std::max(mw, m.size());
    char buf[256];
    std::snprintf(buf, sizeof buf, "SQNR per layer in dB (fake-quantized vs float; flagged: best < %.1f dB)\n",
                  threshold_db_);
    std::string s = buf;
    s += pad("layer", lw);
    for (const std::string& m : methods_) s += "  " + pad_left(m, mw);
    s += "  " + pad("best", mw) + "  clipped\n";
    for (const LayerNoiseRow& row : rows_) {
      s += pad(row.layer, lw);
      for (const ErrorMetrics& m : row.metrics) {
        std::snprintf(buf, sizeof buf, "%.2f", m.sqnr_db);
        s += "  " + pad_left(buf, mw);
      }
      std::snprintf(buf, sizeof buf, "%.3f%%", 100.0 * row.clipped[row.best]);
      s += "  " + pad(methods_[row.best], mw) + "  " + pad_left(buf, 7);
      if (row.flagged) s += "  <- below " + fixed1(threshold_db_) + " dB";
      s += "\n";
    }
    return s;
  }

 private:
  static std::string pad(const std::string& s, std::size_t w) {
    return s.size() >= w ? s : s + std::string(w - s.size(), ' ');
  }
  static std::string pad_left(const std::string& s, std::size_t w) {
    return s.size() >= w ? s : std::string(w - s.size(), ' ') + s;
  }
  static std::string fixed1(double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%.1f", v);
    return b;
  }

  double threshold_db_;
  std::vector<std::string> methods_;
  std::vector<LayerNoiseRow> rows_;
};

}  // namespace analysis
}  // namespace QKERN_ABI_NS
}  // namespace qkern
