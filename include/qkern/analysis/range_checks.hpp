// qkern — SPDX-License-Identifier: Apache-2.0
//
// analysis/range_checks.hpp: suspect 4 of the checklist, wide output ranges. For one layer's
// activations (samples back to back, each laid out as `sample_layout`):
//   - the per-channel range spread (channel_range_spread of layer_checks.hpp);
//   - what each fitting method cuts and gains, measured on HELD-OUT data: the samples are split
//     (every RangeCheckOptions::held_out_every-th sample is held out, the rest fits), each method
//     fits its clip range on the fitting part's histogram of |x|, and the SQNR of fake_quantize
//     against the float values is measured on the held-out part. Measuring on the data a range was
//     fitted on rewards over-fitting, and a calibration set of noise scores well against itself;
//     held-out data does not;
//   - per-channel min-max quantization on the same split, to show what per-channel scales gain;
//   - the recommendation with its evidence: per-channel quantization or cross-layer equalization
//     when the spread is wide and per-channel scales gain, a clipping method when it gains over
//     min-max, BatchNorm (re-)training when the layer has none and clipping helps only so far.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "qkern/analysis/diagnosis.hpp"
#include "qkern/analysis/layer_checks.hpp"
#include "qkern/analysis/metrics.hpp"
#include "qkern/calib/fit.hpp"
#include "qkern/calib/streaming_histogram.hpp"
#include "qkern/core/abi.hpp"
#include "qkern/core/error.hpp"
#include "qkern/core/layout.hpp"
#include "qkern/quantize.hpp"

