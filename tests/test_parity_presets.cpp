// qkern tests — SPDX-License-Identifier: Apache-2.0
//
// test_parity_presets.cpp: each tool preset gives the tool's parameters when named once: torch.ao's
// default observers and fake-quants (tests/golden/data/parity_presets.txt, torch 1.13) through
// qkern's observers + the preset; the other presets' settings (ModelOpt, ONNX Runtime, TFLite);
// FitOptions / RangeOptions defaults agree; unsigned_range never changes the scheme silently;
// ChannelQuantParams::make.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "fit_golden_util.hpp"
#include "qkern/calib/observers.hpp"
#include "qkern/calib/presets.hpp"
#include "qkern/calib/torch_histogram.hpp"

namespace {

using qkern_test::f32_from_hex;
namespace presets = qkern::presets;

qkern::Preset preset_named(const std::string& n) {
  if (n == "pytorch_default_observer") return presets::pytorch_default_observer();
  if (n == "pytorch_default_weight_observer") return presets::pytorch_default_weight_observer();
  if (n == "pytorch_default_per_channel_weight_observer") return presets::pytorch_default_per_channel_weight_observer();
  if (n == "pytorch_default_histogram_observer") return presets::pytorch_default_histogram_observer();
  if (n == "pytorch_default_fake_quant") return presets::pytorch_default_fake_quant();
  if (n == "pytorch_default_weight_fake_quant") return presets::pytorch_default_weight_fake_quant();
  if (n == "pytorch_default_per_channel_weight_fake_quant")
    return presets::pytorch_default_per_channel_weight_fake_quant();
  throw std::runtime_error("unknown preset " + n);
}

TEST(ParityPresets, TorchDefaultObserversAndFakeQuants) {
  std::vector<std::vector<float>> batches;
  int checked = 0;
  for (const auto& f : qkern_test::golden_lines("parity_presets.txt")) {
    if (f[0] == "D") {
      batches.clear();
    } else if (f[0] == "B") {
      std::vector<float> b;
      for (std::size_t i = 1; i < f.size(); ++i) b.push_back(f32_from_hex(f[i]));
      batches.push_back(b);
    } else if (f[0] == "P") {
      const qkern::Preset p = preset_named(f[1]);
      const std::size_t n = std::stoul(f[2]);
      std::vector<float> scale;
      std::vector<int> zp;
      const bool per_channel = n > 1;
      const bool histogram = p.method == qkern::FitMethod::l2_search;
      const qkern::ChannelLayout layout{1, 4, 16};
      if (histogram) {
        qkern::TorchHistogramObserver o;
        for (const auto& b : batches) o.update(b.data(), b.size());
        const qkern::QuantParams q = o.qparams(p.dtype, p.range);
        scale.push_back(q.scale);
        zp.push_back(q.zero_point);
      } else if (per_channel && p.averaging_constant < 1.0f) {
        qkern::MovingAveragePerChannelMinMaxObserver o(4, p.averaging_constant);
        for (const auto& b : batches) o.update(b.data(), layout);
        const qkern::ChannelQuantParams q = p.params(o.ranges());
        scale = q.scale;
        zp.assign(q.zero_point.begin(), q.zero_point.end());
      } else if (per_channel) {
        qkern::PerChannelMinMaxObserver o(4);
        for (const auto& b : batches) o.update(b.data(), layout);
        const qkern::ChannelQuantParams q = p.params(o.ranges());
        scale = q.scale;
        zp.assign(q.zero_point.begin(), q.zero_point.end());
      } else if (p.averaging_constant < 1.0f) {
        qkern::MovingAverageMinMaxObserver o(p.averaging_constant);
        for (const auto& b : batches) o.update(b.data(), b.size());
        const qkern::QuantParams q = p.params(o.range());
        scale.push_back(q.scale);
        zp.push_back(q.zero_point);
      } else {
        qkern::MinMaxObserver o;
        for (const auto& b : batches) o.update(b.data(), b.size());
        const qkern::QuantParams q = p.params(o.range());
        scale.push_back(q.scale);
        zp.push_back(q.zero_point);
      }
      ASSERT_EQ(scale.size(), n) << f[1];
      for (std::size_t c = 0; c < n; ++c) {
        const float want = f32_from_hex(f[3 + c]);
        EXPECT_EQ(std::memcmp(&scale[c], &want, 4), 0)
            << f[1] << " channel " << c << ": " << scale[c] << " vs " << want;
        EXPECT_EQ(zp[c], std::stoi(f[3 + n + c])) << f[1] << " channel " << c;
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, 28);
}

TEST(ParityPresets, SettingsOfTheOtherTools) {
  const qkern::Preset m = presets::modelopt();
  EXPECT_EQ(m.convention, qkern::Convention::tensorrt);
  EXPECT_EQ(m.range.scheme, qkern::Scheme::symmetric);
  EXPECT_EQ(m.fit.scheme, qkern::Scheme::symmetric);
  EXPECT_EQ(m.values, qkern::HistogramValues::absolute_values);
  EXPECT_EQ(m.method, qkern::FitMethod::entropy);
  const qkern::QuantParams mq = m.params(-2.0, 1.0);
  EXPECT_EQ(mq.scale, 2.0f / 127.0f);
  EXPECT_EQ(mq.qmin, -127);
  const qkern::Preset mu = presets::modelopt(qkern::FitMethod::percentile, 8, true);
  EXPECT_EQ(mu.dtype, qkern::DType::uint8);
  const qkern::QuantParams muq = mu.params(0.0, 3.0);
  EXPECT_EQ(muq.scale, 3.0f / 255.0f);
  EXPECT_EQ(muq.zero_point, 0);

  const qkern::Preset o = presets::onnxruntime(qkern::presets::OrtMethod::minmax, qkern::DType::int8, true);
  const qkern::QuantParams oq = o.params(-1.0, 2.0);
  EXPECT_EQ(oq.qmin, -127);  // ORT's symmetric table
  EXPECT_EQ(oq.scale, 4.0f / 254.0f);
  const qkern::Preset oa = presets::onnxruntime();
  EXPECT_EQ(oa.dtype, qkern::DType::uint8);
  EXPECT_EQ(oa.range.scheme, qkern::Scheme::affine);
  const qkern::Preset op = presets::onnxruntime(qkern::presets::OrtMethod::percentile);
  EXPECT_EQ(op.fit.percentile, 99.999);
  EXPECT_EQ(op.fit.percentile_mode, qkern::PercentileMode::left_edge);

  const qkern::QuantParams tw = presets::tflite_weights().params(-1.0, 0.5);
  EXPECT_EQ(tw.qmin, -127);
  EXPECT_EQ(tw.zero_point, 0);
  EXPECT_EQ(tw.arithmetic, qkern::Arithmetic::tflite());
  const qkern::QuantParams ta = presets::tflite_activations().params(-1.0, 3.0);
  EXPECT_EQ(ta.qmin, -128);
  EXPECT_NE(ta.zero_point, 0);

  // A preset fits a histogram with its method: ModelOpt entropy on an |x| histogram.
  std::vector<std::uint64_t> counts(2048, 0);
  for (std::size_t i = 0; i < 2048; ++i) counts[i] = 4096 / (i + 1);
  qkern::HistogramView v{counts.data(), 2048, 0.0, 8.0};
  v.absolute = true;
  const qkern::QuantParams e = m.params(v);
  qkern::FitOptions fo;
  fo.scheme = qkern::Scheme::symmetric;
  EXPECT_EQ(e.scale,
            qkern::fit_params(v, qkern::FitMethod::entropy, qkern::DType::int8, fo, qkern::Convention::tensorrt).scale);
}

TEST(ParityPresets, DefaultsAgreeAndUnsignedRangeIsExplicit) {
  EXPECT_EQ(qkern::FitOptions{}.scheme, qkern::RangeOptions{}.scheme);
  std::vector<std::uint64_t> counts(64, 10);
  qkern::HistogramView v{counts.data(), 64, 0.0, 4.0};
  qkern::FitOptions o;
  o.unsigned_range = true;  // with the default (affine) scheme: an error, not a silent switch
  EXPECT_THROW(qkern::fit_range(v, qkern::FitMethod::mse, o), qkern::InvalidArgument);
  o.scheme = qkern::Scheme::symmetric;
  EXPECT_THROW(qkern::fit_params(v, qkern::FitMethod::mse, qkern::DType::int8, o), qkern::InvalidArgument);
  const qkern::QuantParams u = qkern::fit_params(v, qkern::FitMethod::minmax, qkern::DType::uint8, o);
  EXPECT_EQ(u.zero_point, 0);
  EXPECT_EQ(u.scale, 4.0f / 255.0f);
  v.absolute = true;
  EXPECT_THROW(qkern::fit_range(v, qkern::FitMethod::minmax, qkern::FitOptions{}), qkern::InvalidArgument);
  EXPECT_THROW(qkern::fit_range(v, qkern::FitMethod::entropy, qkern::FitOptions{}), qkern::InvalidArgument);
}

TEST(ParityPresets, ChannelQuantParamsMake) {
  const qkern::ChannelQuantParams a = qkern::ChannelQuantParams::make(qkern::DType::int8, {0.5f, 0.25f});
  EXPECT_EQ(a.channels(), 2u);
  EXPECT_EQ(a.zero_point, (std::vector<std::int32_t>{0, 0}));
  EXPECT_EQ(a.qmin, -128);
  EXPECT_EQ(a.qmax, 127);
  const qkern::ChannelQuantParams b = qkern::ChannelQuantParams::make(
      qkern::DType::uint8, {0.1f}, {3}, qkern::QRange{0, 127}, qkern::Arithmetic::pytorch());
  EXPECT_EQ(b.qmax, 127);
  EXPECT_EQ(b.zero_point[0], 3);
  EXPECT_EQ(b.arithmetic, qkern::Arithmetic::pytorch());
  EXPECT_NO_THROW(qkern::validate(b, qkern::ChannelLayout{1, 1, 4}));
}

}  // namespace
