// qkern tool tests — SPDX-License-Identifier: Apache-2.0
//
// test_fitting.cpp: fit_layer against the library's own fitting functions (min-max from the exact
// range, histogram methods from the collected histograms, per channel), the SQNR estimate against
// the SQNR measured on the data, and errors naming the layer.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "collect.hpp"
#include "fitting.hpp"
#include "qkern/analysis/metrics.hpp"
#include "qkern/quantize.hpp"

namespace {

using namespace qkern;
using namespace qkern::tool;

std::vector<float> gaussian(std::size_t n, unsigned seed, float mean = 0.3f, float sd = 1.5f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(mean, sd);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

CalibrationState one_layer(const std::vector<float>& x, std::vector<std::size_t> shape) {
  CalibrationState s;
  add_batch(s, {"act", shape, x.data()}, {});
  return s;
}

TEST(ToolFit, MinMaxIsChooseParamsOfTheObservedRange) {
  const std::vector<float> x = gaussian(4000, 1);
  const CalibrationState s = one_layer(x, {10, 4, 100});
  const MinMax exact = minmax(x.data(), x.size());
  for (Convention c : {Convention::qkern, Convention::pytorch, Convention::onnxruntime, Convention::tflite}) {
    for (Scheme sc : {Scheme::symmetric, Scheme::affine}) {
      FitSettings fs;
      fs.convention = c;
      fs.scheme = sc;
      fs.dtype = DType::uint8;
      const LayerFit f = fit_layer(s.layers[0], fs);
      RangeOptions ro;
      ro.scheme = sc;
      const double amax = std::fmax(-exact.min, exact.max);
      const QuantParams p = sc == Scheme::symmetric ? choose_params(-amax, amax, DType::uint8, ro, c)
                                                    : choose_params(exact.min, exact.max, DType::uint8, ro, c);
      ASSERT_EQ(f.scales.size(), 1u);
      EXPECT_EQ(float(f.scales[0]), p.scale);
      EXPECT_EQ(f.zero_points[0], p.zero_point);
      EXPECT_EQ(f.observed_min[0], exact.min);
      EXPECT_EQ(f.observed_max[0], exact.max);
      EXPECT_EQ(f.axis, -1);
    }
  }
}

TEST(ToolFit, HistogramMethodsMatchTheLibrary) {
  const std::vector<float> x = gaussian(20000, 2);
  const CalibrationState s = one_layer(x, {20000});
  HistogramObserver h(2048), a(2048, HistogramValues::absolute_values);
  h.update(x.data(), x.size());
  a.update(x.data(), x.size());
  for (FitMethod m :
       {FitMethod::percentile, FitMethod::mse, FitMethod::entropy, FitMethod::l2_search, FitMethod::sqnr}) {
    FitSettings fs;
    fs.method = m;
    FitOptions fo;
    fo.scheme = Scheme::symmetric;
    const bool abs = m == FitMethod::percentile || m == FitMethod::mse || m == FitMethod::entropy;
    const FitRange r = fit_range(abs ? a.view() : h.view(), m, fo);
    const LayerFit f = fit_layer(s.layers[0], fs);
    EXPECT_EQ(f.range_min[0], r.min) << fit_method_name(m);
    EXPECT_EQ(f.range_max[0], r.max) << fit_method_name(m);
    RangeOptions ro;
    ro.scheme = Scheme::symmetric;
    EXPECT_EQ(float(f.scales[0]), choose_params(r.min, r.max, DType::int8, ro).scale) << fit_method_name(m);
    EXPECT_EQ(f.method, fit_method_name(m));
  }
}

TEST(ToolFit, PerChannel) {
  std::vector<float> x = gaussian(6 * 3 * 50, 3);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] *= float(1 + (i / 50) % 3);  // channel c scaled by c + 1
  const CalibrationState s = one_layer(x, {6, 3, 50});
  FitSettings fs;
  fs.per_channel = true;
  const LayerFit f = fit_layer(s.layers[0], fs);
  ASSERT_EQ(f.scales.size(), 3u);
  EXPECT_EQ(f.axis, 1);
  const std::vector<MinMax> ranges = minmax(x.data(), ChannelLayout{6, 3, 50});
  RangeOptions ro;
  ro.scheme = Scheme::symmetric;
  const ChannelQuantParams cp = choose_params(ranges, DType::int8, ro);
  for (int c = 0; c < 3; ++c) {
    EXPECT_EQ(float(f.scales[c]), cp.scale[c]);
    EXPECT_EQ(f.observed_max[c], ranges[c].max);
  }
  // A layer collected without a channel axis fits per tensor.
  CalibrationState t;
  ObserverOptions none;
  none.channel_axis.reset();
  add_batch(t, {"act", {6, 3, 50}, x.data()}, none);
  EXPECT_EQ(fit_layer(t.layers[0], fs).scales.size(), 1u);
}

TEST(ToolFit, SqnrEstimateIsCloseToTheMeasuredSqnr) {
  const std::vector<float> x = gaussian(100000, 4);
  const CalibrationState s = one_layer(x, {x.size()});
  for (FitMethod m : {FitMethod::minmax, FitMethod::percentile, FitMethod::mse}) {
    for (DType t : {DType::int4, DType::int8}) {
      FitSettings fs;
      fs.method = m;
      fs.dtype = t;
      fs.percentile = 99.0;
      const LayerFit f = fit_layer(s.layers[0], fs);
      const QuantParams p = QuantParams::make(t, float(f.scales[0]), std::int32_t(f.zero_points[0]),
                                              QRange{std::int32_t(f.qmin), std::int32_t(f.qmax)});
      std::vector<float> y(x.size());
      fake_quantize(x.data(), y.data(), x.size(), p);
      const double measured = analysis::compare(x, y).sqnr_db;
      EXPECT_NEAR(f.sqnr_db, measured, 0.5) << fit_method_name(m) << " " << dtype_name(t);
    }
  }
}

TEST(ToolFit, ErrorsNameTheLayer) {
  const std::vector<float> nan(16, std::numeric_limits<float>::quiet_NaN());
  CalibrationState s;
  add_batch(s, {"broken.layer", {4, 4}, nan.data()}, {});
  try {
    fit_layer(s.layers[0], {});
    FAIL() << "no error";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("broken.layer"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("16 NaN"), std::string::npos) << e.what();
  }
  const std::vector<float> x = gaussian(64, 5);
  const CalibrationState t = one_layer(x, {64});
  FitSettings trt;
  trt.convention = Convention::tensorrt;
  trt.scheme = Scheme::affine;
  EXPECT_THROW(fit_layer(t.layers[0], trt), InvalidArgument);
}

TEST(ToolFit, AllZeroLayerGivesTheFallback) {
  const std::vector<float> z(32, 0.0f);
  const CalibrationState s = one_layer(z, {2, 16});
  const LayerFit f = fit_layer(s.layers[0], {});
  EXPECT_EQ(f.scales[0], 1.0);
  EXPECT_EQ(f.zero_points[0], 0);
}

TEST(ToolFit, ParseNames) {
  EXPECT_EQ(parse_method("entropy"), FitMethod::entropy);
  EXPECT_EQ(parse_method("l2-search"), FitMethod::l2_search);
  EXPECT_EQ(parse_dtype_option("UINT8"), DType::uint8);
  EXPECT_EQ(parse_scheme("affine"), Scheme::affine);
  EXPECT_EQ(parse_convention("ort"), Convention::onnxruntime);
  EXPECT_EQ(parse_convention("tensorrt"), Convention::tensorrt);
  try {
    parse_method("kmeans");
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_EQ(e.argument(), "--method");
  }
  EXPECT_THROW(parse_dtype_option("int32"), InvalidArgument);
  EXPECT_THROW(parse_convention("caffe"), InvalidArgument);
}

}  // namespace