namespace qkern {
inline namespace QKERN_ABI_NS {
namespace analysis {

struct RangeCheckOptions {
  /// Largest / median channel range above which the layer's channels are "wide apart".
  double spread_threshold = kDefaultRangeSpreadThreshold;
  /// Best held-out SQNR (dB) under which the layer fails: no per-tensor clip keeps it usable.
  double held_out_sqnr_db = 20.0;
  /// Gain (dB) of the best clip over min-max at which clipping is recommended.
  double clip_gain_db = 2.0;
  /// Gain (dB) of per-channel min-max over per-tensor min-max at which per-channel scales (or CLE)
  /// are recommended.
  double per_channel_gain_db = 3.0;
  /// Every held_out_every-th sample (1, 1 + k, 1 + 2k, ...) is held out; the rest fits. >= 2.
  std::size_t held_out_every = 2;
  std::size_t bins = 2048;  ///< streaming histogram bins
  std::vector<FitMethod> methods{FitMethod::minmax, FitMethod::percentile, FitMethod::mse, FitMethod::entropy};
  FitOptions fit{};  ///< 8-bit; the check fits symmetric, int8 (uint8 with unsigned_range for non-negative layers)
};

struct MethodOutcome {
  FitMethod method = FitMethod::minmax;
  FitRange range;                 ///< fitted on the fitting part
  QuantParams params;             ///< from that range
  double held_out_sqnr_db = 0.0;  ///< fake_quantize vs float on the held-out part
  double fitted_sqnr_db = 0.0;    ///< the same on the fitting part (for comparison only)
  double held_out_clipped = 0.0;  ///< fraction of held-out finite values outside the range
};

struct RangeCheck {
  std::string layer;
  bool has_batchnorm = true;
  std::size_t fit_samples = 0, held_out_samples = 0;
  MinMax observed;  ///< whole layer
  ChannelRangeSpread spread;
  std::vector<MethodOutcome> methods;
  std::size_t best = 0;  ///< index into methods with the best held-out SQNR
  double minmax_sqnr_db = std::numeric_limits<double>::quiet_NaN();
  double best_sqnr_db = std::numeric_limits<double>::quiet_NaN();
  double per_channel_sqnr_db = std::numeric_limits<double>::quiet_NaN();  ///< per-channel min-max, held out
  Diagnosis diagnosis;
};

/// Runs the range check of one layer. `activations` holds `samples` samples of
/// sample_layout.size() floats each (NCHW: sample_layout {1, C, H*W}; NHWC {H*W, C, 1}; a flat
/// vector {1, 1, n} has one channel). Needs at least 2 samples (one to fit, one held out). Throws
/// InvalidArgument naming "activations", "samples", "sample_layout" or "options.*"; DataError when
/// the fitting part has no finite value.
namespace detail {
inline std::string fmt_db(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.3g dB", v);
  return b;
}
}  // namespace detail

inline RangeCheck check_ranges(const std::string& layer, const float* activations, std::size_t samples,
                               const ChannelLayout& sample_layout, bool has_batchnorm = true,
                               const RangeCheckOptions& options = {}) {
  using qkern::detail::throw_invalid;
  if (samples < 2) throw_invalid("samples", "layer '" + layer + "': at least 2 samples are needed (fit + held out)");
  if (sample_layout.size() == 0) throw_invalid("sample_layout", "layer '" + layer + "' has empty samples");
  if (activations == nullptr) throw_invalid("activations", "is null");
  if (options.held_out_every < 2) throw_invalid("options.held_out_every", "must be >= 2");
  if (options.methods.empty()) throw_invalid("options.methods", "is empty");
  const std::size_t S = sample_layout.size();
  RangeCheck r;
  r.layer = layer;
  r.has_batchnorm = has_batchnorm;
  const ChannelLayout whole{samples * sample_layout.outer, sample_layout.channels, sample_layout.inner};
  r.observed = minmax(activations, whole.size());
  r.spread = channel_range_spread(activations, whole, options.spread_threshold);

  std::vector<float> fit, held;
  for (std::size_t s = 0; s < samples; ++s) {
    std::vector<float>& dst = (s % options.held_out_every == 1) ? held : fit;
    dst.insert(dst.end(), activations + s * S, activations + (s + 1) * S);
  }
  r.fit_samples = fit.size() / S;
  r.held_out_samples = held.size() / S;
  const bool non_negative = r.observed.has_finite() && r.observed.min >= 0.0f;
  FitOptions fo = options.fit;
  fo.scheme = Scheme::symmetric;
  fo.unsigned_range = non_negative;
  // 8-bit codes: int8 symmetric, or for a non-negative layer the unsigned grid [0, amax] on uint8.
  const DType dtype = non_negative ? DType::uint8 : DType::int8;
  StreamingHistogram hist(options.bins, HistogramValues::absolute_values);
  hist.update(fit.data(), fit.size());
  if (!hist.has_finite())
    ::qkern::detail::raise(DataError("layer '" + layer + "': the fitting samples hold no finite value"));
  const HistogramView view = hist.view();
  std::vector<float> fq(std::max(fit.size(), held.size()));
  double best = -std::numeric_limits<double>::infinity();
  for (FitMethod m : options.methods) {
    MethodOutcome o;
    o.method = m;
    o.range = fit_range(view, m, fo);
    o.params = fit_params(view, m, dtype, fo);
    fake_quantize(held.data(), fq.data(), held.size(), o.params);
    o.held_out_sqnr_db = compare(held.data(), fq.data(), held.size()).sqnr_db;
    fake_quantize(fit.data(), fq.data(), fit.size(), o.params);
    o.fitted_sqnr_db = compare(fit.data(), fq.data(), fit.size()).sqnr_db;
    o.held_out_clipped =
        clip_fractions(held.data(), held.size(), {ClipCandidate::from_params(fit_method_name(m), o.params)})[0].total;
    if (o.held_out_sqnr_db > best) {
      best = o.held_out_sqnr_db;
      r.best = r.methods.size();
    }
    if (m == FitMethod::minmax) r.minmax_sqnr_db = o.held_out_sqnr_db;
    r.methods.push_back(o);
  }
  r.best_sqnr_db = r.methods[r.best].held_out_sqnr_db;
  // Per-channel min-max (per-tensor min-max is the baseline it is compared with).
  if (sample_layout.channels > 1) {
    const ChannelLayout fl{r.fit_samples * sample_layout.outer, sample_layout.channels, sample_layout.inner};
    const ChannelLayout hl{r.held_out_samples * sample_layout.outer, sample_layout.channels, sample_layout.inner};
    ChannelStreamingHistogram ch(sample_layout.channels, 256, HistogramValues::absolute_values);
    ch.update(fit.data(), fl);
    std::vector<HistogramView> views;
    bool all = true;
    for (std::size_t c = 0; c < sample_layout.channels; ++c) {
      if (!ch.has_finite(c)) {
        all = false;
        break;
      }
      views.push_back(ch.view(c));
    }
    if (all) {
      const ChannelQuantParams cp = fit_params(views, FitMethod::minmax, dtype, fo);
      fake_quantize(held.data(), fq.data(), hl, cp);
      r.per_channel_sqnr_db = compare(held.data(), fq.data(), held.size()).sqnr_db;
    }
  }

  Diagnosis& d = r.diagnosis;
  d.check = "wide_ranges";
  d.suspect = Suspect::ranges;
  d.layer = layer;
  d.value = r.best_sqnr_db;
  d.threshold = options.held_out_sqnr_db;
  d.threshold_name = "RangeCheckOptions::held_out_sqnr_db (best per-tensor clip, held-out data)";
  d.channels.assign(r.spread.wide_channels.begin(),
                    r.spread.wide_channels.begin() + std::min<std::ptrdiff_t>(8, r.spread.wide_channels.size()));
  const double clip_gain = r.best_sqnr_db - r.minmax_sqnr_db;
  const double pc_gain = r.per_channel_sqnr_db - r.minmax_sqnr_db;
  char buf[700];
  std::snprintf(buf, sizeof buf,
                "held-out int8 SQNR: min-max %.3g dB, best clip %s %.3g dB (cuts %.3g%% of held-out values), "
                "per-channel min-max %s; channel range spread %.3gx (threshold %.3gx, %zu wide channels)%s",
                r.minmax_sqnr_db, fit_method_name(r.methods[r.best].method), r.best_sqnr_db,
                100.0 * r.methods[r.best].held_out_clipped,
                ::qkern::detail::is_nan(r.per_channel_sqnr_db) ? "n/a (one channel)"
                                                               : (detail::fmt_db(r.per_channel_sqnr_db)).c_str(),
                r.spread.spread, options.spread_threshold, r.spread.wide_channels.size(),
                has_batchnorm ? "" : "; no BatchNorm");
  d.evidence = buf;
  std::string action;
  const bool wide = r.spread.flagged && pc_gain >= options.per_channel_gain_db;
  if (wide) {
    std::snprintf(buf, sizeof buf,
                  "quantize this layer per channel (+%.3g dB held out), or, where the accelerator has only per-tensor "
                  "scales, apply cross-layer equalization to pull the wide channels in",
                  pc_gain);
    action = buf;
  }
  if (clip_gain >= options.clip_gain_db) {
    std::snprintf(buf, sizeof buf, "fit with %s instead of min-max (+%.3g dB held out)",
                  fit_method_name(r.methods[r.best].method), clip_gain);
    action += (action.empty() ? "" : "; ") + std::string(buf);
  }
  if (!has_batchnorm && (wide || !(r.best_sqnr_db >= options.held_out_sqnr_db)))
    action += std::string(action.empty() ? "" : "; ") +
              "the layer has no BatchNorm and clipping helps only so far: retrain with BatchNorm (or fold a "
              "re-estimated one) to bound its output range";
  if (!(r.best_sqnr_db >= options.held_out_sqnr_db)) {
    d.severity = Severity::failed;
    if (action.empty()) action = "keep this layer in higher precision (int16 / float)";
  } else if (wide) {
    d.severity = Severity::suspect;  // a clip gain alone is a tuning hint (in the action), not a suspect
  } else {
    d.severity = Severity::ok;
  }
  d.action = action;
  return r;
}

}  // namespace analysis
}  // namespace QKERN_ABI_NS
}  // namespace qkern
