// qkern tests — SPDX-License-Identifier: Apache-2.0
//
// test_doctor_domain.cpp: suspect 2 of the checklist on synthetic data: BatchNorm running
// statistics vs the calibration set's pre-BN moments, the reference-set distance, and the image
// content checks (noise, single colour, repeated images).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "qkern/analysis/domain_checks.hpp"

namespace {

using namespace qkern;
using namespace qkern::analysis;

// NCHW activations, channel c ~ N(mean[c], var[c]).
std::vector<float> gaussian_nchw(std::size_t n, const std::vector<float>& mean, const std::vector<float>& var,
                                 std::size_t hw, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.0f, 1.0f);
  const std::size_t C = mean.size();
  std::vector<float> x(n * C * hw);
  for (std::size_t o = 0; o < n; ++o)
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t i = 0; i < hw; ++i) x[(o * C + c) * hw + i] = mean[c] + std::sqrt(var[c]) * g(rng);
  return x;
}

struct BnFixture {
  std::vector<float> mean{0.5f, -1.0f, 2.0f, 0.0f, 3.0f, -0.2f, 1.5f, 0.7f};
  std::vector<float> var{1.0f, 0.25f, 4.0f, 0.5f, 2.0f, 0.1f, 1.0f, 3.0f};
  std::size_t n = 64, hw = 16;
  ChannelLayout layout() const { return {n, mean.size(), hw}; }
};

TEST(DoctorDomain, ChannelMomentsMatchAScalarPassAndMerge) {
  BnFixture f;
  const std::vector<float> x = gaussian_nchw(f.n, f.mean, f.var, f.hw, 1);
  ChannelMoments all(f.mean.size());
  all.update(x.data(), f.layout());
  ChannelMoments a, b;
  const std::size_t half = f.n / 2 * f.mean.size() * f.hw;
  a.update(x.data(), {f.n / 2, f.mean.size(), f.hw});
  b.update(x.data() + half, {f.n / 2, f.mean.size(), f.hw});
  a.merge(b);
  for (std::size_t c = 0; c < f.mean.size(); ++c) {
    double s = 0.0, ss = 0.0;
    for (std::size_t o = 0; o < f.n; ++o)
      for (std::size_t i = 0; i < f.hw; ++i) {
        const double v = x[(o * f.mean.size() + c) * f.hw + i];
        s += v;
        ss += v * v;
      }
    const double m = s / static_cast<double>(f.n * f.hw);
    EXPECT_NEAR(all.mean(c), m, 1e-9);
    EXPECT_NEAR(all.variance(c), ss / static_cast<double>(f.n * f.hw) - m * m, 1e-6);
    EXPECT_NEAR(a.mean(c), all.mean(c), 1e-9);
    EXPECT_EQ(all.count(c), f.n * f.hw);
  }
  EXPECT_THROW(all.update(x.data(), {1, 3, 1}), InvalidArgument);
}

TEST(DoctorDomain, GaussianKlAndItsDecomposition) {
  EXPECT_EQ(gaussian_kl(0.0, 1.0, 0.0, 1.0), 0.0);
  EXPECT_NEAR(gaussian_kl(2.0, 1.0, 0.0, 1.0), 2.0, 1e-12);  // z^2 / 2
  const double r = 4.0;
  EXPECT_NEAR(gaussian_kl(0.0, r, 0.0, 1.0), 0.5 * (r - 1.0 - std::log(r)), 1e-12);
}

TEST(DoctorDomain, InDomainCalibrationMatchesTheRunningStatistics) {
  BnFixture f;
  const std::vector<float> x = gaussian_nchw(f.n, f.mean, f.var, f.hw, 2);
  ChannelMoments m;
  m.update(x.data(), f.layout());
  const BatchNormCheck r = check_batchnorm_statistics("conv1", m, f.mean, f.var);
  EXPECT_EQ(r.diagnosis.severity, Severity::ok) << describe(r.diagnosis);
  EXPECT_LT(r.median_kl, 0.01);
  EXPECT_TRUE(r.diverging.empty());
}

TEST(DoctorDomain, UnnormalizedInputsFailWithTheRightAction) {
  BnFixture f;
  std::vector<float> x = gaussian_nchw(f.n, f.mean, f.var, f.hw, 3);
  for (float& v : x) v *= 255.0f;  // [0, 255] where [0, 1] was trained
  ChannelMoments m;
  m.update(x.data(), f.layout());
  const BatchNormCheck r = check_batchnorm_statistics("conv1", m, f.mean, f.var);
  EXPECT_EQ(r.diagnosis.severity, Severity::failed);
  EXPECT_GT(r.median_kl, 1000.0);
  EXPECT_EQ(r.diverging.size(), f.mean.size());
  EXPECT_EQ(r.diagnosis.layer, "conv1");
  EXPECT_FALSE(r.diagnosis.channels.empty());
  EXPECT_EQ(r.diagnosis.threshold, DomainCheckOptions{}.bn_kl_nats);
  EXPECT_NE(r.diagnosis.action.find("unnormalized"), std::string::npos) << r.diagnosis.action;
}

