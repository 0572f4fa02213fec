// qkern — SPDX-License-Identifier: Apache-2.0
//
// analysis/metrics.hpp: error metrics between a reference tensor and a test tensor (float model vs
// fake-quantized model, float weights vs dequantized weights, ...): MSE, SQNR in dB, cosine
// similarity, max / mean absolute error, mean (signed) error, per tensor and per channel, in one
// SIMD pass accumulated in double. Pairs where either side is NaN or +-Inf are left out and counted.
//
// Definitions (r = reference, t = test, e = t - r, sums over the compared pairs, N of them):
//   mse                 = sum e^2 / N
//   sqnr_db             = 20 log10(||r|| / ||e||) = 10 log10(sum r^2 / sum e^2)   (torch.ao.ns
//                         compute_sqnr, no epsilon): +Inf when e == 0 (identical tensors, including
//                         an all-zero reference), -Inf when the reference is all zero and e is not
//   cosine              = sum r t / (||r|| ||t||), clamped to [-1, 1]; 1 when both are all zero,
//                         0 when exactly one is
//   normalized_l2_error = ||e|| / ||r|| (+Inf when the reference is all zero and e is not; 0 when e == 0)
//   max_abs_error, mean_abs_error = sum |e| / N, mean_error = sum e / N (the bias of the test side)
// With N == 0 (empty input, or every pair skipped) every metric is NaN; `compared` says why.
#pragma once

#include <cfloat>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "qkern/core/abi.hpp"
#include "qkern/core/error.hpp"
#include "qkern/core/layout.hpp"
#include "qkern/core/metric_sums.hpp"
#include "qkern/kernels/kernel_list.hpp"
#include "qkern/simd/float_env.hpp"

