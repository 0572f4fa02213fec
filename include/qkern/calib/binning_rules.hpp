// qkern — SPDX-License-Identifier: Apache-2.0
//
// binning_rules.hpp: the bin another tool assigns a value to, on a uniform histogram over [lo, hi],
// exact per element (golden-tested on edge values against numpy 1.24 and torch 1.13):
//   * BinRule::qkern: qkern's kernels (calib/fixed_histogram.hpp): trunc((v - lo) * scale), scale =
//     float(bins / (double(hi) - double(lo))).
//   * BinRule::numpy / numpy_float64_range: np.histogram(a, bins, range=(lo, hi)) on float32 data
//     (numpy/lib/histograms.py, uniform-bin fast path): keep lo <= a <= hi (compared in float32);
//     i = trunc(float32(float32(a - lo) * float32(norm))), norm = bins / (hi - lo) in float64; i == bins
//     -> bins - 1; then one step down if a < edge[i], one step up if a >= edge[i + 1] (i < bins - 1),
//     where edge = np.linspace(lo, hi, bins + 1) cast to float32 (last edge = hi). `numpy` is the range
//     as float32 scalars (what ONNX Runtime and ModelOpt pass: it comes from a float32 array's
//     min/max): hi - lo in norm is a float32 subtraction; `numpy_float64_range` is a range of Python
//     floats: a float64 one. The edges are float64 linspace values in both (then cast to float32).
//   * BinRule::torch_histc: torch.histc(x, bins, min=lo, max=hi) on CPU float32 (ATen
//     HistogramKernel.cpp, LINEAR_INTERPOLATION): keep lo <= x <= hi; i = int64(float32(float32(x -
//     lo) * float32(bins)) / float32(hi - lo)), i == bins -> bins - 1. No edge correction.
// Values outside [lo, hi] (dropped by numpy and torch) are reported as below / above.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "qkern/core/abi.hpp"
#include "qkern/core/error.hpp"
#include "qkern/core/strict_float.hpp"

