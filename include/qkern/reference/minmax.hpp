// qkern — SPDX-License-Identifier: Apache-2.0
//
// reference/minmax.hpp: scalar definition of min/max and abs-max over the finite values.
#pragma once

#include <cstddef>
#include <vector>

#include "qkern/core/abi.hpp"
#include "qkern/core/layout.hpp"
#include "qkern/core/value_stats.hpp"
#include "qkern/reference/quantize.hpp"

namespace qkern {
namespace reference {
inline namespace QKERN_ABI_NS {

inline void count_value(float v, ValueCounts& c) {
  if (!is_nonfinite(v))
    ++c.finite;
  else if (is_nan(v))
    ++c.nan;
  else if (v > 0)
    ++c.pos_inf;
  else
    ++c.neg_inf;
}

inline MinMax minmax(const float* x, std::size_t n) {
  MinMax r;
  for (std::size_t i = 0; i < n; ++i) {
    count_value(x[i], r.counts);
    if (is_nonfinite(x[i])) continue;
    if (x[i] < r.min) r.min = x[i];
    if (x[i] > r.max) r.max = x[i];
  }
  if (r.min == 0.0f) r.min = 0.0f;  // +0.0 for either zero
  if (r.max == 0.0f) r.max = 0.0f;
  return r;
}

inline AbsMax absmax(const float* x, std::size_t n) {
  AbsMax r;
  for (std::size_t i = 0; i < n; ++i) {
    count_value(x[i], r.counts);
    if (is_nonfinite(x[i])) continue;
    const float a = std::fabs(x[i]);
    if (a > r.value) r.value = a;
  }
  return r;
}

/// Per-channel min/max of a fresh start (one MinMax per channel).
inline std::vector<MinMax> minmax(const float* x, const ChannelLayout& l) {
  std::vector<MinMax> r(l.channels);
  for (std::size_t o = 0; o < l.outer; ++o)
    for (std::size_t c = 0; c < l.channels; ++c) r[c].merge(minmax(x + (o * l.channels + c) * l.inner, l.inner));
  for (auto& m : r) {
    if (m.min == 0.0f) m.min = 0.0f;
    if (m.max == 0.0f) m.max = 0.0f;
  }
  return r;
}

inline std::vector<AbsMax> absmax(const float* x, const ChannelLayout& l) {
  std::vector<AbsMax> r(l.channels);
  for (std::size_t o = 0; o < l.outer; ++o)
    for (std::size_t c = 0; c < l.channels; ++c) r[c].merge(absmax(x + (o * l.channels + c) * l.inner, l.inner));
  return r;
}

}  // namespace QKERN_ABI_NS
}  // namespace reference
}  // namespace qkern
