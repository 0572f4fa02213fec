// qkern tests — SPDX-License-Identifier: Apache-2.0
//
// test_doctor_ranges.cpp: suspect 4 of the checklist: per-channel range spread, each clip method's
// SQNR measured on held-out samples (not the ones it was fitted on), and the recommendation.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "qkern/analysis/range_checks.hpp"

namespace {

using namespace qkern;
using namespace qkern::analysis;

// samples x C x hw, channel c ~ scale[c] * |N(0, 1)| (post-ReLU-like, non-negative).
std::vector<float> activations(std::size_t n, const std::vector<float>& scale, std::size_t hw, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<float> x(n * scale.size() * hw);
  for (std::size_t o = 0; o < n; ++o)
    for (std::size_t c = 0; c < scale.size(); ++c)
      for (std::size_t i = 0; i < hw; ++i) {
        float v = std::fabs(g(rng));
        x[(o * scale.size() + c) * hw + i] = scale[c] * v;
      }
  return x;
}

TEST(DoctorRanges, WellBehavedLayerIsOk) {
  const std::vector<float> scale(16, 1.0f);
  const std::vector<float> x = activations(40, scale, 64, 1);
  const RangeCheck r = check_ranges("conv1", x.data(), 40, {1, 16, 64});
  EXPECT_EQ(r.fit_samples, 20u);
  EXPECT_EQ(r.held_out_samples, 20u);
  EXPECT_FALSE(r.spread.flagged);
  EXPECT_GT(r.best_sqnr_db, 30.0);
  EXPECT_EQ(r.diagnosis.severity, Severity::ok) << describe(r.diagnosis);
  ASSERT_EQ(r.methods.size(), 4u);
  EXPECT_EQ(r.methods[0].method, FitMethod::minmax);
}

TEST(DoctorRanges, WideChannelsWithoutBatchNormRecommendPerChannelAndBatchNorm) {
  std::vector<float> scale(16, 1.0f);
  scale[3] = 60.0f;
  scale[11] = 40.0f;
  const std::vector<float> x = activations(40, scale, 64, 2);
  const RangeCheck r = check_ranges("conv2", x.data(), 40, {1, 16, 64}, /*has_batchnorm=*/false);
  EXPECT_TRUE(r.spread.flagged);
  EXPECT_EQ(r.diagnosis.channels, (std::vector<std::size_t>{3, 11}));
  EXPECT_GT(r.per_channel_sqnr_db, r.minmax_sqnr_db + 3.0);
  EXPECT_NE(r.diagnosis.severity, Severity::ok);
  EXPECT_NE(r.diagnosis.action.find("per channel"), std::string::npos) << r.diagnosis.action;
  EXPECT_NE(r.diagnosis.action.find("cross-layer equalization"), std::string::npos);
  EXPECT_NE(r.diagnosis.action.find("BatchNorm"), std::string::npos);
  EXPECT_NE(r.diagnosis.evidence.find("no BatchNorm"), std::string::npos);
  // With BatchNorm the same ranges do not mention BN re-training.
  const RangeCheck b = check_ranges("conv2", x.data(), 40, {1, 16, 64}, true);
  EXPECT_EQ(b.diagnosis.action.find("retrain"), std::string::npos);
}

TEST(DoctorRanges, RareOutliersRecommendAClipMeasuredOnHeldOutData) {
  const std::vector<float> scale(8, 1.0f);
  std::vector<float> x = activations(40, scale, 128, 3);
  x[8 * 8 * 128 + 77] = 100.0f;  // one glitch in a fitting sample
  const RangeCheck r = check_ranges("fc", x.data(), 40, {1, 8, 128});
  EXPECT_NE(r.methods[r.best].method, FitMethod::minmax);
  EXPECT_GT(r.best_sqnr_db, r.minmax_sqnr_db + 2.0);
  EXPECT_NE(r.diagnosis.action.find("instead of min-max"), std::string::npos) << describe(r.diagnosis);
}

TEST(DoctorRanges, SqnrIsMeasuredOnHeldOutSamples) {
  // Fitting samples (even) stay within [0, 1]; one held-out sample (odd) reaches 50.
  const std::vector<float> scale(4, 0.3f);
  std::vector<float> x = activations(10, scale, 32, 4);
  for (float& v : x) v = std::fmin(v, 1.0f);
  x[3 * 4 * 32 + 5] = 50.0f;
  const RangeCheck r = check_ranges("conv", x.data(), 10, {1, 4, 32});
  const MethodOutcome& mm = r.methods[0];
  EXPECT_LE(mm.range.max, 1.01);  // fitted without the outlier
  EXPECT_GT(mm.held_out_clipped, 0.0);
  EXPECT_LT(mm.held_out_sqnr_db, mm.fitted_sqnr_db - 10.0);
}

TEST(DoctorRanges, OverridableThresholdAndErrors) {
  const std::vector<float> scale(4, 1.0f);
  const std::vector<float> x = activations(6, scale, 16, 5);
  RangeCheckOptions o;
  o.held_out_sqnr_db = 80.0;  // impossible for int8
  const RangeCheck r = check_ranges("l", x.data(), 6, {1, 4, 16}, true, o);
  EXPECT_EQ(r.diagnosis.severity, Severity::failed);
  EXPECT_EQ(r.diagnosis.threshold, 80.0);
  try {
    check_ranges("l", x.data(), 1, {1, 4, 16});
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_EQ(e.argument(), "samples");
  }
  o.held_out_every = 1;
  EXPECT_THROW(check_ranges("l", x.data(), 6, {1, 4, 16}, true, o), InvalidArgument);
}

}  // namespace