TEST(DoctorDomain, NormalizationAppliedTwiceFails) {
  BnFixture f;
  std::vector<float> x = gaussian_nchw(f.n, f.mean, f.var, f.hw, 4);
  // A second (x - 0.5) / 4 after the first: narrower and shifted.
  for (float& v : x) v = (v - 0.5f) / 4.0f;
  ChannelMoments m;
  m.update(x.data(), f.layout());
  const BatchNormCheck r = check_batchnorm_statistics("conv1", m, f.mean, f.var);
  EXPECT_EQ(r.diagnosis.severity, Severity::failed) << describe(r.diagnosis);
  EXPECT_NE(r.diagnosis.action.find("twice"), std::string::npos) << r.diagnosis.action;
}

TEST(DoctorDomain, AFewDivergingChannelsAreASuspectNamingThem) {
  BnFixture f;
  std::vector<float> mean = f.mean;
  mean[2] += 6.0f;  // 3 SDs off
  mean[5] += 1.0f;  // 3.2 SDs off
  mean[7] += 7.0f;  // 4 SDs off
  const std::vector<float> x = gaussian_nchw(f.n, mean, f.var, f.hw, 5);
  ChannelMoments m;
  m.update(x.data(), f.layout());
  const BatchNormCheck r = check_batchnorm_statistics("layer2", m, f.mean, f.var);
  EXPECT_EQ(r.diagnosis.severity, Severity::suspect) << describe(r.diagnosis);
  ASSERT_EQ(r.diverging.size(), 3u);
  EXPECT_EQ(r.diverging[0], 7u);  // worst first
  std::vector<std::size_t> sorted = r.diverging;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, (std::vector<std::size_t>{2, 5, 7}));
  // Overridable: a higher threshold clears it.
  DomainCheckOptions o;
  o.bn_kl_nats = 20.0;
  EXPECT_EQ(check_batchnorm_statistics("layer2", m, f.mean, f.var, o).diagnosis.severity, Severity::ok);
}

TEST(DoctorDomain, BatchNormArgumentsAreChecked) {
  BnFixture f;
  const std::vector<float> x = gaussian_nchw(4, f.mean, f.var, f.hw, 6);
  ChannelMoments m;
  m.update(x.data(), {4, f.mean.size(), f.hw});
  try {
    check_batchnorm_statistics("bn", m, f.mean, {1.0f});
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_EQ(e.argument(), "running_var");
    EXPECT_NE(std::string(e.what()).find("'bn'"), std::string::npos);
  }
  std::vector<float> bad = f.var;
  bad[1] = -1.0f;
  EXPECT_THROW(check_batchnorm_statistics("bn", m, f.mean, bad), InvalidArgument);
}

TEST(DoctorDomain, DistributionDistance) {
  std::mt19937 rng(7);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<float> a(20000), b(20000), c(20000);
  for (std::size_t i = 0; i < a.size(); ++i) {
    a[i] = g(rng);
    b[i] = g(rng);
    c[i] = g(rng) + 3.0f;
  }
  const DistributionDistance same = distribution_distance(a.data(), a.size(), b.data(), b.size());
  EXPECT_LT(same.js_bits, 0.01);
  EXPECT_LT(same.w1_over_std, 0.05);
  const DistributionDistance shifted = distribution_distance(c.data(), c.size(), a.data(), a.size());
  EXPECT_GT(shifted.js_bits, 0.6);
  EXPECT_NEAR(shifted.w1, 3.0, 0.1);
  std::vector<float> far(100, 1000.0f);
  EXPECT_NEAR(distribution_distance(far.data(), far.size(), a.data(), a.size()).js_bits, 1.0, 1e-9);
  EXPECT_EQ(check_reference_distance("conv2", a.data(), a.size(), b.data(), b.size()).severity, Severity::ok);
  const Diagnosis d = check_reference_distance("conv2", c.data(), c.size(), a.data(), a.size());
  EXPECT_EQ(d.severity, Severity::failed);
  EXPECT_EQ(d.layer, "conv2");
  EXPECT_GT(d.value, d.threshold);
  std::vector<float> nan(10, std::nanf(""));
  EXPECT_THROW(distribution_distance(nan.data(), nan.size(), a.data(), a.size()), InvalidArgument);
}

