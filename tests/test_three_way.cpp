// qkern tests — SPDX-License-Identifier: Apache-2.0
//
// test_three_way.cpp: the three-way test (reference vs truth, quantized vs truth, degradation) with
// the two-way SQNR as a labelled diagnostic; top-k accuracy; per-sample scores.
#include <gtest/gtest.h>

#include <array>
#include <random>
#include <vector>

#include "qkern/analysis/three_way.hpp"
#include "qkern/qkern.hpp"

namespace {

using namespace qkern;
using namespace qkern::analysis;

// 3-class logits: sample i has truth i % 3; the reference is right on every sample.
struct Fixture {
  std::vector<std::vector<float>> reference, quantized;
  std::vector<int> truth;
  Fixture() {
    for (int i = 0; i < 30; ++i) {
      std::vector<float> logits(3, 0.0f);
      logits[static_cast<std::size_t>(i % 3)] = 2.0f;
      logits[static_cast<std::size_t>((i + 1) % 3)] = 1.5f;
      reference.push_back(logits);
      truth.push_back(i % 3);
    }
    quantized = reference;
  }
};

TEST(ThreeWay, IdenticalModelsShowNoDegradationAndInfiniteTwoWaySqnr) {
  Fixture f;
  const ThreeWayReport r = three_way_compare(f.reference, f.quantized, f.truth, TopKAccuracy{1});
  EXPECT_EQ(r.samples, 30u);
  EXPECT_EQ(r.reference_vs_truth, 1.0);
  EXPECT_EQ(r.quantized_vs_truth, 1.0);
  EXPECT_EQ(r.degradation, 0.0);
  EXPECT_EQ(r.reference_vs_quantized.sqnr_db, std::numeric_limits<double>::infinity());
  EXPECT_NE(r.table().find(kTwoWayLabel), std::string::npos);
  EXPECT_NE(r.table().find("the verdict"), std::string::npos);
}

TEST(ThreeWay, HighSqnrCanHideALostTaskAndTheVerdictComesFromTheTruth) {
  Fixture f;
  // Tiny perturbations that flip the decision on 6 of 30 samples (the top two logits swap).
  for (int i = 0; i < 30; i += 5) {
    auto& q = f.quantized[static_cast<std::size_t>(i)];
    q[static_cast<std::size_t>(i % 3)] = 1.74f;
    q[static_cast<std::size_t>((i + 1) % 3)] = 1.76f;
  }
  ThreeWayOptions opt;
  opt.metric_name = "top-1 accuracy";
  opt.per_sample = true;
  const ThreeWayReport r = three_way_compare(f.reference, f.quantized, f.truth, TopKAccuracy{1}, opt);
  EXPECT_DOUBLE_EQ(r.quantized_vs_truth, 24.0 / 30.0);
  EXPECT_DOUBLE_EQ(r.degradation, 0.2);
  EXPECT_DOUBLE_EQ(r.relative_degradation, 0.2);
  EXPECT_GT(r.reference_vs_quantized.sqnr_db, 15.0);  // the two-way number looks fine
  ASSERT_EQ(r.per_sample.size(), 30u);
  EXPECT_EQ(r.regressed(), (std::vector<std::size_t>{0, 5, 10, 15, 20, 25}));
  EXPECT_TRUE(r.improved().empty());
  EXPECT_EQ(r.per_sample[1].sqnr_db, std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isfinite(r.per_sample[0].sqnr_db));
  // Top-2 accuracy does not see the swap.
  const ThreeWayReport top2 = three_way_compare(f.reference, f.quantized, f.truth, TopKAccuracy{2});
  EXPECT_EQ(top2.degradation, 0.0);
}

TEST(ThreeWay, LowerIsBetterMetricsAndNonDecomposableCallables) {
  Fixture f;
  for (auto& q : f.quantized) q[0] += 0.25f;
  // A set-level metric that is not a mean of per-sample scores: the largest absolute error of the
  // class-0 logit against a target of 0 (lower is better).
  auto worst_class0 = [](const std::vector<std::vector<float>>& outputs, const std::vector<int>&) {
    double w = 0.0;
    for (const auto& o : outputs) w = std::max(w, std::fabs(static_cast<double>(o[0])));
    return w;
  };
  ThreeWayOptions opt;
  opt.higher_is_better = false;
  const ThreeWayReport r = three_way_compare(f.reference, f.quantized, f.truth, worst_class0, opt);
  EXPECT_DOUBLE_EQ(r.reference_vs_truth, 2.0);
  EXPECT_DOUBLE_EQ(r.quantized_vs_truth, 2.25);
  EXPECT_DOUBLE_EQ(r.degradation, 0.25);  // positive = worse, whatever the direction
  EXPECT_NE(r.table().find("lower is better"), std::string::npos);
}

TEST(ThreeWay, TwoWaySqnrEqualsCompareOverTheConcatenatedOutputs) {
  std::mt19937 rng(5);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<std::array<float, 10>> ref(50), quant(50);
  std::vector<float> flat_r, flat_q;
  for (std::size_t i = 0; i < 50; ++i)
    for (std::size_t k = 0; k < 10; ++k) {
      ref[i][k] = d(rng);
      quant[i][k] = ref[i][k] + 0.01f * d(rng);
      flat_r.push_back(ref[i][k]);
      flat_q.push_back(quant[i][k]);
    }
  const std::vector<int> truth(50, 0);
  const ThreeWayReport r = three_way_compare(ref, quant, truth, TopKAccuracy{1});
  EXPECT_NEAR(r.reference_vs_quantized.sqnr_db, compare(flat_r, flat_q).sqnr_db, 1e-9);
  EXPECT_EQ(r.reference_vs_quantized.compared, 500u);
}

TEST(ThreeWay, MismatchedInputsAreRejectedByName) {
  Fixture f;
  auto expect_arg = [](auto&& call, const std::string& name) {
    try {
      call();
      ADD_FAILURE() << "expected InvalidArgument " << name;
    } catch (const InvalidArgument& e) {
      EXPECT_EQ(e.argument(), name);
    }
  };
  expect_arg([&] { three_way_compare(f.reference, std::vector<std::vector<float>>(29), f.truth, TopKAccuracy{}); },
             "quantized_outputs");
  expect_arg([&] { three_way_compare(f.reference, f.quantized, std::vector<int>(3), TopKAccuracy{}); }, "ground_truth");
  auto bad = f.quantized;
  bad[7].push_back(0.0f);
  expect_arg([&] { three_way_compare(f.reference, bad, f.truth, TopKAccuracy{}); }, "quantized_outputs");
  const std::vector<std::vector<float>> none;
  expect_arg([&] { three_way_compare(none, none, std::vector<int>{}, TopKAccuracy{}); }, "reference_outputs");
}

TEST(ThreeWay, TopKAccuracyTiesAndNaN) {
  const std::vector<std::vector<float>> out = {{1.0f, 1.0f, 0.0f}, {1.0f, 1.0f, 0.0f}, {std::nanf(""), 0.5f, 0.1f}};
  EXPECT_DOUBLE_EQ(TopKAccuracy{1}(out, std::vector<int>{0, 1, 1}), 2.0 / 3.0);  // tie goes to class 0
  EXPECT_DOUBLE_EQ(TopKAccuracy{1}(out, std::vector<int>{1, 0, 0}), 1.0 / 3.0);  // NaN ranks last
  EXPECT_DOUBLE_EQ(TopKAccuracy{3}(out, std::vector<int>{0, 0, 0}), 1.0);
}

}  // namespace
