// qkern — SPDX-License-Identifier: Apache-2.0
//
// torch_histogram.hpp: PyTorch HistogramObserver's collection rule, reproduced operation for
// operation (torch 1.13, torch/ao/quantization/observer.py, the version Debian packages as
// python3-torch; golden-tested against it in tests/test_parity_torch_histogram.cpp), so a port from
// PyTorch gets torch's qparams for the same sequence of batches:
//   * float32 counts filled with torch.histc's rule: bin = int64((x - lo) * bins / (hi - lo)) in
//     float32, values outside [lo, hi] dropped, the last edge inclusive;
//   * torch 1.13 passes the histc range through Python int() (truncation toward zero), and histc
//     falls back to the data's min/max when the truncated bounds coincide, then to [v - 1, v + 1];
//     values outside a truncated range are dropped, exactly as torch drops them;
//   * on range growth (_adjust_min_max): the new width is an integer multiple (downsample_rate) of
//     old_width / upsample_rate and max is widened by the remainder; the old histogram is
//     upsampled upsample_rate times, placed at start_idx, integrated in float64 and re-binned
//     (_combine_histograms, including its float32 rounding of the shifted integral);
//   * a first batch, or a state whose min == max, resets the histogram to the batch;
//   * calculate_qparams: _non_linear_param_search with torch's mixed float32 / float64
//     arithmetic (float32 cascade sums as torch.sum computes them in its AVX2 / default CPU build,
//     float32 cumsum accumulated in float64, Python-style floor division) and _calculate_qparams
//     (Convention::pytorch).
// This is NOT qkern's default histogram: the counts are approximate after a range change (mass is
// spread uniformly inside old bins), depend on batch order and batch boundaries, saturate at 2^24
// per bin, and cannot be merged. HistogramObserver (calib/observers.hpp) keeps exact 64-bit counts,
// merges exactly, and is what qkern recommends; use this class when the numbers must equal torch's.
// Deviations kept on purpose (docs/porting.md): non-finite values are skipped and counted (torch
// 1.13 raises on +-Inf in histc and lets NaN poison min/max); no data gives a DataError instead of
// torch's warning and (1.0, 0); per-bin counts above 2^24 match torch only for single-threaded
// histc (torch splits inputs above 32768 elements across threads, each saturating separately).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "qkern/calib/binning_rules.hpp"
#include "qkern/calib/fit_options.hpp"
#include "qkern/core/abi.hpp"
#include "qkern/core/choose_params.hpp"
#include "qkern/core/error.hpp"
#include "qkern/core/strict_float.hpp"
#include "qkern/core/value_stats.hpp"
#include "qkern/simd/float_env.hpp"

