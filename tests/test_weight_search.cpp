// qkern tests — SPDX-License-Identifier: Apache-2.0
//
// test_weight_search.cpp: per-channel MSE / SQNR clip search on raw weights with qkern's
// fake-quant: argmin equals a brute force over the scalar reference, outliers get clipped, ties go
// to the smallest clip, non-finite weights are skipped, results validate.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "arch_test_util.hpp"
#include "qkern/calib/weight_search.hpp"

namespace {

using namespace qkern;
using namespace qkern_test;

TEST(WeightSearch, EqualsBruteForceOverTheReferenceFakeQuant) {
  std::mt19937 rng(40);
  const ChannelLayout l{3, 4, 50};  // NCHW-like: channel axis in the middle
  auto w = random_floats(rng, l.size(), 0.1f);
  w[7] = 2.0f;  // an outlier in channel 0
  for (auto crit : {WeightSearchCriterion::mse, WeightSearchCriterion::sqnr})
    for (Scheme s : {Scheme::symmetric, Scheme::affine}) {
      WeightSearchOptions o;
      o.criterion = crit;
      o.scheme = s;
      o.candidates = 40;
      const auto r = search_weight_params(w.data(), l, DType::int8, o);
      EXPECT_NO_THROW(validate(r.params, l));
      for (std::size_t c = 0; c < l.channels; ++c) {
        std::vector<float> x;
        for (std::size_t oo = 0; oo < l.outer; ++oo)
          for (std::size_t i = 0; i < l.inner; ++i) x.push_back(w[(oo * l.channels + c) * l.inner + i]);
        float mn = x[0], mx = x[0];
        for (float v : x) mn = std::min(mn, v), mx = std::max(mx, v);
        const double amax = std::fmax(-double(mn), double(mx));
        double best = 1e300, best_f = 0;
        for (std::size_t k = 1; k <= o.candidates; ++k) {
          const double f = double(k) / double(o.candidates);
          RangeOptions ro;
          ro.scheme = s;
          const QuantParams p = s == Scheme::symmetric ? choose_params(-f * amax, f * amax, DType::int8, ro)
                                                       : choose_params(f * mn, f * mx, DType::int8, ro);
          double e = 0;
          for (float v : x) {
            const double d = double(reference::fake_quantize_value(v, p)) - v;
            const bool clipped =
                v < (double(p.qmin) - p.zero_point) * p.scale || v > (double(p.qmax) - p.zero_point) * p.scale;
            e += d * d * (crit == WeightSearchCriterion::sqnr && clipped ? 3.0 : 1.0);
          }
          if (e < best) best = e, best_f = f;
        }
        EXPECT_EQ(r.clip_fraction[c], best_f) << "channel " << c;
        EXPECT_DOUBLE_EQ(r.error[c], best) << "channel " << c;
      }
    }
}

TEST(WeightSearch, TiesGoToTheSmallestClipAndNonFiniteValuesAreSkipped) {
  // Channel 0 is all zeros: every candidate gives the same parameters and error 0, so the smallest
  // clip must win. Channel 1 holds 0 and +-1 (exact only at f = 1) plus NaN / Inf, which are skipped.
  std::vector<float> w = {0.0f, 0.0f, 0.0f,  0.0f, 0.0f,          0.0f,
                          0.0f, 1.0f, -1.0f, 1.0f, std::nanf(""), std::numeric_limits<float>::infinity()};
  WeightSearchOptions o;
  o.candidates = 10;
  const auto r = search_weight_params(w.data(), ChannelLayout{1, 2, 6}, DType::int8, o);
  EXPECT_EQ(r.error[0], 0.0);
  EXPECT_EQ(r.clip_fraction[0], 0.1);
  EXPECT_EQ(r.params.scale[0], 1.0f);  // SF-2 fallback
  EXPECT_EQ(r.error[1], 0.0);
  EXPECT_EQ(r.clip_fraction[1], 1.0);
  std::vector<float> bad = {std::nanf(""), std::numeric_limits<float>::infinity(), 1.0f, 2.0f};
  EXPECT_THROW(search_weight_params(bad.data(), ChannelLayout{1, 2, 2}, DType::int8), DataError);
  EXPECT_THROW(search_weight_params(nullptr, ChannelLayout{1, 2, 2}, DType::int8), InvalidArgument);
  o.candidates = 0;
  EXPECT_THROW(search_weight_params(w.data(), ChannelLayout{1, 1, w.size()}, DType::int8, o), InvalidArgument);
}

TEST(WeightSearch, PowerOfTwoScalesAndConventions) {
  std::mt19937 rng(41);
  const ChannelLayout l{1, 8, 64};
  const auto w = random_floats(rng, l.size(), 0.05f);
  WeightSearchOptions o;
  o.power_of_two_scale = true;
  for (Convention conv : {Convention::qkern, Convention::pytorch, Convention::onnxruntime, Convention::tensorrt}) {
    const auto r = search_weight_params(w.data(), l, DType::int8, o, conv);
    EXPECT_NO_THROW(validate(r.params, l));
    for (float s : r.params.scale) {
      int e = 0;
      EXPECT_EQ(std::frexp(s, &e), 0.5f);
    }
  }
}

}  // namespace
