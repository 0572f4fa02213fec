// qkern — SPDX-License-Identifier: Apache-2.0
//
// modelopt_histogram.hpp: ModelOpt's (TensorRT's) HistogramCalibrator collection rule and
// compute_amax, reproduced so amax equals ModelOpt's on the same stream (source read:
// NVIDIA/TensorRT-Model-Optimizer modelopt/torch/quantization/calib/histogram.py and
// tensor_quant.py at 0af26b2a6f975222718c6bdd914a047442150803; torch 1.13 CPU kernels for the
// torch path; golden-tested against a transcription running torch / numpy in
// tests/golden/generate_parity_golden.py):
//   * collect(x): |x| when min(x) < 0; skip_zeros drops exact zeros.
//   * torch path (torch_hist=True, the default): first batch histc(x, num_bins, 0, max) with edges
//     torch.linspace(0, max, num_bins + 1) (float32, torch's vectorised linspace); a later batch whose
//     max exceeds the last edge keeps the width w = edges[1] - edges[0], sets num_bins =
//     ceil(max / w) and edges = torch.arange(0, max + w, w) (which may hold an extra edge), then
//     histc(x, num_bins, 0, edges[-1]) and the old counts are added to the first bins. Counts are
//     float32 (exact up to 2^24 per bin) and truncated to int32 by compute_amax.
//   * numpy path (torch_hist=False): first batch np.histogram(x, num_bins) over [min, max] of the
//     batch (not from 0); growth appends np.arange(edges[-1] + w, max + w, w) (float32) edges; every
//     batch is then binned on the explicit edges (np.histogram's searchsorted rule; values below the
//     first edge are dropped). Counts int64.
//   * compute_amax: entropy and percentile return an edge of the calibrator's own float32 edges
//     (fit_entropy / percentile on a HistogramView carrying them); mse runs ModelOpt's CPU arithmetic
//     in float32 (centres (e[i] + e[i+1]) / 2, fake quant with scale = bound / amax, round half even,
//     clamp, divide; mean = torch's cascade sum / n), first minimum.
// Deviations (docs/porting.md): non-finite values are skipped and counted (ModelOpt's histc raises
// on NaN / Inf max); an empty batch is ignored; entropy's KL uses qkern's closed form (same argmin on
// the golden streams, ties within float64 noise could differ); per-bin counts above 2^24 match torch
// only for single-threaded histc.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "qkern/calib/binning_rules.hpp"
#include "qkern/calib/fit.hpp"
#include "qkern/calib/histogram_view.hpp"
#include "qkern/calib/torch_histogram.hpp"
#include "qkern/core/abi.hpp"
#include "qkern/core/error.hpp"
#include "qkern/core/strict_float.hpp"
#include "qkern/core/value_stats.hpp"
#include "qkern/simd/float_env.hpp"

