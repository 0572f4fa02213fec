// qkern — SPDX-License-Identifier: Apache-2.0
//
// analysis/domain_checks.hpp: is the calibration set in-domain? (suspect 2 of the checklist)
// Three kinds of evidence, each a Diagnosis naming layer, channels, samples, value and threshold:
//
//  (a) BatchNorm running statistics. A trained BN layer remembers the mean and variance of its
//      input over the training data (running_mean, running_var). The calibration set's pre-BN
//      activations should have about the same per-channel mean and variance. Per channel c we
//      compare the two as Gaussians, P = N(mu_c, s_c^2) (calibration) and Q = N(m_c, v_c)
//      (running statistics), by
//          KL(P || Q) = 1/2 [ s^2/v + (mu - m)^2 / v - 1 + ln(v / s^2) ]      (nats; v, s^2 + eps)
//      Why this divergence: it is zero iff both moments agree, it is dimensionless (invariant to
//      the channel's scale, so one threshold serves every layer and channel), and it decomposes into
//      the two things that go wrong: the standardized mean shift z = (mu - m)/sqrt(v) contributes
//      z^2/2, the variance ratio r = s^2/v contributes (r - 1 - ln r)/2. Inputs in [0, 255] where
//      [0, 1] was trained give r ~ 65000 (KL ~ 3e4); normalization applied twice shrinks the
//      variance and shifts the mean (KL ~ 1-10); noise images move both. The layer summary is the
//      median channel KL (robust to a few dead channels), with the worst channels listed.
//  (b) Reference-set distance: per layer, both sets binned on one shared grid (the union of their
//      finite ranges, DomainCheckOptions::reference_bins bins), the Jensen-Shannon divergence of
//      the two histograms in bits. Why JS: symmetric, bounded in [0, 1] whatever the layer's scale
//      (so one threshold serves every layer), finite when the supports do not overlap (KL is not).
//      The Wasserstein-1 distance on the same grid divided by the reference's standard deviation is
//      reported beside it (it says how far, JS says how different).
//  (c) Image content: the neighbour-pixel correlation of each image (Pearson correlation of
//      horizontally and vertically adjacent pixels, pooled over channels; natural images are
//      smooth, ~0.5-0.95; uniform noise is ~0), plus single-colour, repeated (exact and near
//      duplicate) and out-of-distribution images from check_calibration_set.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "qkern/analysis/calibration_checks.hpp"
#include "qkern/analysis/diagnosis.hpp"
#include "qkern/analysis/metrics.hpp"
#include "qkern/core/abi.hpp"
#include "qkern/core/error.hpp"
#include "qkern/core/layout.hpp"

