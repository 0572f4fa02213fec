// qkern tests — SPDX-License-Identifier: Apache-2.0
//
// test_readme_fold_example.cpp: the BatchNorm-folding example of README.md, compiled and run as a
// test. Keep the two in sync (the README block is copied from between the markers).
#include <gtest/gtest.h>

// README-FOLD-EXAMPLE-BEGIN
#include <cstdio>
#include <qkern/qkern.hpp>
#include <vector>

// Conv2d(16 -> 32, 3x3) without bias, weights [32, 16, 3, 3] (PyTorch OIHW), then BatchNorm2d(32).
qkern::FoldedWeights fold_conv_bn(const std::vector<float>& conv_weight, const qkern::BatchNormParams& bn) {
  const qkern::WeightSpec spec{{32, 16, 3, 3}, qkern::WeightLayout::oihw, /*groups=*/1};
  // W' = W * gamma / sqrt(var + eps) per output channel; the missing bias is created.
  qkern::FoldedWeights folded = qkern::fold_batchnorm(conv_weight.data(), spec, /*bias=*/nullptr, bn);
  // Which output channels did folding make hard to quantize per tensor?
  const qkern::FoldRangeReport report = qkern::report_fold_ranges(conv_weight.data(), folded.weight.data(), spec);
  std::printf("spread before %.1f, after %.1f, %zu wide channel(s)\n", report.before.spread_ratio,
              report.after.spread_ratio, report.after.wide_channels.size());
  return folded;
}
// README-FOLD-EXAMPLE-END

TEST(ReadmeFoldExample, FoldsAndReports) {
  std::vector<float> w(32 * 16 * 9);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(int(i % 7) - 3) * 0.1f;
  qkern::BatchNormParams bn;
  bn.gamma.assign(32, 1.0f);
  bn.beta.assign(32, 0.5f);
  bn.mean.assign(32, 0.25f);
  bn.var.assign(32, 1.0f);
  bn.var[3] = 1e-6f;
  bn.eps = 0.0;
  const qkern::FoldedWeights f = fold_conv_bn(w, bn);
  ASSERT_EQ(f.bias.size(), 32u);
  EXPECT_FLOAT_EQ(f.bias[0], 0.25f);  // (0 - 0.25) * 1 + 0.5
  EXPECT_FLOAT_EQ(f.weight[3 * 144], w[3 * 144] * 1000.0f);
}