namespace qkern {
inline namespace QKERN_ABI_NS {
namespace detail {
namespace torch113 {

// torch.arange(start, end, step) in float32 on CPU: size ceil((end - start) / step) in float64;
// values start + step * i in float64 rounded to float32; vectors of 8 round their first value to
// float32 and add k * step in float64 (Vectorized<float>::arange with a double step).
inline std::vector<float> arange(double start, double end, double step) {
  const double size_d = std::ceil(strict::div(strict::sub(end, start), step));
  if (!(size_d >= 0.0) || size_d > 4294967296.0)
    ::qkern::detail::raise(DataError("ModelOpt-compatible histogram: arange size out of range"));
  const std::size_t n = static_cast<std::size_t>(size_d);
  std::vector<float> out(n);
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16)  // pairs of vectors, then the tail
    for (std::size_t v = i; v < i + 16; v += 8) {
      const float base = static_cast<float>(strict::add(start, strict::mul(step, static_cast<double>(v))));
      for (std::size_t k = 0; k < 8; ++k)
        out[v + k] = static_cast<float>(strict::add(static_cast<double>(base), strict::mul(double(k), step)));
    }
  for (; i < n; ++i) out[i] = static_cast<float>(strict::add(start, strict::mul(step, static_cast<double>(i))));
  return out;
}

}  // namespace torch113

namespace numpy124 {

// np.arange(start, stop, step) on np.float32 scalars (ctors.c PyArray_ArangeObj): the result is
// float64 (the dtype is promoted with long); the length is ceil(float32((stop - start) / step)) and
// the second value float32(start + step), both computed on the float32 scalars; then DOUBLE_fill:
// start + i * (second - start) in float64. With float64 arguments (f64 = true) everything is float64.
template <class T>
inline std::vector<double> arange(T start, T stop, T step) {
  const T len_t = std::ceil(strict::div(strict::sub(stop, start), step));
  if (!(len_t >= T(0)) || len_t > T(4294967296.0))
    ::qkern::detail::raise(DataError("ModelOpt-compatible histogram: arange length out of range"));
  const std::size_t n = static_cast<std::size_t>(len_t);
  std::vector<double> out(n);
  if (n == 0) return out;
  out[0] = static_cast<double>(start);
  if (n == 1) return out;
  out[1] = static_cast<double>(strict::add(start, step));
  const double delta = strict::sub(out[1], out[0]);
  for (std::size_t i = 2; i < n; ++i) out[i] = strict::add(out[0], strict::mul(static_cast<double>(i), delta));
  return out;
}

// np.histogram(x, bins=edges) with explicit edges: bin k holds edges[k] <= v < edges[k+1], the last
// bin closed; values outside [edges[0], edges[-1]] are dropped. counts gets += .
inline void histogram_on_edges(const float* x, std::size_t n, const std::vector<double>& edges,
                               std::vector<std::uint64_t>& counts) {
  const std::size_t B = edges.size() - 1;
  for (std::size_t i = 0; i < n; ++i) {
    const double v = x[i];
    if (!(v >= edges.front() && v <= edges.back())) continue;
    std::size_t k = static_cast<std::size_t>(std::upper_bound(edges.begin(), edges.end(), v) - edges.begin());
    k = k == 0 ? 0 : k - 1;
    if (k >= B) k = B - 1;
    ++counts[k];
  }
}

}  // namespace numpy124

// ModelOpt _compute_amax_mse on CPU (float32 torch arithmetic): see the file comment.
inline float modelopt_mse_amax(const std::vector<float>& counts, const std::vector<double>& edges64, int num_bits,
                               bool unsigned_, std::size_t stride, std::size_t start_bin) {
  using namespace strict;
  const std::vector<float> edges(edges64.begin(), edges64.end());  // torch.from_numpy(edges).float()
  if (edges.size() != counts.size() + 1)
    ::qkern::detail::raise(
        DataError("ModelOpt mse: " + std::to_string(edges.size()) + " edges for " + std::to_string(counts.size()) +
                  " bins (ModelOpt's torch.arange added an edge; its mse raises a shape error here)"));
  const std::size_t B = counts.size();
  std::vector<float> centers(B), term(B);
  for (std::size_t i = 0; i < B; ++i) centers[i] = div(add(edges[i + 1], edges[i]), 2.0f);
  const float max_bound = static_cast<float>(std::ldexp(1.0, num_bits - 1 + (unsigned_ ? 1 : 0)) - 1.0);
  const float min_bound = unsigned_ ? 0.0f : -max_bound;
  const float n = static_cast<float>(B);
  float best = 0.0f;
  std::size_t best_i = B;
  for (std::size_t i = start_bin; i < B; i += stride) {
    const float amax = centers[i];
    float scale = div(max_bound, amax);
    const bool zero = amax <= 5.9604644775390625e-08f;  // 2^-24
    for (std::size_t j = 0; j < B; ++j) {
      float q = zero ? 0.0f : std::nearbyint(mul(centers[j], scale));
      q = q < min_bound ? min_bound : (q > max_bound ? max_bound : q);
      const float out = div(q, zero ? 1.0f : scale);
      const float d = sub(out, centers[j]);
      term[j] = mul(mul(d, d), counts[j]);
    }
    const float mse = div(torch113::sum(term.data(), B), n);
    if (best_i == B || mse < best) {  // np.argmin: the first minimum (NaN never wins here)
      best = mse;
      best_i = i;
    }
  }
  if (best_i == B)
    ::qkern::detail::raise(InvalidArgument("options.start_bin",
                                           "is past the last bin: ModelOpt's mse has no candidate (np.argmin of "
                                           "an empty list raises)"));
  return centers[best_i];
}

}  // namespace detail

/// Which of ModelOpt HistogramCalibrator's collection paths (its `torch_hist` argument).
enum class ModelOptPath : std::uint8_t {
  torch_histc,  ///< torch_hist=True (default): bins from 0, float32 linspace / arange edges
  numpy,        ///< torch_hist=False: np.histogram over [min, max] of the first batch
};

/// ModelOpt / TensorRT HistogramCalibrator, collection and compute_amax, bit for bit (see the file
/// comment). Per tensor only, as ModelOpt. Not mergeable (bin growth depends on batch order).
class ModelOptHistogramCalibrator {
 public:
  /// Throws InvalidArgument naming "num_bits" (outside 2..16) or "num_bins" (0 or above 2^24).
  explicit ModelOptHistogramCalibrator(int num_bits = 8, bool unsigned_ = false, std::size_t num_bins = 2048,
                                       bool skip_zeros = false, ModelOptPath path = ModelOptPath::torch_histc)
      : num_bits_(num_bits), unsigned_(unsigned_), num_bins_(num_bins), skip_zeros_(skip_zeros), path_(path) {
    if (num_bits < 2 || num_bits > 16) detail::throw_invalid("num_bits", "must be in [2, 16]");
    if (num_bins == 0 || num_bins > (std::size_t{1} << 24)) detail::throw_invalid("num_bins", "must be in [1, 2^24]");
  }

