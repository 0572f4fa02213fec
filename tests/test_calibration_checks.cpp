// qkern tests — SPDX-License-Identifier: Apache-2.0
//
// test_calibration_checks.cpp: each calibration-set finding is triggered by a constructed set and
// not triggered on a healthy random set.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "qkern/analysis/calibration_checks.hpp"

namespace {

using namespace qkern;
using namespace qkern::analysis;

constexpr std::size_t kSize = 3 * 8 * 8;  // a 3-channel 8x8 "image" (CHW)

// A healthy set: smooth random images (a random gradient plus noise), varied brightness.
std::vector<float> healthy_set(std::size_t count, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> noise(0.0f, 0.3f), coef(0.0f, 1.0f);
  std::vector<float> x(count * kSize);
  for (std::size_t s = 0; s < count; ++s) {
    const float a = coef(rng), b = coef(rng), c = coef(rng);
    for (std::size_t ch = 0; ch < 3; ++ch)
      for (std::size_t i = 0; i < 64; ++i)
        x[s * kSize + ch * 64 + i] = a * static_cast<float>(i % 8) / 8.0f + b * static_cast<float>(i / 8) / 8.0f +
                                     c * static_cast<float>(ch) + noise(rng);
  }
  return x;
}

std::vector<const Finding*> of_kind(const std::vector<Finding>& f, FindingKind k) {
  std::vector<const Finding*> r;
  for (const Finding& x : f)
    if (x.kind == k) r.push_back(&x);
  return r;
}

CalibrationCheckOptions image_options() {
  CalibrationCheckOptions o;
  o.sample_layout = ChannelLayout{1, 3, 64};
  return o;
}

TEST(CalibrationChecks, HealthyRandomSetHasNoFindings) {
  const auto x = healthy_set(300, 1);
  const auto f = check_calibration_set(x.data(), 300, kSize, image_options());
  EXPECT_TRUE(f.empty()) << format_findings(f);
  EXPECT_EQ(format_findings(f), "calibration set: no findings\n");
}

TEST(CalibrationChecks, TooFewSamples) {
  const auto x = healthy_set(40, 2);
  const auto f = check_calibration_set(x.data(), 40, kSize);
  const auto k = of_kind(f, FindingKind::too_few_samples);
  ASSERT_EQ(k.size(), 1u);
  EXPECT_EQ(k[0]->samples.size(), 40u);
  EXPECT_NE(k[0]->explanation.find("100"), std::string::npos);
  CalibrationCheckOptions o;
  o.min_samples = 40;
  EXPECT_TRUE(of_kind(check_calibration_set(x.data(), 40, kSize, o), FindingKind::too_few_samples).empty());
  // Duplicates do not count towards the minimum.
  auto y = x;
  std::copy(y.begin(), y.begin() + kSize, y.begin() + kSize);  // sample 1 := sample 0
  EXPECT_EQ(of_kind(check_calibration_set(y.data(), 40, kSize, o), FindingKind::too_few_samples).size(), 1u);
}

TEST(CalibrationChecks, ExactDuplicatesAreGrouped) {
  auto x = healthy_set(200, 3);
  std::copy(x.begin() + 10 * kSize, x.begin() + 11 * kSize, x.begin() + 50 * kSize);
  std::copy(x.begin() + 10 * kSize, x.begin() + 11 * kSize, x.begin() + 120 * kSize);
  std::copy(x.begin() + 7 * kSize, x.begin() + 8 * kSize, x.begin() + 8 * kSize);
  const auto f = check_calibration_set(x.data(), 200, kSize);
  const auto k = of_kind(f, FindingKind::exact_duplicate);
  ASSERT_EQ(k.size(), 2u) << format_findings(f);
  EXPECT_EQ(k[0]->samples, (std::vector<std::size_t>{7, 8}));
  EXPECT_EQ(k[1]->samples, (std::vector<std::size_t>{10, 50, 120}));
  EXPECT_TRUE(of_kind(f, FindingKind::near_duplicate).empty()) << "exact copies are not also near duplicates";
}

TEST(CalibrationChecks, HashCollisionsAreResolvedByComparingBytes) {
  auto x = healthy_set(6, 4);
  std::copy(x.begin(), x.begin() + kSize, x.begin() + 4 * kSize);
  const std::vector<std::uint64_t> all_equal(6, 42);  // every sample "collides"
  const auto groups = qkern::analysis::detail::group_exact_duplicates(x.data(), 6, kSize, all_equal);
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0], (std::vector<std::size_t>{0, 4}));
  EXPECT_EQ(content_hash(x.data(), kSize * 4), content_hash(x.data() + 4 * kSize, kSize * 4));
  EXPECT_NE(content_hash(x.data(), kSize * 4), content_hash(x.data() + kSize, kSize * 4));
  EXPECT_NE(content_hash(x.data(), 7), content_hash(x.data(), 6));
}

