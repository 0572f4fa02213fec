// qkern — SPDX-License-Identifier: Apache-2.0
//
// analysis/three_way.hpp: the three-way test of a quantized model. Given, for the same samples, the
// reference (float) model's outputs, the quantized model's outputs and the ground truth, plus a task
// metric (any callable: accuracy, top-k, mean IoU, F1...), it reports reference-vs-truth,
// quantized-vs-truth and their difference (the degradation: the verdict), with the two-way
// reference-vs-quantized error metrics beside it, labelled as a diagnostic. A high SQNR between
// the two models does not prove the task still works, and a low one does not prove it broke: only
// the comparison against the truth says that.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdio>
#include <iterator>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "qkern/analysis/metrics.hpp"
#include "qkern/core/abi.hpp"
#include "qkern/core/error.hpp"

namespace qkern {
inline namespace QKERN_ABI_NS {
namespace analysis {

/// The label every report prints next to the reference-vs-quantized metrics.
inline constexpr const char* kTwoWayLabel = "diagnostic, not the verdict";

struct ThreeWayOptions {
  std::string metric_name = "task metric";
  bool higher_is_better = true;  ///< accuracy, IoU: true; error rate, loss: false
  bool per_sample = false;       ///< also score each sample alone (the metric on one-sample sets)
};

/// One sample's scores (with ThreeWayOptions::per_sample).
struct ThreeWaySample {
  std::size_t index = 0;
  double reference_score = 0.0;
  double quantized_score = 0.0;
  double sqnr_db = 0.0;  ///< this sample's reference-vs-quantized output SQNR (diagnostic)
};

struct ThreeWayReport {
  std::string metric_name;
  bool higher_is_better = true;
  std::size_t samples = 0;
  double reference_vs_truth = 0.0;  ///< task metric of the reference model
  double quantized_vs_truth = 0.0;  ///< task metric of the quantized model
  /// How much worse the quantized model does: reference - quantized when higher is better,
  /// quantized - reference otherwise. Positive = worse. The verdict.
  double degradation = 0.0;
  double relative_degradation = 0.0;  ///< degradation / |reference_vs_truth| (NaN when that is 0)
  /// Reference-vs-quantized output metrics over all samples: diagnostic, not the verdict.
  ErrorMetrics reference_vs_quantized;
  std::vector<ThreeWaySample> per_sample;  ///< empty unless requested

  /// Samples the quantized model scores worse (better) on than the reference (per-sample only).
  std::vector<std::size_t> regressed() const { return select(+1); }
  std::vector<std::size_t> improved() const { return select(-1); }

  /// A printable multi-line table.
  std::string table() const {
    char buf[512];
    std::string s;
    std::snprintf(buf, sizeof buf, "Three-way comparison over %zu samples (metric: %s, %s is better)\n", samples,
                  metric_name.c_str(), higher_is_better ? "higher" : "lower");
    s += buf;
    std::snprintf(buf, sizeof buf, "  %-24s %12.6g\n  %-24s %12.6g\n", "reference vs truth", reference_vs_truth,
                  "quantized vs truth", quantized_vs_truth);
    s += buf;
    std::snprintf(buf, sizeof buf, "  %-24s %12.6g (%.3g %% of the reference)  <- the verdict\n", "degradation",
                  degradation, 100.0 * relative_degradation);
    s += buf;
    std::snprintf(buf, sizeof buf, "  reference vs quantized outputs (two-way; %s):\n    ", kTwoWayLabel);
    s += buf;
    s += describe(reference_vs_quantized);
    s += "\n";
    if (!per_sample.empty()) {
      std::snprintf(buf, sizeof buf, "  per sample: %zu regressed, %zu improved, %zu unchanged\n", regressed().size(),
                    improved().size(), per_sample.size() - regressed().size() - improved().size());
      s += buf;
    }
    return s;
  }

 private:
  std::vector<std::size_t> select(int sign) const {
    std::vector<std::size_t> r;
    for (const ThreeWaySample& p : per_sample) {
      const double worse =
          higher_is_better ? p.reference_score - p.quantized_score : p.quantized_score - p.reference_score;
      if (sign * worse > 0.0) r.push_back(p.index);
    }
    return r;
  }
};

namespace detail {

template <class Output>
std::pair<const float*, std::size_t> output_values(const Output& o) {
  static_assert(std::is_convertible<decltype(std::data(o)), const float*>::value,
                "each output must be a contiguous range of float (std::vector<float>, std::array<float, N>, ...)");
  return {std::data(o), static_cast<std::size_t>(std::size(o))};
}

}  // namespace detail

/// Runs the three-way test. reference_outputs[i], quantized_outputs[i] and ground_truth[i] belong to
/// sample i; an output is a contiguous range of float (logits, boxes, a segmentation map...).
/// task_metric(outputs, truth) -> double scores a whole set (so non-decomposable metrics such as
/// mean IoU work); with options.per_sample it is also called on each one-sample set.
/// Throws InvalidArgument naming "reference_outputs" (empty), "quantized_outputs" or
/// "ground_truth" (count differs), or "quantized_outputs" (a sample's output size differs).
template <class Output, class Truth, class Metric>
ThreeWayReport three_way_compare(const std::vector<Output>& reference_outputs,
                                 const std::vector<Output>& quantized_outputs, const std::vector<Truth>& ground_truth,
                                 Metric&& task_metric, const ThreeWayOptions& options = {}) {
  static_assert(std::is_convertible<decltype(task_metric(reference_outputs, ground_truth)), double>::value,
                "task_metric(const std::vector<Output>&, const std::vector<Truth>&) must return a number");
  const std::size_t n = reference_outputs.size();
  if (n == 0) qkern::detail::throw_invalid("reference_outputs", "is empty");
  if (quantized_outputs.size() != n)
    qkern::detail::throw_invalid("quantized_outputs", "has " + std::to_string(quantized_outputs.size()) +
                                                          " samples, reference_outputs " + std::to_string(n));
  if (ground_truth.size() != n)
    qkern::detail::throw_invalid("ground_truth", "has " + std::to_string(ground_truth.size()) +
                                                     " samples, reference_outputs " + std::to_string(n));
  ThreeWayReport r;
  r.metric_name = options.metric_name;
  r.higher_is_better = options.higher_is_better;
  r.samples = n;
  MetricsAccumulator two_way;
  for (std::size_t i = 0; i < n; ++i) {
    const auto ref = detail::output_values(reference_outputs[i]);
    const auto quant = detail::output_values(quantized_outputs[i]);
    if (ref.second != quant.second)
      qkern::detail::throw_invalid("quantized_outputs", "sample " + std::to_string(i) + " has " +
                                                            std::to_string(quant.second) + " values, the reference " +
                                                            std::to_string(ref.second));
    const MetricSums s = metric_sums(ref.first, quant.first, ref.second);
    two_way.add(s);
    if (options.per_sample) r.per_sample.push_back({i, 0.0, 0.0, sqnr_db(s)});
  }
  r.reference_vs_quantized = two_way.result();
  r.reference_vs_truth = static_cast<double>(task_metric(reference_outputs, ground_truth));
  r.quantized_vs_truth = static_cast<double>(task_metric(quantized_outputs, ground_truth));
  r.degradation = options.higher_is_better ? r.reference_vs_truth - r.quantized_vs_truth
                                           : r.quantized_vs_truth - r.reference_vs_truth;
  r.relative_degradation = r.reference_vs_truth == 0.0 ? std::numeric_limits<double>::quiet_NaN()
                                                       : r.degradation / std::fabs(r.reference_vs_truth);
  for (ThreeWaySample& p : r.per_sample) {
    const std::vector<Truth> truth{ground_truth[p.index]};
    p.reference_score = static_cast<double>(task_metric(std::vector<Output>{reference_outputs[p.index]}, truth));
    p.quantized_score = static_cast<double>(task_metric(std::vector<Output>{quantized_outputs[p.index]}, truth));
  }
  return r;
}

/// Top-k accuracy of classification outputs (one score per class) against integer labels: the
/// fraction of samples whose label is among the k highest scores. Ties go to the lower class index;
/// a NaN score ranks below every number. A ready-made task metric for three_way_compare.
struct TopKAccuracy {
  std::size_t k = 1;

  template <class Output, class Label>
  double operator()(const std::vector<Output>& outputs, const std::vector<Label>& labels) const {
    if (outputs.empty()) return std::numeric_limits<double>::quiet_NaN();
    std::size_t hits = 0;
    for (std::size_t i = 0; i < outputs.size(); ++i) {
      const auto v = detail::output_values(outputs[i]);
      const auto label = static_cast<std::size_t>(labels[i]);
      if (label >= v.second) continue;
      const float s = v.first[label];
      // Classes ranked above the label: a higher score, or an equal score at a lower index.
      std::size_t above = 0;
      for (std::size_t c = 0; c < v.second; ++c) {
        const float o = v.first[c];
        if (::qkern::detail::is_nan(o)) continue;
        if (::qkern::detail::is_nan(s) || o > s || (o == s && c < label)) ++above;
      }
      if (above < k) ++hits;
    }
    return static_cast<double>(hits) / static_cast<double>(outputs.size());
  }
};

}  // namespace analysis
}  // namespace QKERN_ABI_NS
}  // namespace qkern
