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
//
// Speed: blocks of four vectors are narrowed and packed into full-width stores; the input is
// prefetched ahead (simd/prefetch.hpp); a map over more
// than QKERN_STREAMING_MIN_BYTES (input + output, beyond a typical L3) uses streaming stores on its
// 64-byte-aligned middle (simd/store.hpp), which is what keeps DRAM-sized maps at the memory
// roofline. Channels-last layouts run as one flat map with cycling channel constants.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "qkern/core/layout.hpp"
#include "qkern/core/params.hpp"
#include "qkern/simd/attributes.hpp"
#include "qkern/simd/convert.hpp"
#include "qkern/simd/prefetch.hpp"
#include "qkern/simd/scratch.hpp"
#include "qkern/simd/store.hpp"

namespace qkern {
namespace kernels {

/// Per-tensor constants, precomputed once from QuantParams (no division or branch on
/// configuration in the loop).
struct QuantizeConstants {
  float scale;     ///< the real scale (dequantize and fake-quant multiply by it)
  float scale_op;  ///< what the loop applies: the scale (divide) or float(1/scale) (multiply)
  float lo, hi;    ///< qmin - zp and qmax - zp
  std::int32_t zero_point;
  Arithmetic arithmetic;
};

inline QuantizeConstants make_constants(const QuantParams& p) {
  QuantizeConstants c;
  c.scale = p.scale;
  c.scale_op = p.arithmetic.scale_op == ScaleOp::divide ? p.scale : qkern::detail::fp_div(1.0f, p.scale);
  // In 64 bits: a zero point outside [qmin, qmax] (dequantize accepts any) must not overflow int32.
  c.lo = static_cast<float>(std::int64_t{p.qmin} - p.zero_point);
  c.hi = static_cast<float>(std::int64_t{p.qmax} - p.zero_point);
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

template <class A>
using BF = simd::batch<float, A>;
template <class A>
using BI = simd::batch<std::int32_t, A>;

// The rounded, clamped value (q - zp) of each lane as int32; NaN lanes give 0.
template <ScaleOp S, Rounding R, class A>
inline BI<A> round_lanes(const BF<A>& x, const BF<A>& scale_op, const BF<A>& lo, const BF<A>& hi) {
  BF<A> v = S == ScaleOp::divide ? simd::exact_div(x, scale_op) : x * scale_op;
  v = xsimd::min(xsimd::max(v, lo), hi);  // a NaN lane is fixed below, whatever min/max make of it
  BI<A> r;
  if constexpr (R == Rounding::half_to_even) {
    r = xsimd::nearbyint_as_int(v);  // RNE: FloatEnvironmentGuard pins MXCSR
  } else {
    // Exact ties-away: truncate, then step away from zero when the fraction is >= 0.5.
    const BI<A> t = xsimd::to_int(v);
    const BF<A> frac = xsimd::abs(v - xsimd::to_float(t));
    const BI<A> away = (simd::bitcast<std::int32_t>(v) >> 31) | BI<A>(1);  // -1 or +1
    r = t + simd::lane_select(simd::mask_cast<std::int32_t>(frac >= BF<A>(0.5f)), away, BI<A>(0));
  }
  return simd::lane_select(simd::nan_mask(x), BI<A>(0), r);
}

template <class A, class Q>
inline void store_lanes(Q* dst, const BI<A>& v) {
  simd::store_narrow<Q>(dst, v);
}
template <class A>
inline void store_lanes(float* dst, const BF<A>& v) {
  v.store_unaligned(dst);
}
template <class A, bool Stream, class Q>
inline void store_block(Q* dst, const BI<A>& a, const BI<A>& b, const BI<A>& c, const BI<A>& d) {
  simd::store_narrow4<Q, Stream>(dst, a, b, c, d);
}
template <class A, bool Stream>
inline void store_block(float* dst, const BF<A>& a, const BF<A>& b, const BF<A>& c, const BF<A>& d) {
  simd::store4<Stream>(dst, a, b, c, d);
}

// y[i] = op(x[i]) for the up to N - 1 elements of a tail, through a padded copy of one vector (so
// nothing outside x[0, n) is read or y[0, n) written).
template <class A, class In, class Out, class Load, class Op>
QKERN_FLATTEN inline void map_partial(const In* x, Out* y, std::size_t n, Load load, Op op) {
  constexpr std::size_t N = BF<A>::size;
  alignas(64) In xb[N] = {};
  alignas(64) Out yb[N];
  std::memcpy(xb, x, n * sizeof(In));
  store_lanes<A>(yb, op(load(xb)));
  std::memcpy(y, yb, n * sizeof(Out));
}

// Lane ops for map_blocks: at(pos, k) is the op for the vector starting k elements past cursor
// pos, advance(pos, k) the cursor k elements later. Copied into the loop (with the cursor) so that
// stores through an int8 pointer, which may alias anything, do not force them back to memory.
template <class Op>
struct FixedOps {
  Op op;
  const Op& at(std::size_t, std::size_t) const { return op; }
  std::size_t advance(std::size_t pos, std::size_t) const { return pos; }
};

// Channels-last: the cursor is a channel; the op for channel (pos + k) comes from constant arrays
// extended past the channel count by 4N wrapped-around entries (so k < 4N needs no wrap).
template <class MakeOp>
struct CyclicOps {
  MakeOp make;
  std::size_t channels;
  auto at(std::size_t pos, std::size_t k) const { return make(pos + k); }
  std::size_t advance(std::size_t pos, std::size_t k) const {
    pos += k;
    if (pos >= channels) {
      pos -= channels;
      if (pos >= channels) pos %= channels;
    }
    return pos;
  }
};

// A loader may also load a whole block of 4 vectors at once: load.block(p) returning an object with
// v[4] (the 4 vectors load(p), load(p + N), ... would give); map_blocks then uses it for its blocks.
template <class Load, class = void>
struct has_block_load : std::false_type {};
template <class Load>
struct has_block_load<Load, std::void_t<decltype(&Load::block)>> : std::true_type {};

// y[i] = op(x[i]) for i in [0, n), cursor advanced by n: blocks of 4 vectors packed into
// full-width stores (streaming ones with Stream, then y must be kStreamAlign aligned), single
// vectors, then a padded tail.
template <class A, bool Stream, class In, class Out, class Load, class Ops>
QKERN_FLATTEN inline void map_blocks(const In* x, Out* y, std::size_t n, Load load, const Ops& ops_in,
                                     std::size_t& pos_io) {
  constexpr std::size_t N = BF<A>::size;
  const Ops ops = ops_in;
  std::size_t pos = pos_io;
  std::size_t i = 0;
  for (; i + 4 * N <= n; i += 4 * N) {
    simd::prefetch_ahead<A, 4 * N * sizeof(In)>(x + i);
    if constexpr (has_block_load<Load>::value) {
      const auto b = load.block(x + i);
      store_block<A, Stream>(y + i, ops.at(pos, 0)(b.v[0]), ops.at(pos, N)(b.v[1]), ops.at(pos, 2 * N)(b.v[2]),
                             ops.at(pos, 3 * N)(b.v[3]));
    } else {
      const auto r0 = ops.at(pos, 0)(load(x + i)), r1 = ops.at(pos, N)(load(x + i + N));
      const auto r2 = ops.at(pos, 2 * N)(load(x + i + 2 * N)), r3 = ops.at(pos, 3 * N)(load(x + i + 3 * N));
      store_block<A, Stream>(y + i, r0, r1, r2, r3);
    }
    pos = ops.advance(pos, 4 * N);
  }
  for (; i + N <= n; i += N) {
    store_lanes<A>(y + i, ops.at(pos, 0)(load(x + i)));
    pos = ops.advance(pos, N);
  }
  if (i < n) {
    map_partial<A>(x + i, y + i, n - i, load, ops.at(pos, 0));
    pos = ops.advance(pos, n - i);
  }
  pos_io = pos;
}

// As map_blocks, choosing the stores: with `stream` (the caller's size decision) the elements up
// to the first kStreamAlign-aligned output go through ordinary stores, the aligned middle through
// streaming block stores, the rest through ordinary stores again.
template <class A, class In, class Out, class Load, class Ops>
inline void map_positions(const In* x, Out* y, std::size_t n, Load load, const Ops& ops, bool stream) {
  constexpr std::size_t N = BF<A>::size;
  const auto addr = reinterpret_cast<std::uintptr_t>(y);
  std::size_t pos = 0;
  if (simd::can_stream_v<A> && stream && addr % sizeof(Out) == 0) {
    const std::size_t head = (simd::kStreamAlign - addr % simd::kStreamAlign) % simd::kStreamAlign / sizeof(Out);
    if (head + 4 * N <= n) {
      const std::size_t body = (n - head) / (4 * N) * (4 * N);
      map_blocks<A, false>(x, y, head, load, ops, pos);
      map_blocks<A, true>(x + head, y + head, body, load, ops, pos);
      simd::stream_fence<A>();
      map_blocks<A, false>(x + head + body, y + head + body, n - head - body, load, ops, pos);
      return;
    }
  }
  map_blocks<A, false>(x, y, n, load, ops, pos);
}

// y[i] = op(x[i]) for i in [0, n), streaming stores when `stream`.
template <class A, class In, class Out, class Load, class Op>
inline void map_lanes(const In* x, Out* y, std::size_t n, Load load, Op op, bool stream) {
  map_positions<A>(x, y, n, load, FixedOps<Op>{op}, stream);
}

// The loaders the maps take are function objects, not function pointers: GCC does not inline a call
// through a pointer that reaches the loop as an argument (the channels-last map made one indirect
// call per vector that way, 2.4x slower).
template <class A>
struct LoadF32 {
  BF<A> operator()(const float* p) const { return BF<A>::load_unaligned(p); }
};

// Codes widened to int32 minus the zero point, a block of 4 vectors at a time where the arch has a
// block load for Q (simd::load_widen4_sub).
template <class A, class Q>
struct WidenSubLoad {
  std::int32_t zp;
  struct Block {
    BI<A> v[4];
  };
  BI<A> operator()(const Q* p) const { return simd::load_widen<A>(p) - BI<A>(zp); }
  Block block(const Q* p) const {
    Block b;
    simd::load_widen4_sub<A>(p, zp, b.v);
    return b;
  }
};

// Calls f(integral_constant<ScaleOp>, integral_constant<Rounding>) for the runtime arithmetic, so
// loops are compiled once per combination with no branch inside.
template <class F>
inline void with_arithmetic(Arithmetic a, F&& f) {
  using SD = std::integral_constant<ScaleOp, ScaleOp::divide>;
  using SM = std::integral_constant<ScaleOp, ScaleOp::multiply_by_reciprocal>;
  using RE = std::integral_constant<Rounding, Rounding::half_to_even>;
  using RA = std::integral_constant<Rounding, Rounding::half_away_from_zero>;
  if (a.scale_op == ScaleOp::divide) {
    if (a.rounding == Rounding::half_to_even)
      f(SD{}, RE{});
    else
      f(SD{}, RA{});
  } else {
    if (a.rounding == Rounding::half_to_even)
      f(SM{}, RE{});
    else
      f(SM{}, RA{});
  }
}

// Per-channel driver. inner == 1 (channels last): the tensor is one flat map whose lane constants
// cycle with period `channels`; they are read from copies of the constant arrays extended by 4N
// wrapped-around entries, so a vector may start at any channel and the map runs in blocks across
// row boundaries (no per-row tail). inner > 1: each (outer, channel) run is a per-tensor map with
// broadcast constants. Streaming stores when the whole tensor is large (simd::streaming_pays).
template <class A, class In, class Out, class Load, class MakeOp>
inline void map_channels(const In* x, Out* y, const ChannelLayout& l, Load load, MakeOp make_op) {
  constexpr std::size_t N = BF<A>::size;
  // l.outer * l.channels * l.inner, not l.size(): an untagged inline member (see check_arch_leaks.cmake).
  const std::size_t total = l.outer * l.channels * l.inner;
  const bool stream = simd::streaming_pays<A>(total * (sizeof(In) + sizeof(Out)));
  if (l.inner == 1) {
    const std::size_t channels = l.channels, ext = channels + 4 * N;
    constexpr std::size_t kStack = 256 + 4 * 16;
    alignas(64) float fs[4][kStack];
    alignas(64) std::int32_t zs[kStack];
    simd::ScratchArray<float, A> fheap;
    simd::ScratchArray<std::int32_t, A> zheap;
    float* f[4] = {fs[0], fs[1], fs[2], fs[3]};
    std::int32_t* z = zs;
    if (ext > kStack) {
      fheap.resize(4 * ext);
      zheap.resize(ext);
      for (int k = 0; k < 4; ++k) f[k] = fheap.data() + k * ext;
      z = zheap.data();
    }
    const ChannelQuantizeConstants& c = make_op.c;
    for (std::size_t k = 0, ch = 0; k < ext; ++k, ch = ch + 1 == channels ? 0 : ch + 1) {
      f[0][k] = c.scale[ch];
      f[1][k] = c.scale_op[ch];
      f[2][k] = c.lo[ch];
      f[3][k] = c.hi[ch];
      z[k] = c.zero_point[ch];
    }
    MakeOp wrapped = make_op;  // keeps any other member of the op
    wrapped.c = ChannelQuantizeConstants{f[0], f[1], f[2], f[3], z, c.arithmetic};
    map_positions<A>(x, y, total, load, CyclicOps<MakeOp>{wrapped, channels}, stream);
    return;
  }
  for (std::size_t o = 0; o < l.outer; ++o)
    for (std::size_t ch = 0; ch < l.channels; ++ch) {
      const std::size_t base = (o * l.channels + ch) * l.inner;
      map_lanes<A>(x + base, y + base, l.inner, load, make_op.broadcast(ch), stream);
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
      map_lanes<A>(
          x, y, n, LoadF32<A>{},
          [&](const BF<A>& v) { return round_lanes<decltype(sop)::value, decltype(rnd)::value>(v, s, lo, hi) + zp; },
          simd::streaming_pays<A>(n * (sizeof(float) + sizeof(Q))));
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
      map_lanes<A>(
          x, y, n, LoadF32<A>{},
          [&](const BF<A>& v) {
            const BF<A> out =
                xsimd::to_float(round_lanes<decltype(sop)::value, decltype(rnd)::value>(v, s, lo, hi)) * scale;
            return simd::lane_select(simd::mask_cast<float>(simd::nan_mask(v)), v, out);
          },
          simd::streaming_pays<A>(n * 2 * sizeof(float)));
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
    const bool stream = simd::streaming_pays<A>(n * (sizeof(Q) + sizeof(float)));
    if constexpr (simd::has_load_widen4_sub_v<A, Q>) {
      // Blocks of 16 codes in one or two loads, the zero point subtracted while widening.
      if (c.zero_point >= std::numeric_limits<Q>::min() && c.zero_point <= std::numeric_limits<Q>::max()) {
        map_lanes<A>(
            q, y, n, WidenSubLoad<A, Q>{c.zero_point}, [&](const BI<A>& v) { return xsimd::to_float(v) * scale; },
            stream);
        return;
      }
    }
    map_lanes<A>(
        q, y, n, [](const Q* p) { return simd::load_widen<A>(p); },
        [&](const BI<A>& v) { return xsimd::to_float(v - zp) * scale; }, stream);
  }
};

namespace detail {

// Builds the per-channel lane ops for map_channels: operator()(c) gives the op with vectors of
// channel constants starting at c; broadcast(c) the op for one channel.
// Channels-last vectors mix channels, so each needs its own constants from memory. The two ops
// below load only scale (and zero point) per vector and clamp the integer code to the tensor-wide
// [qmin, qmax] after adding the zero point, instead of loading per-channel float bounds; the float
// clamp to +-2^24 only keeps the conversion defined. Bit-identical to the per-channel float clamp:
// rounding is monotone and fixes integers, so clamp(round(v), qmin - zp, qmax - zp) + zp ==
// clamp(round(v) + zp, qmin, qmax) (both bounds well inside +-2^24 for 16-bit codes), and a NaN
// lane still gives zp.
template <class A>
struct TensorCodeRange {
  std::int32_t qmin, qmax;
  // lo[c] = qmin - zp[c] and hi[c] = qmax - zp[c] hold exact integers (any channel gives the same).
  static TensorCodeRange of(const ChannelQuantizeConstants& k) {
    return {static_cast<std::int32_t>(k.lo[0]) + k.zero_point[0], static_cast<std::int32_t>(k.hi[0]) + k.zero_point[0]};
  }
  // clamp(round(v / s or v * s) + zp, qmin, qmax) for the arithmetic S, R.
  template <ScaleOp S, Rounding R>
  BI<A> code(const BF<A>& v, const BF<A>& s, const BI<A>& zp) const {
    const BF<A> wide(16777216.0f);
    return xsimd::min(xsimd::max(round_lanes<S, R>(v, s, -wide, wide) + zp, BI<A>(qmin)), BI<A>(qmax));
  }
};

template <class A, ScaleOp S, Rounding R>
struct ChannelQuantizeOp {
  ChannelQuantizeConstants c;  // by value: see FixedOps
  TensorCodeRange<A> range;

  static ChannelQuantizeOp make(const ChannelQuantizeConstants& k) { return {k, TensorCodeRange<A>::of(k)}; }
  auto operator()(std::size_t ch) const {
    const BF<A> s = BF<A>::load_unaligned(c.scale_op + ch);
    const BI<A> zp = BI<A>::load_unaligned(c.zero_point + ch);
    const TensorCodeRange<A> r = range;
    return [=](const BF<A>& v) { return r.template code<S, R>(v, s, zp); };
  }
  auto broadcast(std::size_t ch) const {
    const BF<A> s(c.scale_op[ch]), lo(c.lo[ch]), hi(c.hi[ch]);
    const BI<A> zp(c.zero_point[ch]);
    return [=](const BF<A>& v) { return round_lanes<S, R>(v, s, lo, hi) + zp; };
  }
};

template <class A, ScaleOp S, Rounding R>
struct ChannelFakeQuantizeOp {
  ChannelQuantizeConstants c;  // by value: see FixedOps
  TensorCodeRange<A> range;

  static ChannelFakeQuantizeOp make(const ChannelQuantizeConstants& k) { return {k, TensorCodeRange<A>::of(k)}; }
  static BF<A> finish(const BF<A>& v, const BI<A>& q_minus_zp, const BF<A>& scale) {
    return simd::lane_select(simd::mask_cast<float>(simd::nan_mask(v)), v, xsimd::to_float(q_minus_zp) * scale);
  }
  auto operator()(std::size_t ch) const {
    const BF<A> s = BF<A>::load_unaligned(c.scale_op + ch), scale = BF<A>::load_unaligned(c.scale + ch);
    const BI<A> zp = BI<A>::load_unaligned(c.zero_point + ch);
    const TensorCodeRange<A> r = range;
    return [=](const BF<A>& v) { return finish(v, r.template code<S, R>(v, s, zp) - zp, scale); };
  }
  auto broadcast(std::size_t ch) const {
    const BF<A> s(c.scale_op[ch]), lo(c.lo[ch]), hi(c.hi[ch]), scale(c.scale[ch]);
    return [=](const BF<A>& v) { return finish(v, round_lanes<S, R>(v, s, lo, hi), scale); };
  }
};

template <class A>
struct ChannelDequantizeOp {
  ChannelQuantizeConstants c;  // by value: see FixedOps
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
      map_channels<A>(x, y, l, LoadF32<A>{}, ChannelQuantizeOp<A, decltype(sop)::value, decltype(rnd)::value>::make(c));
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
      map_channels<A>(x, y, l, LoadF32<A>{},
                      ChannelFakeQuantizeOp<A, decltype(sop)::value, decltype(rnd)::value>::make(c));
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
    map_channels<A>(
        q, y, l, [](const Q* p) { return simd::load_widen<A>(p); }, ChannelDequantizeOp<A>{c});
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
