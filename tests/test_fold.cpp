// qkern tests — SPDX-License-Identifier: Apache-2.0
//
// test_fold.cpp: BatchNorm folding. Fold-then-run against run-then-BN for every layer kind and
// layout through small scalar reference layers (BN-1..BN-4, BN-7), PyTorch golden vectors, every
// bad-input fault (BN-5, BN-6), the forward fold and its padding caveat, and the range report.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <ostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "arch_test_util.hpp"
#include "qkern/qkern.hpp"

namespace {

using qkern::BatchNormParams;
using qkern::ConvPadding;
using qkern::WeightLayout;
using qkern::WeightSpec;
using Dims = std::vector<std::size_t>;

std::size_t product(const Dims& d) {
  std::size_t n = 1;
  for (std::size_t v : d) n *= v;
  return n;
}

// Row-major multi-index of `flat` in `dims`.
Dims unravel(std::size_t flat, const Dims& dims) {
  Dims idx(dims.size());
  for (std::size_t d = dims.size(); d-- > 0;) {
    idx[d] = flat % dims[d];
    flat /= dims[d];
  }
  return idx;
}

// ---------------------------------------------------------------------------------------------
// Scalar reference layers, written from the textbook definitions (not from qkern's index helpers),
// one batch item, stride 1 for forward convs. T is the accumulation type: double for the
// reference, float for the fp32 pipeline.

// The kernel-axis extents of a weight.
Dims kernel_dims(const WeightSpec& s) {
  const Dims& sh = s.shape;
  switch (s.layout) {
    case WeightLayout::oihw:
    case WeightLayout::iohw:
      return Dims(sh.begin() + 2, sh.end());
    case WeightLayout::ohwi:
      return Dims(sh.begin() + 1, sh.end() - 1);
    case WeightLayout::hwio:
      return Dims(sh.begin(), sh.end() - 2);
  }
  return {};
}

// Flat weight index of (output channel o, in-group input index il, flat kernel index k) of a
// forward conv / linear weight.
std::size_t forward_weight_index(const WeightSpec& s, std::size_t o, std::size_t il, std::size_t k) {
  const std::size_t ipg = s.in_channels() / s.groups, kn = product(kernel_dims(s)), on = s.out_channels();
  switch (s.layout) {
    case WeightLayout::oihw:
      return (o * ipg + il) * kn + k;
    case WeightLayout::ohwi:
      return (o * kn + k) * ipg + il;
    case WeightLayout::hwio:
      return (k * ipg + il) * on + o;
    case WeightLayout::iohw:
      break;
  }
  ADD_FAILURE() << "not a forward layout";
  return 0;
}

// y[o, p] = b[o] + sum_{il, k} w[o, il, k] * xpad[g(o) * I/groups + il, p + k], x zero-padded by
// `pad` on every side of every spatial axis. x is [I, spatial...], y is [O, out spatial...].
template <class T>
std::vector<T> conv_forward(const std::vector<T>& x, const Dims& spatial, const std::vector<T>& w, const WeightSpec& s,
                            const std::vector<T>& bias, std::size_t pad, Dims* out_dims) {
  const Dims kd = kernel_dims(s);
  Dims od(spatial.size());
  for (std::size_t d = 0; d < spatial.size(); ++d) od[d] = spatial[d] + 2 * pad - kd[d] + 1;
  const std::size_t on = s.out_channels(), ipg = s.in_channels() / s.groups, opg = on / s.groups;
  const std::size_t np = product(od), kn = product(kd), xn = product(spatial);
  std::vector<T> y(on * np);
  for (std::size_t o = 0; o < on; ++o)
    for (std::size_t p = 0; p < np; ++p) {
      const Dims pi = unravel(p, od);
      T acc = bias.empty() ? T(0) : bias[o];
      for (std::size_t il = 0; il < ipg; ++il) {
        const std::size_t ic = (o / opg) * ipg + il;
        for (std::size_t k = 0; k < kn; ++k) {
          const Dims ki = unravel(k, kd);
          std::size_t xi = 0;
          bool inside = true;
          for (std::size_t d = 0; d < spatial.size(); ++d) {
            const std::size_t q = pi[d] + ki[d];  // position in the padded input
            if (q < pad || q >= pad + spatial[d]) inside = false;
            xi = xi * spatial[d] + (q - pad);
          }
          if (inside) acc += w[forward_weight_index(s, o, il, k)] * x[ic * xn + xi];
        }
      }
      y[o * np + p] = acc;
    }
  if (out_dims) *out_dims = od;
  return y;
}

// ConvTranspose (PyTorch semantics, padding 0): weight [I, O/groups, k...];
// y[g*(O/groups) + j, q*stride + k] += x[i, q] * w[i, j, k] for input channels i of group g.
template <class T>
std::vector<T> conv_transpose(const std::vector<T>& x, const Dims& spatial, const std::vector<T>& w,
                              const WeightSpec& s, const std::vector<T>& bias, std::size_t stride, Dims* out_dims) {
  const Dims kd = kernel_dims(s);
  Dims od(spatial.size());
  for (std::size_t d = 0; d < spatial.size(); ++d) od[d] = (spatial[d] - 1) * stride + kd[d];
  const std::size_t in = s.in_channels(), on = s.out_channels(), ipg = in / s.groups, opg = on / s.groups;
  const std::size_t np = product(od), kn = product(kd), xn = product(spatial);
  std::vector<T> y(on * np);
  for (std::size_t o = 0; o < on; ++o)
    for (std::size_t p = 0; p < np; ++p) y[o * np + p] = bias.empty() ? T(0) : bias[o];
  for (std::size_t i = 0; i < in; ++i)
    for (std::size_t j = 0; j < opg; ++j) {
      const std::size_t o = (i / ipg) * opg + j;
      for (std::size_t q = 0; q < xn; ++q) {
        const Dims qi = unravel(q, spatial);
        for (std::size_t k = 0; k < kn; ++k) {
          const Dims ki = unravel(k, kd);
          std::size_t p = 0;
          for (std::size_t d = 0; d < spatial.size(); ++d) p = p * od[d] + qi[d] * stride + ki[d];
          y[o * np + p] += x[i * xn + q] * w[(i * opg + j) * kn + k];
        }
      }
    }
  if (out_dims) *out_dims = od;
  return y;
}

// BatchNorm from its definition, (y - mean) / sqrt(var + eps) * gamma + beta, in double, on
// [C, positions].
std::vector<double> batchnorm_double(const std::vector<double>& y, std::size_t positions, const BatchNormParams& bn) {
  std::vector<double> r(y.size());
  for (std::size_t c = 0; c < bn.channels(); ++c) {
    const double g = bn.gamma.empty() ? 1.0 : bn.gamma[c], b = bn.beta.empty() ? 0.0 : bn.beta[c];
    for (std::size_t p = 0; p < positions; ++p)
      r[c * positions + p] = (y[c * positions + p] - bn.mean[c]) / std::sqrt(double(bn.var[c]) + bn.eps) * g + b;
  }
  return r;
}

// max over channels of (max_p |got - want| / max_p |want|): the error relative to the channel's
// output magnitude, so a channel with a small BN scale is judged on its own scale. A channel whose
// reference is all zero is judged by its absolute error.
double max_channel_rel_error(const std::vector<float>& got, const std::vector<double>& want, std::size_t channels) {
  const std::size_t np = want.size() / channels;
  double worst = 0.0;
  for (std::size_t c = 0; c < channels; ++c) {
    double err = 0.0, mag = 0.0;
    for (std::size_t p = 0; p < np; ++p) {
      err = std::max(err, std::fabs(double(got[c * np + p]) - want[c * np + p]));
      mag = std::max(mag, std::fabs(want[c * np + p]));
    }
    worst = std::max(worst, mag > 0.0 ? err / mag : err);
  }
  return worst;
}

std::vector<float> randn(std::mt19937& rng, std::size_t n, float sd) { return qkern_test::random_floats(rng, n, sd); }

std::vector<double> to_double(const std::vector<float>& v) { return std::vector<double>(v.begin(), v.end()); }

// Random BN parameters with variances over four decades (so eps up to 1e-3 matters, BN-1), means
// and betas of either sign, gammas of either sign.
BatchNormParams random_bn(std::mt19937& rng, std::size_t c, bool has_gamma, bool has_beta, double eps) {
  BatchNormParams bn;
  std::uniform_real_distribution<float> lv(-9.0f, 1.0f);
  bn.mean = randn(rng, c, 2.0f);
  bn.var.resize(c);
  for (auto& v : bn.var) v = std::exp(lv(rng));
  if (has_gamma) bn.gamma = randn(rng, c, 1.0f);
  if (has_beta) bn.beta = randn(rng, c, 1.0f);
  bn.eps = eps;
  return bn;
}

// ---------------------------------------------------------------------------------------------
// Fold-then-run vs run-then-BN, every layer kind (BN-7). The reference runs the original layer and
// the BN in double; the folded layer runs in float32, as a user would. Tolerance 1e-5 for all.

struct LayerCase {
  const char* name;
  WeightLayout layout;
  std::size_t in, out, groups;
  Dims kernel;         // kernel extents (empty for Linear)
  Dims spatial;        // input extents (empty for Linear)
  std::size_t stride;  // ConvTranspose only
  bool has_bias, has_gamma, has_beta;
  double eps;
};

// gtest prints a failing parameter with this instead of its bytes.
void PrintTo(const LayerCase& c, std::ostream* os) { *os << c.name; }

WeightSpec spec_of(const LayerCase& c) {
  WeightSpec s;
  s.layout = c.layout;
  s.groups = c.groups;
  const std::size_t ipg = c.in / c.groups, opg = c.out / c.groups;
  switch (c.layout) {
    case WeightLayout::oihw:
      s.shape = {c.out, ipg};
      s.shape.insert(s.shape.end(), c.kernel.begin(), c.kernel.end());
      break;
    case WeightLayout::ohwi:
      s.shape = {c.out};
      s.shape.insert(s.shape.end(), c.kernel.begin(), c.kernel.end());
      s.shape.push_back(ipg);
      break;
    case WeightLayout::hwio:
      s.shape = c.kernel;
      s.shape.push_back(ipg);
      s.shape.push_back(c.out);
      break;
    case WeightLayout::iohw:
      s.shape = {c.in, opg};
      s.shape.insert(s.shape.end(), c.kernel.begin(), c.kernel.end());
      break;
  }
  return s;
}

const LayerCase kLayerCases[] = {
    // name, layout, in, out, groups, kernel, spatial, stride, bias, gamma, beta, eps
    {"conv1d", WeightLayout::oihw, 3, 5, 1, {3}, {17}, 1, true, true, true, 1e-5},
    {"conv2d", WeightLayout::oihw, 4, 6, 1, {3, 2}, {7, 6}, 1, true, true, true, 1e-5},
    {"conv3d", WeightLayout::oihw, 3, 4, 1, {2, 3, 2}, {4, 5, 4}, 1, true, true, true, 1e-3},
    {"conv2d_eps0", WeightLayout::oihw, 3, 5, 1, {3, 3}, {6, 6}, 1, true, true, true, 0.0},
    {"conv2d_nobias", WeightLayout::oihw, 4, 6, 1, {3, 3}, {6, 6}, 1, false, true, true, 1e-5},
    {"conv2d_nonaffine", WeightLayout::oihw, 4, 6, 1, {3, 3}, {6, 6}, 1, true, false, false, 1e-5},
    {"conv2d_nobias_nonaffine", WeightLayout::oihw, 4, 6, 1, {3, 3}, {6, 6}, 1, false, false, false, 1e-3},
    {"conv2d_gamma_only", WeightLayout::oihw, 4, 6, 1, {3, 3}, {6, 6}, 1, true, true, false, 1e-5},
    {"conv2d_beta_only", WeightLayout::oihw, 4, 6, 1, {3, 3}, {6, 6}, 1, false, false, true, 1e-5},
    {"conv2d_groups2", WeightLayout::oihw, 4, 6, 2, {3, 3}, {6, 7}, 1, true, true, true, 1e-5},
    {"conv2d_groups3", WeightLayout::oihw, 6, 9, 3, {2, 2}, {5, 5}, 1, true, true, true, 1e-5},
    {"conv2d_depthwise", WeightLayout::oihw, 5, 5, 5, {3, 3}, {7, 7}, 1, true, true, true, 1e-5},
    {"conv2d_depthwise_m2", WeightLayout::oihw, 4, 8, 4, {3, 3}, {6, 6}, 1, false, true, true, 1e-5},
    {"conv1d_depthwise", WeightLayout::oihw, 6, 6, 6, {5}, {20}, 1, true, true, true, 1e-5},
    {"conv3d_groups2", WeightLayout::oihw, 4, 6, 2, {2, 2, 2}, {4, 4, 3}, 1, true, true, true, 1e-5},
    {"linear", WeightLayout::oihw, 12, 7, 1, {}, {}, 1, true, true, true, 1e-5},
    {"linear_nobias_nonaffine", WeightLayout::oihw, 9, 4, 1, {}, {}, 1, false, false, false, 1e-3},
    {"linear_in_out", WeightLayout::hwio, 12, 7, 1, {}, {}, 1, true, true, true, 1e-5},
    {"conv2d_hwio", WeightLayout::hwio, 4, 6, 1, {3, 3}, {6, 6}, 1, true, true, true, 1e-5},
    {"conv2d_hwio_groups2", WeightLayout::hwio, 4, 6, 2, {3, 2}, {6, 6}, 1, true, true, true, 1e-5},
    {"conv2d_hwio_depthwise_m3", WeightLayout::hwio, 3, 9, 3, {3, 3}, {6, 6}, 1, false, true, true, 1e-5},
    {"conv1d_hwio", WeightLayout::hwio, 3, 4, 1, {4}, {15}, 1, true, true, true, 1e-5},
    {"conv2d_ohwi", WeightLayout::ohwi, 4, 6, 1, {3, 3}, {6, 6}, 1, true, true, true, 1e-5},
    {"conv2d_ohwi_groups2", WeightLayout::ohwi, 4, 6, 2, {2, 3}, {6, 6}, 1, true, true, true, 1e-5},
    {"conv3d_ohwi", WeightLayout::ohwi, 3, 4, 1, {2, 2, 2}, {4, 4, 4}, 1, false, true, true, 1e-5},
    {"convtranspose1d", WeightLayout::iohw, 3, 5, 1, {3}, {9}, 2, true, true, true, 1e-5},
    {"convtranspose2d", WeightLayout::iohw, 4, 6, 1, {3, 3}, {4, 5}, 1, true, true, true, 1e-5},
    {"convtranspose2d_stride2", WeightLayout::iohw, 4, 6, 1, {3, 3}, {4, 4}, 2, true, true, true, 1e-3},
    {"convtranspose2d_groups2", WeightLayout::iohw, 4, 6, 2, {3, 3}, {4, 5}, 2, true, true, true, 1e-5},
    {"convtranspose2d_groups3_nobias_nonaffine",
     WeightLayout::iohw,
     6,
     3,
     3,
     {2, 2},
     {4, 4},
     1,
     false,
     false,
     false,
     1e-5},
    {"convtranspose2d_depthwise", WeightLayout::iohw, 5, 5, 5, {3, 3}, {4, 4}, 2, true, true, true, 1e-5},
    {"convtranspose2d_depthwise_m2", WeightLayout::iohw, 4, 8, 4, {3, 3}, {4, 4}, 1, true, true, true, 1e-5},
    {"convtranspose1d_depthwise", WeightLayout::iohw, 4, 4, 4, {3}, {7}, 2, false, true, true, 1e-3},
    {"convtranspose3d_depthwise", WeightLayout::iohw, 3, 3, 3, {2, 2, 2}, {3, 3, 2}, 1, true, true, true, 1e-5},
    {"convtranspose3d_groups2", WeightLayout::iohw, 4, 6, 2, {2, 2, 2}, {3, 3, 3}, 2, true, true, true, 1e-5},
};

struct RunResult {
  std::vector<double> want;  // run, then BN (double)
  std::vector<float> got;    // folded, then run (float32)
};

// Runs layer case `c` with weights `w` / bias `b` both ways; `fold` produces the folded weights.
RunResult run_both(const LayerCase& c, const WeightSpec& folded_spec, const std::vector<float>& x,
                   const std::vector<float>& w, const std::vector<float>& b, const BatchNormParams& bn,
                   const qkern::FoldedWeights& f) {
  const WeightSpec spec = spec_of(c);
  RunResult r;
  Dims od;
  if (c.layout == WeightLayout::iohw) {
    const std::vector<double> y =
        conv_transpose(to_double(x), c.spatial, to_double(w), spec, to_double(b), c.stride, &od);
    r.want = batchnorm_double(y, product(od), bn);
    r.got = conv_transpose(x, c.spatial, f.weight, folded_spec, f.bias, c.stride, &od);
  } else {
    const std::vector<double> y = conv_forward(to_double(x), c.spatial, to_double(w), spec, to_double(b), 0, &od);
    r.want = batchnorm_double(y, product(od), bn);
    r.got = conv_forward(x, c.spatial, f.weight, folded_spec, f.bias, 0, &od);
  }
  return r;
}

class FoldEquivalence : public ::testing::TestWithParam<LayerCase> {};

TEST_P(FoldEquivalence, FoldThenRunMatchesRunThenBatchNorm) {
  const LayerCase& c = GetParam();
  const WeightSpec spec = spec_of(c);
  ASSERT_NO_THROW(qkern::validate(spec));
  ASSERT_EQ(spec.out_channels(), c.out);
  ASSERT_EQ(spec.in_channels(), c.in);
  std::mt19937 rng(1234u + static_cast<unsigned>(c.out * 31 + c.in * 7 + c.groups));
  const std::vector<float> x = randn(rng, c.in * product(c.spatial), 1.0f);
  const std::vector<float> w = randn(rng, spec.size(), 0.5f);
  const std::vector<float> b = c.has_bias ? randn(rng, c.out, 1.0f) : std::vector<float>{};
  BatchNormParams bn = random_bn(rng, c.out, c.has_gamma, c.has_beta, c.eps);
  if (c.has_gamma) bn.gamma[0] = 0.0f;  // gamma = 0 is legal: the channel becomes the constant beta

  const qkern::FoldedWeights f = qkern::fold_batchnorm(w.data(), spec, c.has_bias ? b.data() : nullptr, bn);
  ASSERT_EQ(f.weight.size(), spec.size());
  ASSERT_EQ(f.bias.size(), c.out);  // created when the layer had none (BN-2)

  const RunResult r = run_both(c, spec, x, w, b, bn, f);
  const double err = max_channel_rel_error(r.got, r.want, c.out);
  std::printf("[ fold     ] %-42s max relative error %.3g\n", c.name, err);
  RecordProperty("max_rel_error", std::to_string(err));
  EXPECT_LE(err, 1e-5) << c.name;  // BN-7: the same tolerance for every layer kind

  // In place gives the same bits as out of place.
  std::vector<float> wi = w, bi = b;
  qkern::fold_batchnorm_in_place(wi.data(), spec, bi, bn);
  EXPECT_TRUE(qkern_test::bitwise_equal(wi.data(), f.weight.data(), wi.size(), w.data()));
  EXPECT_TRUE(qkern_test::bitwise_equal(bi.data(), f.bias.data(), bi.size(), f.bias.data()));
}

INSTANTIATE_TEST_SUITE_P(LayerKinds, FoldEquivalence, ::testing::ValuesIn(kLayerCases),
                         [](const ::testing::TestParamInfo<LayerCase>& i) { return std::string(i.param.name); });

// The equivalence test must be able to fail: scaling the wrong axis of a ConvTranspose weight (the
// ultralytics#25364 bug: treating [I, O, k, k] as [O, I, k, k] when I == O) is caught by a wide
// margin.
TEST(FoldEquivalenceControl, WrongAxisForConvTransposeIsDetected) {
  const LayerCase c{"ct", WeightLayout::iohw, 5, 5, 1, {3, 3}, {4, 4}, 1, true, true, true, 1e-5};
  const WeightSpec spec = spec_of(c);
  std::mt19937 rng(99);
  const std::vector<float> x = randn(rng, c.in * product(c.spatial), 1.0f);
  const std::vector<float> w = randn(rng, spec.size(), 0.5f);
  const std::vector<float> b = randn(rng, c.out, 1.0f);
  const BatchNormParams bn = random_bn(rng, c.out, true, true, c.eps);
  WeightSpec wrong = spec;
  wrong.layout = WeightLayout::oihw;  // same shape [5, 5, 3, 3], output axis taken as axis 0
  const qkern::FoldedWeights f = qkern::fold_batchnorm(w.data(), wrong, b.data(), bn);
  const RunResult r = run_both(c, spec, x, w, b, bn, f);
  EXPECT_GT(max_channel_rel_error(r.got, r.want, c.out), 1e-2);
}

// Grouped ConvTranspose where PyTorch's fold (pytorch#180995) scales axis 1 = O/groups with the
// first O/groups BN scales of every group: qkern's group-aware mapping differs from that, and only
// qkern's matches run-then-BN (the equivalence cases above).
TEST(FoldConvTranspose, GroupedMappingIsNotPyTorchBroadcast) {
  const LayerCase c{"ctg", WeightLayout::iohw, 4, 6, 2, {3, 3}, {4, 4}, 1, true, true, true, 1e-5};
  const WeightSpec spec = spec_of(c);  // [4, 3, 3, 3]
  std::mt19937 rng(7);
  const std::vector<float> x = randn(rng, c.in * product(c.spatial), 1.0f);
  const std::vector<float> w = randn(rng, spec.size(), 0.5f);
  const std::vector<float> b = randn(rng, c.out, 1.0f);
  const BatchNormParams bn = random_bn(rng, c.out, true, true, c.eps);
  const qkern::FoldedWeights f = qkern::fold_batchnorm(w.data(), spec, b.data(), bn);
  // Output channel 4 = group 1, j = 1: weights [2..3][1][k] carry scale[4], not scale[1].
  const qkern::ScaleShift ss = qkern::bn_as_scale_shift(bn);
  const std::size_t k = 9, opg = 3;
  for (std::size_t i = 2; i < 4; ++i)
    for (std::size_t kk = 0; kk < k; ++kk) {
      const std::size_t e = (i * opg + 1) * k + kk;
      EXPECT_EQ(f.weight[e],
                static_cast<float>(double(w[e]) * (double(bn.gamma[4]) / std::sqrt(double(bn.var[4]) + bn.eps))));
      if (ss.scale[4] != ss.scale[1]) {
        EXPECT_NE(f.weight[e], w[e] * ss.scale[1]);
      }
    }
  const RunResult r = run_both(c, spec, x, w, b, bn, f);
  EXPECT_LE(max_channel_rel_error(r.got, r.want, c.out), 1e-5);
}

// ---------------------------------------------------------------------------------------------
// Golden vectors from torch.nn.utils.fusion (tests/golden/generate_fold_golden.py).

std::vector<float> parse_hex_floats(std::istringstream& in) {
  std::size_t n = 0;
  in >> n;
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::string h;
    in >> h;
    v[i] = qkern_test::from_bits(static_cast<std::uint32_t>(std::stoul(h, nullptr, 16)));
  }
  return v;
}

