// qkern tests — SPDX-License-Identifier: Apache-2.0
//
// test_layer_checks.cpp: per-channel range spread, clip fractions, and the per-layer noise table.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "qkern/analysis/layer_checks.hpp"
#include "qkern/qkern.hpp"

namespace {

using namespace qkern;
using namespace qkern::analysis;

// NCHW activations {N, C, HW} whose channel c has standard deviation scale[c].
std::vector<float> activations(const ChannelLayout& l, const std::vector<float>& scale, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> x(l.size());
  for (std::size_t o = 0; o < l.outer; ++o)
    for (std::size_t c = 0; c < l.channels; ++c)
      for (std::size_t i = 0; i < l.inner; ++i) x[(o * l.channels + c) * l.inner + i] = scale[c] * d(rng);
  return x;
}

TEST(LayerChecks, RangeSpreadFlagsAWideChannel) {
  const ChannelLayout l{4, 8, 100};
  std::vector<float> scale(8, 1.0f);
  const auto even = activations(l, scale, 1);
  const ChannelRangeSpread ok = channel_range_spread(even.data(), l);
  EXPECT_FALSE(ok.flagged) << ok.explanation;
  EXPECT_LT(ok.spread, 2.0);
  EXPECT_TRUE(ok.wide_channels.empty());
  scale[5] = 50.0f;  // a BN-less layer with one channel 50x wider
  const auto wide = activations(l, scale, 1);
  const ChannelRangeSpread bad = channel_range_spread(wide.data(), l);
  EXPECT_TRUE(bad.flagged);
  EXPECT_EQ(bad.largest_channel, 5u);
  EXPECT_EQ(bad.wide_channels, (std::vector<std::size_t>{5}));
  EXPECT_GT(bad.spread, 25.0);
  EXPECT_NE(bad.explanation.find("per channel"), std::string::npos);
  // The spread matches the per-channel min/max it is defined from.
  const auto mm = minmax(wide.data(), l);
  EXPECT_EQ(bad.channel_range[5], mm[5].max - mm[5].min);
  // A stricter threshold flags the even layer too; a looser one clears the wide one.
  EXPECT_FALSE(channel_range_spread(wide.data(), l, 1000.0).flagged);
  EXPECT_THROW(channel_range_spread(wide.data(), l, 1.0), InvalidArgument);
}

TEST(LayerChecks, RangeSpreadOfDeadChannels) {
  const ChannelLayout l{1, 4, 10};
  std::vector<float> x(l.size(), 0.0f);
  EXPECT_EQ(channel_range_spread(x.data(), l).spread, 1.0);                // all zero: nothing to compare
  for (std::size_t i = 0; i < 10; ++i) x[30 + i] = static_cast<float>(i);  // only channel 3 is alive
  const auto r = channel_range_spread(x.data(), l);
  EXPECT_EQ(r.spread, std::numeric_limits<double>::infinity());
  EXPECT_TRUE(r.flagged);
}

TEST(LayerChecks, ClipFractionsCountWhatEachRangeCuts) {
  std::vector<float> x(1000);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i) - 500.0f;  // -500 .. 499
  x[10] = std::nanf("");  // never cut, never in the denominator
  const auto f =
      clip_fractions(x.data(), x.size(), {{"full", -500.0f, 499.0f}, {"p90", -450.0f, 449.0f}, {"upper", 0.0f, 1e30f}});
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0].total, 0.0);
  EXPECT_EQ(f[1].counts.below, 49u);  // -500..-451 without the NaN at -490
  EXPECT_EQ(f[1].counts.above, 50u);  // 450..499
  EXPECT_DOUBLE_EQ(f[1].total, 99.0 / 999.0);
  EXPECT_DOUBLE_EQ(f[2].below, 499.0 / 999.0);
  EXPECT_EQ(f[2].counts.counts.nan, 1u);
  const ClipCandidate c = ClipCandidate::from_params("int8", QuantParams::make(DType::int8, 0.5f, 10));
  EXPECT_EQ(c.lo, -69.0f);  // (-128 - 10) * 0.5
  EXPECT_EQ(c.hi, 58.5f);   // (127 - 10) * 0.5
  EXPECT_THROW(clip_fractions(x.data(), x.size(), {{"bad", 1.0f, -1.0f}}), InvalidArgument);
}

