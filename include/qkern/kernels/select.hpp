// qkern — SPDX-License-Identifier: Apache-2.0
//
// kernels/select.hpp: the SIMD pass of the exact percentile (calib/select.hpp): order keys of a
// vector of floats with two integer ops, three compares counted in int32 lanes, and a lane-by-lane
// append only for vectors with a key inside the window (rare: the window is a small slice of the
// data), so the pass runs at memory speed. Tested bit for bit against reference/select.hpp.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "qkern/reference/select.hpp"
#include "qkern/simd/convert.hpp"
#include "qkern/simd/prefetch.hpp"

namespace qkern {
namespace kernels {
namespace detail {

template <class A>
inline void scan_lane(std::int32_t k, std::int32_t lo, std::int32_t hi, std::int32_t* out, std::size_t capacity,
                      KeyWindowScan& s) {
  if (k < kLowestFiniteKey) ++s.neg_nonfinite;
  if (k > kHighestFiniteKey) ++s.pos_nonfinite;
  if (k < lo) {
    ++s.below;
  } else if (k <= hi) {
    if (s.inside < capacity) out[s.inside] = k;
    ++s.inside;
  }
}

// Lane of the rare path: everything but `below` (counted by the vector loop).
template <class A>
inline void rare_lane(std::int32_t k, std::int32_t lo, std::int32_t hi, std::int32_t* out, std::size_t capacity,
                      KeyWindowScan& s) {
  if (k < kLowestFiniteKey) ++s.neg_nonfinite;
  if (k > kHighestFiniteKey) ++s.pos_nonfinite;
  if (k >= lo && k <= hi) {
    if (s.inside < capacity) out[s.inside] = k;
    ++s.inside;
  }
}

template <class A>
inline KeyWindowScan key_window_scan_run(const float* x, std::size_t n, std::int32_t lo, std::int32_t hi,
                                         std::int32_t* out, std::size_t capacity) {
  using BF = simd::batch<float, A>;
  using BI = simd::batch<std::int32_t, A>;
  constexpr std::size_t N = BI::size;
  constexpr std::size_t kChunk = std::size_t{1} << 28;  // int32 lane counters stay below 2^31
  const BI vlo(lo), vhi(hi), vneg(kLowestFiniteKey), vpos(kHighestFiniteKey), m7(0x7fffffff), one(1), zero(0);
  KeyWindowScan s;
  std::size_t i = 0;
  while (i + N <= n) {
    const std::size_t end = std::min(n, i + kChunk);
    BI cb(0), cn(0), cp(0);
    // Two vectors per step; lanes inside the window or non-finite are rare, so one test sends a
    // pair of vectors to the lane-by-lane path, which counts them (below is counted here always).
    for (; i + 2 * N <= end; i += 2 * N) {
      simd::prefetch_ahead<A, 2 * N * sizeof(float)>(x + i);
      const BI b0 = simd::bitcast<std::int32_t>(BF::load_unaligned(x + i));
      const BI b1 = simd::bitcast<std::int32_t>(BF::load_unaligned(x + i + N));
      const BI k0 = b0 ^ ((b0 >> 31) & m7), k1 = b1 ^ ((b1 >> 31) & m7);
      cb += simd::lane_select(k0 < vlo, one, zero);
      cb += simd::lane_select(k1 < vlo, one, zero);
      const auto r0 = ((k0 >= vlo) && (k0 <= vhi)) || (k0 < vneg) || (k0 > vpos);
      const auto r1 = ((k1 >= vlo) && (k1 <= vhi)) || (k1 < vneg) || (k1 > vpos);
      if (xsimd::any(r0 || r1)) {
        alignas(64) std::int32_t lanes[2 * N];
        k0.store_aligned(lanes);
        k1.store_aligned(lanes + N);
        for (std::size_t j = 0; j < 2 * N; ++j) rare_lane<A>(lanes[j], lo, hi, out, capacity, s);
      }
    }
    for (; i + N <= end; i += N) {
      const BI b = simd::bitcast<std::int32_t>(BF::load_unaligned(x + i));
      const BI k = b ^ ((b >> 31) & m7);
      cb += simd::lane_select(k < vlo, one, zero);
      cn += simd::lane_select(k < vneg, one, zero);
      cp += simd::lane_select(k > vpos, one, zero);
      if (xsimd::any((k >= vlo) && (k <= vhi))) {
        alignas(64) std::int32_t lanes[N];
        k.store_aligned(lanes);
        for (std::size_t j = 0; j < N; ++j)
          if (lanes[j] >= lo && lanes[j] <= hi) {
            if (s.inside < capacity) out[s.inside] = lanes[j];
            ++s.inside;
          }
      }
    }
    s.below += static_cast<std::uint32_t>(simd::reduce_add(cb));
    s.neg_nonfinite += static_cast<std::uint32_t>(simd::reduce_add(cn));
    s.pos_nonfinite += static_cast<std::uint32_t>(simd::reduce_add(cp));
  }
  for (; i < n; ++i) {
    std::uint32_t bits;
    std::memcpy(&bits, x + i, 4);
    scan_lane<A>(signed_order_key(bits), lo, hi, out, capacity, s);
  }
  return s;
}

}  // namespace detail

/// One pass over x[0, n): values below the key window [lo, hi], keys inside it (written in input
/// order to out, at most `capacity`; `inside` counts them all), non-finite values on each side.
struct f32_key_window_scan {
  using signature = KeyWindowScan(const float*, std::size_t, std::int32_t, std::int32_t, std::int32_t*, std::size_t);
  template <class A>
  KeyWindowScan operator()(A, const float* x, std::size_t n, std::int32_t lo, std::int32_t hi, std::int32_t* out,
                           std::size_t capacity) const {
    return detail::key_window_scan_run<A>(x, n, lo, hi, out, capacity);
  }
};

}  // namespace kernels
}  // namespace qkern

// This family's entries in the kernel list (kernels/kernel_list.hpp).
#define QKERN_SELECT_KERNELS(X) X(f32_key_window_scan)
