// qkern — SPDX-License-Identifier: Apache-2.0
//
// layout.hpp: ChannelLayout, the one shape model for per-channel work on any axis of any rank.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "qkern/core/abi.hpp"
#include "qkern/core/error.hpp"

namespace qkern {

/// (A kernel-signature type: outside the ABI namespace, members always inlined; core/abi.hpp.)
/// A contiguous row-major tensor seen as outer x channels x inner, the channel axis in the middle.
/// NCHW with axis 1 is {N, C, H*W}; NHWC with axis 3 is {N*H*W, C, 1}; OIHW weights with axis 0
/// are {1, O, I*H*W}. Element (o, c, i) is at offset (o * channels + c) * inner + i.
struct ChannelLayout {
  std::size_t outer = 1;
  std::size_t channels = 1;
  std::size_t inner = 1;

  QKERN_ALWAYS_INLINE std::size_t size() const { return outer * channels * inner; }

  /// Layout of `shape` with the channel axis `axis`. A negative axis counts from the end, as in
  /// ONNX ([-rank, rank-1]). Throws InvalidArgument naming "axis" when it is out of range.
  QKERN_ALWAYS_INLINE static ChannelLayout from_shape(const std::vector<std::size_t>& shape, int axis) {
    const int rank = static_cast<int>(shape.size());
    if (rank == 0) detail::throw_invalid("shape", "per-channel work needs a tensor of rank >= 1");
    if (axis < -rank || axis >= rank)
      detail::throw_invalid("axis",
                            "axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
    if (axis < 0) axis += rank;
    ChannelLayout l;
    l.outer = 1;
    l.inner = 1;
    for (int d = 0; d < axis; ++d) l.outer *= shape[static_cast<std::size_t>(d)];
    l.channels = shape[static_cast<std::size_t>(axis)];
    for (int d = axis + 1; d < rank; ++d) l.inner *= shape[static_cast<std::size_t>(d)];
    return l;
  }
};

}  // namespace qkern
