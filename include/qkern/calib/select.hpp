// qkern — SPDX-License-Identifier: Apache-2.0
//
// select.hpp: exact percentiles of raw float data in O(n), with numpy's default ('linear')
// interpolation, NaN and +-Inf skipped and counted.
//
// Algorithm, on the order-preserving integer key of each float (all counts 64-bit, so exact for any
// n, including n beyond 2^24 where float32 histogram counts such as torch.histc stop counting):
//  * n >= 2^20: a strided sample of 2^18 values brackets each requested rank by a key window wide
//    enough (4 sigma of the sample quantile + 32) to hold it; one SIMD pass (kernels/select.hpp)
//    counts the values below the window and gathers the keys inside it (~1% of the data); the
//    exact ranks, known once the pass has counted the finite values, are then selected inside the
//    gathered keys. If a rank fell outside the window (adversarial data), the radix path runs.
//  * otherwise (and as that fallback): radix select: a counting pass of the top 11 key bits, a
//    gather pass copying only the keys of the crossing bin(s), then 11- and 10-bit levels on that
//    copy. Extra memory: the keys of the crossing bins (at most n, e.g. for constant data).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "qkern/core/abi.hpp"
#include "qkern/core/error.hpp"
#include "qkern/core/value_stats.hpp"
#include "qkern/kernels/kernel_list.hpp"
#include "qkern/reference/select.hpp"
#include "qkern/simd/float_env.hpp"

