// qkern tests — SPDX-License-Identifier: Apache-2.0
//
// test_doctor_paired_stats.cpp: suspect 3 of the checklist: the exact paired test (McNemar / sign
// test), the reproducible paired bootstrap interval, the too-few-samples warning, any task metric.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "qkern/analysis/paired_stats.hpp"

namespace {

using namespace qkern;
using namespace qkern::analysis;

// Exact binomial tail by integer arithmetic (independent of the lgamma path under test).
double binomial_two_sided(unsigned b, unsigned c) {
  const unsigned n = b + c, k = std::min(b, c);
  double tail = 0.0, coef = 1.0;  // C(n, i)
  for (unsigned i = 0; i <= k; ++i) {
    tail += coef;
    coef = coef * (n - i) / (i + 1);
  }
  return std::min(1.0, 2.0 * tail / std::ldexp(1.0, static_cast<int>(n)));
}

TEST(DoctorPairedStats, ExactSignTestMatchesTheBinomialTail) {
  EXPECT_EQ(exact_sign_test_p(0, 0), 1.0);
  EXPECT_DOUBLE_EQ(exact_sign_test_p(10, 0), std::ldexp(2.0, -10));
  for (unsigned b : {0u, 1u, 3u, 8u, 20u, 37u})
    for (unsigned c : {0u, 2u, 5u, 19u, 40u}) {
      EXPECT_NEAR(exact_sign_test_p(b, c), binomial_two_sided(b, c), 1e-12) << b << " " << c;
      EXPECT_DOUBLE_EQ(exact_sign_test_p(b, c), exact_sign_test_p(c, b));
    }
}

TEST(DoctorPairedStats, NormalQuantile) {
  EXPECT_NEAR(normal_quantile(0.5), 0.0, 1e-12);
  EXPECT_NEAR(normal_quantile(0.975), 1.959963984540054, 1e-9);
  EXPECT_NEAR(normal_quantile(0.8), 0.8416212335729143, 1e-9);
  EXPECT_THROW(normal_quantile(1.0), InvalidArgument);
}

// Per-sample correctness of n samples: the reference is wrong on the first `gained` samples (which
// the quantized model gets right), the quantized model on the last `lost`.
void scores(std::size_t n, std::size_t lost, std::size_t gained, std::vector<double>& ref, std::vector<double>& q) {
  ref.assign(n, 1.0);
  q.assign(n, 1.0);
  for (std::size_t i = 0; i < gained; ++i) ref[i] = 0.0;
  for (std::size_t i = 0; i < lost; ++i) q[n - 1 - i] = 0.0;
}

TEST(DoctorPairedStats, LargeDegradationIsSignificantWithAnIntervalAwayFromZero) {
  std::vector<double> ref, q;
  scores(400, 40, 2, ref, q);
  const PairedDegradation r = paired_degradation(ref, q);
  EXPECT_DOUBLE_EQ(r.degradation, 38.0 / 400.0);
  EXPECT_TRUE(r.binary_scores);
  EXPECT_EQ(r.reference_only, 40u);
  EXPECT_EQ(r.quantized_only, 2u);
  EXPECT_TRUE(r.significant);
  EXPECT_FALSE(r.underpowered);
  EXPECT_TRUE(r.warning.empty()) << r.warning;
  EXPECT_GT(r.ci_low, 0.0);
  EXPECT_LT(r.ci_low, r.degradation);
  EXPECT_GT(r.ci_high, r.degradation);
  EXPECT_NE(r.summary().find("McNemar exact"), std::string::npos);
  // Reproducible: same seed, same interval; another seed, another (close) interval.
  const PairedDegradation again = paired_degradation(ref, q);
  EXPECT_EQ(again.ci_low, r.ci_low);
  EXPECT_EQ(again.ci_high, r.ci_high);
  PairedStatsOptions o;
  o.seed = 7;
  const PairedDegradation other = paired_degradation(ref, q, true, o);
  EXPECT_NEAR(other.ci_low, r.ci_low, 0.02);
}

TEST(DoctorPairedStats, TooFewSamplesToShowTheDifferenceWarnsWithTheSamplesNeeded) {
  std::vector<double> ref, q;
  scores(30, 2, 0, ref, q);
  const PairedDegradation r = paired_degradation(ref, q);
  EXPECT_FALSE(r.significant);
  EXPECT_TRUE(r.underpowered);
  EXPECT_GT(r.samples_needed, 30u);
  EXPECT_LE(r.ci_low, 0.0 + 1e-12);  // the interval reaches no change
  EXPECT_NE(r.warning.find("cannot show"), std::string::npos);
  // Connor's formula for p_d = delta = 2/30: n = (z_.975 sqrt(pd) + z_.8 sqrt(pd - pd^2))^2 / pd^2.
  const double pd = 2.0 / 30.0;
  const double root = 1.959963984540054 * std::sqrt(pd) + 0.8416212335729143 * std::sqrt(pd - pd * pd);
  EXPECT_EQ(r.samples_needed, static_cast<std::size_t>(std::ceil(root * root / (pd * pd))));
}

TEST(DoctorPairedStats, NoDifferenceOnFewSamplesStillWarnsAboutTheSampleCount) {
  std::vector<double> ref, q;
  scores(50, 0, 0, ref, q);
  const PairedDegradation r = paired_degradation(ref, q);
  EXPECT_EQ(r.degradation, 0.0);
  EXPECT_FALSE(r.underpowered);
  EXPECT_NE(r.warning.find("only 50"), std::string::npos);
}

TEST(DoctorPairedStats, NonBinaryScoresUseTheSignTestAndLowerIsBetter) {
  std::vector<double> ref(300), q(300);
  for (std::size_t i = 0; i < ref.size(); ++i) {
    ref[i] = 0.1 + 0.001 * static_cast<double>(i % 7);  // a loss: lower is better
    q[i] = ref[i] + (i % 3 == 0 ? 0.05 : 0.0);
  }
  const PairedDegradation r = paired_degradation(ref, q, false);
  EXPECT_FALSE(r.binary_scores);
  EXPECT_EQ(r.test_name(), "exact sign test");
  EXPECT_EQ(r.reference_only, 100u);
  EXPECT_EQ(r.quantized_only, 0u);
  EXPECT_NEAR(r.degradation, 0.05 / 3.0, 1e-12);
  EXPECT_TRUE(r.significant);
}

TEST(DoctorPairedStats, ThreeWayStatisticsWithTopKAndAUserMetric) {
  // 10-class logits; the quantized model swaps the top two classes on every 10th sample.
  std::vector<std::vector<float>> ref, q;
  std::vector<int> truth;
  for (int i = 0; i < 500; ++i) {
    std::vector<float> l(10, 0.0f);
    l[static_cast<std::size_t>(i % 10)] = 3.0f;
    l[static_cast<std::size_t>((i + 1) % 10)] = 2.0f;
    ref.push_back(l);
    if (i % 10 == 0) std::swap(l[static_cast<std::size_t>(i % 10)], l[static_cast<std::size_t>((i + 1) % 10)]);
    q.push_back(l);
    truth.push_back(i % 10);
  }
  ThreeWayOptions o;
  o.metric_name = "top-1 accuracy";
  const ThreeWayStatistics s = three_way_statistics(ref, q, truth, TopKAccuracy{1}, o);
  EXPECT_DOUBLE_EQ(s.report.degradation, 0.1);
  EXPECT_EQ(s.stats.reference_only, 50u);
  EXPECT_TRUE(s.stats.significant);
  EXPECT_LT(s.stats.ci_low, 0.1);
  EXPECT_GT(s.stats.ci_high, 0.1);
  EXPECT_GT(s.stats.ci_low, 0.0);
  const std::string t = s.table();
  EXPECT_NE(t.find("degradation interval"), std::string::npos);
  EXPECT_NE(t.find(kTwoWayLabel), std::string::npos);
  EXPECT_EQ(s.diagnosis().severity, Severity::ok);
  EXPECT_EQ(s.diagnosis().suspect, Suspect::evaluation);
  // Top-2 hides the swap entirely.
  const ThreeWayStatistics s2 = three_way_statistics(ref, q, truth, TopKAccuracy{2});
  EXPECT_EQ(s2.report.degradation, 0.0);
  EXPECT_EQ(s2.stats.ci_low, 0.0);
  EXPECT_EQ(s2.stats.ci_high, 0.0);
  // A user callable (non-decomposable: accuracy on class 0 only, the "recall" of class 0).
  auto recall0 = [](const std::vector<std::vector<float>>& out, const std::vector<int>& t) {
    double hit = 0.0, n = 0.0;
    for (std::size_t i = 0; i < out.size(); ++i)
      if (t[i] == 0) {
        n += 1.0;
        hit += std::max_element(out[i].begin(), out[i].end()) == out[i].begin() ? 1.0 : 0.0;
      }
    return n > 0.0 ? hit / n : 1.0;
  };
  const ThreeWayStatistics s3 = three_way_statistics(ref, q, truth, recall0);
  EXPECT_DOUBLE_EQ(s3.report.degradation, 1.0);
  EXPECT_GT(s3.stats.ci_low, 0.9);
}

TEST(DoctorPairedStats, SmallEvaluationIsASuspect) {
  std::vector<std::vector<float>> ref, q;
  std::vector<int> truth;
  for (int i = 0; i < 40; ++i) {
    ref.push_back({1.0f, 0.0f});
    q.push_back(i < 3 ? std::vector<float>{0.0f, 1.0f} : std::vector<float>{1.0f, 0.0f});
    truth.push_back(0);
  }
  const ThreeWayStatistics s = three_way_statistics(ref, q, truth, TopKAccuracy{1});
  const Diagnosis d = s.diagnosis();
  EXPECT_EQ(d.severity, Severity::suspect);
  EXPECT_EQ(d.value, 40.0);
  EXPECT_GT(d.threshold, 40.0);
  EXPECT_NE(describe(d).find("samples would be needed"), std::string::npos);
}

TEST(DoctorPairedStats, BadArgumentsAreNamed) {
  std::vector<double> a{1.0}, b{1.0, 0.0};
  try {
    paired_degradation(a, b);
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_EQ(e.argument(), "quantized_scores");
  }
  PairedStatsOptions o;
  o.confidence = 1.0;
  try {
    paired_degradation(a, a, true, o);
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_EQ(e.argument(), "options.confidence");
  }
  EXPECT_THROW(paired_degradation({}, {}), InvalidArgument);
}

}  // namespace
