// qkern tests — SPDX-License-Identifier: Apache-2.0
//
// test_readme_example.cpp: the usage example of README.md, compiled and run as a test. Keep the two
// in sync (the README block is copied from between the markers).
#include <gtest/gtest.h>

// README-EXAMPLE-BEGIN
#include <cstdint>
#include <qkern/qkern.hpp>
#include <vector>

std::vector<std::int8_t> quantize_activations(const std::vector<float>& x) {
  // One pass over the data: range of the finite values, NaN/Inf counted.
  const qkern::MinMax range = qkern::minmax(x.data(), x.size());
  // Parameters the way PyTorch's MinMaxObserver would compute them (affine int8).
  const qkern::QuantParams p =
      qkern::choose_params(range, qkern::DType::int8, {qkern::Scheme::affine}, qkern::Convention::pytorch);
  std::vector<std::int8_t> q(x.size());
  qkern::quantize(x.data(), q.data(), x.size(), p);  // SIMD, best instruction set available
  return q;
}
// README-EXAMPLE-END

TEST(ReadmeExample, QuantizesToTheFullInt8Range) {
  std::vector<float> x = {-1.0f, -0.5f, 0.0f, 0.25f, 3.0f};
  const auto q = quantize_activations(x);
  ASSERT_EQ(q.size(), x.size());
  EXPECT_EQ(q.front(), -128);
  EXPECT_EQ(q.back(), 127);
}
