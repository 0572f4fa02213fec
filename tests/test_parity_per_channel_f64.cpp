// qkern tests — SPDX-License-Identifier: Apache-2.0
//
// test_parity_per_channel_f64.cpp: per-channel quantize / dequantize with float64 scales
// (ChannelQuantParamsF64, qkern/quantize_f64.hpp) equal torch 1.13's torch.quantize_per_channel /
// dequantize with float64 scales (tests/golden/data/parity_per_channel_f64.txt) bit for bit; the
// quantize runs qkern's per-channel SIMD kernels, checked on every arch the CPU runs.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "arch_test_util.hpp"
#include "fit_golden_util.hpp"
#include "qkern/quantize_f64.hpp"

namespace {

using qkern_test::f32_from_hex;

struct Case {
  qkern::ChannelQuantParamsF64 params;
  qkern::ChannelLayout layout;
  std::vector<float> x, dequantized;
  std::vector<int> codes;
};

std::vector<Case> cases() {
  std::vector<Case> out;
  Case c;
  for (const auto& f : qkern_test::golden_lines("parity_per_channel_f64.txt")) {
    if (f[0] == "T") {
      c = Case();
      c.params.dtype = f[1] == "int8" ? qkern::DType::int8 : qkern::DType::uint8;
      const qkern::QRange r = qkern::full_range(c.params.dtype);
      c.params.qmin = r.qmin;
      c.params.qmax = r.qmax;
      c.layout = qkern::ChannelLayout{1, std::stoul(f[2]), std::stoul(f[3])};
    } else if (f[0] == "S") {
      for (std::size_t i = 1; i < f.size(); ++i) c.params.scale.push_back(qkern_test::f64_from_hex(f[i]));
    } else if (f[0] == "Z") {
      for (std::size_t i = 1; i < f.size(); ++i) c.params.zero_point.push_back(std::stoi(f[i]));
    } else if (f[0] == "X") {
      for (std::size_t i = 1; i < f.size(); ++i) c.x.push_back(f32_from_hex(f[i]));
    } else if (f[0] == "Q") {
      for (std::size_t i = 1; i < f.size(); ++i) c.codes.push_back(std::stoi(f[i]));
    } else if (f[0] == "D") {
      for (std::size_t i = 1; i < f.size(); ++i) c.dequantized.push_back(f32_from_hex(f[i]));
      out.push_back(c);
    }
  }
  return out;
}

template <class Q>
std::vector<int> as_ints(const std::vector<Q>& q) {
  return std::vector<int>(q.begin(), q.end());
}

TEST(ParityPerChannelF64, QuantizeAndDequantizeEqualTorch) {
  const auto all = cases();
  ASSERT_EQ(all.size(), 4u);
  int float_scale_differs = 0;
  for (const Case& c : all) {
    std::vector<float> back(c.x.size());
    if (c.params.dtype == qkern::DType::int8) {
      std::vector<std::int8_t> q(c.x.size());
      qkern::quantize(c.x.data(), q.data(), c.layout, c.params);
      EXPECT_EQ(as_ints(q), c.codes);
      qkern::dequantize(q.data(), back.data(), c.layout, c.params);
      std::vector<float> f32(c.x.size());
      qkern::dequantize(q.data(), f32.data(), c.layout, c.params.rounded());
      float_scale_differs += std::memcmp(f32.data(), c.dequantized.data(), 4 * f32.size()) != 0;
    } else {
      std::vector<std::uint8_t> q(c.x.size());
      qkern::quantize(c.x.data(), q.data(), c.layout, c.params);
      EXPECT_EQ(as_ints(q), c.codes);
      qkern::dequantize(q.data(), back.data(), c.layout, c.params);
    }
    EXPECT_EQ(std::memcmp(back.data(), c.dequantized.data(), 4 * back.size()), 0);
  }
  EXPECT_GT(float_scale_differs, 0);  // a float32 scale does not give torch's dequantized values
  // The example: q = 31, scale 0.1 (float64) -> 3.0999999, not 3.10000014.
  const qkern::ChannelQuantParamsF64 p = qkern::ChannelQuantParamsF64::make(qkern::DType::int8, {0.1});
  const std::int8_t q31 = 31;
  float v = 0.0f;
  qkern::dequantize(&q31, &v, qkern::ChannelLayout{1, 1, 1}, p);
  EXPECT_EQ(v, static_cast<float>(31 * 0.1));
  EXPECT_NE(v, 31.0f * 0.1f);
}

TEST(ParityPerChannelF64, Errors) {
  qkern::ChannelQuantParamsF64 p = qkern::ChannelQuantParamsF64::make(qkern::DType::int8, {0.5, 1e-300});
  std::vector<float> x(4, 1.0f);
  std::vector<std::int8_t> q(4);
  EXPECT_THROW(qkern::quantize(x.data(), q.data(), qkern::ChannelLayout{1, 2, 2}, p), qkern::InvalidArgument);
  p.scale[1] = 0.25;
  EXPECT_THROW(qkern::quantize(x.data(), q.data(), qkern::ChannelLayout{1, 3, 1}, p), qkern::InvalidArgument);
  std::vector<std::uint8_t> u(4);
  EXPECT_THROW(qkern::dequantize(u.data(), x.data(), qkern::ChannelLayout{1, 2, 2}, p), qkern::InvalidArgument);
}

// The quantize half runs qkern's per-channel kernels: every arch gives torch's codes.
template <class A>
class ParityPerChannelF64Arch : public ::testing::Test {};
TYPED_TEST_SUITE(ParityPerChannelF64Arch, qkern_test::AllArchs, qkern_test::ArchNames);

TYPED_TEST(ParityPerChannelF64Arch, KernelCodesEqualTorch) {
  using A = TypeParam;
  QKERN_SKIP_UNLESS_CPU_RUNS(A);
  for (const Case& c : cases()) {
    const qkern::detail::ChannelConstantsStorage k(c.params.rounded());
    if (c.params.dtype == qkern::DType::int8) {
      std::vector<std::int8_t> q(c.x.size());
      qkern_test::kernel_for<qkern::kernels::f32_s8_quantize_channels, A>(c.x.data(), q.data(), c.layout, k.view);
      EXPECT_EQ(as_ints(q), c.codes);
    } else {
      std::vector<std::uint8_t> q(c.x.size());
      qkern_test::kernel_for<qkern::kernels::f32_u8_quantize_channels, A>(c.x.data(), q.data(), c.layout, k.view);
      EXPECT_EQ(as_ints(q), c.codes);
    }
  }
}

}  // namespace
