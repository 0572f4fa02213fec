// qkern tests — SPDX-License-Identifier: Apache-2.0
//
// test_percentile.cpp: percentiles from a HistogramView: the bracket always contains the exact
// percentile of the binned data (checked against percentile_exact), the interpolated value is
// within one bin of it, p = 0 / 100 give the data's extremes, the left-edge mode equals ModelOpt's
// formula (golden), two-sided ranges, per-channel forms and the errors.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "arch_test_util.hpp"
#include "fit_golden_util.hpp"
#include "qkern/calib/percentile.hpp"
#include "qkern/calib/select.hpp"

namespace {

using namespace qkern;
using namespace qkern_test;

// Histogram of x over [lo, hi] with HistogramView's bins (bin i = [left_edge(i), left_edge(i+1)),
// last closed), each value checked against the view's own edges.
std::vector<std::uint64_t> histogram_of(const std::vector<float>& x, std::size_t bins, double lo, double hi) {
  std::vector<std::uint64_t> c(bins, 0);
  HistogramView v{c.data(), bins, lo, hi};
  for (float f : x) {
    const double d = f;
    if (!(d >= lo && d <= hi)) continue;
    auto b = static_cast<std::ptrdiff_t>(std::floor((d - lo) / v.bin_width()));
    b = std::min<std::ptrdiff_t>(std::max<std::ptrdiff_t>(b, 0), static_cast<std::ptrdiff_t>(bins) - 1);
    while (b > 0 && d < v.left_edge(static_cast<std::size_t>(b))) --b;
    while (static_cast<std::size_t>(b) + 1 < bins && d >= v.left_edge(static_cast<std::size_t>(b) + 1)) ++b;
    ++c[static_cast<std::size_t>(b)];
  }
  return c;
}

TEST(HistogramPercentile, BracketContainsTheExactPercentileAndValueIsWithinABin) {
  std::mt19937 rng(21);
  for (int trial = 0; trial < 6; ++trial) {
    std::vector<float> x = random_floats(rng, 20000 + 977 * trial, 2.0f);
    if (trial % 2)
      for (auto& v : x) v = std::fabs(v) * v;  // heavier tails
    if (trial == 4)
      for (std::size_t i = 0; i < x.size(); i += 3) x[i] = 0.5f;  // a spike
    float mn = x[0], mx = x[0];
    for (float v : x) mn = std::min(mn, v), mx = std::max(mx, v);
    const std::size_t bins = trial == 5 ? 37 : 2048;
    const auto counts = histogram_of(x, bins, mn, mx);
    const HistogramView h{counts.data(), bins, mn, mx};
    for (double p : {0.0, 0.01, 0.5, 1.0, 10.0, 50.0, 90.0, 99.0, 99.9, 99.99, 100.0}) {
      const double exact = percentile_exact(x.data(), x.size(), p).value;
      const PercentileEstimate e = percentile(h, p);
      EXPECT_LE(e.lower, exact) << "trial " << trial << " p=" << p;
      EXPECT_GE(e.upper, exact) << "trial " << trial << " p=" << p;
      EXPECT_LE(e.lower, e.value);
      EXPECT_GE(e.upper, e.value);
      EXPECT_LE(std::fabs(e.value - exact), 2 * h.bin_width()) << "trial " << trial << " p=" << p;
    }
    EXPECT_EQ(percentile(h, 0.0).value, static_cast<double>(mn));  // SF-10
    EXPECT_EQ(percentile(h, 100.0).value, static_cast<double>(mx));
  }
}

TEST(HistogramPercentile, InterpolationIsLessBiasedThanTheLeftEdge) {
  std::mt19937 rng(4);
  std::vector<float> x = random_floats(rng, 100000, 1.0f);
  for (auto& v : x) v = std::fabs(v);
  float mx = 0;
  for (float v : x) mx = std::max(mx, v);
  const auto counts = histogram_of(x, 256, 0.0, mx);
  const HistogramView h{counts.data(), 256, 0.0, mx};
  double err_interp = 0, err_left = 0;
  for (double p = 5; p < 100; p += 5) {
    const double exact = percentile_exact(x.data(), x.size(), p).value;
    err_interp += std::fabs(percentile(h, p).value - exact);
    err_left += std::fabs(percentile(h, p, PercentileMode::left_edge).value - exact);
  }
  EXPECT_LT(err_interp * 4, err_left);
}

TEST(HistogramPercentile, LeftEdgeModeEqualsModelOptTranscription) {
  const auto lines = golden_lines("fit_modelopt.txt");
  std::size_t checked = 0;
  for (std::size_t i = 0; i < lines.size();) {
    ASSERT_EQ(lines[i][0], "H");
    const std::size_t bins = std::stoul(lines[i][2]);
    const double lo = f64_from_hex(lines[i][3]), hi = f64_from_hex(lines[i][4]);
    std::vector<std::uint64_t> counts;
    for (std::size_t j = 0; j < bins; ++j) counts.push_back(std::stoull(lines[i + 1 + j][0]));
    i += 1 + bins;
    const HistogramView h{counts.data(), bins, lo, hi};
    for (; i < lines.size() && lines[i][0] == "R"; ++i) {
      if (lines[i][1] != "percentile") continue;
      const double p = f64_from_hex(lines[i][6]), want = f64_from_hex(lines[i][7]);
      EXPECT_EQ(percentile(h, p, PercentileMode::left_edge).value, want) << "p=" << p;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 25u);
}

TEST(HistogramPercentile, TwoSidedRangeAndPerChannel) {
  std::vector<std::uint64_t> c(100, 10);
  const HistogramView h{c.data(), 100, -50.0, 50.0};
  const PercentileRange r = percentile_range(h, 98.0);
  EXPECT_NEAR(r.min.value, -49.0, 0.5);
  EXPECT_NEAR(r.max.value, 49.0, 0.5);
  EXPECT_NEAR(r.min.value, -r.max.value, 1e-9);
  std::vector<std::uint64_t> c2(10, 0);
  c2[3] = 5;
  const std::vector<HistogramView> views = {h, {c2.data(), 10, 0.0, 10.0}};
  const auto per = percentile(views, 50.0);
  ASSERT_EQ(per.size(), 2u);
  EXPECT_NEAR(per[0].value, 0.0, 1e-9);
  EXPECT_EQ(per[1].lower, 3.0);
  EXPECT_EQ(per[1].upper, 4.0);
  const auto pr = percentile_range(views, 100.0);
  EXPECT_EQ(pr[1].min.value, 3.0);
  EXPECT_EQ(pr[1].max.value, 4.0);
}

TEST(HistogramPercentile, SingleCountAndErrors) {  // SF-12, SF-9, SF-1
  std::vector<std::uint64_t> c(8, 0);
  c[5] = 1;
  const HistogramView h{c.data(), 8, 0.0, 8.0};
  EXPECT_EQ(percentile(h, 0.0).value, 5.0);
  EXPECT_EQ(percentile(h, 100.0).value, 6.0);
  EXPECT_EQ(percentile(h, 50.0).value, 5.5);
  for (double p : {-1.0, 101.0, std::nan("")}) {
    try {
      percentile(h, p);
      FAIL();
    } catch (const InvalidArgument& e) {
      EXPECT_EQ(e.argument(), "percentile");
    }
  }
  std::vector<std::uint64_t> empty(8, 0);
  EXPECT_THROW(percentile(HistogramView{empty.data(), 8, 0.0, 1.0}, 50.0), DataError);
  EXPECT_THROW(percentile(HistogramView{nullptr, 8, 0.0, 1.0}, 50.0), InvalidArgument);
  EXPECT_THROW(percentile(HistogramView{c.data(), 0, 0.0, 1.0}, 50.0), InvalidArgument);
  EXPECT_THROW(percentile(HistogramView{c.data(), 8, 1.0, 0.0}, 50.0), InvalidArgument);
}

}  // namespace