TEST(LayerChecks, NoiseTableComparesMethodsAndFlagsNoisyLayers) {
  std::mt19937 rng(3);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> smooth(4096), signed_act(4096);
  for (auto& v : smooth) v = d(rng);
  for (auto& v : signed_act) v = d(rng);
  // Per layer: min-max int8, and a tight 3-sigma clip. With `assumed_relu` both use uint8 with zero
  // point 0, as for a post-ReLU activation: on a layer that is not post-ReLU, the negative half is
  // clipped to 0 whatever the scale (SQNR about 3 dB).
  auto candidates_for = [](const std::vector<float>& x, bool assumed_relu) {
    const float amax = absmax(x.data(), x.size()).value;
    const DType t = assumed_relu ? DType::uint8 : DType::int8;
    const float levels = assumed_relu ? 255.0f : 127.0f;
    return std::vector<FitCandidate>{
        {"minmax", QuantParams::make(t, amax / levels, 0)},
        {"clip3", QuantParams::make(t, 3.0f / levels, 0)},
    };
  };
  LayerNoiseTable table;
  const LayerNoiseRow& a = table.add("conv1", smooth.data(), smooth.size(), candidates_for(smooth, false));
  EXPECT_EQ(a.best, a.metrics[0].sqnr_db >= a.metrics[1].sqnr_db ? 0u : 1u);
  EXPECT_EQ(a.best_sqnr_db, a.metrics[a.best].sqnr_db);
  EXPECT_GT(a.best_sqnr_db, 30.0);
  EXPECT_FALSE(a.flagged);
  const LayerNoiseRow& b =
      table.add("conv2_nobn", signed_act.data(), signed_act.size(), candidates_for(signed_act, true));
  EXPECT_TRUE(b.flagged) << table.table();
  EXPECT_LT(b.best_sqnr_db, 10.0);
  EXPECT_EQ(table.flagged(), (std::vector<std::string>{"conv2_nobn"}));
  // Each entry is the SQNR of fake_quantize against the input, exactly as compare() gives it.
  std::vector<float> fq(smooth.size());
  fake_quantize(smooth.data(), fq.data(), smooth.size(), candidates_for(smooth, false)[1].params);
  EXPECT_EQ(table.rows()[0].metrics[1].sqnr_db, compare(smooth.data(), fq.data(), smooth.size()).sqnr_db);
  EXPECT_NEAR(table.rows()[0].clipped[1], 0.0027, 0.002);  // 3 sigma cuts ~0.27 % of N(0, 1)
  EXPECT_NEAR(table.rows()[1].clipped[0], 0.5, 0.03);      // uint8 from 0 cuts the negative half
  const std::string t = table.table();
  EXPECT_NE(t.find("minmax"), std::string::npos);
  EXPECT_NE(t.find("clip3"), std::string::npos);
  EXPECT_NE(t.find("conv2_nobn"), std::string::npos);
  EXPECT_NE(t.find("<- below 10.0 dB"), std::string::npos);
  EXPECT_EQ(t.find("conv1", 0) != std::string::npos, true);
  std::vector<FitCandidate> renamed = candidates_for(smooth, false);
  renamed[0].name = "other";
  EXPECT_THROW(table.add("conv3", smooth.data(), smooth.size(), renamed), InvalidArgument);
  EXPECT_THROW(layer_noise("x", smooth.data(), smooth.size(), {}), InvalidArgument);
  std::vector<FitCandidate> bad = candidates_for(smooth, false);
  bad[1].params.scale = -1.0f;
  try {
    layer_noise("x", smooth.data(), smooth.size(), bad);
    ADD_FAILURE();
  } catch (const InvalidArgument& e) {
    EXPECT_EQ(e.argument(), "candidates[1].params");
  }
}

TEST(LayerChecks, NonFiniteActivationsAreSkippedNotFatal) {
  std::vector<float> x(100, 0.5f);
  x[0] = 0.25f;
  x[1] = std::nanf("");
  x[2] = std::numeric_limits<float>::infinity();
  const LayerNoiseRow r =
      layer_noise("act", x.data(), x.size(), {{"s", QuantParams::make(DType::int8, 0.25f / 127.0f)}});
  EXPECT_EQ(r.metrics[0].skipped, 2u);
  EXPECT_EQ(r.metrics[0].compared, 98u);
  EXPECT_TRUE(std::isfinite(r.best_sqnr_db));
}

}  // namespace