  /// collect(x). Non-finite values are counted in counts() and left out; a batch left empty is
  /// ignored. Throws DataError where ModelOpt itself would fail (edges growing past 2^32).
  void collect(const float* x, std::size_t n) {
    if (n == 0) return;
    if (x == nullptr) detail::throw_invalid("x", "is null");
    simd::FloatEnvironmentGuard env;
    std::vector<float> v;
    v.reserve(n);
    bool negative = false;
    for (std::size_t i = 0; i < n; ++i) {
      const float e = x[i];
      if (!strict::finite(e)) {
        if (strict::is_nan(e))
          ++counts_.nan;
        else if (e > 0.0f)
          ++counts_.pos_inf;
        else
          ++counts_.neg_inf;
        continue;
      }
      ++counts_.finite;
      negative = negative || e < 0.0f;
      v.push_back(e);
    }
    if (negative)
      for (float& e : v) e = std::fabs(e);
    if (skip_zeros_) v.erase(std::remove(v.begin(), v.end(), 0.0f), v.end());
    if (v.empty()) return;
    float vmin = v[0], vmax = v[0];
    for (float e : v) {
      vmin = e < vmin ? e : vmin;
      vmax = e > vmax ? e : vmax;
    }
    if (path_ == ModelOptPath::torch_histc)
      collect_torch(v, vmin, vmax);
    else
      collect_numpy(v, vmin, vmax);
  }

  /// A copy whose compute_amax uses another num_bits / unsigned (ModelOpt's quantizer settings;
  /// the collected histogram does not depend on them).
  ModelOptHistogramCalibrator with_quantizer(int num_bits, bool unsigned_) const {
    if (num_bits < 2 || num_bits > 16) detail::throw_invalid("num_bits", "must be in [2, 16]");
    ModelOptHistogramCalibrator c = *this;
    c.num_bits_ = num_bits;
    c.unsigned_ = unsigned_;
    return c;
  }

  bool empty() const { return edges_.empty(); }
  std::size_t num_bins() const { return path_ == ModelOptPath::torch_histc ? hist_f_.size() : hist_i_.size(); }
  /// The calibrator's `_calib_bin_edges`: float32 values on the torch path (which may hold more
  /// than num_bins() + 1 edges after a growth, as ModelOpt's); on the numpy path float32 until the
  /// first growth, float64 after it (numpy's arange promotes them), as ModelOpt's.
  const std::vector<double>& bin_edges() const { return edges_; }
  /// The counts as compute_amax reads them (torch path: float32 counts truncated to int32).
  std::vector<std::uint64_t> histogram() const {
    if (path_ == ModelOptPath::numpy) return hist_i_;
    std::vector<std::uint64_t> h(hist_f_.size());
    for (std::size_t i = 0; i < h.size(); ++i) h[i] = static_cast<std::uint64_t>(static_cast<std::int32_t>(hist_f_[i]));
    return h;
  }
  /// The torch path's float32 counts (empty on the numpy path).
  const std::vector<float>& float_histogram() const { return hist_f_; }
  const ValueCounts& counts() const { return counts_; }

  /// compute_amax(method, stride, start_bin, percentile): method entropy, mse or percentile
  /// (InvalidArgument "method" otherwise). Throws DataError before any data, and as fit_range.
  float compute_amax(FitMethod method, std::size_t stride = 1, std::size_t start_bin = 128,
                     double percentile = 99.99) const {
    if (empty()) ::qkern::detail::raise(DataError("ModelOpt-compatible histogram: no data collected"));
    if (stride == 0) detail::throw_invalid("stride", "must be >= 1");
    simd::FloatEnvironmentGuard env;
    const std::vector<std::uint64_t> h = histogram();
    if (method == FitMethod::mse) {
      std::vector<float> c(h.size());
      for (std::size_t i = 0; i < h.size(); ++i) c[i] = static_cast<float>(h[i]);
      return detail::modelopt_mse_amax(c, edges_, num_bits_, unsigned_, stride, start_bin);
    }
    if (method != FitMethod::entropy && method != FitMethod::percentile)
      detail::throw_invalid("method", "ModelOpt's compute_amax supports entropy, mse and percentile");
    if (edges_.size() < h.size() + 1)
      ::qkern::detail::raise(DataError("ModelOpt-compatible histogram: fewer edges than bins + 1"));
    // ModelOpt returns torch.tensor(edge): the edge rounded to float32, which is what the view holds.
    const std::vector<float> e32(edges_.begin(), edges_.end());
    HistogramView view{h.data(), h.size(), e32.front(), e32[h.size()]};
    view.absolute = true;
    view.edges = e32.data();
    FitOptions o;
    o.scheme = Scheme::symmetric;
    o.num_bits = num_bits_;
    o.unsigned_range = unsigned_;
    o.stride = stride;
    o.start_bin = start_bin;
    o.percentile = percentile;
    o.percentile_mode = PercentileMode::left_edge;
    return static_cast<float>(fit_range(view, method, o).max);
  }

