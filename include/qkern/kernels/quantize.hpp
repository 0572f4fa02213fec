// qkern — SPDX-License-Identifier: Apache-2.0
//
// kernels/quantize.hpp: SIMD quantize (f32 -> s8/u8/s16/u16), dequantize (-> f32) and fake-quantize
// (f32 -> f32), per tensor and per channel. Functors templated on the xsimd arch (see
// simd/dispatch.hpp); they assume validated arguments and are checked bit for bit against
// reference/quantize.hpp on every arch.
//
// Recipe (XNNPACK's, with ONNX's division as an option): v = x / s or x * (1/s); clamp v in float to
// [qmin - zp, qmax - zp] (keeps cvtps2dq away from its INT32_MIN overflow value; clamping before
// rounding equals rounding before clamping because the bounds are integers); round; add zp; NaN
// lanes are replaced by zp afterwards. Reads x[0, n) and writes y[0, n) only: tails go through a
// padded stack copy of one vector.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "qkern/core/layout.hpp"
#include "qkern/core/params.hpp"
#include "qkern/simd/convert.hpp"

namespace qkern {
namespace kernels {

/// Per-tensor constants, precomputed once from QuantParams (no division or branch on
/// configuration in the loop).
struct QuantizeConstants {
  float scale;       ///< the real scale (dequantize and fake-quant multiply by it)
  float scale_op;    ///< what the loop applies: the scale (divide) or float(1/scale) (multiply)
  float lo, hi;      ///< qmin - zp and qmax - zp
  std::int32_t zero_point;
  Arithmetic arithmetic;
};

inline QuantizeConstants make_constants(const QuantParams& p) {
  QuantizeConstants c;
  c.scale = p.scale;
  c.scale_op = p.arithmetic.scale_op == ScaleOp::divide ? p.scale : 1.0f / p.scale;
  c.lo = static_cast<float>(p.qmin - p.zero_point);
  c.hi = static_cast<float>(p.qmax - p.zero_point);
  c.zero_point = p.zero_point;
  c.arithmetic = p.arithmetic;
  return c;
}

/// Maximum lanes of any arch (AVX-512 float). Per-channel constant arrays are padded to a multiple
/// of it so a full vector of channel constants can always be loaded.
inline constexpr std::size_t kMaxLanes = 16;

/// Per-channel constants: arrays of `padded_channels` entries (a multiple of kMaxLanes; entries
/// past the channel count are harmless copies of valid values).
struct ChannelQuantizeConstants {
  const float* scale;
  const float* scale_op;
  const float* lo;
  const float* hi;
  const std::int32_t* zero_point;
  Arithmetic arithmetic;
};

namespace detail {

template <class A> using BF = simd::batch<float, A>;
template <class A> using BI = simd::batch<std::int32_t, A>;

// The rounded, clamped value (q - zp) of each lane as int32; NaN lanes give 0.
template <ScaleOp S, Rounding R, class A>
inline BI<A> round_lanes(const BF<A>& x, const BF<A>& scale_op, const BF<A>& lo, const BF<A>& hi) {
  BF<A> v = S == ScaleOp::divide ? x / scale_op : x * scale_op;
  v = xsimd::min(xsimd::max(v, lo), hi);  // a NaN lane is fixed below, whatever min/max make of it
  BI<A> r;
  if constexpr (R == Rounding::half_to_even) {
    r = xsimd::nearbyint_as_int(v);  // RNE: FloatEnvironmentGuard pins MXCSR
  } else {
    // Exact ties-away: truncate, then step away from zero when the fraction is >= 0.5.
    const BI<A> t = xsimd::to_int(v);
    const BF<A> frac = xsimd::abs(v - xsimd::to_float(t));
    const BI<A> away = (simd::bitcast<std::int32_t>(v) >> 31) | BI<A>(1);  // -1 or +1
    r = t + xsimd::select(simd::mask_cast<std::int32_t>(frac >= BF<A>(0.5f)), away, BI<A>(0));
  }
  return xsimd::select(simd::nan_mask(x), BI<A>(0), r);
}

template <class A, class Q>
inline void store_lanes(Q* dst, const BI<A>& v) {
  simd::store_narrow<Q>(dst, v);
}
template <class A>
inline void store_lanes(float* dst, const BF<A>& v) {
  v.store_unaligned(dst);
}

// y[i] = op(x[i]) for i in [0, n), one vector at a time (unrolled x4), tail via a padded copy.
// `load` reads one full vector from a pointer of the input type.
template <class A, class In, class Out, class Load, class Op>
inline void map_lanes(const In* x, Out* y, std::size_t n, Load load, Op op) {
  constexpr std::size_t N = BF<A>::size;
  std::size_t i = 0;
  for (; i + 4 * N <= n; i += 4 * N) {
    const auto r0 = op(load(x + i)), r1 = op(load(x + i + N));
    const auto r2 = op(load(x + i + 2 * N)), r3 = op(load(x + i + 3 * N));
    store_lanes<A>(y + i, r0);
    store_lanes<A>(y + i + N, r1);
    store_lanes<A>(y + i + 2 * N, r2);
    store_lanes<A>(y + i + 3 * N, r3);
  }
  for (; i + N <= n; i += N) store_lanes<A>(y + i, op(load(x + i)));
  if (i < n) {
    alignas(64) In xb[N] = {};
    alignas(64) Out yb[N];
    std::memcpy(xb, x + i, (n - i) * sizeof(In));
    store_lanes<A>(yb, op(load(xb)));
    std::memcpy(y + i, yb, (n - i) * sizeof(Out));
  }
}

template <class A>
inline BF<A> load_f32(const float* p) {
  return BF<A>::load_unaligned(p);
}

// Calls f(integral_constant<ScaleOp>, integral_constant<Rounding>) for the runtime arithmetic, so
// loops are compiled once per combination with no branch inside.
template <class F>
inline void with_arithmetic(Arithmetic a, F&& f) {
  using SD = std::integral_constant<ScaleOp, ScaleOp::divide>;
  using SM = std::integral_constant<ScaleOp, ScaleOp::multiply_by_reciprocal>;
  using RE = std::integral_constant<Rounding, Rounding::half_to_even>;
  using RA = std::integral_constant<Rounding, Rounding::half_away_from_zero>;
  if (a.scale_op == ScaleOp::divide) {
    if (a.rounding == Rounding::half_to_even) f(SD{}, RE{}); else f(SD{}, RA{});
  } else {
    if (a.rounding == Rounding::half_to_even) f(SM{}, RE{}); else f(SM{}, RA{});
  }
}

// Per-channel driver. inner == 1 (channels last): vectors run along the channels of each row with
// vectors of channel constants. inner > 1: each (outer, channel) run is a per-tensor map with
// broadcast constants.
template <class A, class In, class Out, class Load, class MakeOp>
inline void map_channels(const In* x, Out* y, const ChannelLayout& l, Load load, MakeOp make_op) {
  constexpr std::size_t N = BF<A>::size;
  if (l.inner == 1) {
    for (std::size_t o = 0; o < l.outer; ++o) {
      const In* xr = x + o * l.channels;
      Out* yr = y + o * l.channels;
      std::size_t c = 0;
      for (; c + N <= l.channels; c += N) store_lanes<A>(yr + c, make_op(c)(load(xr + c)));
      if (c < l.channels) {
        alignas(64) In xb[N] = {};
        alignas(64) Out yb[N];
        std::memcpy(xb, xr + c, (l.channels - c) * sizeof(In));
        store_lanes<A>(yb, make_op(c)(load(xb)));
        std::memcpy(yr + c, yb, (l.channels - c) * sizeof(Out));
      }
    }
    return;
  }
  for (std::size_t o = 0; o < l.outer; ++o)
    for (std::size_t ch = 0; ch < l.channels; ++ch) {
      const std::size_t base = (o * l.channels + ch) * l.inner;
      map_lanes<A>(x + base, y + base, l.inner, load, make_op.broadcast(ch));
    }
}

}  // namespace detail

/// f32 -> Q quantize, per tensor.
template <class Q>
struct f32_quantize {
  using signature = void(const float*, Q*, std::size_t, const QuantizeConstants&);
  template <class A>
  void operator()(A, const float* x, Q* y, std::size_t n, const QuantizeConstants& c) const {
    using namespace detail;
    const BF<A> s(c.scale_op), lo(c.lo), hi(c.hi);
    const BI<A> zp(c.zero_point);
    with_arithmetic(c.arithmetic, [&](auto sop, auto rnd) {
      map_lanes<A>(x, y, n, load_f32<A>,
                   [&](const BF<A>& v) { return round_lanes<decltype(sop)::value, decltype(rnd)::value>(v, s, lo, hi) + zp; });
    });
  }
};

/// f32 -> f32 fake-quantize, per tensor: dequantize(quantize(x)) fused; NaN passes through.
/// In place (y == x) is allowed.
struct f32_fake_quantize {
  using signature = void(const float*, float*, std::size_t, const QuantizeConstants&);
  template <class A>
  void operator()(A, const float* x, float* y, std::size_t n, const QuantizeConstants& c) const {
    using namespace detail;
    const BF<A> s(c.scale_op), lo(c.lo), hi(c.hi), scale(c.scale);
    with_arithmetic(c.arithmetic, [&](auto sop, auto rnd) {
      map_lanes<A>(x, y, n, load_f32<A>, [&](const BF<A>& v) {
        const BF<A> out = xsimd::to_float(round_lanes<decltype(sop)::value, decltype(rnd)::value>(v, s, lo, hi)) * scale;
        return xsimd::select(simd::mask_cast<float>(simd::nan_mask(v)), v, out);
      });
    });
  }
};

/// Q -> f32 dequantize, per tensor: (float)(q - zp) * scale.
template <class Q>
struct dequantize_f32 {
  using signature = void(const Q*, float*, std::size_t, const QuantizeConstants&);
  template <class A>
  void operator()(A, const Q* q, float* y, std::size_t n, const QuantizeConstants& c) const {
    using namespace detail;
    const BF<A> scale(c.scale);
    const BI<A> zp(c.zero_point);
    map_lanes<A>(q, y, n, [](const Q* p) { return simd::load_widen<A>(p); },
                 [&](const BI<A>& v) { return xsimd::to_float(v - zp) * scale; });
  }
};

namespace detail {

// Builds the per-channel lane ops for map_channels: operator()(c) gives the op with vectors of
// channel constants starting at c; broadcast(c) the op for one channel.
template <class A, ScaleOp S, Rounding R>
struct ChannelQuantizeOp {
  const ChannelQuantizeConstants& c;
  auto operator()(std::size_t ch) const {
    const BF<A> s = BF<A>::load_unaligned(c.scale_op + ch), lo = BF<A>::load_unaligned(c.lo + ch),
                hi = BF<A>::load_unaligned(c.hi + ch);
    const BI<A> zp = BI<A>::load_unaligned(c.zero_point + ch);
    return [=](const BF<A>& v) { return round_lanes<S, R>(v, s, lo, hi) + zp; };
  }
  auto broadcast(std::size_t ch) const {
    const BF<A> s(c.scale_op[ch]), lo(c.lo[ch]), hi(c.hi[ch]);
    const BI<A> zp(c.zero_point[ch]);
    return [=](const BF<A>& v) { return round_lanes<S, R>(v, s, lo, hi) + zp; };
  }
};

template <class A, ScaleOp S, Rounding R>
struct ChannelFakeQuantizeOp {
  const ChannelQuantizeConstants& c;
  static BF<A> apply(const BF<A>& v, const BF<A>& s, const BF<A>& lo, const BF<A>& hi, const BF<A>& scale) {
    const BF<A> out = xsimd::to_float(round_lanes<S, R>(v, s, lo, hi)) * scale;
    return xsimd::select(simd::mask_cast<float>(simd::nan_mask(v)), v, out);
  }
  auto operator()(std::size_t ch) const {
    const BF<A> s = BF<A>::load_unaligned(c.scale_op + ch), lo = BF<A>::load_unaligned(c.lo + ch),
                hi = BF<A>::load_unaligned(c.hi + ch), scale = BF<A>::load_unaligned(c.scale + ch);
    return [=](const BF<A>& v) { return apply(v, s, lo, hi, scale); };
  }
  auto broadcast(std::size_t ch) const {
    const BF<A> s(c.scale_op[ch]), lo(c.lo[ch]), hi(c.hi[ch]), scale(c.scale[ch]);
    return [=](const BF<A>& v) { return apply(v, s, lo, hi, scale); };
  }
};

template <class A>
struct ChannelDequantizeOp {
  const ChannelQuantizeConstants& c;
  auto operator()(std::size_t ch) const {
    const BF<A> scale = BF<A>::load_unaligned(c.scale + ch);
    const BI<A> zp = BI<A>::load_unaligned(c.zero_point + ch);
    return [=](const BI<A>& v) { return xsimd::to_float(v - zp) * scale; };
  }
  auto broadcast(std::size_t ch) const {
    const BF<A> scale(c.scale[ch]);
    const BI<A> zp(c.zero_point[ch]);
    return [=](const BI<A>& v) { return xsimd::to_float(v - zp) * scale; };
  }
};

}  // namespace detail

/// f32 -> Q quantize, per channel.
template <class Q>
struct f32_quantize_channels {
  using signature = void(const float*, Q*, const ChannelLayout&, const ChannelQuantizeConstants&);
  template <class A>
  void operator()(A, const float* x, Q* y, const ChannelLayout& l, const ChannelQuantizeConstants& c) const {
    using namespace detail;
    with_arithmetic(c.arithmetic, [&](auto sop, auto rnd) {
      map_channels<A>(x, y, l, load_f32<A>, ChannelQuantizeOp<A, decltype(sop)::value, decltype(rnd)::value>{c});
    });
  }
};

/// f32 -> f32 fake-quantize, per channel (in place allowed).
struct f32_fake_quantize_channels {
  using signature = void(const float*, float*, const ChannelLayout&, const ChannelQuantizeConstants&);
  template <class A>
  void operator()(A, const float* x, float* y, const ChannelLayout& l, const ChannelQuantizeConstants& c) const {
    using namespace detail;
    with_arithmetic(c.arithmetic, [&](auto sop, auto rnd) {
      map_channels<A>(x, y, l, load_f32<A>, ChannelFakeQuantizeOp<A, decltype(sop)::value, decltype(rnd)::value>{c});
    });
  }
};

/// Q -> f32 dequantize, per channel.
template <class Q>
struct dequantize_f32_channels {
  using signature = void(const Q*, float*, const ChannelLayout&, const ChannelQuantizeConstants&);
  template <class A>
  void operator()(A, const Q* q, float* y, const ChannelLayout& l, const ChannelQuantizeConstants& c) const {
    using namespace detail;
    map_channels<A>(q, y, l, [](const Q* p) { return simd::load_widen<A>(p); }, ChannelDequantizeOp<A>{c});
  }
};

// XNNPACK-style names: <input>_<output>_<op>.
using f32_s8_quantize = f32_quantize<std::int8_t>;
using f32_u8_quantize = f32_quantize<std::uint8_t>;
using f32_s16_quantize = f32_quantize<std::int16_t>;
using f32_u16_quantize = f32_quantize<std::uint16_t>;
using f32_s8_quantize_channels = f32_quantize_channels<std::int8_t>;
using f32_u8_quantize_channels = f32_quantize_channels<std::uint8_t>;
using f32_s16_quantize_channels = f32_quantize_channels<std::int16_t>;
using f32_u16_quantize_channels = f32_quantize_channels<std::uint16_t>;
using s8_f32_dequantize = dequantize_f32<std::int8_t>;
using u8_f32_dequantize = dequantize_f32<std::uint8_t>;
using s16_f32_dequantize = dequantize_f32<std::int16_t>;
using u16_f32_dequantize = dequantize_f32<std::uint16_t>;
using s8_f32_dequantize_channels = dequantize_f32_channels<std::int8_t>;
using u8_f32_dequantize_channels = dequantize_f32_channels<std::uint8_t>;
using s16_f32_dequantize_channels = dequantize_f32_channels<std::int16_t>;
using u16_f32_dequantize_channels = dequantize_f32_channels<std::uint16_t>;

}  // namespace kernels
}  // namespace qkern

// This family's entries in the kernel list (kernels/kernel_list.hpp).
#define QKERN_QUANTIZE_KERNELS(X) \
  X(f32_s8_quantize)              \
  X(f32_u8_quantize)              \
  X(f32_s16_quantize)             \
  X(f32_u16_quantize)             \
  X(f32_s8_quantize_channels)     \
  X(f32_u8_quantize_channels)     \
  X(f32_s16_quantize_channels)    \
  X(f32_u16_quantize_channels)    \
  X(s8_f32_dequantize)            \
  X(u8_f32_dequantize)            \
  X(s16_f32_dequantize)           \
  X(u16_f32_dequantize)           \
  X(s8_f32_dequantize_channels)   \
  X(u8_f32_dequantize_channels)   \
  X(s16_f32_dequantize_channels)  \
  X(u16_f32_dequantize_channels)  \
  X(f32_fake_quantize)            \
  X(f32_fake_quantize_channels)
