// qkern — SPDX-License-Identifier: Apache-2.0
//
// weight_layout.hpp: WeightSpec, how a conv / linear / conv-transpose weight tensor is laid out in
// memory, and which output and input channel each of its elements belongs to (groups included).
// The algebra behind the index mapping is in docs/batchnorm-folding.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "qkern/core/abi.hpp"
#include "qkern/core/error.hpp"
#include "qkern/core/layout.hpp"

namespace qkern {
inline namespace QKERN_ABI_NS {

/// Memory layout of a weight tensor, named by its axes (O = output channels, I = input channels,
/// HW = any number of kernel axes, none for a Linear layer). Row-major, last axis contiguous.
enum class WeightLayout : std::uint8_t {
  oihw,  ///< [O, I/groups, k...]: PyTorch / ONNX Conv1d/2d/3d; Linear [out, in] (rank 2)
  ohwi,  ///< [O, k..., I/groups]: TFLite Conv2D; TFLite depthwise [1, kh, kw, C*M] is hwio-like
         ///< (see hwio); rank 2 is [out, in]
  hwio,  ///< [k..., I/groups, O]: TensorFlow / Keras Conv2D, Dense kernel [in, out] (rank 2).
         ///< TF DepthwiseConv2D [kh, kw, C, M] is this layout viewed as [kh, kw, 1, C*M], groups C
  iohw,  ///< [I, O/groups, k...]: PyTorch / ONNX ConvTranspose1d/2d/3d (note: O/groups, not O)
};

/// Name of a layout ("oihw", ...), for messages.
inline const char* layout_name(WeightLayout l) {
  switch (l) {
    case WeightLayout::oihw:
      return "oihw";
    case WeightLayout::ohwi:
      return "ohwi";
    case WeightLayout::hwio:
      return "hwio";
    case WeightLayout::iohw:
      return "iohw";
  }
  return "?";
}

/// Shape, layout and group count of a weight tensor. Grouped convolutions split both the input
/// and the output channels into `groups` equal parts; group g maps input channels
/// [g*I/groups, (g+1)*I/groups) to output channels [g*O/groups, (g+1)*O/groups). Depthwise is
/// groups == I (and O = I * multiplier).
struct WeightSpec {
  std::vector<std::size_t> shape;
  WeightLayout layout = WeightLayout::oihw;
  std::size_t groups = 1;

  /// Number of elements (product of the shape).
  std::size_t size() const {
    std::size_t n = 1;
    for (std::size_t d : shape) n *= d;
    return n;
  }
  /// Output channels of the layer (a BatchNorm after the layer has this many channels).
  std::size_t out_channels() const {
    switch (layout) {
      case WeightLayout::oihw:
      case WeightLayout::ohwi:
        return shape.front();
      case WeightLayout::hwio:
        return shape.back();
      case WeightLayout::iohw:
        return shape[1] * groups;
    }
    return 0;
  }
  /// Input channels of the layer (a BatchNorm before the layer has this many channels).
  std::size_t in_channels() const {
    switch (layout) {
      case WeightLayout::oihw:
        return shape[1] * groups;
      case WeightLayout::ohwi:
        return shape.back() * groups;
      case WeightLayout::hwio:
        return shape[shape.size() - 2] * groups;
      case WeightLayout::iohw:
        return shape.front();
    }
    return 0;
  }
  /// Product of the kernel (spatial) axes; 1 for a Linear layer.
  std::size_t kernel_size() const {
    std::size_t k = 1;
    const std::size_t r = shape.size();
    switch (layout) {
      case WeightLayout::oihw:
      case WeightLayout::iohw:
        for (std::size_t d = 2; d < r; ++d) k *= shape[d];
        break;
      case WeightLayout::ohwi:
        for (std::size_t d = 1; d + 1 < r; ++d) k *= shape[d];
        break;
      case WeightLayout::hwio:
        for (std::size_t d = 0; d + 2 < r; ++d) k *= shape[d];
        break;
    }
    return k;
  }
};

/// Throws InvalidArgument naming "spec.shape" (rank < 2 or a zero extent), "spec.groups" (zero,
/// or not dividing the grouped channel counts) unless `spec` describes a usable weight tensor.
inline void validate(const WeightSpec& spec) {
  if (spec.shape.size() < 2)
    detail::throw_invalid(
        "spec.shape", "a weight needs rank >= 2 ([out, in] at least), got rank " + std::to_string(spec.shape.size()));
  for (std::size_t d = 0; d < spec.shape.size(); ++d)
    if (spec.shape[d] == 0) detail::throw_invalid("spec.shape", "extent of axis " + std::to_string(d) + " is 0");
  if (spec.groups == 0) detail::throw_invalid("spec.groups", "must be >= 1");
  // The grouped axis holds (channels / groups); the other channel count must split evenly.
  const std::size_t full = spec.layout == WeightLayout::iohw ? spec.in_channels() : spec.out_channels();
  if (full % spec.groups != 0)
    detail::throw_invalid("spec.groups", std::to_string(full) + std::string(" ") +
                                             (spec.layout == WeightLayout::iohw ? "input" : "output") +
                                             " channels do not split into " + std::to_string(spec.groups) +
                                             " groups (layout " + layout_name(spec.layout) + ")");
}

namespace detail {

/// A run of a weight tensor seen as a ChannelLayout whose channel c is output channel
/// `first_channel + c`: the weight is the union of such blocks. One block for oihw / ohwi / hwio
/// (the output axis is a single axis); `groups` blocks for iohw, because there output channel
/// g*(O/groups) + j lives at [g*(I/groups) .. (g+1)*(I/groups)) x [j] x [k...].
struct OutChannelBlock {
  std::size_t offset = 0;
  ChannelLayout layout;
  std::size_t first_channel = 0;
};

inline std::vector<OutChannelBlock> out_channel_blocks(const WeightSpec& spec) {
  const std::size_t n = spec.size(), o = spec.out_channels();
  switch (spec.layout) {
    case WeightLayout::oihw:
    case WeightLayout::ohwi:
      return {OutChannelBlock{0, ChannelLayout{1, o, n / o}, 0}};
    case WeightLayout::hwio:
      return {OutChannelBlock{0, ChannelLayout{n / o, o, 1}, 0}};
    case WeightLayout::iohw:
      break;
  }
  const std::size_t g = spec.groups, i_per_g = spec.in_channels() / g, o_per_g = o / g, k = spec.kernel_size();
  std::vector<OutChannelBlock> blocks;
  blocks.reserve(g);
  for (std::size_t b = 0; b < g; ++b)
    blocks.push_back(OutChannelBlock{b * i_per_g * o_per_g * k, ChannelLayout{i_per_g, o_per_g, k}, b * o_per_g});
  return blocks;
}

/// Calls f(element_index, out_channel) for every element of the weight.
template <class F>
void for_each_out_channel(const WeightSpec& spec, F&& f) {
  for (const OutChannelBlock& b : out_channel_blocks(spec)) {
    const ChannelLayout& l = b.layout;
    for (std::size_t outer = 0; outer < l.outer; ++outer)
      for (std::size_t c = 0; c < l.channels; ++c) {
        const std::size_t base = b.offset + (outer * l.channels + c) * l.inner;
        for (std::size_t i = 0; i < l.inner; ++i) f(base + i, b.first_channel + c);
      }
  }
}

/// Calls f(element_index, out_channel, in_channel) for every element of a forward (non-transposed)
/// weight: the in-axis index il of output channel o is input channel (o / (O/groups)) * (I/groups) + il.
template <class F>
void for_each_channel_pair(const WeightSpec& spec, F&& f) {
  const std::size_t o_all = spec.out_channels(), i_per_g = spec.in_channels() / spec.groups;
  const std::size_t o_per_g = o_all / spec.groups, k_all = spec.kernel_size();
  auto in_channel = [&](std::size_t o, std::size_t il) { return (o / o_per_g) * i_per_g + il; };
  std::size_t e = 0;
  switch (spec.layout) {
    case WeightLayout::oihw:  // [O, I/g, K]
      for (std::size_t o = 0; o < o_all; ++o)
        for (std::size_t il = 0; il < i_per_g; ++il)
          for (std::size_t k = 0; k < k_all; ++k) f(e++, o, in_channel(o, il));
      return;
    case WeightLayout::ohwi:  // [O, K, I/g]
      for (std::size_t o = 0; o < o_all; ++o)
        for (std::size_t k = 0; k < k_all; ++k)
          for (std::size_t il = 0; il < i_per_g; ++il) f(e++, o, in_channel(o, il));
      return;
    case WeightLayout::hwio:  // [K, I/g, O]
      for (std::size_t k = 0; k < k_all; ++k)
        for (std::size_t il = 0; il < i_per_g; ++il)
          for (std::size_t o = 0; o < o_all; ++o) f(e++, o, in_channel(o, il));
      return;
    case WeightLayout::iohw:  // [I, O/g, K]: input channel is the leading axis
      for (std::size_t i = 0; i < spec.in_channels(); ++i)
        for (std::size_t j = 0; j < o_per_g; ++j)
          for (std::size_t k = 0; k < k_all; ++k) f(e++, (i / i_per_g) * o_per_g + j, i);
      return;
  }
}

}  // namespace detail
}  // namespace QKERN_ABI_NS
}  // namespace qkern