// Smooth random images: a sum of a few low-frequency waves per image.
std::vector<float> smooth_images(std::size_t count, const ImageLayout& l, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::vector<float> x(count * l.size());
  for (std::size_t i = 0; i < count; ++i) {
    const float fx = 0.2f + 0.4f * u(rng), fy = 0.2f + 0.4f * u(rng), ph = 6.28f * u(rng), b = u(rng);
    for (std::size_t c = 0; c < l.channels; ++c)
      for (std::size_t y = 0; y < l.height; ++y)
        for (std::size_t xx = 0; xx < l.width; ++xx)
          x[i * l.size() + l.at(c, y, xx)] = b +
                                             0.3f * std::sin(fx * static_cast<float>(xx) + ph + static_cast<float>(c)) *
                                                 std::cos(fy * static_cast<float>(y)) +
                                             0.05f * u(rng);
  }
  return x;
}

TEST(DoctorDomain, NeighbourCorrelationSeparatesImagesFromNoise) {
  const ImageLayout l{3, 16, 16, false};
  const std::vector<float> img = smooth_images(1, l, 1);
  EXPECT_GT(neighbour_correlation(img.data(), l), 0.8);
  std::mt19937 rng(2);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::vector<float> noise(l.size());
  for (float& v : noise) v = u(rng);
  EXPECT_LT(std::fabs(neighbour_correlation(noise.data(), l)), 0.15);
  std::vector<float> flat(l.size(), 0.5f);
  EXPECT_TRUE(std::isnan(neighbour_correlation(flat.data(), l)));
  // Channels-last gives the same answer for the same pixels.
  const ImageLayout hwc{3, 16, 16, true};
  std::vector<float> t(l.size());
  for (std::size_t c = 0; c < 3; ++c)
    for (std::size_t y = 0; y < 16; ++y)
      for (std::size_t x = 0; x < 16; ++x) t[hwc.at(c, y, x)] = img[l.at(c, y, x)];
  EXPECT_NEAR(neighbour_correlation(t.data(), hwc), neighbour_correlation(img.data(), l), 1e-12);
}

TEST(DoctorDomain, CleanImageSetHasNoFindings) {
  const ImageLayout l{3, 12, 12, false};
  const std::vector<float> x = smooth_images(150, l, 3);
  const ImageCheck r = check_images(x.data(), 150, l);
  for (const Diagnosis& d : r.diagnoses) ADD_FAILURE() << describe(d);
  EXPECT_GT(r.median_correlation, 0.7);
}

TEST(DoctorDomain, NoiseImagesAreCaughtBySample) {
  const ImageLayout l{1, 12, 12, false};
  std::vector<float> x = smooth_images(150, l, 4);
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::vector<std::size_t> noisy;
  for (std::size_t i = 10; i < 150; i += 10) {
    noisy.push_back(i);
    for (std::size_t k = 0; k < l.size(); ++k) x[i * l.size() + k] = u(rng);
  }
  const ImageCheck r = check_images(x.data(), 150, l);
  const Diagnosis* d = nullptr;
  for (const Diagnosis& e : r.diagnoses)
    if (e.check == "neighbour_correlation") d = &e;
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->samples, noisy);
  EXPECT_EQ(d->severity, Severity::failed);  // 14 of 150 > 5 %
  EXPECT_NEAR(d->value, 14.0 / 150.0, 1e-12);
}

TEST(DoctorDomain, RepeatedAndSingleColourImagesAreCaught) {
  const ImageLayout l{3, 12, 12, true};
  std::vector<float> x = smooth_images(120, l, 6);
  for (std::size_t i = 1; i < 120; ++i)  // one image repeated
    std::copy(x.begin(), x.begin() + static_cast<std::ptrdiff_t>(l.size()),
              x.begin() + static_cast<std::ptrdiff_t>(i * l.size()));
  ImageCheck r = check_images(x.data(), 120, l);
  ASSERT_FALSE(r.diagnoses.empty());
  EXPECT_EQ(r.diagnoses[0].check, "repeated_images");
  EXPECT_EQ(r.diagnoses[0].severity, Severity::failed);
  EXPECT_EQ(r.diagnoses[0].samples.size(), 120u);

  std::vector<float> y = smooth_images(120, l, 7);
  for (std::size_t i = 0; i < 120; i += 4)  // single-colour (a different colour per channel)
    for (std::size_t k = 0; k < l.size(); ++k) y[i * l.size() + k] = 0.1f * static_cast<float>(k % 3) + 0.2f;
  r = check_images(y.data(), 120, l);
  const Diagnosis* d = nullptr;
  for (const Diagnosis& e : r.diagnoses)
    if (e.check == "single_colour_images") d = &e;
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->samples.size(), 30u);
  EXPECT_EQ(d->samples[1], 4u);
  EXPECT_EQ(d->severity, Severity::failed);
}

}  // namespace