 private:
  void collect_torch(const std::vector<float>& v, float vmin, float vmax) {
    using namespace strict;
    if (edges_.empty()) {
      hist_f_.assign(num_bins_, 0.0f);
      detail::torch113::histc(v.data(), v.size(), hist_f_, 0.0, double(vmax), vmin, vmax);
      const std::vector<float> e = detail::torch113::linspace(0.0f, vmax, num_bins_ + 1);
      edges_.assign(e.begin(), e.end());
      return;
    }
    std::size_t bins = hist_f_.size();
    if (vmax > edges_.back()) {
      const float width = sub(float(edges_[1]), float(edges_[0]));
      const float nb = std::ceil(div(vmax, width));
      if (!(nb >= 1.0f && nb <= 16777216.0f))
        ::qkern::detail::raise(DataError("ModelOpt-compatible histogram: the range grew past 2^24 bins"));
      bins = static_cast<std::size_t>(nb);
      const std::vector<float> e = detail::torch113::arange(0.0, double(add(vmax, width)), double(width));
      edges_.assign(e.begin(), e.end());
    }
    std::vector<float> h(bins, 0.0f);
    detail::torch113::histc(v.data(), v.size(), h, 0.0, double(edges_.back()), vmin, vmax);
    for (std::size_t i = 0; i < hist_f_.size() && i < h.size(); ++i) h[i] = add(h[i], hist_f_[i]);
    hist_f_ = std::move(h);
  }

  void collect_numpy(const std::vector<float>& v, float vmin, float vmax) {
    using namespace strict;
    if (edges_.empty()) {
      if (vmin == vmax) {  // np.histogram widens by 0.5 in float64 (a Python-float range)
        bin_numpy_first(v, ToolBinning::numpy_python_range(double(vmin) - 0.5, double(vmax) + 0.5, num_bins_));
      } else {
        bin_numpy_first(v, ToolBinning(BinRule::numpy, vmin, vmax, num_bins_));
      }
      return;
    }
    if (vmax > edges_.back()) {
      std::vector<double> more;
      if (!edges64_) {  // float32 edges and scalars: float32 length, float64 values
        const float width = sub(float(edges_[1]), float(edges_[0]));
        more = detail::numpy124::arange<float>(add(float(edges_.back()), width), add(vmax, width), width);
      } else {
        const double width = sub(edges_[1], edges_[0]);
        more = detail::numpy124::arange<double>(add(edges_.back(), width), add(double(vmax), width), width);
      }
      edges64_ = true;  // np.hstack((float32, float64)) is float64
      if (edges_.size() + more.size() > (std::size_t{1} << 24))
        ::qkern::detail::raise(DataError("ModelOpt-compatible histogram: the range grew past 2^24 bins"));
      edges_.insert(edges_.end(), more.begin(), more.end());
    }
    std::vector<std::uint64_t> h(edges_.size() - 1, 0);
    detail::numpy124::histogram_on_edges(v.data(), v.size(), edges_, h);
    for (std::size_t i = 0; i < hist_i_.size(); ++i) h[i] += hist_i_[i];
    hist_i_ = std::move(h);
  }

  void bin_numpy_first(const std::vector<float>& v, const ToolBinning& b) {
    hist_i_.assign(num_bins_, 0);
    for (float e : v) {
      const std::int64_t k = b.bin(e);
      if (k >= 0 && k < static_cast<std::int64_t>(num_bins_)) ++hist_i_[static_cast<std::size_t>(k)];
    }
    edges_.assign(b.numpy_edges().begin(), b.numpy_edges().end());
  }

  int num_bits_;
  bool unsigned_;
  std::size_t num_bins_;
  bool skip_zeros_;
  ModelOptPath path_;
  std::vector<float> hist_f_;
  std::vector<std::uint64_t> hist_i_;
  std::vector<double> edges_;
  bool edges64_ = false;
  ValueCounts counts_;
};

}  // namespace QKERN_ABI_NS
}  // namespace qkern