namespace qkern {
inline namespace QKERN_ABI_NS {
namespace detail {
namespace torch113 {

// torch.sum of a contiguous float32 vector on CPU (aten/src/ATen/native/cpu/SumKernel.cpp,
// cascade_sum -> vectorized_inner_sum -> row_sum -> multi_row_sum): float32 accumulators, vectors of
// `lanes` floats (8 in the default and AVX2 builds, 16 with ATEN_CPU_CAPABILITY=avx512), four
// interleaved vector accumulators, four cascade levels. Inputs of up to 32768 elements (one thread).
inline float sum(const float* x, std::size_t n, std::size_t lanes = 8) {
  using strict::add;
  if (n < lanes) {  // scalar_inner_sum: row_sum over rows of 4 scalars (no cascade level for n < 64)
    float p[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    const std::size_t rows = n / 4;
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t k = 0; k < 4; ++k) p[k] = add(p[k], x[r * 4 + k]);
    for (std::size_t i = rows * 4; i < n; ++i) p[0] = add(p[0], x[i]);
    for (std::size_t k = 1; k < 4; ++k) p[0] = add(p[0], p[k]);
    return add(0.0f, p[0]);
  }
  const std::size_t vec_size = n / lanes, ilp = 4, size_ilp = vec_size / ilp;
  // multi_row_sum over size_ilp rows of ilp vectors: acc[level][row k][lane]
  std::int64_t ceil_log2 = 1;
  if (size_ilp > 2) {
    std::uint64_t v = size_ilp - 1;
    ceil_log2 = 0;
    while (v) {
      ++ceil_log2;
      v >>= 1;
    }
  }
  const std::int64_t level_power = std::max<std::int64_t>(4, ceil_log2 / 4);
  const std::size_t level_step = std::size_t{1} << level_power, level_mask = level_step - 1;
  const std::size_t L = 4;
  std::vector<float> acc(L * ilp * lanes, 0.0f);
  auto A = [&](std::size_t level, std::size_t k, std::size_t lane) -> float& {
    return acc[(level * ilp + k) * lanes + lane];
  };
  auto load_row = [&](std::size_t row) {
    for (std::size_t k = 0; k < ilp; ++k)
      for (std::size_t j = 0; j < lanes; ++j) A(0, k, j) = add(A(0, k, j), x[(row * ilp + k) * lanes + j]);
  };
  std::size_t i = 0;
  while (i + level_step <= size_ilp) {
    for (std::size_t j = 0; j < level_step; ++j, ++i) load_row(i);
    for (std::size_t lv = 1; lv < L; ++lv) {
      for (std::size_t k = 0; k < ilp; ++k)
        for (std::size_t j = 0; j < lanes; ++j) {
          A(lv, k, j) = add(A(lv, k, j), A(lv - 1, k, j));
          A(lv - 1, k, j) = 0.0f;
        }
      const std::size_t mask = level_mask << (lv * static_cast<std::size_t>(level_power));
      if ((i & mask) != 0) break;
    }
  }
  for (; i < size_ilp; ++i) load_row(i);
  for (std::size_t lv = 1; lv < L; ++lv)
    for (std::size_t k = 0; k < ilp; ++k)
      for (std::size_t j = 0; j < lanes; ++j) A(0, k, j) = add(A(0, k, j), A(lv, k, j));
  // row_sum: leftover vectors into partial 0, then partials 1..3 into 0
  for (std::size_t v = size_ilp * ilp; v < vec_size; ++v)
    for (std::size_t j = 0; j < lanes; ++j) A(0, 0, j) = add(A(0, 0, j), x[v * lanes + j]);
  for (std::size_t k = 1; k < ilp; ++k)
    for (std::size_t j = 0; j < lanes; ++j) A(0, 0, j) = add(A(0, 0, j), A(0, k, j));
  // vectorized_inner_sum: scalar tail first, then the lanes in order
  float final_acc = 0.0f;
  for (std::size_t k = vec_size * lanes; k < n; ++k) final_acc = add(final_acc, x[k]);
  for (std::size_t j = 0; j < lanes; ++j) final_acc = add(final_acc, A(0, 0, j));
  return add(0.0f, final_acc);  // CastStoreAccumulate onto the zero-filled output
}

// torch.histc(x, bins, min=lo, max=hi) on CPU, float32 (aten/src/ATen/native/Histogram.cpp
// histc_select_outer_bin_edges + cpu/HistogramKernel.cpp LINEAR_INTERPOLATION): counts are ADDED to
// hist (float32). x holds finite values only; data_min/data_max are its extremes.
inline void histc(const float* x, std::size_t n, std::vector<float>& hist, double lo, double hi, float data_min,
                  float data_max) {
  const std::size_t bins = hist.size();
  if (lo == hi && n > 0) {
    lo = data_min;
    hi = data_max;
  }
  if (lo == hi) {
    lo = strict::sub(lo, 1.0);
    hi = strict::add(hi, 1.0);
  }
  if (!(std::fabs(lo) <= std::numeric_limits<float>::max() && std::fabs(hi) <= std::numeric_limits<float>::max()))
    ::qkern::detail::raise(DataError("torch-compatible histogram: histc range [" + std::to_string(lo) + ", " +
                                     std::to_string(hi) + "] does not fit in float32 (torch raises here too)"));
  // histc reads its outer edges from torch.linspace(lo, hi, bins + 1): the first is lo; the last is
  // hi except when bins + 1 is a multiple of 16 (then a vector lane computes it).
  const float L = static_cast<float>(lo);
  const float H = (bins + 1) % 16 == 0 ? linspace(L, static_cast<float>(hi), bins + 1).back() : static_cast<float>(hi);
  const float width = strict::sub(H, L);
  if (!(width > 0.0f) || !strict::finite(width))
    ::qkern::detail::raise(DataError("torch-compatible histogram: histc range width is not a positive finite float32"));
  const float fb = static_cast<float>(bins);
  for (std::size_t i = 0; i < n; ++i) {
    const float e = x[i];
    if (!(e >= L && e <= H)) continue;
    const float t = strict::div(strict::mul(strict::sub(e, L), fb), width);
    std::size_t pos = t >= fb ? bins : static_cast<std::size_t>(static_cast<std::int64_t>(t));
    if (pos >= bins) pos = bins - 1;  // the last edge is inclusive
    hist[pos] = strict::add(hist[pos], 1.0f);
  }
}

// torch.div(a, b, rounding_mode='floor') for float32, b > 0 (BinaryOpsKernel.cpp div_floor_kernel).
inline float div_floor(float a, float b) {
  const float mod = std::fmod(a, b);
  float div = strict::div(strict::sub(a, mod), b);
  if (mod != 0.0f && (b < 0.0f) != (mod < 0.0f)) div = strict::sub(div, 1.0f);
  if (div != 0.0f) {
    float fl = std::floor(div);
    if (strict::sub(div, fl) > 0.5f) fl = strict::add(fl, 1.0f);
    return fl;
  }
  return std::copysign(0.0f, strict::div(a, b));
}

inline float cube_diff_third(float e, float b) {
  using namespace strict;
  return div(sub(mul(mul(e, e), e), mul(mul(b, b), b)), 3.0f);
}

// HistogramObserver._compute_quantization_error(s, e): Python-float widths, float32 tensors.
inline double quantization_error(const std::vector<float>& hist, float min_val, float max_val, double dst_nbins,
                                 std::size_t s, std::size_t e, std::vector<float>& norm) {
  using namespace strict;
  const std::size_t bins = hist.size();
  const double bw = div(sub(double(max_val), double(min_val)), double(bins));
  const double dw = div(mul(bw, double(e) - double(s) + 1.0), dst_nbins);
  if (dw == 0.0) return 0.0;
  const float bwf = static_cast<float>(bw), dwf = static_cast<float>(dw);
  const float half = static_cast<float>(div(dw, 2.0)), neg_half = static_cast<float>(div(-dw, 2.0));
  const float top = static_cast<float>(dst_nbins - 1);
  const float full = cube_diff_third(half, neg_half);
  auto clampf = [&](float v) { return v < 0.0f ? 0.0f : (v > top ? top : v); };
  for (std::size_t i = 0; i < bins; ++i) {
    const float sb = mul(static_cast<float>(static_cast<double>(i) - static_cast<double>(s)), bwf);
    const float se = add(sb, bwf);
    const float db = clampf(div_floor(sb, dwf));
    const float db_center = mul(add(db, 0.5f), dwf);
    const float de = clampf(div_floor(se, dwf));
    const float density = div(hist[i], bwf);
    float n = mul(density, cube_diff_third(half, sub(sb, db_center)));
    n = add(n, mul(sub(sub(de, db), 1.0f), mul(density, full)));
    const float de_center = add(mul(de, dwf), half);
    n = add(n, mul(density, cube_diff_third(sub(se, de_center), neg_half)));
    norm[i] = n;
  }
  return static_cast<double>(sum(norm.data(), bins));
}

// HistogramObserver._non_linear_param_search: the range (new_min, new_max) in float32.
inline std::pair<float, float> param_search(const std::vector<float>& hist, float min_val, float max_val,
                                            int num_bits) {
  const std::size_t bins = hist.size();
  const double dst_nbins = std::ldexp(1.0, num_bits);
  const double total = static_cast<double>(sum(hist.data(), bins));
  std::vector<float> csum(bins), norm(bins);
  double c = 0.0;
  for (std::size_t i = 0; i < bins; ++i) {
    c = strict::add(c, static_cast<double>(hist[i]));
    csum[i] = static_cast<float>(c);
  }
  const double stepsize = 1e-5;
  double alpha = 0.0, beta = 1.0, norm_min = std::numeric_limits<double>::infinity();
  std::size_t start_bin = 0, end_bin = bins - 1;
  while (alpha < beta) {
    const double next_alpha = strict::add(alpha, stepsize), next_beta = strict::sub(beta, stepsize);
    const float ta = static_cast<float>(strict::mul(next_alpha, total));
    const float tb = static_cast<float>(strict::mul(next_beta, total));
    std::size_t l = start_bin, r = end_bin;
    while (l < end_bin && csum[l] < ta) ++l;
    while (r > start_bin && csum[r] > tb) --r;
    std::size_t next_start = start_bin, next_end = end_bin;
    if (l - start_bin > end_bin - r) {
      next_start = l;
      alpha = next_alpha;
    } else {
      next_end = r;
      beta = next_beta;
    }
    if (next_start == start_bin && next_end == end_bin) continue;
    const double n = quantization_error(hist, min_val, max_val, dst_nbins, next_start, next_end, norm);
    if (n > norm_min) break;
    norm_min = n;
    start_bin = next_start;
    end_bin = next_end;
  }
  const float bw = strict::div(strict::sub(max_val, min_val), static_cast<float>(bins));
  const float new_min = strict::add(min_val, strict::mul(bw, static_cast<float>(start_bin)));
  const float new_max = strict::add(min_val, strict::mul(bw, static_cast<float>(end_bin + 1)));
  return {new_min, new_max};
}

}  // namespace torch113
}  // namespace detail

/// PyTorch's HistogramObserver search on a histogram in torch's own form (float32 counts over
/// [min_val, max_val], e.g. loaded from a saved state_dict: `histogram`, `min_val`, `max_val`):
/// returns _non_linear_param_search's (new_min, new_max) exactly as torch 1.13 computes them
/// (dst_nbins = 2^num_bits). Throws InvalidArgument naming "histogram" (empty or non-finite
/// counts), "min_val"/"max_val" (non-finite or min > max), "num_bits" (outside 2..16).
inline std::pair<float, float> torch_histogram_search(const std::vector<float>& histogram, float min_val, float max_val,
                                                      int num_bits = 8) {
  if (histogram.empty()) detail::throw_invalid("histogram", "is empty");
  for (float h : histogram)
    if (!strict::finite(h)) detail::throw_invalid("histogram", "holds a non-finite count");
  if (!strict::finite(min_val)) detail::throw_invalid("min_val", "must be finite");
  if (!strict::finite(max_val)) detail::throw_invalid("max_val", "must be finite");
  if (max_val < min_val) detail::throw_invalid("min_val", "is greater than max_val");
  if (num_bits < 2 || num_bits > 16) detail::throw_invalid("num_bits", "must be in [2, 16]");
  simd::FloatEnvironmentGuard env;
  return detail::torch113::param_search(histogram, min_val, max_val, num_bits);
}

/// PyTorch HistogramObserver (torch 1.13) collection, bit for bit: see the file comment. Not
/// mergeable (torch's update depends on batch order); use HistogramObserver for exact statistics.
class TorchHistogramObserver {
 public:
  /// Throws InvalidArgument naming "bins" (outside [2, 2^24]) or "upsample_rate" (outside [1, 2^20]).
  explicit TorchHistogramObserver(std::size_t bins = 2048, std::size_t upsample_rate = 128)
      : hist_(bins, 0.0f), upsample_(upsample_rate) {
    if (bins < 2 || bins > (std::size_t{1} << 24)) detail::throw_invalid("bins", "must be in [2, 2^24]");
    if (upsample_rate == 0 || upsample_rate > (std::size_t{1} << 20))
      detail::throw_invalid("upsample_rate", "must be in [1, 2^20]");
  }

  /// HistogramObserver.forward(x) on the finite values of x[0, n); non-finite values are counted in
  /// counts() and left out. An empty (or all non-finite) batch changes nothing else. Throws
  /// DataError when torch itself would fail (a range growth needing more than 2^31 fine bins, or
  /// a histc range that overflows float32).
  void update(const float* x, std::size_t n) {
    if (n == 0) return;
    if (x == nullptr) detail::throw_invalid("x", "is null");
    simd::FloatEnvironmentGuard env;
    std::vector<float> kept;
    const float* v = x;
    std::size_t m = n;
    bool all_finite = true;
    for (std::size_t i = 0; i < n; ++i) all_finite = all_finite && strict::finite(x[i]);
    if (!all_finite) {
      kept.reserve(n);
      for (std::size_t i = 0; i < n; ++i) {
        const float e = x[i];
        if (strict::finite(e))
          kept.push_back(e);
        else if (strict::is_nan(e))
          ++counts_.nan;
        else if (e > 0.0f)
          ++counts_.pos_inf;
        else
          ++counts_.neg_inf;
      }
      v = kept.data();
      m = kept.size();
    }
    counts_.finite += m;
    if (m == 0) return;
    float bmin = v[0], bmax = v[0];
    for (std::size_t i = 1; i < m; ++i) {
      bmin = v[i] < bmin ? v[i] : bmin;
      bmax = v[i] > bmax ? v[i] : bmax;
    }
    if (!initialized_ || min_val_ == max_val_) {
      min_val_ = bmin;
      max_val_ = bmax;
      initialized_ = true;
      std::fill(hist_.begin(), hist_.end(), 0.0f);
      detail::torch113::histc(v, m, hist_, std::trunc(double(bmin)), std::trunc(double(bmax)), bmin, bmax);
      return;
    }
    using namespace strict;
    float cmin = bmin < min_val_ ? bmin : min_val_;
    float cmax = bmax > max_val_ ? bmax : max_val_;
    const std::size_t bins = hist_.size();
    // _adjust_min_max
    const float hbw = div(sub(max_val_, min_val_), static_cast<float>(bins * upsample_));
    const float wide = mul(hbw, static_cast<float>(bins));
    const float ratio = std::ceil(div(sub(cmax, cmin), wide));
    if (!(ratio >= 1.0f) || !(ratio <= 2147483648.0f / float(bins)))
      ::qkern::detail::raise(DataError("torch-compatible histogram: the range grew by a factor torch cannot re-bin (" +
                                       std::to_string(double(ratio)) + " x)"));
    const std::size_t down = static_cast<std::size_t>(ratio);
    const float e = sub(mul(static_cast<float>(down), wide), sub(cmax, cmin));
    cmax = add(cmax, e);
    const float start_f = std::nearbyint(div(sub(min_val_, cmin), hbw));
    const std::size_t start = static_cast<std::size_t>(start_f);
    std::vector<float> combined(bins, 0.0f);
    detail::torch113::histc(v, m, combined, std::trunc(double(cmin)), std::trunc(double(cmax)), bmin, bmax);
    if (cmin == min_val_ && cmax == max_val_) {
      for (std::size_t i = 0; i < bins; ++i) combined[i] = add(combined[i], hist_[i]);
    } else {
      combine(combined, down, start);
    }
    hist_ = std::move(combined);
    min_val_ = cmin;
    max_val_ = cmax;
  }

  std::size_t bins() const { return hist_.size(); }
  std::size_t upsample_rate() const { return upsample_; }
  /// torch's `histogram` buffer (float32 counts over [min_val, max_val]).
  const std::vector<float>& histogram() const { return hist_; }
  /// torch's `min_val` / `max_val` buffers (max includes _adjust_min_max's widening). Throws
  /// DataError before the first finite value.
  float min_val() const {
    require_data();
    return min_val_;
  }
  float max_val() const {
    require_data();
    return max_val_;
  }
  const ValueCounts& counts() const { return counts_; }

  /// _non_linear_param_search's (new_min, new_max) with dst_nbins = 2^bit_width(dtype).
  std::pair<float, float> search_range(DType dtype) const {
    require_data();
    return torch_histogram_search(hist_, min_val_, max_val_, bit_width(dtype));
  }

  /// calculate_qparams(): the searched range through _calculate_qparams (Convention::pytorch).
  /// dtype / options as the observer's: DType::uint8 = quint8, scheme = qscheme, range =
  /// quant_min/quant_max, reduce_range. Throws DataError before the first finite value (torch
  /// warns and returns scale 1, zero point 0).
  QuantParams qparams(DType dtype = DType::uint8, RangeOptions options = {}) const {
    const std::pair<float, float> r = search_range(dtype);
    return choose_params(r.first, r.second, dtype, options, Convention::pytorch);
  }

 private:
  void require_data() const {
    if (!initialized_)
      ::qkern::detail::raise(DataError(counts_.total() == 0 ? "no data observed: cannot fit parameters"
                                                            : "no finite values observed: cannot fit parameters"));
  }

  // _combine_histograms(combined, self.histogram, upsample_rate, downsample_rate, start_idx, bins)
  void combine(std::vector<float>& combined, std::size_t down, std::size_t start) const {
    const std::size_t bins = hist_.size(), up = upsample_;
    const std::size_t total = bins * down;
    if (start + bins * up > total)
      ::qkern::detail::raise(
          DataError("torch-compatible histogram: the old histogram does not fit the new range (torch raises here)"));
    // cumsum in float64 of the zero-padded, upsampled old histogram, sampled every `down`
    std::vector<double> integral(bins);
    double acc = 0.0;
    std::size_t pos = 0;
    for (std::size_t k = 0; k < bins; ++k) {
      const std::size_t end = (k + 1) * down;  // samples element end - 1
      while (pos < end) {
        if (pos < start || pos >= start + bins * up) {  // zeros: skip to the next boundary
          const std::size_t next = pos < start ? std::min(start, end) : end;
          pos = next;
          continue;
        }
        const double h = static_cast<double>(hist_[(pos - start) / up]);
        const std::size_t run_end = std::min(end, start + ((pos - start) / up + 1) * up);
        for (; pos < run_end; ++pos) acc = strict::add(acc, h);
      }
      integral[k] = acc;
    }
    for (std::size_t k = 0; k < bins; ++k) {
      const float shifted = k == 0 ? 0.0f : static_cast<float>(integral[k - 1]);
      const double interp = strict::div(strict::sub(integral[k], static_cast<double>(shifted)), double(up));
      combined[k] = strict::add(combined[k], static_cast<float>(interp));
    }
  }

  std::vector<float> hist_;
  std::size_t upsample_;
  bool initialized_ = false;
  float min_val_ = std::numeric_limits<float>::infinity();
  float max_val_ = -std::numeric_limits<float>::infinity();
  ValueCounts counts_;
};

}  // namespace QKERN_ABI_NS
}  // namespace qkern
