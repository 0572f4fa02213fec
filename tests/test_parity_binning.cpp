// qkern tests — SPDX-License-Identifier: Apache-2.0
//
// test_parity_binning.cpp: BinRule::numpy / numpy_float64_range / torch_histc give the bin numpy
// 1.24's np.histogram and torch 1.13's torch.histc give every value (edge values and their float32
// neighbours included; tests/golden/data/parity_binning.txt), and FixedHistogram uses them.
#include <gtest/gtest.h>

#include <vector>

#include "fit_golden_util.hpp"
#include "qkern/calib/binning_rules.hpp"
#include "qkern/calib/fixed_histogram.hpp"

namespace {

using qkern::BinRule;
using qkern_test::f32_from_hex;

TEST(ParityBinning, PerElementEqualToNumpyAndTorch) {
  qkern::ToolBinning np32, np64, th, qk;
  std::size_t values = 0, qkern_differs = 0, bins = 0;
  int mism[3] = {0, 0, 0};
  for (const auto& f : qkern_test::golden_lines("parity_binning.txt")) {
    if (f[0] == "C") {
      const float lo = f32_from_hex(f[1]), hi = f32_from_hex(f[2]);
      bins = std::stoul(f[3]);
      np32 = qkern::ToolBinning(BinRule::numpy, lo, hi, bins);
      np64 = qkern::ToolBinning(BinRule::numpy_float64_range, lo, hi, bins);
      th = qkern::ToolBinning(BinRule::torch_histc, lo, hi, bins);
      qk = qkern::ToolBinning(BinRule::qkern, lo, hi, bins);
      continue;
    }
    const float v = f32_from_hex(f[0]);
    auto norm = [&](std::int64_t b) { return b < 0 || b >= static_cast<std::int64_t>(bins) ? -1 : b; };
    const std::int64_t e[3] = {std::stoll(f[1]), std::stoll(f[2]), std::stoll(f[3])};
    const std::int64_t got[3] = {norm(np32.bin(v)), norm(np64.bin(v)), norm(th.bin(v))};
    for (int k = 0; k < 3; ++k) {
      if (got[k] != e[k]) ++mism[k];
      EXPECT_EQ(got[k], e[k]) << "rule " << k << " value " << f[0] << " bins " << bins;
    }
    qkern_differs += norm(qk.bin(v)) != e[0];
    ++values;
  }
  EXPECT_GT(values, 2000u);
  EXPECT_GT(qkern_differs, 0u);  // the rules really differ on these inputs
  EXPECT_EQ(mism[0] + mism[1] + mism[2], 0);
}

TEST(ParityBinning, FixedHistogramWithRule) {
  std::vector<float> x;
  for (int i = -3000; i <= 3000; ++i) x.push_back(static_cast<float>(i) / 2048.0f);
  x.push_back(std::nanf(""));
  x.push_back(-2.0f);
  x.push_back(2.0f);
  for (BinRule r : {BinRule::numpy, BinRule::numpy_float64_range, BinRule::torch_histc}) {
    qkern::FixedHistogram h(-1.0f, 1.0f, 2048, qkern::HistogramValues::signed_values, r);
    EXPECT_EQ(h.rule(), r);
    h.update(x.data(), x.size());
    const qkern::ToolBinning tb(r, -1.0f, 1.0f, 2048);
    std::vector<std::uint64_t> expect(2048, 0);
    std::uint64_t below = 0, above = 0;
    for (float v : x) {
      if (qkern::strict::is_nan(v)) continue;  // (v != v is folded away under -ffast-math)
      const auto b = tb.bin(v);
      if (b < 0)
        ++below;
      else if (b >= 2048)
        ++above;
      else
        ++expect[static_cast<std::size_t>(b)];
    }
    EXPECT_EQ(std::vector<std::uint64_t>(h.bin_counts(), h.bin_counts() + 2048), expect);
    EXPECT_EQ(h.underflow(), below);
    EXPECT_EQ(h.overflow(), above);
    EXPECT_EQ(h.nan(), 1u);
    qkern::FixedHistogram other(-1.0f, 1.0f, 2048);
    EXPECT_THROW(h.merge(other), qkern::InvalidArgument);  // different rule
    qkern::FixedHistogram same(-1.0f, 1.0f, 2048, qkern::HistogramValues::signed_values, r);
    same.update(x.data(), 100);
    h.merge(same);
  }
  // |x| mode bins |v| with the rule
  qkern::FixedHistogram a(0.0f, 1.0f, 16, qkern::HistogramValues::absolute_values, BinRule::numpy);
  const float y[] = {-0.5f, 0.5f, -1.0f};
  a.update(y, 3);
  EXPECT_EQ(a.bin_counts()[8], 2u);
  EXPECT_EQ(a.bin_counts()[15], 1u);
}

}  // namespace
