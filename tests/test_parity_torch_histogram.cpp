// qkern tests — SPDX-License-Identifier: Apache-2.0
//
// test_parity_torch_histogram.cpp: TorchHistogramObserver against torch 1.13's HistogramObserver
// (tests/golden/generate_parity_golden.py -> data/parity_torch_{sum,histogram}.txt), bit for bit:
// the float32 histogram and min/max after every batch, the searched range and calculate_qparams.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "fit_golden_util.hpp"
#include "qkern/calib/torch_histogram.hpp"

namespace {

using qkern_test::f32_from_hex;
using qkern_test::golden_lines;

std::uint32_t bits(float f) {
  std::uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

std::vector<float> floats(const std::vector<std::string>& f, std::size_t from) {
  std::vector<float> v;
  for (std::size_t i = from; i < f.size(); ++i) v.push_back(f32_from_hex(f[i]));
  return v;
}

TEST(ParityTorchHistogram, TorchSumMatchesCascadeSummation) {
  int checked = 0;
  for (const auto& f : golden_lines("parity_torch_sum.txt")) {
    std::vector<float> a;
    float expected;
    if (f[0] == "A") {
      const std::size_t n = std::stoul(f[1]);
      for (std::size_t i = 0; i < n; ++i) a.push_back(qkern::strict::mul(static_cast<float>(i), 0.1f));
      expected = f32_from_hex(f[2]);
    } else {
      const std::size_t n = std::stoul(f[0]);
      a = floats(f, 1);
      ASSERT_EQ(a.size(), n + 1);
      expected = a.back();
      a.pop_back();
    }
    EXPECT_EQ(bits(qkern::detail::torch113::sum(a.data(), a.size())), bits(expected)) << "n = " << a.size();
    ++checked;
  }
  EXPECT_GE(checked, 20);
}

struct Config {
  qkern::DType dtype;
  qkern::RangeOptions options;
};

std::map<std::string, Config> configs() {
  std::map<std::string, Config> c;
  c["quint8_affine"] = {qkern::DType::uint8, {}};
  qkern::RangeOptions sym;
  sym.scheme = qkern::Scheme::symmetric;
  c["qint8_symmetric"] = {qkern::DType::int8, sym};
  qkern::RangeOptions r127;
  r127.range = qkern::QRange{0, 127};
  c["quint8_0_127"] = {qkern::DType::uint8, r127};
  qkern::RangeOptions red;
  red.reduce_range = true;
  c["qint8_affine_reduce"] = {qkern::DType::int8, red};
  return c;
}

TEST(ParityTorchHistogram, StreamsEqualTorch) {
  const auto lines = golden_lines("parity_torch_histogram.txt");
  const auto cfg = configs();
  int streams = 0, qchecks = 0;
  std::unique_ptr<qkern::TorchHistogramObserver> obs;
  std::string name;
  int batch = 0;
  for (const auto& f : lines) {
    if (f[0] == "S") {
      name = f[1] + "/" + f[2];
      obs.reset(new qkern::TorchHistogramObserver(std::stoul(f[2]), std::stoul(f[3])));
      batch = 0;
      ++streams;
    } else if (f[0] == "B") {
      const std::vector<float> x = floats(f, 2);
      ASSERT_EQ(x.size(), std::stoul(f[1]));
      obs->update(x.data(), x.size());
      ++batch;
    } else if (f[0] == "M") {
      EXPECT_EQ(bits(obs->min_val()), bits(f32_from_hex(f[1]))) << name << " batch " << batch;
      EXPECT_EQ(bits(obs->max_val()), bits(f32_from_hex(f[2]))) << name << " batch " << batch;
    } else if (f[0] == "H") {
      const std::vector<float> h = floats(f, 1);
      ASSERT_EQ(h.size(), obs->bins());
      int diff = 0;
      for (std::size_t i = 0; i < h.size(); ++i) diff += bits(h[i]) != bits(obs->histogram()[i]);
      EXPECT_EQ(diff, 0) << name << ": bins differing from torch";
    } else if (f[0] == "Q") {
      const Config& c = cfg.at(f[1]);
      const auto r = obs->search_range(c.dtype);
      EXPECT_EQ(bits(r.first), bits(f32_from_hex(f[2]))) << name << " " << f[1] << " new_min";
      EXPECT_EQ(bits(r.second), bits(f32_from_hex(f[3]))) << name << " " << f[1] << " new_max";
      const qkern::QuantParams p = obs->qparams(c.dtype, c.options);
      EXPECT_EQ(bits(p.scale), bits(f32_from_hex(f[4]))) << name << " " << f[1] << " scale";
      EXPECT_EQ(p.zero_point, std::stoi(f[5])) << name << " " << f[1] << " zero point";
      ++qchecks;
    }
  }
  EXPECT_GE(streams, 10);
  EXPECT_GE(qchecks, 40);
}

TEST(ParityTorchHistogram, ErrorsAndNonFinite) {
  EXPECT_THROW(qkern::TorchHistogramObserver(1), qkern::InvalidArgument);
  EXPECT_NO_THROW(qkern::TorchHistogramObserver(15));
  EXPECT_THROW(qkern::TorchHistogramObserver(2048, 0), qkern::InvalidArgument);
  qkern::TorchHistogramObserver o(256);
  EXPECT_THROW(o.qparams(), qkern::DataError);
  const float inf = std::numeric_limits<float>::infinity();
  const float x[] = {std::nanf(""), inf, -inf, 0.5f, -0.25f};
  o.update(x, 5);
  EXPECT_EQ(o.counts().nan, 1u);
  EXPECT_EQ(o.counts().pos_inf, 1u);
  EXPECT_EQ(o.counts().neg_inf, 1u);
  EXPECT_EQ(o.counts().finite, 2u);
  EXPECT_EQ(o.min_val(), -0.25f);
  EXPECT_EQ(o.max_val(), 0.5f);
  const float y[] = {0.5f, -0.25f};
  qkern::TorchHistogramObserver p(256);
  p.update(y, 2);
  EXPECT_EQ(o.histogram(), p.histogram());
  EXPECT_THROW(qkern::torch_histogram_search({}, 0.0f, 1.0f), qkern::InvalidArgument);
  EXPECT_THROW(qkern::torch_histogram_search({1.0f}, 1.0f, 0.0f), qkern::InvalidArgument);
}

}  // namespace