namespace qkern {
inline namespace QKERN_ABI_NS {
namespace analysis {

/// Thresholds of the domain checks. Defaults are justified in docs/doctor.md from measurements on
/// the embedded digits dump and its broken variants.
struct DomainCheckOptions {
  /// (a) A channel whose KL(calibration || running statistics) exceeds this diverges; a layer whose
  /// MEDIAN channel KL exceeds it fails.
  double bn_kl_nats = 0.1;
  /// (a) A layer whose median is fine but where more than this fraction of channels diverge is a
  /// suspect (a few channels off-domain).
  double bn_channel_fraction = 0.25;
  double bn_eps = 1e-5;  ///< added to both variances (PyTorch BatchNorm's default eps)
  /// (b) Jensen-Shannon divergence (bits) between calibration and reference histograms above which
  /// a layer fails.
  double reference_js_bits = 0.1;
  std::size_t reference_bins = 128;  ///< (b) shared-grid bins
  /// (c) An image whose neighbour-pixel correlation is below this looks like noise.
  double neighbour_correlation_min = 0.2;
  /// (c) More than this fraction of noise-like, single-colour or repeated images fails the set;
  /// fewer (but at least one) is a suspect.
  double image_fraction_failed = 0.05;
  /// (c) The duplicate / constant / out-of-distribution rules of check_calibration_set.
  CalibrationCheckOptions calibration{};
};

// ---------------------------------------------------------------------------------------------
// (a) BatchNorm running statistics

/// Per-channel first and second moments of a stream of tensors (mergeable; sums in double).
class ChannelMoments {
 public:
  explicit ChannelMoments(std::size_t channels = 0) : sums_(channels) {}

  /// Adds x laid out as `layout` (NCHW: {N, C, H*W}; NHWC: {N*H*W, C, 1}). Throws InvalidArgument
  /// naming "layout" (channel count differs) or "x" (null with data).
  void update(const float* x, const ChannelLayout& layout) {
    if (sums_.empty()) sums_.resize(layout.channels);
    if (layout.channels != sums_.size())
      qkern::detail::throw_invalid(
          "layout", "has " + std::to_string(layout.channels) + " channels, expected " + std::to_string(sums_.size()));
    if (layout.size() == 0) return;
    if (x == nullptr) qkern::detail::throw_invalid("x", "is null");
    const ChannelLayout row{1, layout.channels, layout.inner};
    if (zeros_.size() < row.size()) zeros_.assign(row.size(), 0.0f);
    for (std::size_t o = 0; o < layout.outer; ++o) {
      // metric_sums(0, x): sum_err = sum x, sum_err_sq = sum x^2, compared = finite count (SIMD).
      const std::vector<MetricSums> s = metric_sums(zeros_.data(), x + o * row.size(), row);
      for (std::size_t c = 0; c < s.size(); ++c) sums_[c].merge(s[c]);
    }
  }
  void merge(const ChannelMoments& o) {
    if (sums_.empty()) sums_.resize(o.sums_.size());
    if (o.sums_.size() != sums_.size()) qkern::detail::throw_invalid("other", "has a different channel count");
    for (std::size_t c = 0; c < sums_.size(); ++c) sums_[c].merge(o.sums_[c]);
  }
  std::size_t channels() const { return sums_.size(); }
  std::uint64_t count(std::size_t c) const { return sums_[c].compared; }
  double mean(std::size_t c) const {
    return count(c) ? sums_[c].sum_err / static_cast<double>(count(c)) : std::numeric_limits<double>::quiet_NaN();
  }
  /// Population variance (divide by N).
  double variance(std::size_t c) const {
    if (!count(c)) return std::numeric_limits<double>::quiet_NaN();
    const double m = mean(c);
    return std::fmax(0.0, sums_[c].sum_err_sq / static_cast<double>(count(c)) - m * m);
  }

 private:
  std::vector<MetricSums> sums_;
  std::vector<float> zeros_;
};

/// KL(N(mu_p, var_p) || N(mu_q, var_q)) in nats.
inline double gaussian_kl(double mu_p, double var_p, double mu_q, double var_q) {
  const double d = mu_p - mu_q;
  return 0.5 * (var_p / var_q + d * d / var_q - 1.0 + std::log(var_q / var_p));
}

struct BatchNormChannel {
  double calibration_mean = 0.0, calibration_var = 0.0;
  double running_mean = 0.0, running_var = 0.0;
  double mean_shift_z = 0.0;   ///< (mu - m) / sqrt(v + eps)
  double log_var_ratio = 0.0;  ///< ln((s^2 + eps) / (v + eps))
  double kl = 0.0;             ///< KL(calibration || running), nats
};

struct BatchNormCheck {
  std::string layer;
  std::vector<BatchNormChannel> channels;
  double median_kl = 0.0;
  double max_kl = 0.0;
  std::vector<std::size_t> diverging;  ///< channels with kl > threshold, worst first
  Diagnosis diagnosis;
};

/// Compares the calibration moments of a BN layer's input with its running statistics. Throws
/// InvalidArgument naming "running_mean" / "running_var" (size differs from the moments' channels,
/// or a negative / non-finite variance) or "options.bn_kl_nats".
inline BatchNormCheck check_batchnorm_statistics(const std::string& layer, const ChannelMoments& calibration,
                                                 const std::vector<float>& running_mean,
                                                 const std::vector<float>& running_var,
                                                 const DomainCheckOptions& options = {}) {
  if (!(options.bn_kl_nats > 0.0)) qkern::detail::throw_invalid("options.bn_kl_nats", "must be > 0");
  const std::size_t C = calibration.channels();
  if (running_mean.size() != C)
    qkern::detail::throw_invalid("running_mean", "layer '" + layer + "' has " + std::to_string(running_mean.size()) +
                                                     " channels, the activations " + std::to_string(C));
  if (running_var.size() != C)
    qkern::detail::throw_invalid("running_var", "layer '" + layer + "' has " + std::to_string(running_var.size()) +
                                                    " channels, the activations " + std::to_string(C));
  BatchNormCheck r;
  r.layer = layer;
  r.channels.resize(C);
  std::vector<double> kls;
  for (std::size_t c = 0; c < C; ++c) {
    if (!(running_var[c] >= 0.0f) || !::qkern::detail::is_finite(running_var[c]) ||
        !::qkern::detail::is_finite(running_mean[c]))
      qkern::detail::throw_invalid("running_var", "layer '" + layer + "' channel " + std::to_string(c) +
                                                      " has a non-finite statistic or a negative variance");
    BatchNormChannel& ch = r.channels[c];
    ch.calibration_mean = calibration.mean(c);
    ch.calibration_var = calibration.variance(c);
    ch.running_mean = running_mean[c];
    ch.running_var = running_var[c];
    if (calibration.count(c) == 0) continue;  // no finite value: not judged
    const double vp = ch.calibration_var + options.bn_eps, vq = ch.running_var + options.bn_eps;
    ch.mean_shift_z = (ch.calibration_mean - ch.running_mean) / std::sqrt(vq);
    ch.log_var_ratio = std::log(vp / vq);
    ch.kl = gaussian_kl(ch.calibration_mean, vp, ch.running_mean, vq);
    kls.push_back(ch.kl);
  }
  r.median_kl = detail::median_of(kls);
  r.max_kl = kls.empty() ? 0.0 : *std::max_element(kls.begin(), kls.end());
  for (std::size_t c = 0; c < C; ++c)
    if (r.channels[c].kl > options.bn_kl_nats) r.diverging.push_back(c);
  std::sort(r.diverging.begin(), r.diverging.end(),
            [&](std::size_t a, std::size_t b) { return r.channels[a].kl > r.channels[b].kl; });

  Diagnosis& d = r.diagnosis;
  d.check = "bn_statistics";
  d.suspect = Suspect::calibration;
  d.layer = layer;
  d.value = r.median_kl;
  d.threshold = options.bn_kl_nats;
  d.threshold_name = "DomainCheckOptions::bn_kl_nats (median channel KL)";
  d.channels.assign(r.diverging.begin(), r.diverging.begin() + std::min<std::ptrdiff_t>(8, r.diverging.size()));
  const double frac = C ? static_cast<double>(r.diverging.size()) / static_cast<double>(C) : 0.0;
  char buf[512];
  if (!r.diverging.empty()) {
    const BatchNormChannel& w = r.channels[r.diverging[0]];
    std::snprintf(buf, sizeof buf,
                  "pre-BN activations differ from the BN running statistics in %zu of %zu channels (median KL %.3g "
                  "nats, max %.3g); worst channel %zu: calibration mean %.4g var %.4g vs running mean %.4g var %.4g "
                  "(mean shift %.3g SD, variance ratio %.3g)",
                  r.diverging.size(), C, r.median_kl, r.max_kl, r.diverging[0], w.calibration_mean, w.calibration_var,
                  w.running_mean, w.running_var, w.mean_shift_z, std::exp(w.log_var_ratio));
  } else {
    std::snprintf(buf, sizeof buf, "pre-BN activations match the BN running statistics (median KL %.3g nats, max %.3g)",
                  r.median_kl, r.max_kl);
  }
  d.evidence = buf;
  if (r.median_kl > options.bn_kl_nats) {
    d.severity = Severity::failed;
    // Preprocessing mistakes scale and shift every channel: a variance ratio far from 1 (the
    // direction depends on the constants: normalizing twice with std < 1 widens) or a mean shift.
    double mean_lvr = 0.0, mean_z = 0.0;
    for (const BatchNormChannel& ch : r.channels) {
      mean_lvr += ch.log_var_ratio;
      mean_z += std::fabs(ch.mean_shift_z);
    }
    mean_lvr /= C ? static_cast<double>(C) : 1.0;
    mean_z /= C ? static_cast<double>(C) : 1.0;
    if (std::fabs(mean_lvr) > std::log(4.0) || mean_z > 2.0) {
      std::snprintf(buf, sizeof buf,
                    "the calibration activations are %.3gx %s (variance) and %.3g SDs off (mean) on average: the "
                    "input preprocessing differs from training's (left unnormalized, e.g. [0, 255] where [0, 1] was "
                    "trained, or normalization applied twice or with other constants): apply the training "
                    "preprocessing exactly once",
                    std::exp(std::fabs(mean_lvr)), mean_lvr > 0.0 ? "wider" : "narrower", mean_z);
      d.action = buf;
    } else {
      d.action =
          "the calibration data is not the data the model was trained on (other source, noise, blank or "
          "repeated images, wrong preprocessing): calibrate on a sample of training or validation inputs";
    }
  } else if (frac > options.bn_channel_fraction) {
    d.severity = Severity::suspect;
    d.action = "a part of the channels sees off-domain data: check the calibration images' content and preprocessing";
  } else {
    d.severity = Severity::ok;
  }
  return r;
}

// ---------------------------------------------------------------------------------------------
// (b) Reference-set distance

struct DistributionDistance {
  double js_bits = 0.0;      ///< Jensen-Shannon divergence, log base 2, in [0, 1]
  double w1 = 0.0;           ///< Wasserstein-1 on the shared grid (bin centres)
  double w1_over_std = 0.0;  ///< w1 / the reference's standard deviation
  double lo = 0.0, hi = 0.0;
  std::size_t bins = 0;
  std::uint64_t a_count = 0, b_count = 0;  ///< finite values binned
};

/// Distance between the finite values of a[0, na) (calibration) and b[0, nb) (reference) on one
/// shared grid of `bins` bins over the union of their ranges. Throws InvalidArgument naming "a" /
/// "b" (null with data, or no finite value) or "bins" (< 2).
inline DistributionDistance distribution_distance(const float* a, std::size_t na, const float* b, std::size_t nb,
                                                  std::size_t bins = 128) {
  if (bins < 2) qkern::detail::throw_invalid("bins", "must be >= 2");
  if (na != 0 && a == nullptr) qkern::detail::throw_invalid("a", "is null");
  if (nb != 0 && b == nullptr) qkern::detail::throw_invalid("b", "is null");
  const MinMax ma = minmax(a, na), mb = minmax(b, nb);
  if (!ma.has_finite()) qkern::detail::throw_invalid("a", "has no finite value");
  if (!mb.has_finite()) qkern::detail::throw_invalid("b", "has no finite value");
  DistributionDistance r;
  r.bins = bins;
  r.lo = std::fmin(ma.min, mb.min);
  r.hi = std::fmax(ma.max, mb.max);
  std::vector<double> ha(bins, 0.0), hb(bins, 0.0);
  const double w = (r.hi - r.lo) / static_cast<double>(bins);
  double sb = 0.0, sbb = 0.0;
  auto fill = [&](const float* x, std::size_t n, std::vector<double>& h, std::uint64_t& cnt, bool moments) {
    for (std::size_t i = 0; i < n; ++i) {
      const double v = x[i];
      if (!::qkern::detail::is_finite(v)) continue;
      std::size_t k = w > 0.0 ? static_cast<std::size_t>((v - r.lo) / w) : 0;
      if (k >= bins) k = bins - 1;
      h[k] += 1.0;
      ++cnt;
      if (moments) {
        sb += v;
        sbb += v * v;
      }
    }
  };
  fill(a, na, ha, r.a_count, false);
  fill(b, nb, hb, r.b_count, true);
  const double ca = static_cast<double>(r.a_count), cb = static_cast<double>(r.b_count);
  double js = 0.0, fa = 0.0, fb = 0.0, w1 = 0.0;
  for (std::size_t k = 0; k < bins; ++k) {
    const double p = ha[k] / ca, q = hb[k] / cb, m = 0.5 * (p + q);
    if (p > 0.0) js += 0.5 * p * std::log2(p / m);
    if (q > 0.0) js += 0.5 * q * std::log2(q / m);
    fa += p;
    fb += q;
    if (k + 1 < bins) w1 += std::fabs(fa - fb) * w;
  }
  r.js_bits = std::fmin(1.0, std::fmax(0.0, js));
  r.w1 = w1;
  const double mean = sb / cb, sd = std::sqrt(std::fmax(0.0, sbb / cb - mean * mean));
  r.w1_over_std = sd > 0.0 ? w1 / sd : (w1 > 0.0 ? std::numeric_limits<double>::infinity() : 0.0);
  return r;
}

/// Diagnosis of one layer's calibration-vs-reference distance.
inline Diagnosis check_reference_distance(const std::string& layer, const float* calibration, std::size_t nc,
                                          const float* reference, std::size_t nr,
                                          const DomainCheckOptions& options = {}) {
  const DistributionDistance dd = distribution_distance(calibration, nc, reference, nr, options.reference_bins);
  Diagnosis d;
  d.check = "reference_distance";
  d.suspect = Suspect::calibration;
  d.layer = layer;
  d.value = dd.js_bits;
  d.threshold = options.reference_js_bits;
  d.threshold_name = "DomainCheckOptions::reference_js_bits";
  char buf[400];
  std::snprintf(buf, sizeof buf,
                "calibration vs reference activations: Jensen-Shannon %.3g bits, Wasserstein-1 %.3g (%.3g reference "
                "SDs) on %zu shared bins over [%.4g, %.4g]",
                dd.js_bits, dd.w1, dd.w1_over_std, dd.bins, dd.lo, dd.hi);
  d.evidence = buf;
  if (dd.js_bits > options.reference_js_bits) {
    d.severity = Severity::failed;
    d.action =
        "the calibration set does not look like the reference data at this layer: calibrate on a sample of "
        "the reference (training / validation) data, or fix its preprocessing";
  } else {
    d.severity = Severity::ok;
  }
  return d;
}

// ---------------------------------------------------------------------------------------------
// (c) Image content

/// One image: channels x height x width (CHW), or height x width x channels (HWC) when channels_last.
struct ImageLayout {
  std::size_t channels = 1, height = 0, width = 0;
  bool channels_last = false;
  std::size_t size() const { return channels * height * width; }
  /// The per-sample ChannelLayout check_calibration_set takes for single-colour detection.
  ChannelLayout sample_layout() const {
    return channels_last ? ChannelLayout{height * width, channels, 1} : ChannelLayout{1, channels, height * width};
  }
  std::size_t at(std::size_t c, std::size_t y, std::size_t x) const {
    return channels_last ? (y * width + x) * channels + c : (c * height + y) * width + x;
  }
};

/// Pearson correlation of horizontally and vertically adjacent pixels of one image, pooled over
/// channels (non-finite pairs skipped). NaN when the image is constant (no variation to correlate).
inline double neighbour_correlation(const float* image, const ImageLayout& l) {
  double n = 0.0, sa = 0.0, sb = 0.0, saa = 0.0, sbb = 0.0, sab = 0.0;
  auto pair = [&](float a, float b) {
    if (!::qkern::detail::is_finite(a) || !::qkern::detail::is_finite(b)) return;
    n += 1.0;
    sa += a;
    sb += b;
    saa += static_cast<double>(a) * a;
    sbb += static_cast<double>(b) * b;
    sab += static_cast<double>(a) * b;
  };
  for (std::size_t c = 0; c < l.channels; ++c)
    for (std::size_t y = 0; y < l.height; ++y)
      for (std::size_t x = 0; x < l.width; ++x) {
        const float v = image[l.at(c, y, x)];
        if (x + 1 < l.width) pair(v, image[l.at(c, y, x + 1)]);
        if (y + 1 < l.height) pair(v, image[l.at(c, y + 1, x)]);
      }
  if (n < 2.0) return std::numeric_limits<double>::quiet_NaN();
  const double cov = sab / n - (sa / n) * (sb / n);
  const double va = saa / n - (sa / n) * (sa / n), vb = sbb / n - (sb / n) * (sb / n);
  if (!(va > 0.0) || !(vb > 0.0)) return std::numeric_limits<double>::quiet_NaN();
  return cov / std::sqrt(va * vb);
}

struct ImageCheck {
  std::vector<double> correlation;  ///< per image (NaN for constant images)
  double median_correlation = 0.0;
  std::vector<Finding> set_findings;  ///< check_calibration_set's raw findings
  std::vector<Diagnosis> diagnoses;   ///< one per kind of problem found (none when clean)
};

/// Content checks of `count` images stored back to back. Throws InvalidArgument naming "images"
/// (null with data) or "layout" (an empty image), or as check_calibration_set.
inline ImageCheck check_images(const float* images, std::size_t count, const ImageLayout& layout,
                               const DomainCheckOptions& options = {}) {
  if (layout.size() == 0) qkern::detail::throw_invalid("layout", "describes an empty image");
  if (count != 0 && images == nullptr) qkern::detail::throw_invalid("images", "is null");
  ImageCheck r;
  const std::size_t S = layout.size();
  r.correlation.resize(count);
  std::vector<double> finite_corr;
  std::vector<std::size_t> noisy;
  for (std::size_t i = 0; i < count; ++i) {
    r.correlation[i] = neighbour_correlation(images + i * S, layout);
    if (::qkern::detail::is_nan(r.correlation[i])) continue;
    finite_corr.push_back(r.correlation[i]);
    if (r.correlation[i] < options.neighbour_correlation_min) noisy.push_back(i);
  }
  r.median_correlation =
      finite_corr.empty() ? std::numeric_limits<double>::quiet_NaN() : detail::median_of(finite_corr);
  CalibrationCheckOptions co = options.calibration;
  if (layout.channels > 1) co.sample_layout = layout.sample_layout();
  r.set_findings = check_calibration_set(images, count, S, co);

  const double N = count ? static_cast<double>(count) : 1.0;
  auto severity_of = [&](double fraction) {
    return fraction > options.image_fraction_failed ? Severity::failed : Severity::suspect;
  };
  char buf[400];
  if (!noisy.empty()) {
    Diagnosis d;
    d.check = "neighbour_correlation";
    d.suspect = Suspect::calibration;
    d.samples = noisy;
    d.value = static_cast<double>(noisy.size()) / N;
    d.threshold = options.image_fraction_failed;
    d.threshold_name =
        "DomainCheckOptions::image_fraction_failed (fraction of images with neighbour correlation < "
        "neighbour_correlation_min)";
    double lo = 1.0;
    for (std::size_t i : noisy) lo = std::fmin(lo, r.correlation[i]);
    std::snprintf(buf, sizeof buf,
                  "%zu of %zu images have a neighbour-pixel correlation below %.3g (lowest %.3g, set median %.3g): "
                  "natural images are smooth, these look like noise",
                  noisy.size(), count, options.neighbour_correlation_min, lo, r.median_correlation);
    d.evidence = buf;
    d.severity = severity_of(d.value);
    d.action = "remove random / synthetic images from the calibration set; calibrate on real inputs";
    r.diagnoses.push_back(d);
  }
  // Group check_calibration_set's findings by kind.
  std::vector<std::size_t> repeated, constant, ood, nonfinite;
  std::size_t groups = 0, extra_copies = 0;
  bool too_few = false;
  std::string too_few_text;
  for (const Finding& f : r.set_findings) {
    switch (f.kind) {
      case FindingKind::exact_duplicate:
      case FindingKind::near_duplicate:
        ++groups;
        extra_copies += f.samples.size() - 1;
        repeated.insert(repeated.end(), f.samples.begin(), f.samples.end());
        break;
      case FindingKind::constant_sample:
        constant.insert(constant.end(), f.samples.begin(), f.samples.end());
        break;
      case FindingKind::out_of_distribution:
        ood.insert(ood.end(), f.samples.begin(), f.samples.end());
        break;
      case FindingKind::non_finite_values:
        nonfinite.insert(nonfinite.end(), f.samples.begin(), f.samples.end());
        break;
      case FindingKind::too_few_samples:
        too_few = true;
        too_few_text = f.explanation;
        break;
    }
  }
  for (auto* v : {&repeated, &constant, &ood, &nonfinite}) std::sort(v->begin(), v->end());
  if (!repeated.empty()) {
    Diagnosis d;
    d.check = "repeated_images";
    d.suspect = Suspect::calibration;
    d.samples = repeated;
    d.value = static_cast<double>(extra_copies) / N;
    d.threshold = options.image_fraction_failed;
    d.threshold_name = "DomainCheckOptions::image_fraction_failed (fraction of extra copies)";
    std::snprintf(buf, sizeof buf,
                  "%zu groups of identical or near-identical images (%zu extra copies of %zu images; near duplicate = "
                  "signature cosine >= %.4g)",
                  groups, extra_copies, count, options.calibration.near_duplicate_cosine);
    d.evidence = buf;
    d.severity = severity_of(d.value);
    d.action = "calibrate on distinct images: copies add no information and over-weight one input's ranges";
    r.diagnoses.push_back(d);
  }
  if (!constant.empty()) {
    Diagnosis d;
    d.check = "single_colour_images";
    d.suspect = Suspect::calibration;
    d.samples = constant;
    d.value = static_cast<double>(constant.size()) / N;
    d.threshold = options.image_fraction_failed;
    d.threshold_name = "DomainCheckOptions::image_fraction_failed";
    std::snprintf(buf, sizeof buf, "%zu of %zu images are a single colour (every channel constant)", constant.size(),
                  count);
    d.evidence = buf;
    d.severity = severity_of(d.value);
    d.action = "remove blank / placeholder images from the calibration set";
    r.diagnoses.push_back(d);
  }
  if (!nonfinite.empty()) {
    Diagnosis d;
    d.check = "non_finite_images";
    d.suspect = Suspect::calibration;
    d.samples = nonfinite;
    d.value = static_cast<double>(nonfinite.size());
    d.threshold = 0.0;
    d.threshold_name = "any";
    d.evidence = std::to_string(nonfinite.size()) + " images hold NaN or Inf";
    d.severity = Severity::failed;
    d.action = "fix the preprocessing that produced NaN / Inf";
    r.diagnoses.push_back(d);
  }
  if (!ood.empty()) {
    Diagnosis d;
    d.check = "outlier_images";
    d.suspect = Suspect::calibration;
    d.samples = ood;
    d.value = static_cast<double>(ood.size()) / N;
    d.threshold = options.calibration.out_of_distribution_z;
    d.threshold_name = "CalibrationCheckOptions::out_of_distribution_z (robust z of a sample's mean or std)";
    std::snprintf(buf, sizeof buf, "%zu images have a mean or spread far from the rest of the set", ood.size());
    d.evidence = buf;
    d.severity = Severity::suspect;
    d.action = "look at these images: another source, scaling or preprocessing?";
    r.diagnoses.push_back(d);
  }
  if (too_few) {
    Diagnosis d;
    d.check = "too_few_images";
    d.suspect = Suspect::calibration;
    d.value = static_cast<double>(count - extra_copies);
    d.threshold = static_cast<double>(options.calibration.min_samples);
    d.threshold_name = "CalibrationCheckOptions::min_samples";
    d.evidence = too_few_text;
    d.severity = Severity::suspect;
    d.action = "calibrate on more distinct images";
    r.diagnoses.push_back(d);
  }
  return r;
}

}  // namespace analysis
}  // namespace QKERN_ABI_NS
}  // namespace qkern