namespace qkern {
inline namespace QKERN_ABI_NS {

/// An exact percentile of raw data and what the data held.
struct ExactPercentile {
  double value = 0.0;  ///< numpy.percentile(finite values, p) with method='linear' (see percentile_exact)
  ValueCounts counts;  ///< finite values used, NaN and +-Inf skipped
};

namespace detail {

// Monotone map float -> uint32: a < b (as floats, -0.0 just below +0.0) iff key(a) < key(b).
// Finite values have top-11-bit bins 4..2043; -Inf and negative NaNs fall in 0..3, +Inf and
// positive NaNs in 2044..2047.
inline std::uint32_t float_order_key(std::uint32_t bits) {
  // Branch-free: negative values flip every bit, others only the sign bit.
  const std::uint32_t neg = static_cast<std::uint32_t>(static_cast<std::int32_t>(bits) >> 31);
  return bits ^ (neg | 0x80000000u);
}
inline float float_from_order_key(std::uint32_t key) {
  const std::uint32_t bits = (key & 0x80000000u) ? (key & 0x7fffffffu) : ~key;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

inline constexpr unsigned kSelectTopShift = 21;  // level 0: key bits 31..21 (2048 bins)
inline constexpr std::size_t kSelectTopBins = 2048;
inline constexpr std::size_t kSelectFirstFiniteBin = 4, kSelectEndFiniteBin = 2044;

// Level 1: bits 20..10 (2048 bins); level 2: bits 9..0 (1024 bins). Within a level all keys share
// the bits above `shift + width`.
inline void select_keys_level(const std::uint32_t* keys, std::size_t n, unsigned level, const std::uint64_t* ranks,
                              std::size_t nr, std::uint32_t* out) {
  const unsigned shift = level == 1 ? 10u : 0u;
  const std::uint32_t mask = level == 1 ? 0x7ffu : 0x3ffu;
  std::vector<std::uint64_t> hist(mask + 1, 0);
  for (std::size_t i = 0; i < n; ++i) ++hist[(keys[i] >> shift) & mask];
  const std::uint32_t high = keys[0] & ~((mask << shift) | ((1u << shift) - 1u));
  // For each rank (ascending): its bin and the rank inside that bin.
  std::size_t r = 0;
  std::uint64_t before = 0;
  for (std::uint32_t b = 0; b <= mask && r < nr; ++b) {
    const std::uint64_t c = hist[b];
    std::size_t r_end = r;
    while (r_end < nr && ranks[r_end] < before + c) ++r_end;
    if (r_end != r) {
      if (level == 2) {
        for (std::size_t j = r; j < r_end; ++j) out[j] = high | b;
      } else {
        std::vector<std::uint32_t> sub;
        sub.reserve(c);
        for (std::size_t i = 0; i < n; ++i)
          if (((keys[i] >> shift) & mask) == b) sub.push_back(keys[i]);
        std::vector<std::uint64_t> local(ranks + r, ranks + r_end);
        for (auto& k : local) k -= before;
        select_keys_level(sub.data(), sub.size(), level + 1, local.data(), local.size(), out + r);
      }
    }
    r = r_end;
    before += c;
  }
}

// The order keys of the finite values of rank ranks[0..nr) (ascending, < counts.finite) of x[0, n).
// `top` is the level-0 histogram of all n keys (non-finite bins included).
inline void select_finite_ranks(const float* x, std::size_t n, const std::uint64_t* top, const std::uint64_t* ranks,
                                std::size_t nr, std::uint32_t* out) {
  // Which level-0 bins hold a requested rank (groups, ascending by bin).
  struct Group {
    std::size_t bin, first_rank, end_rank;
    std::uint64_t before;
  };
  std::vector<Group> groups;
  std::array<std::uint8_t, kSelectTopBins> selected{};
  std::size_t total_gather = 0;
  {
    std::size_t r = 0;
    std::uint64_t before = 0;
    for (std::size_t b = kSelectFirstFiniteBin; b < kSelectEndFiniteBin && r < nr; ++b) {
      std::size_t r_end = r;
      while (r_end < nr && ranks[r_end] < before + top[b]) ++r_end;
      if (r_end != r) {
        groups.push_back({b, r, r_end, before});
        selected[b] = 1;
        total_gather += top[b];
      }
      r = r_end;
      before += top[b];
    }
  }
  // Branch-free gather of the keys of every selected bin: each key is stored, the cursor advances
  // only for selected bins (one slot of slack at the end).
  std::vector<std::uint32_t> gathered(total_gather + 1);
  std::uint32_t* dst = gathered.data();
  std::size_t j = 0;
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t bits;
    std::memcpy(&bits, x + i, 4);
    const std::uint32_t k = float_order_key(bits);
    dst[j] = k;
    j += selected[k >> kSelectTopShift];
  }
  gathered.resize(total_gather);
  for (const Group& g : groups) {
    std::vector<std::uint32_t> keys;
    if (groups.size() == 1) {
      keys.swap(gathered);
    } else {
      keys.reserve(top[g.bin]);
      for (std::uint32_t k : gathered)
        if ((k >> kSelectTopShift) == g.bin) keys.push_back(k);
    }
    std::vector<std::uint64_t> local(ranks + g.first_rank, ranks + g.end_rank);
    for (auto& k : local) k -= g.before;
    select_keys_level(keys.data(), keys.size(), 1, local.data(), local.size(), out + g.first_rank);
  }
}

// Level-0 histogram of the order keys of x[0, n), and the value counts (non-finite values are
// counted in a separate pass that runs only when the histogram shows some).
inline ValueCounts select_count_top(const float* x, std::size_t n, std::uint64_t* top) {
  constexpr std::size_t kChunk = std::size_t{1} << 30;  // keeps each 32-bit sub-count from overflowing
  std::vector<std::uint32_t> sub(4 * kSelectTopBins);
  std::fill(top, top + kSelectTopBins, 0);
  for (std::size_t start = 0; start < n; start += kChunk) {
    const std::size_t end = std::min(n, start + kChunk);
    std::fill(sub.begin(), sub.end(), 0u);
    std::uint32_t* h0 = sub.data();
    std::uint32_t* h1 = h0 + kSelectTopBins;
    std::uint32_t* h2 = h1 + kSelectTopBins;
    std::uint32_t* h3 = h2 + kSelectTopBins;
    std::size_t i = start;
    // Four tables so runs of equal bins do not serialise on one counter.
    for (; i + 4 <= end; i += 4) {
      std::uint32_t b[4];
      std::memcpy(b, x + i, 16);
      ++h0[float_order_key(b[0]) >> kSelectTopShift];
      ++h1[float_order_key(b[1]) >> kSelectTopShift];
      ++h2[float_order_key(b[2]) >> kSelectTopShift];
      ++h3[float_order_key(b[3]) >> kSelectTopShift];
    }
    for (; i < end; ++i) {
      std::uint32_t b;
      std::memcpy(&b, x + i, 4);
      ++h0[float_order_key(b) >> kSelectTopShift];
    }
    for (std::size_t b = 0; b < kSelectTopBins; ++b) top[b] += std::uint64_t{h0[b]} + h1[b] + h2[b] + h3[b];
  }
  ValueCounts counts;
  std::uint64_t nonfinite = 0;
  for (std::size_t b = 0; b < kSelectFirstFiniteBin; ++b) nonfinite += top[b];
  for (std::size_t b = kSelectEndFiniteBin; b < kSelectTopBins; ++b) nonfinite += top[b];
  counts.finite = n - nonfinite;
  if (nonfinite != 0) {
    for (std::size_t i = 0; i < n; ++i) {
      std::uint32_t b;
      std::memcpy(&b, x + i, 4);
      if ((b & 0x7f800000u) != 0x7f800000u) continue;
      if (b & 0x007fffffu)
        ++counts.nan;
      else if (b & 0x80000000u)
        ++counts.neg_inf;
      else
        ++counts.pos_inf;
    }
  }
  return counts;
}

// numpy 1.24 _quantile with method='linear' on m sorted values: virtual index (m-1) * (p/100),
// previous = floor, gamma = virtual - previous, and _lerp: diff = b - a in the array's dtype
// (float32), then a + diff*gamma (gamma < 0.5) or b - diff*(1-gamma), in float64.
struct LinearRank {
  std::uint64_t previous, next;
  double gamma;
};

inline LinearRank numpy_linear_rank(std::uint64_t m, double p) {
  const double q = fp_div(p, 100.0);
  const double virt = fp_mul(static_cast<double>(m - 1), q);
  if (virt >= static_cast<double>(m - 1)) return {m - 1, m - 1, 1.0};
  const double prev = std::floor(virt);
  const std::uint64_t pi = static_cast<std::uint64_t>(prev);
  return {pi, pi + 1, virt - prev};
}

inline double numpy_lerp(float a, float b, double gamma) {
  const float d32 = b - a;
  // numpy would give Inf or NaN when b - a overflows float32 (|a|, |b| near FLT_MAX); qkern keeps
  // the difference in double there (SF-7).
  const double d = is_inf(d32) ? static_cast<double>(b) - static_cast<double>(a) : static_cast<double>(d32);
  double r = gamma < 0.5 ? static_cast<double>(a) + fp_mul(d, gamma) : static_cast<double>(b) - fp_mul(d, 1.0 - gamma);
  if (r == 0.0) r = 0.0;  // +0.0: numpy's sign of a zero result depends on its partition order
  return r;
}

inline constexpr std::size_t kWindowMinSize = std::size_t{1} << 20;
inline constexpr std::size_t kWindowSample = std::size_t{1} << 18;

inline float float_from_signed_key(std::int32_t k) {
  const std::uint32_t bits = static_cast<std::uint32_t>(k ^ ((k >> 31) & 0x7fffffff));
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

inline ValueCounts count_values(const float* x, std::size_t n, std::uint64_t nonfinite) {
  ValueCounts c;
  c.finite = n - nonfinite;
  if (nonfinite == 0) return c;
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t b;
    std::memcpy(&b, x + i, 4);
    if ((b & 0x7f800000u) != 0x7f800000u) continue;
    if (b & 0x007fffffu)
      ++c.nan;
    else if (b & 0x80000000u)
      ++c.neg_inf;
    else
      ++c.pos_inf;
  }
  return c;
}

// The sampled-window path (see the file comment). False when the exact ranks fell outside the
// window or the sample saw too few finite values: the caller then runs the radix path.
inline bool percentile_by_window(const float* x, std::size_t n, double p, ExactPercentile& result) {
  std::vector<std::int32_t> sample;
  sample.reserve(kWindowSample);
  const std::size_t stride = n / kWindowSample;
  for (std::size_t j = 0; j < kWindowSample; ++j) {
    std::uint32_t bits;
    std::memcpy(&bits, x + j * stride + stride / 2, 4);
    const std::int32_t k = signed_order_key(bits);
    if (k >= kLowestFiniteKey && k <= kHighestFiniteKey) sample.push_back(k);
  }
  const std::size_t ms = sample.size();
  if (ms < kWindowSample / 2) return false;
  const double q = p / 100.0;
  const double pos = q * static_cast<double>(ms - 1);
  const double delta = fp_mul(4.0, std::sqrt(static_cast<double>(ms) * q * (1.0 - q))) + 32.0;
  const double ilo = std::floor(pos - delta), ihi = std::ceil(pos + delta);
  std::int32_t lo = kLowestFiniteKey, hi = kHighestFiniteKey;
  if (ilo > 0) {
    std::nth_element(sample.begin(), sample.begin() + static_cast<std::ptrdiff_t>(ilo), sample.end());
    lo = sample[static_cast<std::size_t>(ilo)];
  }
  if (ihi < static_cast<double>(ms - 1)) {
    std::nth_element(sample.begin(), sample.begin() + static_cast<std::ptrdiff_t>(ihi), sample.end());
    hi = sample[static_cast<std::size_t>(ihi)];
  }
  const double fraction = (std::fmin(ihi, static_cast<double>(ms - 1)) - std::fmax(ilo, 0.0) + 1.0) / ms;
  const std::size_t capacity = std::min(n, static_cast<std::size_t>(fraction * 2.0 * static_cast<double>(n)) + 4096);
  std::vector<std::int32_t> keys(capacity);
  const KeyWindowScan s = dispatch::select<kernels::f32_key_window_scan>()(x, n, lo, hi, keys.data(), capacity);
  const std::uint64_t nonfinite = s.neg_nonfinite + s.pos_nonfinite;
  const std::uint64_t m = n - nonfinite;
  if (m == 0) return false;  // the radix path reports the DataError
  const LinearRank lr = numpy_linear_rank(m, p);
  const std::uint64_t below = s.below - s.neg_nonfinite;
  if (s.inside > capacity || lr.previous < below || lr.next >= below + s.inside) return false;
  keys.resize(static_cast<std::size_t>(s.inside));
  // v[previous] by nth_element; v[next] (= previous + 1) is the smallest key after it.
  const auto it = keys.begin() + static_cast<std::ptrdiff_t>(lr.previous - below);
  std::nth_element(keys.begin(), it, keys.end());
  const float a = float_from_signed_key(*it);
  const float b = lr.next == lr.previous ? a : float_from_signed_key(*std::min_element(it + 1, keys.end()));
  result.value = numpy_lerp(a, b, lr.gamma);
  result.counts = count_values(x, n, nonfinite);
  return true;
}

inline void check_percentile(double p, const char* name) {
  if (!is_finite(p) || !(p >= 0.0 && p <= 100.0)) throw_invalid(name, "must be in [0, 100], got " + std::to_string(p));
}

}  // namespace detail

/// Exact percentiles of the finite values of x[0, n), one per entry of `percentiles` (each in
/// [0, 100]), in one counting pass plus one gather pass over x (O(n), any n). Interpolation is
/// numpy's default: with v the m sorted finite values, rank = p/100 * (m-1), result =
/// v[floor] + (v[ceil] - v[floor]) * frac, computed exactly as numpy 1.24 does (the difference
/// in float32, the rest in float64), so results equal np.percentile(v, p) bit for bit; p = 0 and
/// p = 100 give exactly the min and max. Deviations from numpy: NaN and +-Inf are skipped and
/// counted (numpy returns NaN); a zero result is +0.0; a float32 difference that would overflow
/// is taken in double. Throws InvalidArgument naming "percentile" for p outside [0, 100] or NaN,
/// "x" for a null pointer with n > 0, and DataError when there is no finite value (SF-1, SF-5).
inline std::vector<ExactPercentile> percentiles_exact(const float* x, std::size_t n,
                                                      const std::vector<double>& percentiles) {
  for (double p : percentiles) detail::check_percentile(p, "percentile");
  if (n != 0 && x == nullptr) detail::throw_invalid("x", "is null");
  if (n == 0) detail::throw_data("no data: cannot compute a percentile of an empty array");
  simd::FloatEnvironmentGuard env;
  if (n >= detail::kWindowMinSize) {
    std::vector<ExactPercentile> out;
    for (double p : percentiles) {
      ExactPercentile e;
      if (!detail::percentile_by_window(x, n, p, e)) break;
      out.push_back(e);
    }
    if (out.size() == percentiles.size()) return out;
  }
  std::vector<std::uint64_t> top(detail::kSelectTopBins);
  const ValueCounts counts = detail::select_count_top(x, n, top.data());
  if (counts.finite == 0)
    detail::throw_data("no finite values (" + std::to_string(counts.skipped()) +
                       " NaN/Inf skipped): cannot compute a percentile");
  // Every order statistic needed, sorted and unique.
  std::vector<detail::LinearRank> lr;
  std::vector<std::uint64_t> ranks;
  for (double p : percentiles) {
    lr.push_back(detail::numpy_linear_rank(counts.finite, p));
    ranks.push_back(lr.back().previous);
    ranks.push_back(lr.back().next);
  }
  std::sort(ranks.begin(), ranks.end());
  ranks.erase(std::unique(ranks.begin(), ranks.end()), ranks.end());
  std::vector<std::uint32_t> keys(ranks.size());
  detail::select_finite_ranks(x, n, top.data(), ranks.data(), ranks.size(), keys.data());
  auto value_of = [&](std::uint64_t rank) {
    const std::size_t j = static_cast<std::size_t>(std::lower_bound(ranks.begin(), ranks.end(), rank) - ranks.begin());
    return detail::float_from_order_key(keys[j]);
  };
  std::vector<ExactPercentile> out;
  for (const auto& l : lr) out.push_back({detail::numpy_lerp(value_of(l.previous), value_of(l.next), l.gamma), counts});
  return out;
}

/// One exact percentile (see percentiles_exact for semantics and errors).
inline ExactPercentile percentile_exact(const float* x, std::size_t n, double percentile) {
  return percentiles_exact(x, n, {percentile}).front();
}

}  // namespace QKERN_ABI_NS
}  // namespace qkern
