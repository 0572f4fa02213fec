// qkern — SPDX-License-Identifier: Apache-2.0
//
// batchnorm.hpp: BatchNorm in inference form, as a per-channel scale/shift and folded into the
// weights and bias of the conv / linear / conv-transpose layer before it. Derivation:
// docs/batchnorm-folding.md.
#pragma once

#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "qkern/core/abi.hpp"
#include "qkern/core/error.hpp"
#include "qkern/fold/weight_layout.hpp"
#include "qkern/simd/float_env.hpp"

namespace qkern {
inline namespace QKERN_ABI_NS {

/// BatchNorm in inference mode: y = (x - mean) / sqrt(var + eps) * gamma + beta, per channel.
/// An empty `gamma` means gamma = 1 and an empty `beta` means beta = 0 (BatchNorm without affine
/// parameters; PyTorch's affine=False). `eps` is the layer's own eps, added inside the square root.
struct BatchNormParams {
  std::vector<float> gamma;  ///< weight; empty = 1
  std::vector<float> beta;   ///< bias; empty = 0
  std::vector<float> mean;   ///< running mean
  std::vector<float> var;    ///< running variance
  double eps = 1e-5;         ///< PyTorch's default; pass the layer's value

  std::size_t channels() const { return mean.size(); }
  bool affine() const { return !gamma.empty() || !beta.empty(); }
};

/// Throws InvalidArgument naming the offending member unless `bn` is a usable BatchNorm:
/// "bn.mean" when empty or holding a NaN / Inf; "bn.var" on a size mismatch with mean, a NaN /
/// Inf, a negative variance, or var + eps <= 0 (var = 0 with eps = 0); "bn.gamma" / "bn.beta"
/// when non-empty with a size other than mean's, or holding a NaN / Inf; "bn.eps" when eps is
/// negative or not finite; "bn.gamma" when gamma / sqrt(var + eps) overflows float32. A zero or
/// negative gamma is legal (the fold flips the sign of the channel). Fault catalogue BN-5, BN-6.
inline void validate(const BatchNormParams& bn) {
  const std::size_t c = bn.mean.size();
  if (c == 0) detail::throw_invalid("bn.mean", "is empty: a BatchNorm needs at least one channel");
  auto check_size = [c](const std::vector<float>& v, const char* name, bool optional) {
    if (v.size() == c || (optional && v.empty())) return;
    detail::throw_invalid(name, "has " + std::to_string(v.size()) + " entries but bn.mean has " + std::to_string(c) +
                                    (optional ? " (empty means non-affine)" : ""));
  };
  check_size(bn.var, "bn.var", false);
  check_size(bn.gamma, "bn.gamma", true);
  check_size(bn.beta, "bn.beta", true);
  auto check_finite = [](const std::vector<float>& v, const char* name) {
    for (std::size_t i = 0; i < v.size(); ++i)
      if (!::qkern::detail::is_finite(v[i]))
        detail::throw_invalid(name, "[" + std::to_string(i) + "] is " + std::to_string(v[i]) + ", must be finite");
  };
  check_finite(bn.mean, "bn.mean");
  check_finite(bn.var, "bn.var");
  check_finite(bn.gamma, "bn.gamma");
  check_finite(bn.beta, "bn.beta");
  if (!(bn.eps >= 0.0) || !::qkern::detail::is_finite(bn.eps))
    detail::throw_invalid("bn.eps", "must be finite and >= 0, got " + std::to_string(bn.eps));
  for (std::size_t i = 0; i < c; ++i) {
    const std::string at = "[" + std::to_string(i) + "] = " + std::to_string(bn.var[i]);
    if (bn.var[i] < 0.0f) detail::throw_invalid("bn.var", at + " is negative: a variance cannot be");
    if (!(double(bn.var[i]) + bn.eps > 0.0))
      detail::throw_invalid("bn.var", at + " with eps " + std::to_string(bn.eps) +
                                          " gives var + eps <= 0: the channel has no finite scale");
    const double g = bn.gamma.empty() ? 1.0 : double(bn.gamma[i]);
    if (!(std::fabs(g / std::sqrt(double(bn.var[i]) + bn.eps)) <= std::numeric_limits<float>::max()))
      detail::throw_invalid("bn.gamma", "[" + std::to_string(i) + "] / sqrt(var + eps) overflows float32");
  }
}

/// BatchNorm as y = x * scale + shift per channel.
struct ScaleShift {
  std::vector<float> scale;
  std::vector<float> shift;
};

namespace detail {

// scale = gamma / sqrt(var + eps) and shift = beta - mean * scale, in double. Assumes validate(bn).
inline void bn_scale_shift_double(const BatchNormParams& bn, std::vector<double>& scale, std::vector<double>& shift) {
  const std::size_t c = bn.channels();
  scale.resize(c);
  shift.resize(c);
  for (std::size_t i = 0; i < c; ++i) {
    const double g = bn.gamma.empty() ? 1.0 : double(bn.gamma[i]);
    const double b = bn.beta.empty() ? 0.0 : double(bn.beta[i]);
    scale[i] = g / std::sqrt(double(bn.var[i]) + bn.eps);
    shift[i] = b - detail::fp_mul(double(bn.mean[i]), scale[i]);  // no FMA, whatever the flags
  }
}

inline float to_float_checked(double v, const char* what, std::size_t index) {
  const float f = static_cast<float>(v);
  if (!::qkern::detail::is_finite(f))
    detail::throw_data(std::string(what) + "[" + std::to_string(index) + "] = " + std::to_string(v) +
                       " overflows float32 after folding");
  return f;
}

inline void require_finite_array(const float* x, std::size_t n, const char* name) {
  for (std::size_t i = 0; i < n; ++i)
    if (!::qkern::detail::is_finite(x[i]))
      throw_invalid(name, "[" + std::to_string(i) + "] is " + std::to_string(x[i]) + ", must be finite");
}

inline void validate_fold_inputs(const float* weight, const WeightSpec& spec, const float* bias, std::size_t bias_size,
                                 std::size_t bn_channels, std::size_t layer_channels, const char* side) {
  validate(spec);
  if (weight == nullptr) throw_invalid("weight", "is null");
  if (bn_channels != layer_channels)
    throw_invalid("bn.mean", "has " + std::to_string(bn_channels) + " channels but the layer has " +
                                 std::to_string(layer_channels) + " " + side + " channels (layout " +
                                 layout_name(spec.layout) + ", groups " + std::to_string(spec.groups) + ")");
  if (bias != nullptr && bias_size != spec.out_channels())
    throw_invalid("bias", "has " + std::to_string(bias_size) + " entries but the layer has " +
                              std::to_string(spec.out_channels()) + " output channels");
  require_finite_array(weight, spec.size(), "weight");
  if (bias != nullptr) require_finite_array(bias, bias_size, "bias");
}

}  // namespace detail

/// The per-channel scale and shift of `bn`: scale = gamma / sqrt(var + eps), shift = beta - mean *
/// scale, computed in double and rounded once to float. For emulators that keep BatchNorm as a
/// separate per-channel affine op. Throws as validate(bn); DataError if a shift overflows float32.
inline ScaleShift bn_as_scale_shift(const BatchNormParams& bn) {
  validate(bn);
  simd::FloatEnvironmentGuard env;
  std::vector<double> scale, shift;
  detail::bn_scale_shift_double(bn, scale, shift);
  ScaleShift r;
  r.scale.resize(scale.size());
  r.shift.resize(shift.size());
  for (std::size_t i = 0; i < scale.size(); ++i) {
    r.scale[i] = detail::to_float_checked(scale[i], "scale", i);
    r.shift[i] = detail::to_float_checked(shift[i], "shift", i);
  }
  return r;
}

/// Weights and bias of a layer after folding.
struct FoldedWeights {
  std::vector<float> weight;  ///< same shape and layout as the input weight
  std::vector<float> bias;    ///< one entry per output channel (created when the layer had none)
};

/// Folds a BatchNorm that follows the layer (conv / linear / conv-transpose, any layout and group
/// count) into the layer's weights in place: every weight of output channel o is multiplied by
/// s[o] = gamma[o] / sqrt(var[o] + eps), and the bias becomes (b[o] - mean[o]) * s[o] + beta[o].
/// An empty `bias` is a layer without bias (b = 0): it is resized to the output channel count
/// (BN-2). For iohw (ConvTranspose) output channel g*(O/groups) + j is axis 1 index j of the
/// input channels of group g (BN-4; PyTorch's own fold, pytorch#180995, gets groups > 1 wrong).
/// Arithmetic in double, each result rounded once to float.
/// Throws InvalidArgument: as validate(spec) and validate(bn); "bn.mean" when bn's channel count is
/// not spec.out_channels() (BN-5); "weight" when null or holding a NaN / Inf; "bias" on a size
/// other than out_channels or a NaN / Inf. DataError when a folded value overflows float32. On a
/// throw, nothing has been modified.
inline void fold_batchnorm_in_place(float* weight, const WeightSpec& spec, std::vector<float>& bias,
                                    const BatchNormParams& bn) {
  validate(bn);
  detail::validate_fold_inputs(weight, spec, bias.empty() ? nullptr : bias.data(), bias.size(), bn.channels(),
                               spec.out_channels(), "output");
  simd::FloatEnvironmentGuard env;
  std::vector<double> scale, shift;
  detail::bn_scale_shift_double(bn, scale, shift);
  const std::size_t o = spec.out_channels();
  // Compute everything before writing, so a DataError leaves the caller's tensors untouched.
  std::vector<float> new_bias(o);
  for (std::size_t c = 0; c < o; ++c) {
    const double b = bias.empty() ? 0.0 : double(bias[c]);
    const double beta = bn.beta.empty() ? 0.0 : double(bn.beta[c]);
    new_bias[c] = detail::to_float_checked(detail::fp_mul(b - double(bn.mean[c]), scale[c]) + beta, "bias", c);
  }
  detail::for_each_out_channel(
      spec, [&](std::size_t e, std::size_t c) { detail::to_float_checked(double(weight[e]) * scale[c], "weight", e); });
  detail::for_each_out_channel(
      spec, [&](std::size_t e, std::size_t c) { weight[e] = static_cast<float>(double(weight[e]) * scale[c]); });
  bias = std::move(new_bias);
}

/// As fold_batchnorm_in_place, out of place: `weight` holds spec.size() floats, `bias` is null for a
/// layer without bias or holds spec.out_channels() floats. Inputs are not modified.
inline FoldedWeights fold_batchnorm(const float* weight, const WeightSpec& spec, const float* bias,
                                    const BatchNormParams& bn) {
  validate(spec);
  if (weight == nullptr) detail::throw_invalid("weight", "is null");
  FoldedWeights r;
  r.weight.assign(weight, weight + spec.size());
  if (bias != nullptr) r.bias.assign(bias, bias + spec.out_channels());
  fold_batchnorm_in_place(r.weight.data(), spec, r.bias, bn);
  return r;
}

}  // namespace QKERN_ABI_NS
}  // namespace qkern
