// qkern — SPDX-License-Identifier: Apache-2.0
//
// forward_fold.hpp: folding a BatchNorm that comes *before* a conv / linear layer into that layer
// (AIMET's forward fold, fold_backward=False), with the padding caveat enforced rather than left to
// the caller. Derivation: docs/batchnorm-folding.md, "Forward fold".
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "qkern/core/abi.hpp"
#include "qkern/fold/batchnorm.hpp"

namespace qkern {
inline namespace QKERN_ABI_NS {

/// What the layer does at its borders. The forward fold is exact only when every tap of the kernel
/// reads a real input value.
enum class ConvPadding : std::uint8_t {
  none,   ///< no padding (or a Linear layer): the fold is exact
  zeros,  ///< zero padding: exact only when every BN shift beta - mean * scale is 0 (see below)
};

/// Folds a BatchNorm on the layer's *input* channels into the layer, in place:
///   W'[o, i, k] = W[o, i, k] * s[c(o, i)],   b'[o] = b[o] + sum_{i,k} W[o, i, k] * t[c(o, i)],
/// with s = gamma / sqrt(var + eps), t = beta - mean * s, and c(o, i) the input channel that in-axis
/// index i of output channel o reads (group-aware: c = (o / (O/groups)) * (I/groups) + i). The bias
/// sum is taken over the original weights in double. An empty `bias` is created (b = 0).
///
/// Padding caveat: a padded conv pads BN(x) with zeros, but after folding it pads x with zeros, and
/// BN(0) = t != 0; border outputs would then miss the sum of W * t over the taps that fall in the
/// padding. So with ConvPadding::zeros this function throws unless every t[c] is exactly 0. (AIMET
/// performs this fold regardless and relies on graph-level checks.)
///
/// Layouts oihw, ohwi and hwio only: for a transposed conv (iohw) the set of taps that reach an
/// output position depends on the position (borders, and stride > 1 everywhere), so no single bias
/// is exact; InvalidArgument "spec.layout".
/// Throws InvalidArgument as validate(spec), validate(bn); "bn.mean" when bn's channel count is not
/// spec.in_channels(); "weight" / "bias" as fold_batchnorm_in_place; "padding" as above. DataError
/// when a folded value overflows float32. On a throw, nothing has been modified.
inline void fold_batchnorm_forward_in_place(float* weight, const WeightSpec& spec, std::vector<float>& bias,
                                            const BatchNormParams& bn, ConvPadding padding) {
  validate(bn);
  detail::validate_fold_inputs(weight, spec, bias.empty() ? nullptr : bias.data(), bias.size(), bn.channels(),
                               spec.in_channels(), "input");
  if (spec.layout == WeightLayout::iohw)
    detail::throw_invalid("spec.layout",
                          "a BatchNorm before a transposed conv cannot be folded exactly: which taps reach an "
                          "output position depends on the position, so no per-channel bias absorbs the shift");
  simd::FloatEnvironmentGuard env;
  std::vector<double> scale, shift;
  detail::bn_scale_shift_double(bn, scale, shift);
  if (padding == ConvPadding::zeros)
    for (std::size_t c = 0; c < shift.size(); ++c)
      if (shift[c] != 0.0)
        detail::throw_invalid("padding", "the conv zero-pads, and channel " + std::to_string(c) +
                                             " has a BN shift beta - mean * scale = " + std::to_string(shift[c]) +
                                             " != 0: folded, the border outputs would be wrong");
  const std::size_t o = spec.out_channels();
  std::vector<double> acc(o);
  for (std::size_t c = 0; c < o; ++c) acc[c] = bias.empty() ? 0.0 : double(bias[c]);
  detail::for_each_channel_pair(spec, [&](std::size_t e, std::size_t oc, std::size_t ic) {
    acc[oc] += detail::fp_mul(double(weight[e]), shift[ic]);
    detail::to_float_checked(double(weight[e]) * scale[ic], "weight", e);
  });
  std::vector<float> new_bias(o);
  for (std::size_t c = 0; c < o; ++c) new_bias[c] = detail::to_float_checked(acc[c], "bias", c);
  detail::for_each_channel_pair(spec, [&](std::size_t e, std::size_t, std::size_t ic) {
    weight[e] = static_cast<float>(double(weight[e]) * scale[ic]);
  });
  bias = std::move(new_bias);
}

/// As fold_batchnorm_forward_in_place, out of place: `bias` is null for a layer without bias or
/// holds spec.out_channels() floats. Inputs are not modified.
inline FoldedWeights fold_batchnorm_forward(const float* weight, const WeightSpec& spec, const float* bias,
                                            const BatchNormParams& bn, ConvPadding padding) {
  validate(spec);
  if (weight == nullptr) detail::throw_invalid("weight", "is null");
  FoldedWeights r;
  r.weight.assign(weight, weight + spec.size());
  if (bias != nullptr) r.bias.assign(bias, bias + spec.out_channels());
  fold_batchnorm_forward_in_place(r.weight.data(), spec, r.bias, bn, padding);
  return r;
}

}  // namespace QKERN_ABI_NS
}  // namespace qkern