namespace qkern {
inline namespace QKERN_ABI_NS {
namespace detail {
namespace torch113 {

// torch.linspace(start, end, steps) in float32 on CPU (RangeFactoriesKernel.cpp linspace_kernel,
// AVX2 build): step = (end - start) / (steps - 1) in float32; first half start + step * i, second
// half end - step * (steps - 1 - i), each one fused multiply-add (the AVX2 build contracts them);
// vectors of 8 take every lane from their first index's formula: lane k = base + (k * step), two
// roundings (Vectorized<float>::arange); the last steps % 16 values are computed one by one.
// (Established against torch 1.13's output: tests/golden/data/parity_modelopt.txt 'L' lines.)
inline std::vector<float> linspace(float start, float end, std::size_t steps) {
  std::vector<float> out(steps);
  if (steps == 0) return out;
  if (steps == 1) {
    out[0] = start;
    return out;
  }
  const float step = strict::div(strict::sub(end, start), static_cast<float>(steps - 1));
  const std::size_t halfway = steps / 2;
  auto scalar = [&](std::size_t idx) -> float {
    if (idx < halfway) return strict::fma(step, static_cast<float>(idx), start);
    return strict::fma(-step, static_cast<float>(steps - idx - 1), end);
  };
  std::size_t i = 0;
  for (; i + 16 <= steps; i += 16)  // pairs of vectors (Loops.h vectorized_loop), then the tail
    for (std::size_t v = i; v < i + 16; v += 8) {
      const float base = scalar(v);
      out[v] = base;
      for (std::size_t k = 1; k < 8; ++k) out[v + k] = strict::add(base, strict::mul(static_cast<float>(k), step));
    }
  for (; i < steps; ++i) out[i] = scalar(i);
  return out;
}

}  // namespace torch113
}  // namespace detail

/// Whose formula maps a value to a bin of a uniform histogram (see the file comment).
enum class BinRule : std::uint8_t {
  qkern,                ///< qkern's SIMD kernels: trunc((v - lo) * float(bins / (hi - lo)))
  numpy,                ///< np.histogram, range given as float32 scalars (ONNX Runtime, ModelOpt numpy path)
  numpy_float64_range,  ///< np.histogram, range given as Python floats
  torch_histc,          ///< torch.histc (CPU, float32): ModelOpt's torch path, PyTorch HistogramObserver
};

inline const char* bin_rule_name(BinRule r) {
  switch (r) {
    case BinRule::qkern:
      return "qkern";
    case BinRule::numpy:
      return "numpy";
    case BinRule::numpy_float64_range:
      return "numpy_float64_range";
    case BinRule::torch_histc:
      return "torch_histc";
  }
  return "?";
}

/// A tool's binning of [lo, hi] into `bins` bins, precomputed. bin(v) returns the bin, or -1 below
/// lo and `bins` above hi (v finite). Throws InvalidArgument naming "lo"/"hi" (non-finite, lo >= hi,
/// width not representable) or "bins" (0 or above 2^24).
class ToolBinning {
 public:
  ToolBinning() = default;
  ToolBinning(BinRule rule, float lo, float hi, std::size_t bins) : rule_(rule), lo_(lo), hi_(hi), bins_(bins) {
    init(double(lo), double(hi));
  }

  /// np.histogram with a range of Python floats that need not be float32 values (e.g. numpy's own
  /// [v - 0.5, v + 0.5] for constant data): norm and edges from the float64 bounds, comparisons and
  /// the subtraction against their float32 roundings, as numpy does on float32 data.
  static ToolBinning numpy_python_range(double lo, double hi, std::size_t bins) {
    ToolBinning b;
    b.rule_ = BinRule::numpy_float64_range;
    b.lo_ = static_cast<float>(lo);
    b.hi_ = static_cast<float>(hi);
    b.bins_ = bins;
    b.init(lo, hi);
    return b;
  }

 private:
  void init(double lo64, double hi64) {
    const float lo = lo_, hi = hi_;
    const std::size_t bins = bins_;
    const BinRule rule = rule_;
    if (bins < 1 || bins > (std::size_t{1} << 24))
      detail::throw_invalid("bins", "must be in [1, 2^24], got " + std::to_string(bins));
    if (!strict::finite(lo)) detail::throw_invalid("lo", "must be finite");
    if (!strict::finite(hi)) detail::throw_invalid("hi", "must be finite");
    if (!(lo < hi) || !(lo64 < hi64)) detail::throw_invalid("hi", "must be greater than lo");
    using namespace strict;
    const double n = static_cast<double>(bins);
    switch (rule) {
      case BinRule::qkern:
        factor_ = static_cast<float>(div(n, sub(double(hi), double(lo))));
        break;
      case BinRule::torch_histc:  // histc's last edge is linspace's (see detail::torch113::histc)
        top_ = (bins + 1) % 16 == 0 ? detail::torch113::linspace(lo, hi, bins + 1).back() : hi;
        width_ = sub(top_, lo);
        factor_ = static_cast<float>(bins);
        break;
      case BinRule::numpy:
      case BinRule::numpy_float64_range: {
        const bool f32 = rule == BinRule::numpy;
        const double delta = f32 ? double(sub(hi, lo)) : sub(hi64, lo64);
        factor_ = static_cast<float>(div(n, delta));
        // np.linspace works in float64 whatever the range's type (asanyarray(lo) * 1.0 is float64)
        const double step = div(sub(hi64, lo64), n);
        edges_.resize(bins + 1);
        for (std::size_t k = 0; k < bins; ++k) edges_[k] = static_cast<float>(add(mul(double(k), step), lo64));
        edges_[bins] = hi;
        break;
      }
    }
    if (!strict::finite(factor_) || !(factor_ > 0.0f) || (rule == BinRule::torch_histc && !strict::finite(width_)))
      detail::throw_invalid("hi", "range [lo, hi] is too narrow or too wide for float32 bins");
  }

 public:
  BinRule rule() const { return rule_; }
  float lo() const { return lo_; }
  float hi() const { return hi_; }
  std::size_t bins() const { return bins_; }
  /// The float32 edges numpy compares with (numpy rules only; empty otherwise).
  const std::vector<float>& numpy_edges() const { return edges_; }

  /// The bin of finite v: -1 below lo, bins() above hi.
  std::int64_t bin(float v) const {
    if (v < lo_) return -1;
    if (v > (rule_ == BinRule::torch_histc ? top_ : hi_)) return static_cast<std::int64_t>(bins_);
    const std::int64_t last = static_cast<std::int64_t>(bins_) - 1;
    using namespace strict;
    switch (rule_) {
      case BinRule::torch_histc: {
        const float t = div(mul(sub(v, lo_), factor_), width_);
        const std::int64_t i = static_cast<std::int64_t>(t);
        return i > last ? last : i;
      }
      case BinRule::qkern: {
        const std::int64_t i = static_cast<std::int64_t>(mul(sub(v, lo_), factor_));
        return i > last ? last : i;
      }
      default: {
        std::int64_t i = static_cast<std::int64_t>(mul(sub(v, lo_), factor_));
        if (i > last) i = last;  // numpy: only i == bins is possible here
        if (i > 0 && v < edges_[static_cast<std::size_t>(i)]) --i;
        if (i < last && v >= edges_[static_cast<std::size_t>(i) + 1]) ++i;
        return i;
      }
    }
  }

 private:
  BinRule rule_ = BinRule::qkern;
  float lo_ = 0.0f, hi_ = 1.0f;
  std::size_t bins_ = 1;
  float factor_ = 1.0f, width_ = 1.0f, top_ = 1.0f;
  std::vector<float> edges_;
};

}  // namespace QKERN_ABI_NS
}  // namespace qkern
