// qkern — SPDX-License-Identifier: Apache-2.0
//
// analysis/paired_stats.hpp: is a three-way degradation real? The reference and the quantized model
// are scored on the SAME samples, so the comparison is paired:
//   - an exact paired test: McNemar's exact test on per-sample correctness (b = samples only the
//     reference gets right, c = only the quantized model; under "no difference" b ~ Bin(b + c, 1/2),
//     two-sided p = min(1, 2 P(X <= min(b, c)))). For non-binary per-sample scores the same
//     binomial is the exact sign test on the per-sample differences (ties dropped).
//   - a paired bootstrap confidence interval of the degradation: resample sample indices with
//     replacement (the same indices for both models), recompute the task metric of both on the
//     resample, take percentiles of the difference. The generator is splitmix64 with a fixed seed,
//     so the interval is reproducible on every platform (index = draw % n; the modulo bias is below
//     n / 2^64).
//   - a power warning: when the observed difference is not significant, the number of samples a
//     McNemar test would need to show a difference of the observed size with the requested power,
//     n = (z_{1-a/2} sqrt(p_d) + z_{power} sqrt(p_d - delta^2))^2 / delta^2 (Connor 1987), where
//     p_d is the discordant fraction and delta the observed paired difference.
// The two-way reference-vs-quantized SQNR of three_way.hpp is kept beside as a diagnostic only.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "qkern/analysis/diagnosis.hpp"
#include "qkern/analysis/three_way.hpp"
#include "qkern/core/abi.hpp"
#include "qkern/core/error.hpp"