namespace qkern {
inline namespace QKERN_ABI_NS {
namespace analysis {

/// Which SQNR formula to report.
enum class SqnrDefinition {
  norm_ratio,       ///< 20 log10(||r|| / ||e||), no epsilon (PyTorch torch.ao.ns compute_sqnr)
  onnxruntime_eps,  ///< 20 log10(max(||r||, eps) / max(||e||, eps)), eps = DBL_EPSILON (ORT qdq_loss_debug)
};

/// Error metrics of a test tensor against a reference (definitions in the file comment).
struct ErrorMetrics {
  double mse = 0.0;
  double sqnr_db = 0.0;
  double cosine = 0.0;
  double normalized_l2_error = 0.0;
  double max_abs_error = 0.0;
  double mean_abs_error = 0.0;
  double mean_error = 0.0;
  std::uint64_t compared = 0;  ///< pairs the metrics are computed over
  std::uint64_t skipped = 0;   ///< pairs left out because either side was NaN or +-Inf
  MetricSums sums;             ///< the raw sums (mergeable), with both sides' NaN/Inf counts

  const ValueCounts& reference_counts() const { return sums.reference; }
  const ValueCounts& test_counts() const { return sums.test; }
};

/// SQNR in dB from raw sums under either definition (NaN when nothing was compared).
inline double sqnr_db(const MetricSums& s, SqnrDefinition definition = SqnrDefinition::norm_ratio) {
  const double inf = std::numeric_limits<double>::infinity();
  if (s.compared == 0) return std::numeric_limits<double>::quiet_NaN();
  if (definition == SqnrDefinition::onnxruntime_eps) {
    const double eps = DBL_EPSILON;
    const double signal = std::fmax(std::sqrt(s.sum_ref_sq), eps), noise = std::fmax(std::sqrt(s.sum_err_sq), eps);
    return 20.0 * std::log10(signal / noise);
  }
  if (s.sum_err_sq == 0.0) return inf;
  if (s.sum_ref_sq == 0.0) return -inf;
  return 10.0 * std::log10(s.sum_ref_sq / s.sum_err_sq);
}

/// Every metric from raw sums (e.g. after merging the sums of several batches).
inline ErrorMetrics metrics_from_sums(const MetricSums& s) {
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  ErrorMetrics m;
  m.sums = s;
  m.compared = s.compared;
  m.skipped = s.skipped();
  if (s.compared == 0) {
    m.mse = m.sqnr_db = m.cosine = m.normalized_l2_error = m.max_abs_error = m.mean_abs_error = m.mean_error = nan;
    return m;
  }
  const double n = static_cast<double>(s.compared);
  m.mse = s.sum_err_sq / n;
  m.sqnr_db = sqnr_db(s);
  const double nr = std::sqrt(s.sum_ref_sq), nt = std::sqrt(s.sum_test_sq), ne = std::sqrt(s.sum_err_sq);
  if (nr == 0.0 && nt == 0.0)
    m.cosine = 1.0;
  else if (nr == 0.0 || nt == 0.0)
    m.cosine = 0.0;
  else
    m.cosine = std::fmin(1.0, std::fmax(-1.0, s.sum_dot / (nr * nt)));
  m.normalized_l2_error = ne == 0.0 ? 0.0 : (nr == 0.0 ? inf : ne / nr);
  m.max_abs_error = s.max_abs_err;
  m.mean_abs_error = s.sum_abs_err / n;
  m.mean_error = s.sum_err / n;
  return m;
}

/// Raw metric sums of test[0, n) against reference[0, n) (one SIMD pass). Throws InvalidArgument
/// naming "reference" / "test" when a pointer is null and n > 0.
inline MetricSums metric_sums(const float* reference, const float* test, std::size_t n) {
  if (n != 0 && reference == nullptr) detail::throw_invalid("reference", "is null");
  if (n != 0 && test == nullptr) detail::throw_invalid("test", "is null");
  if (n == 0) return {};
  simd::FloatEnvironmentGuard env;
  return dispatch::select<kernels::f32_metric_sums>()(reference, test, n);
}

/// Metrics of test[0, n) against reference[0, n). n == 0 gives all-NaN metrics with compared == 0.
/// Throws InvalidArgument naming "reference" / "test" for a null pointer with n > 0.
inline ErrorMetrics compare(const float* reference, const float* test, std::size_t n) {
  return metrics_from_sums(metric_sums(reference, test, n));
}

inline ErrorMetrics compare(const std::vector<float>& reference, const std::vector<float>& test) {
  if (reference.size() != test.size())
    detail::throw_invalid(
        "test", "has " + std::to_string(test.size()) + " values, the reference " + std::to_string(reference.size()));
  return compare(reference.data(), test.data(), reference.size());
}

/// Raw per-channel sums of two tensors with the same layout (one MetricSums per channel).
inline std::vector<MetricSums> metric_sums(const float* reference, const float* test, const ChannelLayout& layout) {
  if (layout.size() != 0 && reference == nullptr) detail::throw_invalid("reference", "is null");
  if (layout.size() != 0 && test == nullptr) detail::throw_invalid("test", "is null");
  std::vector<MetricSums> sums(layout.channels);
  if (layout.size() == 0) return sums;
  simd::FloatEnvironmentGuard env;
  dispatch::select<kernels::f32_metric_sums_channels>()(reference, test, layout, sums.data());
  return sums;
}

/// Per-channel metrics of two tensors laid out as `layout` (e.g. NCHW activations {N, C, H*W},
/// OIHW weights {1, O, I*H*W}), one ErrorMetrics per channel.
inline std::vector<ErrorMetrics> compare(const float* reference, const float* test, const ChannelLayout& layout) {
  const std::vector<MetricSums> sums = metric_sums(reference, test, layout);
  std::vector<ErrorMetrics> r(sums.size());
  for (std::size_t c = 0; c < sums.size(); ++c) r[c] = metrics_from_sums(sums[c]);
  return r;
}

/// Streaming metrics over many batches (e.g. every sample of a validation set): update() adds a
/// batch's sums, merge() another accumulator's. Deterministic for a given batch sequence; the sums
/// differ from one pass over the concatenation only in the last bits.
class MetricsAccumulator {
 public:
  void update(const float* reference, const float* test, std::size_t n) {
    sums_.merge(metric_sums(reference, test, n));
  }
  /// Adds sums computed elsewhere (e.g. metric_sums() of one sample).
  void add(const MetricSums& sums) { sums_.merge(sums); }
  void merge(const MetricsAccumulator& other) { sums_.merge(other.sums_); }
  const MetricSums& sums() const { return sums_; }
  ErrorMetrics result() const { return metrics_from_sums(sums_); }

 private:
  MetricSums sums_;
};

/// One line: "SQNR 31.42 dB, MSE 1.234e-05, cosine 0.999712, max|e| 0.0123, mean|e| 0.00251,
/// bias -1.2e-05 over 1000 pairs (3 skipped: NaN/Inf)".
inline std::string describe(const ErrorMetrics& m) {
  char buf[320];
  std::snprintf(buf, sizeof buf,
                "SQNR %.2f dB, MSE %.4g, cosine %.6f, max|e| %.4g, mean|e| %.4g, bias %.3g over %llu pairs", m.sqnr_db,
                m.mse, m.cosine, m.max_abs_error, m.mean_abs_error, m.mean_error,
                static_cast<unsigned long long>(m.compared));
  std::string s = buf;
  if (m.skipped != 0) {
    std::snprintf(buf, sizeof buf, " (%llu skipped: reference NaN %llu Inf %llu, test NaN %llu Inf %llu)",
                  static_cast<unsigned long long>(m.skipped), static_cast<unsigned long long>(m.sums.reference.nan),
                  static_cast<unsigned long long>(m.sums.reference.pos_inf + m.sums.reference.neg_inf),
                  static_cast<unsigned long long>(m.sums.test.nan),
                  static_cast<unsigned long long>(m.sums.test.pos_inf + m.sums.test.neg_inf));
    s += buf;
  }
  return s;
}

}  // namespace analysis
}  // namespace QKERN_ABI_NS
}  // namespace qkern
