// qkern tests — SPDX-License-Identifier: Apache-2.0
//
// test_fit.cpp: scale fitting from one histogram. Goldens: ModelOpt HistogramCalibrator 'entropy' /
// 'mse' transcribed to numpy on the identical histograms (exact amax), PyTorch HistogramObserver's
// L2 search (within one of its bins). Properties: SQNR and affine MSE behave as their criteria say,
// degenerate histograms (SF-13), ties (SF-14), fit -> validate (SF-15), power-of-two scales,
// per-channel, errors (SF-1, SF-9).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "arch_test_util.hpp"
#include "fit_golden_util.hpp"
#include "qkern/calib/fit.hpp"

namespace {

using namespace qkern;
using namespace qkern_test;

const FitMethod kAllMethods[] = {FitMethod::minmax,  FitMethod::percentile, FitMethod::mse,
                                 FitMethod::entropy, FitMethod::l2_search,  FitMethod::sqnr};

struct GoldenHistogram {
  std::string name;
  std::vector<std::uint64_t> counts;
  double lo, hi;
  std::vector<std::vector<std::string>> results;
  HistogramView view() const { return {counts.data(), counts.size(), lo, hi}; }
};

std::vector<GoldenHistogram> modelopt_goldens() {
  const auto lines = golden_lines("fit_modelopt.txt");
  std::vector<GoldenHistogram> out;
  for (std::size_t i = 0; i < lines.size();) {
    GoldenHistogram g;
    g.name = lines[i][1];
    const std::size_t bins = std::stoul(lines[i][2]);
    g.lo = f64_from_hex(lines[i][3]);
    g.hi = f64_from_hex(lines[i][4]);
    for (std::size_t j = 0; j < bins; ++j) g.counts.push_back(std::stoull(lines[i + 1 + j][0]));
    for (i += 1 + bins; i < lines.size() && lines[i][0] == "R"; ++i) g.results.push_back(lines[i]);
    out.push_back(g);
  }
  return out;
}

TEST(Fit, EntropyAndMseEqualModelOptTranscriptionOnTheSameHistograms) {
  std::size_t checked = 0;
  for (const auto& g : modelopt_goldens()) {
    for (const auto& r : g.results) {
      if (r[1] == "percentile") continue;
      FitOptions o;
      o.scheme = Scheme::symmetric;  // FitOptions defaults to affine, as RangeOptions
      o.num_bits = std::stoi(r[2]);
      o.unsigned_range = r[3] == "1";
      o.stride = std::stoul(r[4]);
      o.start_bin = std::stoul(r[5]);
      const double want = f64_from_hex(r[7]);
      const FitMethod m = r[1] == "entropy" ? FitMethod::entropy : FitMethod::mse;
      const FitRange got = fit_range(g.view(), m, o);
      EXPECT_EQ(got.max, want) << g.name << " " << r[1] << " bits=" << o.num_bits << " unsigned=" << o.unsigned_range
                               << " stride=" << o.stride << " got " << got.max << " want " << want;
      EXPECT_EQ(got.min, o.unsigned_range ? 0.0 : -want);
      ++checked;
    }
  }
  EXPECT_EQ(checked, 5u * 6u);
}

TEST(Fit, PercentileLeftEdgeEqualsModelOptTranscription) {
  for (const auto& g : modelopt_goldens())
    for (const auto& r : g.results) {
      if (r[1] != "percentile") continue;
      FitOptions o;
      o.scheme = Scheme::symmetric;  // FitOptions defaults to affine, as RangeOptions
      o.percentile = f64_from_hex(r[6]);
      o.percentile_mode = PercentileMode::left_edge;
      EXPECT_EQ(fit_range(g.view(), FitMethod::percentile, o).max, f64_from_hex(r[7]))
          << g.name << " p=" << o.percentile;
    }
}

struct TorchCase {
  std::string name;
  bool symmetric;
  std::vector<float> data;
  float min_val, max_val;
  std::vector<std::uint64_t> hist;
  float new_min, new_max, scale;
  int zero_point;
};

std::vector<TorchCase> torch_goldens() {
  const auto lines = golden_lines("fit_pytorch_histogram.txt");
  std::vector<TorchCase> out;
  for (std::size_t i = 0; i < lines.size();) {
    TorchCase c;
    c.name = lines[i][1];
    const std::size_t n = std::stoul(lines[i][2]);
    c.symmetric = lines[i][3] == "1";
    for (std::size_t j = 0; j < n; ++j) c.data.push_back(f32_from_hex(lines[i + 1 + j][0]));
    i += 1 + n;
    c.min_val = f32_from_hex(lines[i][1]);
    c.max_val = f32_from_hex(lines[i][2]);
    for (std::size_t j = 0; j < 2048; ++j) c.hist.push_back(std::stoull(lines[i + 1 + j][0]));
    i += 1 + 2048;
    c.new_min = f32_from_hex(lines[i][1]);
    c.new_max = f32_from_hex(lines[i][2]);
    c.scale = f32_from_hex(lines[i][3]);
    c.zero_point = std::stoi(lines[i][4]);
    ++i;
    out.push_back(c);
  }
  return out;
}

TEST(Fit, L2SearchLandsWithinOneBinOfPyTorchHistogramObserver) {
  const auto cases = torch_goldens();
  ASSERT_EQ(cases.size(), 3u);
  for (const auto& c : cases) {
    const HistogramView h{c.hist.data(), 2048, c.min_val, c.max_val};
    FitOptions o;
    o.scheme = Scheme::affine;
    const FitRange r = fit_range(h, FitMethod::l2_search, o);
    const double w = h.bin_width();
    EXPECT_LE(std::fabs(r.min - c.new_min), w) << c.name << " min " << r.min << " vs " << c.new_min;
    EXPECT_LE(std::fabs(r.max - c.new_max), w) << c.name << " max " << r.max << " vs " << c.new_max;
    // PyTorch's parameters from the searched range (calculate_qparams -> _calculate_qparams).
    RangeOptions ro;
    ro.scheme = c.symmetric ? Scheme::symmetric : Scheme::affine;
    const QuantParams p = choose_params(r.min, r.max, DType::uint8, ro, Convention::pytorch);
    EXPECT_NEAR(p.scale, c.scale, 2 * w / 255) << c.name;
    EXPECT_NEAR(p.zero_point, c.zero_point, 1) << c.name;
    // The same search on a histogram qkern builds from the raw data lands in the same place.
    std::vector<std::uint64_t> mine(2048, 0);
    for (float v : c.data) {
      auto b = static_cast<std::size_t>((static_cast<double>(v) - c.min_val) / w);
      ++mine[b >= 2048 ? 2047 : b];
    }
    const FitRange r2 = fit_range(HistogramView{mine.data(), 2048, c.min_val, c.max_val}, FitMethod::l2_search, o);
    EXPECT_LE(std::fabs(r2.min - c.new_min), w) << c.name;
    EXPECT_LE(std::fabs(r2.max - c.new_max), w) << c.name;
  }
}

// A histogram of n samples of `draw` over [lo, hi].
template <class Draw>
std::vector<std::uint64_t> sample_histogram(std::size_t bins, double lo, double hi, std::size_t n, Draw draw) {
  std::vector<std::uint64_t> c(bins, 0);
  for (std::size_t i = 0; i < n; ++i) {
    const double v = draw();
    if (v < lo || v > hi) continue;
    auto b = static_cast<std::size_t>((v - lo) / ((hi - lo) / static_cast<double>(bins)));
    ++c[b >= bins ? bins - 1 : b];
  }
  return c;
}

TEST(Fit, SqnrClipsOutliersOfPeakedDataButNotUniformData) {
  std::mt19937 rng(1);
  std::normal_distribution<double> nd(0.0, 1.0);
  auto peaked = sample_histogram(2048, -20.0, 20.0, 200000, [&] { return nd(rng); });
  peaked[0] = 1;
  peaked[2047] = 1;
  FitOptions o;
  o.scheme = Scheme::symmetric;  // FitOptions defaults to affine, as RangeOptions
  const FitRange s = fit_range(HistogramView{peaked.data(), 2048, -20.0, 20.0}, FitMethod::sqnr, o);
  EXPECT_LT(s.max, 19.0);  // two outliers are clipped (their noise x gamma is cheaper)
  EXPECT_GT(s.max, 2.0);
  // The chosen delta is on AIMET's grid: k/100 of 2 * 20 / 255.
  const double k = (s.max / 127.0) / (40.0 / 255.0) * 100.0;
  EXPECT_NEAR(k, std::round(k), 1e-6);
  std::vector<std::uint64_t> flat(2048, 100);
  const FitRange f = fit_range(HistogramView{flat.data(), 2048, -1.0, 1.0}, FitMethod::sqnr, o);
  EXPECT_GT(f.max, 0.95);
  o.scheme = Scheme::affine;
  const FitRange a = fit_range(HistogramView{peaked.data(), 2048, -20.0, 20.0}, FitMethod::sqnr, o);
  EXPECT_GE(a.min, -20.0 - 1e-9);
  EXPECT_LE(a.max, 20.0 + 40.0 / 255);
  EXPECT_LT(a.max - a.min, 38.0);
}

TEST(Fit, AffineMseBeatsMinMaxOnRealFakeQuantError) {
  std::mt19937 rng(2);
  std::normal_distribution<double> nd(1.0, 1.0);
  std::vector<float> x(50000);
  for (auto& v : x) v = static_cast<float>(nd(rng));
  x[0] = -30.0f;
  x[1] = 40.0f;
  std::vector<std::uint64_t> c(2048, 0);
  const double lo = -30.0, hi = 40.0, w = (hi - lo) / 2048;
  for (float v : x) {
    auto b = static_cast<std::size_t>((v - lo) / w);
    ++c[b >= 2048 ? 2047 : b];
  }
  const HistogramView h{c.data(), 2048, lo, hi};
  FitOptions o;
  o.scheme = Scheme::affine;
  auto error_of = [&](FitMethod m) {
    const QuantParams p = fit_params(h, m, DType::uint8, o);
    std::vector<float> y(x.size());
    fake_quantize(x.data(), y.data(), x.size(), p);
    double e = 0;
    for (std::size_t i = 0; i < x.size(); ++i) e += (double(y[i]) - x[i]) * (double(y[i]) - x[i]);
    return e;
  };
  const double mse = error_of(FitMethod::mse), mm = error_of(FitMethod::minmax);
  EXPECT_LT(mse, 0.95 * mm);  // two huge outliers: clipping them a little is worth it, not more
  const FitRange r = fit_range(h, FitMethod::mse, o);
  EXPECT_GT(r.min, -29.0);
  EXPECT_LT(r.max, 39.0);
}

TEST(Fit, EntropyDegenerateHistogramsGiveDocumentedResultsNeverNaN) {  // SF-13
  FitOptions o;
  o.scheme = Scheme::symmetric;  // FitOptions defaults to affine, as RangeOptions
  std::vector<std::uint64_t> one(2048, 0);
  one[0] = 1000;  // all mass in bin 0: ModelOpt's bins[0] = bins[1] erases it
  FitRange r = fit_range(HistogramView{one.data(), 2048, 0.0, 1.0}, FitMethod::entropy, o);
  EXPECT_EQ(r.max, 1.0 / 2048);  // right edge of the last non-empty bin
  std::fill(one.begin(), one.end(), 0);
  one[700] = 1000;  // one spike in the middle
  r = fit_range(HistogramView{one.data(), 2048, 0.0, 1.0}, FitMethod::entropy, o);
  EXPECT_TRUE(std::isfinite(r.max));
  EXPECT_GE(r.max, 701.0 / 2048);
  std::vector<std::uint64_t> few(100, 3);  // fewer bins than the 128 quantized bins
  o.start_bin = 50;
  r = fit_range(HistogramView{few.data(), 100, 0.0, 1.0}, FitMethod::entropy, o);
  EXPECT_TRUE(std::isfinite(r.max));
  EXPECT_GT(r.max, 0.0);
  o.start_bin = 128;
  try {
    fit_range(HistogramView{few.data(), 100, 0.0, 1.0}, FitMethod::entropy, o);
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_EQ(e.argument(), "options.start_bin");
  }
  try {
    fit_range(HistogramView{few.data(), 100, -1.0, 1.0}, FitMethod::entropy, FitOptions{Scheme::symmetric});
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_EQ(e.argument(), "hist");
  }
}

TEST(Fit, TiesResolveToTheSmallestClipValue) {  // SF-14
  // Only bin 0 is occupied: every candidate amax > 254 * centre rounds it to 0 with the same
  // error; the smallest of those must win.
  std::vector<std::uint64_t> c(2048, 0);
  c[0] = 10;
  c[1] = 10;
  const HistogramView h{c.data(), 2048, 0.0, 2048.0};
  FitOptions o;
  o.scheme = Scheme::symmetric;  // FitOptions defaults to affine, as RangeOptions
  o.start_bin = 600;
  const FitRange r = fit_range(h, FitMethod::mse, o);
  EXPECT_EQ(r.max, 600.5);
  const FitRange again = fit_range(h, FitMethod::mse, o);
  EXPECT_EQ(again.max, r.max);
  // Affine: a uniform histogram's best range is the full one; the narrowest optimum wins.
  std::vector<std::uint64_t> u(64, 5);
  o.scheme = Scheme::affine;
  const FitRange a = fit_range(HistogramView{u.data(), 64, 1.0, 2.0}, FitMethod::mse, o);
  EXPECT_GE(a.min, 1.0);
  EXPECT_LE(a.max, 2.0);
}

TEST(Fit, EveryMethodGivesValidParameters) {  // SF-15, SF-2, SF-3, SF-7, SF-8
  std::mt19937 rng(8);
  struct Case {
    double lo, hi;
    std::vector<std::uint64_t> counts;
  };
  std::vector<Case> cases;
  cases.push_back({0.0, 0.0, std::vector<std::uint64_t>(2048, 0)});
  cases.back().counts[0] = 100;  // all zeros
  cases.push_back({0.0, 3e38, std::vector<std::uint64_t>(2048, 1)});
  cases.push_back({0.0, 1e-40, std::vector<std::uint64_t>(256, 2)});
  cases.push_back({0.0, 5.0, std::vector<std::uint64_t>(1, 7)});  // one bin
  cases.push_back({0.0, 1.0, std::vector<std::uint64_t>(2048, 0)});
  cases.back().counts[2047] = 1;  // n = 1 at the top (SF-12)
  for (int k = 0; k < 6; ++k) {
    std::vector<std::uint64_t> c(k % 2 ? 300 : 2048);
    std::geometric_distribution<int> g(0.02 + 0.1 * k);
    for (auto& v : c) v = static_cast<std::uint64_t>(g(rng)) * (rng() % 3);
    c[rng() % c.size()] += 1;
    cases.push_back({0.0, std::ldexp(1.0, 3 * k - 8), c});
  }
  const Convention convs[] = {Convention::qkern,    Convention::pytorch, Convention::onnxruntime,
                              Convention::tensorrt, Convention::tflite,  Convention::fbgemm};
  std::size_t checked = 0;
  for (const auto& cs : cases) {
    const HistogramView h{cs.counts.data(), cs.counts.size(), cs.lo, cs.hi};
    for (FitMethod m : kAllMethods)
      for (Scheme s : {Scheme::symmetric, Scheme::affine})
        for (bool p2 : {false, true}) {
          if (m == FitMethod::entropy && s == Scheme::affine) continue;  // symmetric only (InvalidArgument)
          FitOptions o;
          o.scheme = s;
          o.power_of_two_scale = p2;
          o.start_bin = std::min<std::size_t>(128, cs.counts.size());
          const std::string where = std::string(fit_method_name(m)) + " bins=" + std::to_string(cs.counts.size()) +
                                    " hi=" + std::to_string(cs.hi);
          const FitRange r = fit_range(h, m, o);
          ASSERT_TRUE(std::isfinite(r.min) && std::isfinite(r.max)) << where;
          ASSERT_LE(r.min, r.max) << where;
          EXPECT_NO_THROW(validate(fit_params(h, m, DType::int8, o))) << where;
          for (Convention conv : convs) {
            if (conv == Convention::tensorrt && s != Scheme::symmetric) continue;
            for (DType dt : {DType::int8, DType::uint8}) {
              // fit_params(h, m, dt, o, conv) without refitting the same histogram.
              const QuantParams p = choose_params(r.min, r.max, dt, detail::range_options_of(o), conv);
              EXPECT_NO_THROW(validate(p)) << where;
              if (p2 && conv != Convention::tflite && !range_is_degenerate(r.min, r.max)) {
                int e = 0;
                EXPECT_EQ(std::frexp(p.scale, &e), 0.5f) << where << " scale " << p.scale;
              }
              ++checked;
            }
          }
        }
  }
  EXPECT_GT(checked, 1000u);
}

TEST(Fit, PowerOfTwoSearchesOnlyPowerOfTwoThresholds) {
  std::mt19937 rng(12);
  std::normal_distribution<double> nd(0.0, 1.0);
  auto c = sample_histogram(2048, 0.0, 6.0, 100000, [&] { return std::fabs(nd(rng)); });
  FitOptions o;
  o.scheme = Scheme::symmetric;  // FitOptions defaults to affine, as RangeOptions
  o.power_of_two_scale = true;
  for (FitMethod m : {FitMethod::mse, FitMethod::sqnr}) {
    const FitRange r = fit_range(HistogramView{c.data(), 2048, 0.0, 6.0}, m, o);
    int e = 0;
    EXPECT_EQ(std::frexp(r.max / 127.0, &e), 0.5) << fit_method_name(m) << " amax " << r.max;
  }
}

TEST(Fit, PerChannelFitsEachChannelIndependently) {
  std::vector<std::uint64_t> a(512, 0), b(512, 0), z(512, 0);
  for (std::size_t i = 0; i < 100; ++i) a[i] = 50;
  for (std::size_t i = 0; i < 512; ++i) b[i] = 1 + i % 7;
  z[0] = 9;
  const std::vector<HistogramView> views = {
      {a.data(), 512, 0.0, 4.0}, {b.data(), 512, 0.0, 0.5}, {z.data(), 512, 0.0, 0.0}};
  FitOptions o;
  o.scheme = Scheme::symmetric;  // FitOptions defaults to affine, as RangeOptions
  o.start_bin = 64;
  for (FitMethod m : kAllMethods) {
    const ChannelQuantParams cp = fit_params(views, m, DType::int8, o);
    ASSERT_EQ(cp.channels(), 3u);
    EXPECT_NO_THROW(validate(cp, ChannelLayout{1, 3, 1}));
    for (std::size_t ch = 0; ch < 3; ++ch) {
      const QuantParams p = fit_params(views[ch], m, DType::int8, o);
      EXPECT_EQ(cp.scale[ch], p.scale) << fit_method_name(m) << " channel " << ch;
      EXPECT_EQ(cp.zero_point[ch], p.zero_point);
    }
    EXPECT_EQ(cp.scale[2], 1.0f);  // the all-zero channel takes the SF-2 fallback alone
  }
}

TEST(Fit, MinMaxIsTheExtentOfTheNonEmptyBins) {
  std::vector<std::uint64_t> c(10, 0);
  c[2] = 1;
  c[6] = 4;
  FitOptions o;
  o.scheme = Scheme::affine;
  FitRange r = fit_range(HistogramView{c.data(), 10, -5.0, 5.0}, FitMethod::minmax, o);
  EXPECT_EQ(r.min, -3.0);
  EXPECT_EQ(r.max, 2.0);
  o.scheme = Scheme::symmetric;
  r = fit_range(HistogramView{c.data(), 10, -5.0, 5.0}, FitMethod::minmax, o);
  EXPECT_EQ(r.min, -3.0);
  EXPECT_EQ(r.max, 3.0);
}

TEST(Fit, ErrorsNameTheirArgument) {  // SF-1, SF-9
  std::vector<std::uint64_t> empty(16, 0), c(16, 1);
  for (FitMethod m : kAllMethods) EXPECT_THROW(fit_range(HistogramView{empty.data(), 16, 0.0, 1.0}, m), DataError);
  FitOptions o;
  o.scheme = Scheme::symmetric;  // FitOptions defaults to affine, as RangeOptions
  o.percentile = 100.5;
  try {
    fit_range(HistogramView{c.data(), 16, 0.0, 1.0}, FitMethod::percentile, o);
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_EQ(e.argument(), "percentile");
  }
  o = {};
  o.num_bits = 1;
  EXPECT_THROW(fit_range(HistogramView{c.data(), 16, 0.0, 1.0}, FitMethod::mse, o), InvalidArgument);
  EXPECT_THROW(fit_range(HistogramView{c.data(), 16, 0.0, std::nan("")}, FitMethod::mse), InvalidArgument);
  const std::vector<HistogramView> views = {{c.data(), 16, 0.0, 1.0}, {empty.data(), 16, 0.0, 1.0}};
  EXPECT_THROW(fit_range(views, FitMethod::minmax), DataError);
}

}  // namespace
