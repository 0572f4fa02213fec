// qkern tests — SPDX-License-Identifier: Apache-2.0
//
// test_parity_fold.cpp: fold_batchnorm(..., FoldArithmetic::pytorch) is bit-identical to torch 1.13's
// fuse_conv_bn_weights / fuse_linear_bn_weights (tests/golden/data/parity_fold.txt) on grouped,
// depthwise, transposed and Linear layers with large running means; qkern's double fold differs.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "fit_golden_util.hpp"
#include "qkern/fold/torch_fold.hpp"

namespace {

using qkern_test::f32_from_hex;

std::vector<float> vec(const std::vector<std::string>& f) {
  std::vector<float> v;
  if (f.size() == 2 && f[1] == "-") return v;
  for (std::size_t i = 1; i < f.size(); ++i) v.push_back(f32_from_hex(f[i]));
  return v;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * 4) == 0);
}

TEST(ParityFold, BitIdenticalToTorchFusion) {
  const auto lines = qkern_test::golden_lines("parity_fold.txt");
  int cases = 0, qkern_differs = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (lines[i][0] != "F") continue;
    const auto& h = lines[i];
    const std::string name = h[1];
    qkern::WeightSpec spec;
    spec.layout = h[2] == "iohw" ? qkern::WeightLayout::iohw : qkern::WeightLayout::oihw;
    spec.groups = std::stoul(h[3]);
    for (std::size_t k = 1; k < lines[i + 1].size(); ++k) spec.shape.push_back(std::stoul(lines[i + 1][k]));
    const std::vector<float> w = vec(lines[i + 2]), b = vec(lines[i + 3]);
    qkern::BatchNormParams bn;
    bn.mean = vec(lines[i + 4]);
    bn.var = vec(lines[i + 5]);
    bn.gamma = vec(lines[i + 6]);
    bn.beta = vec(lines[i + 7]);
    bn.eps = qkern_test::f64_from_hex(h[4]);
    const std::vector<float> fw = vec(lines[i + 8]), fb = vec(lines[i + 9]);
    const qkern::FoldedWeights r =
        qkern::fold_batchnorm(w.data(), spec, b.empty() ? nullptr : b.data(), bn, qkern::FoldArithmetic::pytorch);
    EXPECT_TRUE(same_bits(r.weight, fw)) << name << " weight";
    EXPECT_TRUE(same_bits(r.bias, fb)) << name << " bias";
    const qkern::FoldedWeights q = qkern::fold_batchnorm(w.data(), spec, b.empty() ? nullptr : b.data(), bn);
    qkern_differs += !same_bits(q.weight, fw) || !same_bits(q.bias, fb);
    // in place, with the same arithmetic
    std::vector<float> wi = w, bi = b;
    qkern::fold_batchnorm_in_place(wi.data(), spec, bi, bn, qkern::FoldArithmetic::pytorch);
    EXPECT_TRUE(same_bits(wi, fw) && same_bits(bi, fb)) << name << " in place";
    ++cases;
  }
  EXPECT_GE(cases, 40);
  EXPECT_GT(qkern_differs, 0);  // the double fold is not torch's
}

TEST(ParityFold, ErrorsLeaveInputsUntouched) {
  qkern::WeightSpec spec{{2, 1}, qkern::WeightLayout::oihw, 1};
  std::vector<float> w = {1.0f, 2.0f}, b;
  qkern::BatchNormParams bn;
  bn.mean = {0.0f, 0.0f};
  bn.var = {1.0f, 1.0f};
  bn.gamma = {3e38f, 1.0f};
  std::vector<float> big = {1e10f, 1.0f};
  EXPECT_THROW(qkern::fold_batchnorm_in_place(big.data(), spec, b, bn, qkern::FoldArithmetic::pytorch),
               qkern::DataError);
  EXPECT_EQ(big[0], 1e10f);
  EXPECT_TRUE(b.empty());
  bn.var = {-1.0f, 1.0f};
  EXPECT_THROW(qkern::fold_batchnorm_in_place(w.data(), spec, b, bn, qkern::FoldArithmetic::pytorch),
               qkern::InvalidArgument);
}

}  // namespace