namespace qkern {
inline namespace QKERN_ABI_NS {
namespace analysis {

struct PairedStatsOptions {
  double confidence = 0.95;            ///< of the bootstrap interval
  std::size_t resamples = 2000;        ///< bootstrap resamples
  std::uint64_t seed = 0x5EEDC0DEull;  ///< splitmix64 seed: the interval is reproducible
  double alpha = 0.05;                 ///< significance level of the exact test
  double power = 0.8;                  ///< power used for the samples-needed estimate
  /// Fewer evaluation samples than this is a finding on its own (suspect 3): with 100 samples one
  /// flipped prediction moves accuracy by a whole percentage point.
  std::size_t min_samples = 200;
};

/// Exact two-sided binomial (sign) test p-value for b successes against c under p = 1/2.
inline double exact_sign_test_p(std::size_t b, std::size_t c) {
  const std::size_t n = b + c;
  if (n == 0) return 1.0;
  const std::size_t k = std::min(b, c);
  // P(X <= k) = sum_{i <= k} C(n, i) 2^-n, in log space (n may be large).
  const double ln2n = static_cast<double>(n) * std::log(2.0);
  const double lgn = std::lgamma(static_cast<double>(n) + 1.0);
  double tail = 0.0;
  for (std::size_t i = 0; i <= k; ++i)
    tail += std::exp(lgn - std::lgamma(static_cast<double>(i) + 1.0) - std::lgamma(static_cast<double>(n - i) + 1.0) -
                     ln2n);
  return std::min(1.0, 2.0 * tail);
}

/// Standard normal quantile (bisection on erfc; |error| < 1e-12).
inline double normal_quantile(double p) {
  if (!(p > 0.0 && p < 1.0)) qkern::detail::throw_invalid("p", "must lie in (0, 1)");
  double lo = -40.0, hi = 40.0;
  for (int it = 0; it < 200; ++it) {
    const double mid = 0.5 * (lo + hi);
    (0.5 * std::erfc(-mid / std::sqrt(2.0)) < p ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

/// splitmix64: a tiny, fully specified generator (Steele, Lea, Flood 2014) so the bootstrap is
/// reproducible across standard libraries (std::uniform_int_distribution is not).
struct SplitMix64 {
  std::uint64_t state;
  explicit SplitMix64(std::uint64_t seed) : state(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  std::size_t index(std::size_t n) { return static_cast<std::size_t>(next() % n); }
};

/// The statistics of a paired degradation.
struct PairedDegradation {
  std::size_t samples = 0;
  bool higher_is_better = true;
  double reference_score = 0.0;  ///< task metric of the reference on all samples
  double quantized_score = 0.0;
  double degradation = 0.0;  ///< positive = the quantized model is worse
  double ci_low = 0.0, ci_high = 0.0;
  double confidence = 0.95;
  std::size_t resamples = 0;
  std::uint64_t seed = 0;
  bool binary_scores = true;       ///< per-sample scores were all 0/1: the test is McNemar's
  std::size_t reference_only = 0;  ///< b: samples the reference scores better on
  std::size_t quantized_only = 0;  ///< c: samples the quantized model scores better on
  double p_value = 1.0;            ///< exact two-sided
  double alpha = 0.05;
  bool significant = false;  ///< p_value < alpha
  /// Samples a McNemar test would need to show the observed difference at alpha with the requested
  /// power (0 when there is no observed difference to show).
  std::size_t samples_needed = 0;
  bool underpowered = false;    ///< an observed difference that these samples cannot show
  std::size_t min_samples = 0;  ///< PairedStatsOptions::min_samples it was judged with
  std::string warning;          ///< empty, or why the result cannot be trusted

  std::string test_name() const { return binary_scores ? "McNemar exact" : "exact sign test"; }

  /// One line: "degradation 0.0278 (95% CI [0.0111, 0.0444], McNemar exact p = 0.0018, b=12 c=2, n=360)".
  std::string summary() const {
    char buf[320];
    std::snprintf(buf, sizeof buf, "degradation %.4g (%.0f%% CI [%.4g, %.4g], %s p = %.3g, b=%zu c=%zu, n=%zu)",
                  degradation, 100.0 * confidence, ci_low, ci_high, test_name().c_str(), p_value, reference_only,
                  quantized_only, samples);
    return buf;
  }
};

namespace detail {

inline double quantile_sorted(const std::vector<double>& v, double q) {  // numpy 'linear'
  if (v.empty()) return 0.0;
  const double pos = q * static_cast<double>(v.size() - 1);
  const std::size_t i = static_cast<std::size_t>(std::floor(pos));
  if (i + 1 >= v.size()) return v.back();
  return v[i] + (pos - static_cast<double>(i)) * (v[i + 1] - v[i]);
}

inline void check_paired_options(const PairedStatsOptions& o) {
  if (!(o.confidence > 0.0 && o.confidence < 1.0))
    qkern::detail::throw_invalid("options.confidence", "must lie in (0, 1)");
  if (!(o.alpha > 0.0 && o.alpha < 1.0)) qkern::detail::throw_invalid("options.alpha", "must lie in (0, 1)");
  if (!(o.power > 0.0 && o.power < 1.0)) qkern::detail::throw_invalid("options.power", "must lie in (0, 1)");
  if (o.resamples < 10) qkern::detail::throw_invalid("options.resamples", "must be >= 10");
}

// Fills the exact test, the power estimate and the warning from per-sample scores.
inline void paired_test(PairedDegradation& r, const std::vector<double>& ref, const std::vector<double>& quant,
                        const PairedStatsOptions& o) {
  r.binary_scores = true;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    if (!((ref[i] == 0.0 || ref[i] == 1.0) && (quant[i] == 0.0 || quant[i] == 1.0))) r.binary_scores = false;
    const double worse = r.higher_is_better ? ref[i] - quant[i] : quant[i] - ref[i];
    if (worse > 0.0) ++r.reference_only;
    if (worse < 0.0) ++r.quantized_only;
  }
  r.p_value = exact_sign_test_p(r.reference_only, r.quantized_only);
  r.alpha = o.alpha;
  r.min_samples = o.min_samples;
  r.significant = r.p_value < o.alpha;
  const double n = static_cast<double>(r.samples);
  const double pd = static_cast<double>(r.reference_only + r.quantized_only) / n;
  const double delta = (static_cast<double>(r.reference_only) - static_cast<double>(r.quantized_only)) / n;
  if (delta != 0.0) {
    const double za = normal_quantile(1.0 - o.alpha / 2.0), zb = normal_quantile(o.power);
    const double root = za * std::sqrt(pd) + zb * std::sqrt(std::fmax(0.0, pd - delta * delta));
    r.samples_needed = static_cast<std::size_t>(std::ceil(root * root / (delta * delta)));
  }
  char buf[400];
  if (!r.significant && (r.reference_only != r.quantized_only)) {
    r.underpowered = true;
    std::snprintf(buf, sizeof buf,
                  "%zu samples cannot show the observed difference (%s p = %.3g >= %.3g, the interval includes "
                  "no change): about %zu samples would be needed to show a difference this size with %.0f%% power",
                  r.samples, r.test_name().c_str(), r.p_value, o.alpha, r.samples_needed, 100.0 * o.power);
    r.warning = buf;
  } else if (r.samples < o.min_samples) {
    std::snprintf(buf, sizeof buf,
                  "only %zu evaluation samples (fewer than %zu): one sample moves the metric by %.3g; differences "
                  "this small cannot be seen",
                  r.samples, o.min_samples, 1.0 / n);
    r.warning = buf;
  }
}

}  // namespace detail

/// Paired statistics of a decomposable metric given per-sample scores (e.g. 0/1 correctness; the
/// task metric is their mean). Throws InvalidArgument naming "reference_scores" (empty) or
/// "quantized_scores" (size differs), or the offending option.
inline PairedDegradation paired_degradation(const std::vector<double>& reference_scores,
                                            const std::vector<double>& quantized_scores, bool higher_is_better = true,
                                            const PairedStatsOptions& options = {}) {
  detail::check_paired_options(options);
  const std::size_t n = reference_scores.size();
  if (n == 0) qkern::detail::throw_invalid("reference_scores", "is empty");
  if (quantized_scores.size() != n)
    qkern::detail::throw_invalid("quantized_scores", "has " + std::to_string(quantized_scores.size()) +
                                                         " samples, reference_scores " + std::to_string(n));
  PairedDegradation r;
  r.samples = n;
  r.higher_is_better = higher_is_better;
  const double sign = higher_is_better ? 1.0 : -1.0;
  std::vector<double> diff(n);
  double sr = 0.0, sq = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    sr += reference_scores[i];
    sq += quantized_scores[i];
    diff[i] = sign * (reference_scores[i] - quantized_scores[i]);
  }
  r.reference_score = sr / static_cast<double>(n);
  r.quantized_score = sq / static_cast<double>(n);
  r.degradation = sign * (r.reference_score - r.quantized_score);
  SplitMix64 rng(options.seed);
  std::vector<double> boot(options.resamples);
  for (double& b : boot) {
    double s = 0.0;
    for (std::size_t i = 0; i < n; ++i) s += diff[rng.index(n)];
    b = s / static_cast<double>(n);
  }
  std::sort(boot.begin(), boot.end());
  const double tail = (1.0 - options.confidence) / 2.0;
  r.ci_low = detail::quantile_sorted(boot, tail);
  r.ci_high = detail::quantile_sorted(boot, 1.0 - tail);
  r.confidence = options.confidence;
  r.resamples = options.resamples;
  r.seed = options.seed;
  detail::paired_test(r, reference_scores, quantized_scores, options);
  return r;
}

/// The three-way report (three_way.hpp) together with its paired statistics.
struct ThreeWayStatistics {
  ThreeWayReport report;  ///< reference / quantized vs truth, and the two-way SQNR (diagnostic)
  PairedDegradation stats;

  /// The three-way table with the interval, the exact test and any warning.
  std::string table() const {
    std::string s = report.table();
    char buf[400];
    std::snprintf(buf, sizeof buf, "  %-24s [%.4g, %.4g] (%.0f%% paired bootstrap, %zu resamples, seed %llu)\n",
                  "degradation interval", stats.ci_low, stats.ci_high, 100.0 * stats.confidence, stats.resamples,
                  static_cast<unsigned long long>(stats.seed));
    s += buf;
    std::snprintf(buf, sizeof buf,
                  "  %-24s p = %.4g (%s; %zu samples only the reference gets right, %zu only the "
                  "quantized model)\n",
                  stats.test_name().c_str(), stats.p_value, stats.significant ? "significant" : "not significant",
                  stats.reference_only, stats.quantized_only);
    s += buf;
    if (!stats.warning.empty()) s += "  warning: " + stats.warning + "\n";
    return s;
  }

  /// Suspect 3 as a Diagnosis: ok when the samples suffice to show (or rule out) the observed
  /// difference, suspect when they do not.
  Diagnosis diagnosis() const {
    Diagnosis d;
    d.check = "three_way_statistics";
    d.suspect = Suspect::evaluation;
    d.value = static_cast<double>(stats.samples);
    d.threshold = static_cast<double>(stats.underpowered ? stats.samples_needed : stats.min_samples);
    d.evidence = report.metric_name + ": reference " + fmt(report.reference_vs_truth) + ", quantized " +
                 fmt(report.quantized_vs_truth) + ", " + stats.summary() + "; two-way output SQNR " +
                 fmt(report.reference_vs_quantized.sqnr_db) + " dB (" + kTwoWayLabel + ")";
    if (!stats.warning.empty()) {
      d.severity = Severity::suspect;
      d.threshold_name =
          stats.underpowered ? "samples needed (PairedStatsOptions::alpha, power)" : "PairedStatsOptions::min_samples";
      d.evidence += "; " + stats.warning;
      d.action = "evaluate on more samples (a held-out split of the validation data) before trusting the degradation";
    } else {
      d.severity = Severity::ok;
      d.threshold_name = "PairedStatsOptions::min_samples";
      d.action = stats.significant ? "the degradation is real: continue with suspects 2 and 4"
                                   : "no measurable degradation on these samples";
    }
    return d;
  }

 private:
  static std::string fmt(double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%.4g", v);
    return b;
  }
};

/// The three-way test with statistics, for any task metric (see three_way_compare). Per-sample
/// scores (the metric on one-sample sets) give the exact paired test; the bootstrap interval
/// re-scores both models on each resampled set with the metric itself, so non-decomposable metrics
/// (mean IoU, mAP) get an honest interval too. Errors as three_way_compare and paired_degradation.
template <class Output, class Truth, class Metric>
ThreeWayStatistics three_way_statistics(const std::vector<Output>& reference_outputs,
                                        const std::vector<Output>& quantized_outputs,
                                        const std::vector<Truth>& ground_truth, Metric&& task_metric,
                                        ThreeWayOptions options = {}, const PairedStatsOptions& stats_options = {}) {
  detail::check_paired_options(stats_options);
  options.per_sample = true;
  ThreeWayStatistics r;
  r.report = three_way_compare(reference_outputs, quantized_outputs, ground_truth, task_metric, options);
  const std::size_t n = r.report.samples;
  std::vector<double> ref(n), quant(n);
  for (const ThreeWaySample& p : r.report.per_sample) {
    ref[p.index] = p.reference_score;
    quant[p.index] = p.quantized_score;
  }
  PairedDegradation& s = r.stats;
  s.samples = n;
  s.higher_is_better = options.higher_is_better;
  s.reference_score = r.report.reference_vs_truth;
  s.quantized_score = r.report.quantized_vs_truth;
  s.degradation = r.report.degradation;
  SplitMix64 rng(stats_options.seed);
  std::vector<double> boot(stats_options.resamples);
  std::vector<Output> ro(n), qo(n);
  std::vector<Truth> tr(n);
  for (double& b : boot) {
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t j = rng.index(n);
      ro[i] = reference_outputs[j];
      qo[i] = quantized_outputs[j];
      tr[i] = ground_truth[j];
    }
    const double a = static_cast<double>(task_metric(ro, tr)), q = static_cast<double>(task_metric(qo, tr));
    b = options.higher_is_better ? a - q : q - a;
  }
  std::sort(boot.begin(), boot.end());
  const double tail = (1.0 - stats_options.confidence) / 2.0;
  s.ci_low = detail::quantile_sorted(boot, tail);
  s.ci_high = detail::quantile_sorted(boot, 1.0 - tail);
  s.confidence = stats_options.confidence;
  s.resamples = stats_options.resamples;
  s.seed = stats_options.seed;
  detail::paired_test(s, ref, quant, stats_options);
  return r;
}

}  // namespace analysis
}  // namespace QKERN_ABI_NS
}  // namespace qkern