TEST(CalibrationChecks, NearDuplicatesSurviveBrightnessAndNoise) {
  auto x = healthy_set(200, 5);
  std::mt19937 rng(6);
  std::normal_distribution<float> tiny(0.0f, 0.01f);
  for (std::size_t i = 0; i < kSize; ++i) {
    x[90 * kSize + i] = 1.1f * x[30 * kSize + i] + 0.5f + tiny(rng);  // brighter, more contrast, re-noised
    x[91 * kSize + i] = x[30 * kSize + i] + tiny(rng);
  }
  const auto f = check_calibration_set(x.data(), 200, kSize);
  const auto k = of_kind(f, FindingKind::near_duplicate);
  ASSERT_EQ(k.size(), 1u) << format_findings(f);
  EXPECT_EQ(k[0]->samples, (std::vector<std::size_t>{30, 90, 91}));
}

TEST(CalibrationChecks, ConstantAndSingleColourSamples) {
  auto x = healthy_set(200, 7);
  std::fill(x.begin() + 12 * kSize, x.begin() + 13 * kSize, 0.0f);  // blank
  std::fill(x.begin() + 13 * kSize, x.begin() + 14 * kSize, 0.7f);  // flat grey
  for (std::size_t ch = 0; ch < 3; ++ch)                            // single colour: (0.2, 0.5, 0.9)
    std::fill(x.begin() + 77 * kSize + ch * 64, x.begin() + 77 * kSize + (ch + 1) * 64, 0.2f + 0.35f * ch);
  const auto f = check_calibration_set(x.data(), 200, kSize, image_options());
  const auto k = of_kind(f, FindingKind::constant_sample);
  ASSERT_EQ(k.size(), 2u) << format_findings(f);
  EXPECT_EQ(k[0]->samples, (std::vector<std::size_t>{12, 13}));
  EXPECT_EQ(k[1]->samples, (std::vector<std::size_t>{77}));
  EXPECT_NE(k[1]->explanation.find("single-colour"), std::string::npos);
  EXPECT_TRUE(of_kind(f, FindingKind::out_of_distribution).empty()) << format_findings(f);
  // Without the layout a single-colour image is not constant as a whole.
  const auto g = check_calibration_set(x.data(), 200, kSize);
  const auto kg = of_kind(g, FindingKind::constant_sample);
  ASSERT_EQ(kg.size(), 1u);
  EXPECT_EQ(kg[0]->samples, (std::vector<std::size_t>{12, 13}));
}

TEST(CalibrationChecks, OutOfDistributionSamples) {
  auto x = healthy_set(200, 8);
  for (std::size_t i = 0; i < kSize; ++i) {
    x[40 * kSize + i] = x[40 * kSize + i] * 255.0f;  // forgot to normalise: std far off
    x[41 * kSize + i] = x[41 * kSize + i] + 40.0f;   // wrong mean subtraction: mean far off
  }
  const auto f = check_calibration_set(x.data(), 200, kSize);
  const auto k = of_kind(f, FindingKind::out_of_distribution);
  ASSERT_EQ(k.size(), 2u) << format_findings(f);
  EXPECT_EQ(k[0]->samples, (std::vector<std::size_t>{40}));
  EXPECT_NE(k[0]->explanation.find("std"), std::string::npos);
  EXPECT_EQ(k[1]->samples, (std::vector<std::size_t>{41}));
  EXPECT_NE(k[1]->explanation.find("mean"), std::string::npos);
}

TEST(CalibrationChecks, NonFiniteValues) {
  auto x = healthy_set(150, 9);
  x[3 * kSize + 5] = std::nanf("");
  x[99 * kSize + 0] = std::numeric_limits<float>::infinity();
  const auto f = check_calibration_set(x.data(), 150, kSize);
  const auto k = of_kind(f, FindingKind::non_finite_values);
  ASSERT_EQ(k.size(), 1u);
  EXPECT_EQ(k[0]->samples, (std::vector<std::size_t>{3, 99}));
  EXPECT_NE(k[0]->explanation.find("1 NaN, 1 Inf"), std::string::npos);
  EXPECT_EQ(f.size(), 1u) << format_findings(f);  // one NaN does not make the sample an outlier
}

TEST(CalibrationChecks, ArgumentsAreValidatedByName) {
  const auto x = healthy_set(2, 10);
  try {
    CalibrationCheckOptions o;
    o.sample_layout = ChannelLayout{1, 3, 10};
    check_calibration_set(x.data(), 2, kSize, o);
    ADD_FAILURE();
  } catch (const InvalidArgument& e) {
    EXPECT_EQ(e.argument(), "options.sample_layout");
  }
  EXPECT_THROW(check_calibration_set(nullptr, 2, kSize), InvalidArgument);
  EXPECT_THROW(check_calibration_set(x.data(), 2, 0), InvalidArgument);
  const auto none = check_calibration_set(nullptr, 0, kSize);
  ASSERT_EQ(none.size(), 1u);
  EXPECT_EQ(none[0].kind, FindingKind::too_few_samples);
}

}  // namespace