struct GoldenCase {
  std::string name;
  WeightSpec spec;
  BatchNormParams bn;
  std::vector<float> weight, bias, folded_weight, folded_bias;
};

std::vector<GoldenCase> load_golden(const std::string& file) {
  const std::string path = std::string(QKERN_SOURCE_DIR) + "/tests/golden/data/" + file;
  std::ifstream f(path);
  EXPECT_TRUE(f.good()) << "cannot open " << path;
  std::vector<GoldenCase> cases;
  GoldenCase cur;
  std::string line;
  while (std::getline(f, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream in(line);
    std::string key;
    in >> key;
    if (key == "case")
      in >> cur.name;
    else if (key == "layout") {
      std::string l;
      in >> l;
      cur.spec.layout = l == "iohw" ? WeightLayout::iohw : WeightLayout::oihw;
    } else if (key == "groups")
      in >> cur.spec.groups;
    else if (key == "shape") {
      std::size_t d;
      while (in >> d) cur.spec.shape.push_back(d);
    } else if (key == "eps") {
      std::string h;
      in >> h;
      const std::uint64_t bits = std::stoull(h, nullptr, 16);
      std::memcpy(&cur.bn.eps, &bits, 8);
    } else if (key == "weight")
      cur.weight = parse_hex_floats(in);
    else if (key == "bias")
      cur.bias = parse_hex_floats(in);
    else if (key == "mean")
      cur.bn.mean = parse_hex_floats(in);
    else if (key == "var")
      cur.bn.var = parse_hex_floats(in);
    else if (key == "gamma")
      cur.bn.gamma = parse_hex_floats(in);
    else if (key == "beta")
      cur.bn.beta = parse_hex_floats(in);
    else if (key == "folded_weight")
      cur.folded_weight = parse_hex_floats(in);
    else if (key == "folded_bias")
      cur.folded_bias = parse_hex_floats(in);
    else if (key == "end") {
      cases.push_back(cur);
      cur = GoldenCase{};
    } else
      ADD_FAILURE() << "unknown key '" << key << "' in " << path;
  }
  return cases;
}

// Distance in units in the last place between two finite floats.
std::int64_t ulp_distance(float a, float b) {
  auto ordered = [](float f) {
    const std::int64_t i = static_cast<std::int32_t>(qkern_test::bits_of(f));
    return i < 0 ? std::int64_t{INT32_MIN} - i : i;
  };
  const std::int64_t d = ordered(a) - ordered(b);
  return d < 0 ? -d : d;
}

class FoldGolden : public ::testing::TestWithParam<const char*> {};

TEST_P(FoldGolden, MatchesPyTorchFuseWeights) {
  const std::vector<GoldenCase> cases = load_golden(GetParam());
  ASSERT_FALSE(cases.empty());
  for (const GoldenCase& g : cases) {
    SCOPED_TRACE(g.name);
    ASSERT_EQ(g.weight.size(), g.spec.size());
    const qkern::FoldedWeights f =
        qkern::fold_batchnorm(g.weight.data(), g.spec, g.bias.empty() ? nullptr : g.bias.data(), g.bn);
    ASSERT_EQ(f.weight.size(), g.folded_weight.size());
    ASSERT_EQ(f.bias.size(), g.folded_bias.size());
    // Tolerance: PyTorch computes in float32 (var + eps rounded, rsqrt as 1/sqrt: two roundings,
    // gamma * rsqrt rounded, then w * that rounded: four roundings of <= 0.5 ulp each), qkern in
    // double with one final rounding. So weights may differ by up to 2 ulp; we allow 4.
    std::int64_t worst_w = 0;
    for (std::size_t i = 0; i < f.weight.size(); ++i) {
      const std::int64_t d = ulp_distance(f.weight[i], g.folded_weight[i]);
      worst_w = std::max(worst_w, d);
      EXPECT_LE(d, 4) << "weight[" << i << "] qkern " << f.weight[i] << " torch " << g.folded_weight[i];
    }
    // The bias (b - mean) * scale + beta ends in an addition that can cancel, so its float32 error
    // is relative to the larger addend, not to the result: allow 4 ulp of max(|(b - mean) * s|, |beta|).
    double worst_b = 0.0;
    for (std::size_t c = 0; c < f.bias.size(); ++c) {
      const double s = (g.bn.gamma.empty() ? 1.0 : g.bn.gamma[c]) / std::sqrt(double(g.bn.var[c]) + g.bn.eps);
      const double t1 = std::fabs(((g.bias.empty() ? 0.0 : g.bias[c]) - g.bn.mean[c]) * s);
      const double t2 = g.bn.beta.empty() ? 0.0 : std::fabs(double(g.bn.beta[c]));
      const double ulp = std::ldexp(1.0, std::ilogb(std::max({t1, t2, 1e-30})) - 23);
      const double d = std::fabs(double(f.bias[c]) - double(g.folded_bias[c])) / ulp;
      worst_b = std::max(worst_b, d);
      EXPECT_LE(d, 4.0) << "bias[" << c << "] qkern " << f.bias[c] << " torch " << g.folded_bias[c];
    }
    std::printf("[ golden   ] %-42s weight max %lld ulp, bias max %.2f ulp of its larger addend\n", g.name.c_str(),
                static_cast<long long>(worst_w), worst_b);
  }
}

INSTANTIATE_TEST_SUITE_P(PyTorch, FoldGolden,
                         ::testing::Values("fold_conv2d.txt", "fold_linear.txt", "fold_convtranspose2d.txt"),
                         [](const ::testing::TestParamInfo<const char*>& i) {
                           std::string n = i.param;
                           return n.substr(5, n.size() - 9);  // fold_<name>.txt -> <name>
                         });

// ---------------------------------------------------------------------------------------------
// Scale / shift form.

TEST(BatchNormScaleShift, ExactSmallCase) {
  BatchNormParams bn;
  bn.gamma = {2.0f, -3.0f};
  bn.beta = {0.5f, 1.0f};
  bn.mean = {1.0f, -2.0f};
  bn.var = {3.0f, 15.0f};
  bn.eps = 1.0;  // sqrt(4) = 2, sqrt(16) = 4
  const qkern::ScaleShift s = qkern::bn_as_scale_shift(bn);
  EXPECT_EQ(s.scale, (std::vector<float>{1.0f, -0.75f}));
  EXPECT_EQ(s.shift, (std::vector<float>{-0.5f, 1.0f - 1.5f}));
}

TEST(BatchNormScaleShift, NonAffineDefaultsAreGammaOneBetaZero) {
  BatchNormParams bn;  // BN-3: gamma = 1 and beta = 0 (never beta = 1)
  bn.mean = {2.0f};
  bn.var = {4.0f};
  bn.eps = 0.0;
  const qkern::ScaleShift s = qkern::bn_as_scale_shift(bn);
  EXPECT_EQ(s.scale[0], 0.5f);
  EXPECT_EQ(s.shift[0], -1.0f);
}

TEST(BatchNormScaleShift, EpsIsInsideTheSquareRoot) {
  BatchNormParams bn;  // BN-1: var = 1e-4, eps = 1e-3: 1/sqrt(1.1e-3), not 1/(sqrt(1e-4) + 1e-3)
  bn.mean = {0.0f};
  bn.var = {1e-4f};
  bn.eps = 1e-3;
  const qkern::ScaleShift s = qkern::bn_as_scale_shift(bn);
  EXPECT_EQ(s.scale[0], static_cast<float>(1.0 / std::sqrt(double(1e-4f) + 1e-3)));
}

TEST(BatchNormScaleShift, MatchesRunningBatchNormOnData) {
  std::mt19937 rng(5);
  const BatchNormParams bn = random_bn(rng, 16, true, true, 1e-5);
  const qkern::ScaleShift s = qkern::bn_as_scale_shift(bn);
  const std::vector<float> y = randn(rng, 16 * 10, 3.0f);
  const std::vector<double> want = batchnorm_double(to_double(y), 10, bn);
  std::vector<float> got(y.size());
  for (std::size_t c = 0; c < 16; ++c)
    for (std::size_t p = 0; p < 10; ++p) got[c * 10 + p] = y[c * 10 + p] * s.scale[c] + s.shift[c];
  EXPECT_LE(max_channel_rel_error(got, want, 16), 1e-5);
}

// ---------------------------------------------------------------------------------------------
// Forward fold: BN before the layer.

class ForwardFold : public ::testing::TestWithParam<LayerCase> {};

// y = layer(BN(x)) in double vs layer'(x) in float32, no padding.
double forward_fold_error(const LayerCase& c, std::size_t pad, bool zero_shift, ConvPadding declared) {
  const WeightSpec spec = spec_of(c);
  std::mt19937 rng(4321u + static_cast<unsigned>(c.in * 13 + c.out));
  const std::vector<float> x = randn(rng, c.in * product(c.spatial), 1.0f);
  const std::vector<float> w = randn(rng, spec.size(), 0.5f);
  const std::vector<float> b = c.has_bias ? randn(rng, c.out, 1.0f) : std::vector<float>{};
  BatchNormParams bn = random_bn(rng, c.in, c.has_gamma, c.has_beta, c.eps);
  if (zero_shift) {
    std::fill(bn.mean.begin(), bn.mean.end(), 0.0f);
    bn.beta.clear();
  }
  const std::size_t positions = product(c.spatial);
  const std::vector<double> xbn = batchnorm_double(to_double(x), positions, bn);
  Dims od;
  const std::vector<double> want = conv_forward(xbn, c.spatial, to_double(w), spec, to_double(b), pad, &od);
  const qkern::FoldedWeights f =
      qkern::fold_batchnorm_forward(w.data(), spec, c.has_bias ? b.data() : nullptr, bn, declared);
  EXPECT_EQ(f.bias.size(), c.out);
  const std::vector<float> got = conv_forward(x, c.spatial, f.weight, spec, f.bias, pad, &od);
  return max_channel_rel_error(got, want, c.out);
}

TEST_P(ForwardFold, FoldedLayerMatchesLayerOfBatchNorm) {
  const LayerCase& c = GetParam();
  const double err = forward_fold_error(c, 0, false, ConvPadding::none);
  std::printf("[ fwd fold ] %-42s max relative error %.3g\n", c.name, err);
  EXPECT_LE(err, 1e-5) << c.name;
}

const LayerCase kForwardCases[] = {
    {"conv1d", WeightLayout::oihw, 3, 5, 1, {3}, {17}, 1, true, true, true, 1e-5},
    {"conv2d", WeightLayout::oihw, 4, 6, 1, {3, 2}, {7, 6}, 1, true, true, true, 1e-5},
    {"conv3d_nobias", WeightLayout::oihw, 3, 4, 1, {2, 3, 2}, {4, 5, 4}, 1, false, true, true, 1e-3},
    {"conv2d_groups2", WeightLayout::oihw, 4, 6, 2, {3, 3}, {6, 7}, 1, true, true, true, 1e-5},
    {"conv2d_depthwise_m2", WeightLayout::oihw, 4, 8, 4, {3, 3}, {6, 6}, 1, true, true, true, 1e-5},
    {"conv2d_nonaffine", WeightLayout::oihw, 4, 6, 1, {3, 3}, {6, 6}, 1, true, false, false, 1e-5},
    {"linear", WeightLayout::oihw, 12, 7, 1, {}, {}, 1, true, true, true, 1e-5},
    {"linear_in_out", WeightLayout::hwio, 12, 7, 1, {}, {}, 1, false, true, true, 1e-5},
    {"conv2d_hwio_groups2", WeightLayout::hwio, 4, 6, 2, {3, 2}, {6, 6}, 1, true, true, true, 1e-5},
    {"conv2d_hwio_depthwise_m3", WeightLayout::hwio, 3, 9, 3, {3, 3}, {6, 6}, 1, true, true, true, 1e-5},
    {"conv2d_ohwi_groups2", WeightLayout::ohwi, 4, 6, 2, {2, 3}, {6, 6}, 1, true, true, true, 1e-5},
};

INSTANTIATE_TEST_SUITE_P(LayerKinds, ForwardFold, ::testing::ValuesIn(kForwardCases),
                         [](const ::testing::TestParamInfo<LayerCase>& i) { return std::string(i.param.name); });

const LayerCase kPaddedConv{"padded", WeightLayout::oihw, 4, 6, 2, {3, 3}, {6, 6}, 1, true, true, true, 1e-5};

TEST(ForwardFoldPadding, ExactWithZeroPaddingWhenTheShiftIsZero) {
  EXPECT_LE(forward_fold_error(kPaddedConv, 1, true, ConvPadding::zeros), 1e-5);
}

TEST(ForwardFoldPadding, ZeroPaddingWithNonZeroShiftIsRefused) {
  try {
    forward_fold_error(kPaddedConv, 1, false, ConvPadding::zeros);
    ADD_FAILURE() << "expected InvalidArgument";
  } catch (const qkern::InvalidArgument& e) {
    EXPECT_EQ(e.argument(), "padding");
  }
}

// Why the refusal: folded anyway (declaring no padding), the border outputs are wrong.
TEST(ForwardFoldPadding, TheCaveatIsReal) {
  EXPECT_GT(forward_fold_error(kPaddedConv, 1, false, ConvPadding::none), 1e-2);
}

TEST(ForwardFoldPadding, TransposedConvIsRefused) {
  const WeightSpec spec{{4, 3, 3, 3}, WeightLayout::iohw, 1};
  std::vector<float> w(spec.size(), 1.0f), b;
  BatchNormParams bn;
  bn.mean.assign(4, 0.0f);
  bn.var.assign(4, 1.0f);
  try {
    qkern::fold_batchnorm_forward_in_place(w.data(), spec, b, bn, ConvPadding::none);
    ADD_FAILURE() << "expected InvalidArgument";
  } catch (const qkern::InvalidArgument& e) {
    EXPECT_EQ(e.argument(), "spec.layout");
  }
}

// ---------------------------------------------------------------------------------------------
// Bad inputs (BN-5, BN-6): each names its argument, and nothing is modified.

BatchNormParams good_bn(std::size_t c) {
  BatchNormParams bn;
  bn.gamma.assign(c, 1.5f);
  bn.beta.assign(c, 0.25f);
  bn.mean.assign(c, 0.5f);
  bn.var.assign(c, 2.0f);
  bn.eps = 1e-5;
  return bn;
}

void expect_fold_error(const BatchNormParams& bn, const WeightSpec& spec, std::vector<float> w, std::vector<float> b,
                       const std::string& argument) {
  const std::vector<float> w0 = w, b0 = b;
  try {
    qkern::fold_batchnorm_in_place(w.data(), spec, b, bn);
    ADD_FAILURE() << "expected InvalidArgument naming " << argument;
  } catch (const qkern::InvalidArgument& e) {
    EXPECT_EQ(e.argument(), argument) << e.what();
    EXPECT_NE(std::string(e.what()).find(argument), std::string::npos) << e.what();
  }
  // Bitwise: the inputs may hold NaN on purpose.
  EXPECT_TRUE(qkern_test::bitwise_equal(w.data(), w0.data(), w.size(), w0.data()));
  ASSERT_EQ(b.size(), b0.size());
  EXPECT_TRUE(qkern_test::bitwise_equal(b.data(), b0.data(), b.size(), b0.data()));
}

struct BadBn {
  const char* name;
  std::function<void(BatchNormParams&)> mutate;
  const char* argument;
};

TEST(FoldBadInput, BatchNormParametersNameTheirArgument) {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  const BadBn cases[] = {
      {"var 0 with eps 0",
       [](BatchNormParams& b) {
         b.var[1] = 0.0f;
         b.eps = 0.0;
       },
       "bn.var"},
      {"negative var", [](BatchNormParams& b) { b.var[2] = -1e-6f; }, "bn.var"},
      {"negative var, var + eps > 0",
       [](BatchNormParams& b) {
         b.var[0] = -1e-6f;
         b.eps = 1e-3;
       },
       "bn.var"},
      {"NaN var", [nan](BatchNormParams& b) { b.var[0] = nan; }, "bn.var"},
      {"Inf var", [inf](BatchNormParams& b) { b.var[3] = inf; }, "bn.var"},
      {"var size", [](BatchNormParams& b) { b.var.pop_back(); }, "bn.var"},
      {"NaN mean", [nan](BatchNormParams& b) { b.mean[1] = nan; }, "bn.mean"},
      {"-Inf mean", [inf](BatchNormParams& b) { b.mean[1] = -inf; }, "bn.mean"},
      {"NaN gamma", [nan](BatchNormParams& b) { b.gamma[2] = nan; }, "bn.gamma"},
      {"NaN beta", [nan](BatchNormParams& b) { b.beta[0] = nan; }, "bn.beta"},
      {"gamma size", [](BatchNormParams& b) { b.gamma.push_back(1.0f); }, "bn.gamma"},
      {"beta size", [](BatchNormParams& b) { b.beta.resize(2); }, "bn.beta"},
      {"negative eps", [](BatchNormParams& b) { b.eps = -1e-5; }, "bn.eps"},
      {"NaN eps", [](BatchNormParams& b) { b.eps = std::nan(""); }, "bn.eps"},
      {"scale overflows float",
       [](BatchNormParams& b) {
         b.gamma[0] = 3e38f;
         b.var[0] = 1e-6f;
       },
       "bn.gamma"},
      {"channel count != layer out channels", [](BatchNormParams& b) { b = good_bn(3); }, "bn.mean"},
      {"empty", [](BatchNormParams& b) { b = BatchNormParams{}; }, "bn.mean"},
  };
  const WeightSpec spec{{4, 2, 3, 3}, WeightLayout::oihw, 1};
  const std::vector<float> w(spec.size(), 0.5f), b(4, 0.1f);
  for (const BadBn& c : cases) {
    SCOPED_TRACE(c.name);
    BatchNormParams bn = good_bn(4);
    c.mutate(bn);
    expect_fold_error(bn, spec, w, b, c.argument);
    if (bn.channels() == 4) {  // the same validation guards the scale / shift form
      EXPECT_THROW(qkern::bn_as_scale_shift(bn), qkern::InvalidArgument);
    }
  }
}

TEST(FoldBadInput, NegativeAndZeroGammaAreLegal) {
  BatchNormParams bn = good_bn(4);  // BN-6: a sign flip or a dead channel is a legal BN
  bn.gamma = {-1.0f, 0.0f, -0.0f, 2.0f};
  const WeightSpec spec{{4, 3}, WeightLayout::oihw, 1};
  std::vector<float> w(12, 1.0f), b;
  EXPECT_NO_THROW(qkern::fold_batchnorm_in_place(w.data(), spec, b, bn));
  EXPECT_LT(w[0], 0.0f);
  EXPECT_EQ(w[3], 0.0f);
  EXPECT_EQ(b[1], 0.25f);  // a dead channel outputs beta
}

// BN-5: the channel count is checked against the layout's output axis, so a Linear weight given in
// the wrong orientation, or a grouped ConvTranspose read as if axis 1 held all O channels, is an
// error rather than a silent mis-fold.
TEST(FoldBadInput, ChannelCountMismatchTable) {
  struct Row {
    const char* name;
    WeightSpec spec;
    std::size_t bn_channels;
  };
  const Row rows[] = {
      {"linear [out, in] given BN(in)", {{7, 12}, WeightLayout::oihw, 1}, 12},
      {"linear [in, out] as oihw", {{12, 7}, WeightLayout::oihw, 1}, 7},
      {"linear [out, in] as hwio", {{7, 12}, WeightLayout::hwio, 1}, 7},
      {"conv2d hwio given BN(in)", {{3, 3, 4, 6}, WeightLayout::hwio, 1}, 4},
      {"ohwi given BN(in)", {{6, 3, 3, 4}, WeightLayout::ohwi, 1}, 4},
      {"grouped convtranspose, BN of axis 1 (O/groups)", {{4, 3, 3, 3}, WeightLayout::iohw, 2}, 3},
      {"convtranspose given BN(in)", {{4, 6, 3, 3}, WeightLayout::iohw, 1}, 4},
  };
  for (const Row& r : rows) {
    SCOPED_TRACE(r.name);
    expect_fold_error(good_bn(r.bn_channels), r.spec, std::vector<float>(r.spec.size(), 1.0f), {}, "bn.mean");
  }
  // Forward fold checks against the input channels instead.
  const WeightSpec conv{{6, 2, 3, 3}, WeightLayout::oihw, 2};  // I = 4
  std::vector<float> w(conv.size(), 1.0f), b;
  EXPECT_THROW(qkern::fold_batchnorm_forward_in_place(w.data(), conv, b, good_bn(6), ConvPadding::none),
               qkern::InvalidArgument);
  EXPECT_NO_THROW(qkern::fold_batchnorm_forward_in_place(w.data(), conv, b, good_bn(4), ConvPadding::none));
}

TEST(FoldBadInput, WeightSpecAndTensors) {
  const BatchNormParams bn = good_bn(4);
  expect_fold_error(bn, {{4}, WeightLayout::oihw, 1}, std::vector<float>(4, 1.0f), {}, "spec.shape");
  expect_fold_error(bn, {{4, 0, 3}, WeightLayout::oihw, 1}, std::vector<float>(1, 1.0f), {}, "spec.shape");
  expect_fold_error(bn, {{4, 2, 3}, WeightLayout::oihw, 0}, std::vector<float>(24, 1.0f), {}, "spec.groups");
  expect_fold_error(bn, {{4, 2, 3}, WeightLayout::oihw, 3}, std::vector<float>(24, 1.0f), {}, "spec.groups");
  expect_fold_error(bn, {{3, 2, 3}, WeightLayout::iohw, 2}, std::vector<float>(18, 1.0f), {}, "spec.groups");
  const WeightSpec spec{{4, 2, 3}, WeightLayout::oihw, 1};
  expect_fold_error(bn, spec, std::vector<float>(24, 1.0f), std::vector<float>(3, 0.0f), "bias");
  std::vector<float> w(24, 1.0f);
  w[17] = std::numeric_limits<float>::quiet_NaN();
  expect_fold_error(bn, spec, w, {}, "weight");
  std::vector<float> b(4, 0.0f);
  b[3] = std::numeric_limits<float>::infinity();
  expect_fold_error(bn, spec, std::vector<float>(24, 1.0f), b, "bias");
  std::vector<float> bias;
  try {
    qkern::fold_batchnorm_in_place(nullptr, spec, bias, bn);
    ADD_FAILURE();
  } catch (const qkern::InvalidArgument& e) {
    EXPECT_EQ(e.argument(), "weight");
  }
  EXPECT_THROW(qkern::fold_batchnorm(nullptr, spec, nullptr, bn), qkern::InvalidArgument);
}

TEST(FoldBadInput, OverflowAfterFoldingIsADataErrorAndModifiesNothing) {
  BatchNormParams bn = good_bn(2);
  bn.gamma[1] = 1e30f;  // scale 1e30 / sqrt(2): representable
  const WeightSpec spec{{2, 2}, WeightLayout::oihw, 1};
  std::vector<float> w{1.0f, 1.0f, 1.0f, 1e10f}, b{0.0f, 0.0f};
  const std::vector<float> w0 = w, b0 = b;
  EXPECT_THROW(qkern::fold_batchnorm_in_place(w.data(), spec, b, bn), qkern::DataError);
  EXPECT_EQ(w, w0);
  EXPECT_EQ(b, b0);
}

// ---------------------------------------------------------------------------------------------
// Range report.

TEST(FoldRangeReport, HandComputedChannels) {
  // oihw [4, 1, 3]: channel widths (widened to 0) 2, 1, 3, 40.
  const WeightSpec spec{{4, 1, 3}, WeightLayout::oihw, 1};
  const std::vector<float> w{-1.0f,  0.5f,  1.0f,   //
                             0.25f,  1.0f,  0.5f,   //
                             -3.0f,  -2.0f, -1.0f,  //
                             -40.0f, 0.0f,  -0.5f};
  const qkern::ChannelRangeReport r = qkern::report_channel_ranges(w.data(), spec, 10.0);
  ASSERT_EQ(r.channels.size(), 4u);
  EXPECT_EQ(r.channels[0].range.min, -1.0f);
  EXPECT_EQ(r.channels[0].range.max, 1.0f);
  EXPECT_EQ(r.channels[1].width(), 1.0);
  EXPECT_EQ(r.channels[2].absmax, 3.0f);
  EXPECT_EQ(r.channels[2].width(), 3.0);
  EXPECT_EQ(r.channels[3].absmax, 40.0f);
  EXPECT_EQ(r.median_width, 2.5);
  EXPECT_EQ(r.max_width, 40.0);
  EXPECT_EQ(r.spread_ratio, 16.0);
  EXPECT_EQ(r.wide_channels, (std::vector<std::size_t>{3}));
  EXPECT_EQ(qkern::report_channel_ranges(w.data(), spec, 20.0).wide_channels, std::vector<std::size_t>{});
}

// Group-aware output channels of every layout agree with a brute-force scan that derives each
// element's output channel from the textbook index formulas.
TEST(FoldRangeReport, MatchesBruteForceForEveryLayout) {
  const LayerCase cases[] = {
      {"oihw_g2", WeightLayout::oihw, 4, 6, 2, {3, 2}, {}, 1, true, true, true, 1e-5},
      {"ohwi_g2", WeightLayout::ohwi, 4, 6, 2, {3, 2}, {}, 1, true, true, true, 1e-5},
      {"hwio_g3", WeightLayout::hwio, 3, 9, 3, {2, 2}, {}, 1, true, true, true, 1e-5},
      {"iohw_g2", WeightLayout::iohw, 4, 6, 2, {3, 3}, {}, 1, true, true, true, 1e-5},
      {"iohw_dw", WeightLayout::iohw, 5, 10, 5, {2}, {}, 1, true, true, true, 1e-5},
  };
  std::mt19937 rng(11);
  for (const LayerCase& c : cases) {
    SCOPED_TRACE(c.name);
    const WeightSpec spec = spec_of(c);
    const std::vector<float> w = randn(rng, spec.size(), 1.0f);
    std::vector<float> mn(c.out, std::numeric_limits<float>::infinity()), mx(c.out, -mn[0]);
    const Dims kd = kernel_dims(spec);
    const std::size_t kn = product(kd), opg = c.out / c.groups, ipg = c.in / c.groups;
    auto visit = [&](std::size_t o, float v) {
      mn[o] = std::min(mn[o], v);
      mx[o] = std::max(mx[o], v);
    };
    if (c.layout == WeightLayout::iohw) {
      for (std::size_t i = 0; i < c.in; ++i)
        for (std::size_t j = 0; j < opg; ++j)
          for (std::size_t k = 0; k < kn; ++k) visit((i / ipg) * opg + j, w[(i * opg + j) * kn + k]);
    } else {
      for (std::size_t o = 0; o < c.out; ++o)
        for (std::size_t il = 0; il < ipg; ++il)
          for (std::size_t k = 0; k < kn; ++k) visit(o, w[forward_weight_index(spec, o, il, k)]);
    }
    const qkern::ChannelRangeReport r = qkern::report_channel_ranges(w.data(), spec);
    for (std::size_t o = 0; o < c.out; ++o) {
      EXPECT_EQ(r.channels[o].range.min, mn[o]) << o;
      EXPECT_EQ(r.channels[o].range.max, mx[o]) << o;
      EXPECT_EQ(r.channels[o].range.counts.finite, spec.size() / c.out) << o;
    }
  }
}

// The motivating case: BN-less weights look uniform, but one channel with a tiny running variance
// (a nearly dead channel, common in depthwise layers) becomes a wide-range outlier after folding.
TEST(FoldRangeReport, FoldingExposesWideChannels) {
  const WeightSpec spec{{8, 1, 3, 3}, WeightLayout::oihw, 8};  // depthwise 3x3
  std::mt19937 rng(3);
  const std::vector<float> w = randn(rng, spec.size(), 0.5f);
  BatchNormParams bn = good_bn(8);
  bn.var[5] = 1e-6f;  // scale ~ 1.5 / sqrt(1.1e-5) ~ 450 vs ~1.06 elsewhere
  const qkern::FoldedWeights f = qkern::fold_batchnorm(w.data(), spec, nullptr, bn);
  const qkern::FoldRangeReport r = qkern::report_fold_ranges(w.data(), f.weight.data(), spec);
  EXPECT_TRUE(r.before.wide_channels.empty());
  EXPECT_LT(r.before.spread_ratio, 10.0);
  EXPECT_EQ(r.after.wide_channels, (std::vector<std::size_t>{5}));
  EXPECT_GT(r.after.spread_ratio, 100.0);
  const std::string table = qkern::format_fold_range_report(r);
  EXPECT_NE(table.find(" *\n"), std::string::npos) << table;
  EXPECT_NE(table.find("1 wide channel(s)"), std::string::npos) << table;
}

TEST(FoldRangeReport, NonFiniteWeightsAreCountedAndDegenerateSpread) {
  const WeightSpec spec{{3, 2}, WeightLayout::oihw, 1};
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> w{nan, 2.0f, 0.0f, 0.0f, 0.0f, 0.0f};
  const qkern::ChannelRangeReport r = qkern::report_channel_ranges(w.data(), spec);
  EXPECT_EQ(r.channels[0].range.counts.nan, 1u);
  EXPECT_EQ(r.channels[0].range.max, 2.0f);
  EXPECT_EQ(r.median_width, 0.0);
  EXPECT_EQ(r.spread_ratio, std::numeric_limits<double>::infinity());
  EXPECT_EQ(r.wide_channels, (std::vector<std::size_t>{0}));
  const std::vector<float> z(6, 0.0f);
  EXPECT_EQ(qkern::report_channel_ranges(z.data(), spec).spread_ratio, 1.0);
  EXPECT_TRUE(qkern::report_channel_ranges(z.data(), spec).wide_channels.empty());
}

TEST(FoldRangeReport, BadArguments) {
  const WeightSpec spec{{3, 2}, WeightLayout::oihw, 1};
  const std::vector<float> w(6, 1.0f);
  EXPECT_THROW(qkern::report_channel_ranges(w.data(), spec, 0.5), qkern::InvalidArgument);
  EXPECT_THROW(qkern::report_channel_ranges(w.data(), spec, std::nan("")), qkern::InvalidArgument);
  EXPECT_THROW(qkern::report_channel_ranges(nullptr, spec), qkern::InvalidArgument);
  EXPECT_THROW(qkern::report_channel_ranges(w.data(), WeightSpec{{6}, WeightLayout::oihw, 1}), qkern::InvalidArgument);
}

}  // namespace
