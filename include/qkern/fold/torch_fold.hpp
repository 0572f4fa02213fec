// qkern — SPDX-License-Identifier: Apache-2.0
//
// torch_fold.hpp: BatchNorm folding with PyTorch's arithmetic, bit-identical to
// torch.nn.utils.fusion (torch 1.13; golden-tested in tests/test_parity_fold.cpp), as an option of
// fold_batchnorm. qkern's default (fold/batchnorm.hpp) computes in double and rounds once, which is
// closer to the exact fold; FoldArithmetic::pytorch reproduces torch's float32 sequence instead:
//   r = 1 / sqrt(var + float32(eps))                                     (torch.rsqrt, 2 roundings)
//   conv  (fuse_conv_bn_weights, rank > 2):   W' = W * (gamma * r);  b' = ((b - mean) * r) * gamma + beta
//   linear (fuse_linear_bn_weights, rank 2):  s = gamma * r;  W' = W * s;  b' = (b - mean) * s + beta
// every operation in float32. Absent bias = 0, absent gamma = 1, absent beta = 0 (as torch).
// Channel mapping: qkern's (correct for every layout and group count). For grouped ConvTranspose
// PyTorch 1.13 scales the wrong channels (pytorch/pytorch#180995); there qkern applies torch's
// arithmetic to the right channels, which is what the fix (PR #184076) computes.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "qkern/core/abi.hpp"
#include "qkern/core/error.hpp"
#include "qkern/core/strict_float.hpp"
#include "qkern/fold/batchnorm.hpp"
#include "qkern/fold/weight_layout.hpp"
#include "qkern/simd/float_env.hpp"

namespace qkern {
inline namespace QKERN_ABI_NS {

/// Whose arithmetic a BatchNorm fold uses.
enum class FoldArithmetic : std::uint8_t {
  qkern,    ///< double precision, one rounding per result (fold/batchnorm.hpp)
  pytorch,  ///< torch.nn.utils.fusion: float32, torch's order (conv for rank > 2, linear for rank 2)
};

namespace detail {

inline float torch_checked(float v, const char* what, std::size_t i) {
  if (!strict::finite(v))
    ::qkern::detail::raise(
        DataError(std::string(what) + "[" + std::to_string(i) + "] overflows float32 after folding"));
  return v;
}

}  // namespace detail

/// fold_batchnorm_in_place with a choice of arithmetic; FoldArithmetic::qkern is the double-precision
/// fold of fold/batchnorm.hpp. Throws as fold_batchnorm_in_place (also DataError when a folded value
/// is not finite in float32; torch would return Inf there). On a throw nothing has been modified.
inline void fold_batchnorm_in_place(float* weight, const WeightSpec& spec, std::vector<float>& bias,
                                    const BatchNormParams& bn, FoldArithmetic arithmetic) {
  if (arithmetic == FoldArithmetic::qkern) return fold_batchnorm_in_place(weight, spec, bias, bn);
  validate(bn);
  detail::validate_fold_inputs(weight, spec, bias.empty() ? nullptr : bias.data(), bias.size(), bn.channels(),
                               spec.out_channels(), "output");
  simd::FloatEnvironmentGuard env;
  using namespace strict;
  const bool linear = spec.shape.size() == 2;
  const float eps = static_cast<float>(bn.eps);
  const std::size_t o = spec.out_channels();
  std::vector<float> s(o), new_bias(o);
  for (std::size_t c = 0; c < o; ++c) {
    const float g = bn.gamma.empty() ? 1.0f : bn.gamma[c];
    const float beta = bn.beta.empty() ? 0.0f : bn.beta[c];
    const float b = bias.empty() ? 0.0f : bias[c];
    const float r = div(1.0f, strict::sqrt(add(bn.var[c], eps)));
    s[c] = mul(g, r);
    const float centred = sub(b, bn.mean[c]);
    new_bias[c] =
        detail::torch_checked(linear ? add(mul(centred, s[c]), beta) : add(mul(mul(centred, r), g), beta), "bias", c);
  }
  detail::for_each_out_channel(
      spec, [&](std::size_t e, std::size_t c) { detail::torch_checked(mul(weight[e], s[c]), "weight", e); });
  detail::for_each_out_channel(spec, [&](std::size_t e, std::size_t c) { weight[e] = mul(weight[e], s[c]); });
  bias = std::move(new_bias);
}

/// Out-of-place fold_batchnorm with a choice of arithmetic (inputs not modified).
inline FoldedWeights fold_batchnorm(const float* weight, const WeightSpec& spec, const float* bias,
                                    const BatchNormParams& bn, FoldArithmetic arithmetic) {
  validate(spec);
  if (weight == nullptr) detail::throw_invalid("weight", "is null");
  FoldedWeights r;
  r.weight.assign(weight, weight + spec.size());
  if (bias != nullptr) r.bias.assign(bias, bias + spec.out_channels());
  fold_batchnorm_in_place(r.weight.data(), spec, r.bias, bn, arithmetic);
  return r;
}

}  // namespace QKERN_ABI_NS
}  // namespace qkern
