// qkern tests — SPDX-License-Identifier: Apache-2.0
//
// test_requantize.cpp: fixed-point requantization. XNNPACK-style exhaustive tests (every output
// code x every zero point x shifts 1..31, scale 2^-s, inputs built so the exact answer is known:
// exact multiples, just below / above, and ties on both sides) for every family, on the scalar
// reference and on every arch; the INT32_MIN / INT32_MAX special cases (RQ-2); the building blocks
// against their published definitions; random data against the reference bit for bit at every
// length 0..130 with sentinels; per-channel layouts; range validation (RQ-3), the multiplier
// decomposition (RQ-4) and bias quantization (RQ-6).
#include <cfenv>
#include <cmath>

#include "arch_test_util.hpp"

namespace {

using namespace qkern;
using namespace qkern_test;

constexpr RequantizeRounding kFamilies[] = {RequantizeRounding::gemmlowp, RequantizeRounding::tflite_single,
                                            RequantizeRounding::rndnu, RequantizeRounding::fp32};

template <class A>
class RequantizeKernels : public ::testing::Test {};
TYPED_TEST_SUITE(RequantizeKernels, AllArchs, ArchNames);

// ---- building blocks against their definitions -----------------------------------------------

TEST(RequantizeReference, SaturatingRoundingDoublingHighMul) {
  const std::int32_t mn = std::numeric_limits<std::int32_t>::min(), mx = std::numeric_limits<std::int32_t>::max();
  EXPECT_EQ(reference::saturating_rounding_doubling_high_mul(mn, mn), mx);  // the only overflow
  EXPECT_EQ(reference::saturating_rounding_doubling_high_mul(mx, mx), mx - 1);
  EXPECT_EQ(reference::saturating_rounding_doubling_high_mul(mn, mx), mn + 1);
  // 2ab / 2^32 = ab / 2^31: +0.5 rounds up to 1, -0.5 rounds up to 0 (half toward +inf).
  EXPECT_EQ(reference::saturating_rounding_doubling_high_mul(1 << 30, 1), 1);
  EXPECT_EQ(reference::saturating_rounding_doubling_high_mul(-(1 << 30), 1), 0);
  EXPECT_EQ(reference::saturating_rounding_doubling_high_mul(3 << 29, 1), 1);      // 0.75
  EXPECT_EQ(reference::saturating_rounding_doubling_high_mul(-(3 << 29), 1), -1);  // -0.75
  // Equals floor((ab + 2^30) / 2^31) everywhere but the overflow (reference-semantics.md B7).
  std::mt19937 rng(3);
  std::uniform_int_distribution<std::int32_t> d(mn, mx);
  for (int i = 0; i < 100000; ++i) {
    const std::int32_t a = d(rng), b = d(rng);
    const std::int64_t ab = std::int64_t{a} * b;
    const std::int64_t want = (ab + (std::int64_t{1} << 30)) >> 31;
    ASSERT_EQ(reference::saturating_rounding_doubling_high_mul(a, b), want) << a << " " << b;
  }
}

TEST(RequantizeReference, RoundingDivideByPotRoundsHalfAwayFromZero) {
  EXPECT_EQ(reference::rounding_divide_by_pot(3, 1), 2);    // 1.5 -> 2
  EXPECT_EQ(reference::rounding_divide_by_pot(-3, 1), -2);  // -1.5 -> -2
  EXPECT_EQ(reference::rounding_divide_by_pot(5, 2), 1);    // 1.25 -> 1
  EXPECT_EQ(reference::rounding_divide_by_pot(-5, 2), -1);
  EXPECT_EQ(reference::rounding_divide_by_pot(-6, 2), -2);  // -1.5 -> -2
  EXPECT_EQ(reference::rounding_divide_by_pot(7, 0), 7);
  EXPECT_EQ(reference::rounding_divide_by_pot(std::numeric_limits<std::int32_t>::min(), 31), -1);
  EXPECT_EQ(reference::rounding_divide_by_pot(std::numeric_limits<std::int32_t>::max(), 31), 1);
  for (std::int32_t x = -5000; x <= 5000; ++x)
    for (int e = 0; e <= 12; ++e) {
      const double q = std::ldexp(double(x), -e);
      ASSERT_EQ(reference::rounding_divide_by_pot(x, e), std::int32_t(std::round(q))) << x << " " << e;
    }
}

TEST(RequantizeReference, SingleRoundingAndRndnuRoundHalfUp) {
  // tflite_single with multiplier 2^30, shift 0: x / 2, ties up.
  EXPECT_EQ(reference::multiply_by_quantized_multiplier_single(3, 1 << 30, 0), 2);
  EXPECT_EQ(reference::multiply_by_quantized_multiplier_single(-3, 1 << 30, 0), -1);
  EXPECT_EQ(reference::multiply_by_quantized_multiplier_single(-5, 1 << 30, 0), -2);
  // Large multipliers exceed int32 (not saturated in the definition).
  EXPECT_EQ(reference::multiply_by_quantized_multiplier_single(std::numeric_limits<std::int32_t>::max(), 1 << 30, 30),
            std::int64_t{std::numeric_limits<std::int32_t>::max()} << 29);
  const RndnuMultiplier m = rndnu_multiplier(0.25f);
  EXPECT_EQ(m.multiplier, 1 << 23);
  EXPECT_EQ(m.shift, 25);
  EXPECT_EQ(reference::rndnu_multiply(6, m), 2);    // 1.5 -> 2
  EXPECT_EQ(reference::rndnu_multiply(-6, m), -1);  // -1.5 -> -1
  // Double and single rounding differ on ties (fault catalogue 2.10).
  EXPECT_EQ(reference::multiply_by_quantized_multiplier_double(-6, 1 << 30, -1), -2);
  EXPECT_EQ(reference::multiply_by_quantized_multiplier_single(-6, 1 << 30, -1), -1);
}

TEST(RequantizeReference, Fp32RoundsHalfToEven) {
  EXPECT_EQ(reference::requantize_fp32(5, 0.5f, 0, -128, 127), 2);
  EXPECT_EQ(reference::requantize_fp32(7, 0.5f, 0, -128, 127), 4);
  EXPECT_EQ(reference::requantize_fp32(-5, 0.5f, 0, -128, 127), -2);
  EXPECT_EQ(reference::requantize_fp32(-5, 0.5f, 10, -128, 127), 8);
  EXPECT_EQ(reference::requantize_fp32(1000, 0.5f, 10, -128, 127), 127);
}

// ---- the multiplier decomposition and the family ranges (RQ-3, RQ-4) --------------------------

TEST(QuantizeMultiplier, RoundTripsWithinHalfAQ31Unit) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> mant(0.5, 1.0);
  std::uniform_int_distribution<int> ex(-31, 30);
  for (int i = 0; i < 200000; ++i) {
    const double real = std::ldexp(mant(rng), ex(rng));
    const QuantizedMultiplier m = quantize_multiplier(real);
    ASSERT_GE(m.multiplier, 1 << 30);
    ASSERT_LE(m.shift, 30);
    ASSERT_GE(m.shift, -31);
    const double unit = std::ldexp(1.0, m.shift - 31);
    ASSERT_LE(std::fabs(m.multiplier * unit - real), 0.5 * unit * (1 + 1e-12)) << real;
  }
  // A mantissa that rounds to 2^31 is renormalised.
  const QuantizedMultiplier r = quantize_multiplier(1.0 - 0x1p-40);
  EXPECT_EQ(r.multiplier, 1 << 30);
  EXPECT_EQ(r.shift, 1);
  const QuantizedMultiplier h = quantize_multiplier(0.5);
  EXPECT_EQ(h.multiplier, 1 << 30);
  EXPECT_EQ(h.shift, 0);
  // Ties of q * 2^31 round half away from zero (TFLite uses std::round).
  const QuantizedMultiplier t = quantize_multiplier(0.5 + 0x1p-32);
  EXPECT_EQ(t.multiplier, (1 << 30) + 1);
  EXPECT_EQ(quantize_multiplier(0x1p-32).shift, -31);
}

TEST(QuantizeMultiplier, RejectsOutOfRange) {
  for (double bad : {0.0, -1.0, std::nan(""), HUGE_VAL, -HUGE_VAL, 0x1p-33, 0x1.fffp-33, 0x1p30, 1e12}) {
    try {
      quantize_multiplier(bad);
      FAIL() << "accepted " << bad;
    } catch (const InvalidArgument& e) {
      EXPECT_EQ(e.argument(), "real") << bad;
    }
  }
  EXPECT_NO_THROW(quantize_multiplier(0x1.fffffffcp29));
}

void expect_scale_rejected(RequantizeRounding r, double scale) {
  std::int32_t acc = 0;
  std::int8_t out = 0;
  try {
    requantize(&acc, &out, 1, RequantizeParams{scale, 0, -128, 127, r});
    ADD_FAILURE() << rounding_name(r) << " accepted scale " << scale;
  } catch (const InvalidArgument& e) {
    EXPECT_EQ(e.argument(), "params.scale");
  }
}

void expect_scale_accepted(RequantizeRounding r, double scale) {
  std::int32_t acc = 1000;
  std::int8_t out = 0;
  EXPECT_NO_THROW(requantize(&acc, &out, 1, RequantizeParams{scale, 0, -128, 127, r}))
      << rounding_name(r) << " " << scale;
}

TEST(RequantizeApi, EnforcesEachFamilysScaleRange) {
  for (RequantizeRounding r : kFamilies) {
    for (double bad : {0.0, -0.5, std::nan(""), HUGE_VAL, 0x1p-33}) expect_scale_rejected(r, bad);
    expect_scale_accepted(r, 0x1p-32);
    expect_scale_accepted(r, 0.999);
  }
  expect_scale_rejected(RequantizeRounding::gemmlowp, 1.0);
  expect_scale_rejected(RequantizeRounding::gemmlowp, 1.0 - 0x1p-40);  // rounds to shift 1
  expect_scale_accepted(RequantizeRounding::tflite_single, 1.0);
  expect_scale_accepted(RequantizeRounding::tflite_single, 1000.0);
  expect_scale_rejected(RequantizeRounding::tflite_single, 0x1p30);
  for (RequantizeRounding r : {RequantizeRounding::rndnu, RequantizeRounding::fp32}) {
    expect_scale_accepted(r, 255.9);
    expect_scale_rejected(r, 256.0);
    expect_scale_rejected(r, 255.99999999);  // rounds to 256.0f
  }
}

TEST(RequantizeApi, ValidatesRangesAndPointers) {
  std::int32_t acc[2] = {0, 0};
  std::uint8_t out[2];
  auto arg_of = [&](auto f) {
    try {
      f();
    } catch (const InvalidArgument& e) {
      return e.argument();
    }
    return std::string("none");
  };
  EXPECT_EQ(arg_of([&] { requantize(acc, out, 2, RequantizeParams{0.5, 0, 10, 5}); }), "params.qmin");
  EXPECT_EQ(arg_of([&] { requantize(acc, out, 2, RequantizeParams{0.5, 0, -1, 255}); }), "params.qmin");
  EXPECT_EQ(arg_of([&] { requantize(acc, out, 2, RequantizeParams{0.5, 300, 0, 255}); }), "params.zero_point");
  EXPECT_EQ(arg_of([&] {
              requantize(static_cast<const std::int32_t*>(nullptr), out, 2, RequantizeParams{0.5, 0, 0, 255});
            }),
            "acc");
  EXPECT_EQ(arg_of([&] {
              requantize(acc, static_cast<std::uint8_t*>(nullptr), 2, RequantizeParams{0.5, 0, 0, 255});
            }),
            "out");
  EXPECT_EQ(arg_of([&] { requantize(acc, out, 0, RequantizeParams{0.5, 0, 0, 255}); }), "none");
  ChannelRequantizeParams cp;
  cp.scale = {0.5, 2.0};
  cp.qmin = 0;
  cp.qmax = 255;
  EXPECT_EQ(arg_of([&] { requantize(acc, out, ChannelLayout{1, 3, 1}, cp); }), "params.scale");
  EXPECT_EQ(arg_of([&] { requantize(acc, out, ChannelLayout{1, 2, 1}, cp); }), "params.scale");  // 2.0 for gemmlowp
  cp.rounding = RequantizeRounding::tflite_single;
  EXPECT_EQ(arg_of([&] { requantize(acc, out, ChannelLayout{1, 2, 1}, cp); }), "none");
}

// ---- XNNPACK-style exhaustive tests with constructed inputs ------------------------------------

// The exact answer for input x and scale 2^-s, from the families' definitions in exact double
// arithmetic (every value here has fewer than 53 significant bits):
//   half-up families: floor(x / 2^s + 1/2);  fp32: round half to even of x / 2^s;
//   gemmlowp: SRDHM by the multiplier 2^30 is floor((x + 1) / 2), then RoundingDivideByPOT by
//   s - 1 rounds half away from zero. (Its double rounding shows: with s = 2, x = 1 -> 0.25 -> 1.)
std::int64_t exact_result(RequantizeRounding r, std::int64_t x, int s) {
  switch (r) {
    case RequantizeRounding::gemmlowp: {
      const double first = std::floor((double(x) + 1.0) / 2.0);
      return static_cast<std::int64_t>(std::round(std::ldexp(first, -(s - 1))));
    }
    case RequantizeRounding::fp32:
      return static_cast<std::int64_t>(std::nearbyint(std::ldexp(double(x), -s)));
    default:
      return static_cast<std::int64_t>(std::floor(std::ldexp(double(x), -s) + 0.5));
  }
}

struct Constructed {
  std::vector<std::int32_t> input;
  std::vector<std::int32_t> want;  // expected code
};

// For every code i and the given zp / s: (i - zp) << s exactly, +- (2^(s-1) - 1), +- 2^(s-1).
Constructed construct(RequantizeRounding r, std::int32_t qmin, std::int32_t qmax, std::int32_t zp, int s) {
  Constructed c;
  auto add = [&](std::int64_t x) {
    if (x < std::numeric_limits<std::int32_t>::min() || x > std::numeric_limits<std::int32_t>::max()) return;
    if (r == RequantizeRounding::fp32 && std::llabs(x) > (1 << 24)) return;  // (float)acc must be exact
    const std::int64_t q = exact_result(r, x, s) + zp;
    c.input.push_back(static_cast<std::int32_t>(x));
    c.want.push_back(static_cast<std::int32_t>(q < qmin ? qmin : q > qmax ? qmax : q));
  };
  const std::int64_t half = std::int64_t{1} << (s - 1);
  for (std::int32_t i = qmin; i <= qmax; ++i) {
    const std::int64_t k = i - zp;
    const std::int64_t x = k * (std::int64_t{1} << s);
    add(x);  // exact multiple
    if (s >= 2) {
      add(x + half - 1);  // just below the tie above
      add(x - half + 1);  // just above the tie below
    }
    add(x + half);  // ties
    add(x - half);
  }
  return c;
}

template <class Q>
std::vector<std::int32_t> zero_points() {
  std::vector<std::int32_t> z;
  if (sizeof(Q) == 1) {
    for (std::int32_t v = std::numeric_limits<Q>::min(); v <= std::numeric_limits<Q>::max(); ++v) z.push_back(v);
  } else {
    z = {-32768, -32767, -1000, -1, 0, 1, 77, 32766, 32767};
  }
  return z;
}

// Runs `run(input, out, n, params)` on the constructed inputs of every (family, zp, s).
template <class Q, class Run>
void check_constructed(Run run, std::int32_t qmin, std::int32_t qmax) {
  for (RequantizeRounding r : kFamilies)
    for (std::int32_t zp : zero_points<Q>())
      for (int s = 1; s <= 31; ++s) {
        if (sizeof(Q) == 2 && s % 3 != 1 && s < 29) continue;  // int16: a subset of shifts (its code loop is 64k)
        const Constructed c = construct(r, qmin, qmax, zp, s);
        const RequantizeParams p{std::ldexp(1.0, -s), zp, qmin, qmax, r};
        std::vector<Q> got(c.input.size());
        run(c.input.data(), got.data(), c.input.size(), p);
        for (std::size_t i = 0; i < c.input.size(); ++i)
          ASSERT_EQ(std::int32_t(got[i]), c.want[i])
              << rounding_name(r) << " zp=" << zp << " s=" << s << " input=" << c.input[i];
      }
}

template <class Q>
void reference_run(const std::int32_t* x, Q* y, std::size_t n, const RequantizeParams& p) {
  reference::requantize(x, y, n, p);
}

TEST(RequantizeReference, ExhaustiveConstructedInputs) {
  check_constructed<std::int8_t>(reference_run<std::int8_t>, -128, 127);
  check_constructed<std::uint8_t>(reference_run<std::uint8_t>, 0, 255);
}

template <class Q, class A>
void kernel_constructed(std::int32_t qmin, std::int32_t qmax) {
  check_constructed<Q>(
      [](const std::int32_t* x, Q* y, std::size_t n, const RequantizeParams& p) {
        simd::FloatEnvironmentGuard env;
        kernel_for<kernels::requantize<Q>, A>(x, y, n, kernels::make_requantize_constants(p));
      },
      qmin, qmax);
}

TYPED_TEST(RequantizeKernels, ExhaustiveConstructedInputs) {
  QKERN_SKIP_UNLESS_CPU_RUNS(TypeParam);
  kernel_constructed<std::int8_t, TypeParam>(-128, 127);
  kernel_constructed<std::uint8_t, TypeParam>(0, 255);
  kernel_constructed<std::int8_t, TypeParam>(-127, 127);  // narrow
}

TEST(RequantizeReference, ExhaustiveConstructedInputsInt16) {
  check_constructed<std::int16_t>(reference_run<std::int16_t>, -32768, 32767);
}

TYPED_TEST(RequantizeKernels, ExhaustiveConstructedInputsInt16) {
  QKERN_SKIP_UNLESS_CPU_RUNS(TypeParam);
  kernel_constructed<std::int16_t, TypeParam>(-32768, 32767);
}

// ---- special cases (RQ-2) ----------------------------------------------------------------------

// XNNPACK TestSpecialCases: INT32_MIN * 2^-32 = -0.5 exactly.
std::int32_t int32_min_result(RequantizeRounding r, std::int32_t zp, std::int32_t qmin) {
  // gemmlowp: SRDHM gives -2^30, RDBPOT by 31 rounds -0.5 away from zero -> -1 (XNNPACK's
  // max(qmin, zp - 1)); half-up families give 0; fp32 rounds -0.5 to even -> 0.
  const std::int32_t v = r == RequantizeRounding::gemmlowp ? zp - 1 : zp;
  return v < qmin ? qmin : v;
}

template <class Q, class Run>
void check_special_cases(Run run) {
  const std::int32_t qmin = std::numeric_limits<Q>::min(), qmax = std::numeric_limits<Q>::max();
  for (RequantizeRounding r : kFamilies)
    for (std::int32_t zp : zero_points<Q>()) {
      const std::int32_t in_min[1] = {std::numeric_limits<std::int32_t>::min()};
      Q out[1];
      run(in_min, out, 1, RequantizeParams{0x1p-32, zp, qmin, qmax, r});
      ASSERT_EQ(std::int32_t(out[0]), int32_min_result(r, zp, qmin)) << rounding_name(r) << " zp=" << zp;
      const std::int32_t in_max[1] = {std::numeric_limits<std::int32_t>::max()};
      run(in_max, out, 1, RequantizeParams{double(0x1.FFFFFEp-1f), qmax, qmin, qmax, r});
      ASSERT_EQ(std::int32_t(out[0]), qmax) << rounding_name(r);
      run(in_min, out, 1, RequantizeParams{double(0x1.FFFFFEp-1f), qmin, qmin, qmax, r});
      ASSERT_EQ(std::int32_t(out[0]), qmin) << rounding_name(r);
    }
}

TEST(RequantizeReference, SpecialCases) {
  check_special_cases<std::int8_t>(reference_run<std::int8_t>);
  check_special_cases<std::uint8_t>(reference_run<std::uint8_t>);
}

TYPED_TEST(RequantizeKernels, SpecialCases) {
  QKERN_SKIP_UNLESS_CPU_RUNS(TypeParam);
  auto run8 = [](const std::int32_t* x, auto* y, std::size_t n, const RequantizeParams& p) {
    using Q = std::remove_pointer_t<decltype(y)>;
    simd::FloatEnvironmentGuard env;
    kernel_for<kernels::requantize<Q>, TypeParam>(x, y, n, kernels::make_requantize_constants(p));
  };
  check_special_cases<std::int8_t>(run8);
  check_special_cases<std::uint8_t>(run8);
}

// ---- random data against the reference ---------------------------------------------------------

std::vector<double> random_scales(std::mt19937& rng, RequantizeRounding r) {
  std::vector<double> s = {0x1p-32, 0x1p-23, 0.0123456789, 0.5, 0x1.FFFFFEp-1, 0.999999999, 1e-5, 3.1e-9};
  std::uniform_real_distribution<double> log2s(-32.0, 0.0);
  for (int i = 0; i < 6; ++i) s.push_back(std::exp2(log2s(rng)));
  if (r != RequantizeRounding::gemmlowp) {
    for (double big : {1.0, 1.5, 7.25, 255.5}) s.push_back(big);
    if (r == RequantizeRounding::tflite_single) {
      s.push_back(1000.3);
      s.push_back(0x1.fffffp29);
    }
  }
  for (auto& v : s)
    if (v < 0x1p-32) v = 0x1p-32;
  return s;
}

// Accumulators spread over the scale's useful window, the whole int32 range, and the extremes.
std::vector<std::int32_t> random_accumulators(std::mt19937& rng, double scale, std::size_t n) {
  const double window = std::min(2147483647.0, 400.0 / scale);
  std::uniform_real_distribution<double> u(-window, window);
  std::uniform_int_distribution<std::int32_t> any(std::numeric_limits<std::int32_t>::min(),
                                                  std::numeric_limits<std::int32_t>::max());
  std::uniform_int_distribution<int> kind(0, 15);
  std::vector<std::int32_t> v(n);
  for (auto& x : v) {
    const int k = kind(rng);
    if (k < 11)
      x = static_cast<std::int32_t>(u(rng));
    else if (k < 13)
      x = any(rng);
    else if (k == 13)
      x = std::numeric_limits<std::int32_t>::min() + int(rng() % 3);
    else if (k == 14)
      x = std::numeric_limits<std::int32_t>::max() - int(rng() % 3);
    else
      x = int(rng() % 7) - 3;
  }
  return v;
}

template <class Q, class A>
void check_random_lengths() {
  std::mt19937 rng(2024);
  const std::int32_t tmin = std::numeric_limits<Q>::min(), tmax = std::numeric_limits<Q>::max();
  std::uniform_int_distribution<std::int32_t> code(tmin, tmax);
  for (RequantizeRounding r : kFamilies)
    for (double scale : random_scales(rng, r)) {
      const std::int32_t zp = code(rng);
      // Full range, then a fused ReLU (qmin = zp) and a ReLU6-like window.
      const std::int32_t lo2 = std::min(zp, tmax - 1), hi3 = std::min(tmax, zp + (tmax - tmin) / 5);
      for (auto [qmin, qmax] : {std::pair<std::int32_t, std::int32_t>{tmin, tmax}, {lo2, tmax}, {zp, hi3}}) {
        const RequantizeParams p{scale, zp, qmin, qmax, r};
        const auto x = random_accumulators(rng, scale, 200);
        const auto c = kernels::make_requantize_constants(p);
        simd::FloatEnvironmentGuard env;
        std::size_t distinct_outputs_seen = 0;
        for (std::size_t n = 0; n <= 130; ++n) {
          GuardedBuffer<std::int32_t> in(n, n % 4, 0);
          std::memcpy(in.data(), x.data() + (n * 13) % 64, n * sizeof(std::int32_t));
          GuardedBuffer<Q> got(n, (n / 4) % 4, Q(0x5A));
          std::vector<Q> want(n + 1);
          reference::requantize(in.data(), want.data(), n, p);
          kernel_for<kernels::requantize<Q>, A>(in.data(), got.data(), n, c);
          ASSERT_TRUE(bitwise_equal(got.data(), want.data(), n, in.data()))
              << rounding_name(r) << " n=" << n << " scale=" << scale << " zp=" << zp << " [" << qmin << ", " << qmax
              << "]";
          ASSERT_TRUE(got.guards_intact()) << "n=" << n;
          if (n == 130 &&
              std::adjacent_find(want.begin(), want.begin() + n, std::not_equal_to<Q>()) != want.begin() + n)
            ++distinct_outputs_seen;
        }
        if (qmin < qmax && scale > 1e-6) {
          EXPECT_EQ(distinct_outputs_seen, 1u) << "degenerate data: outputs all equal";
        }
      }
    }
}

TYPED_TEST(RequantizeKernels, RandomMatchesReferenceAtEveryLength) {
  QKERN_SKIP_UNLESS_CPU_RUNS(TypeParam);
  check_random_lengths<std::int8_t, TypeParam>();
  check_random_lengths<std::uint8_t, TypeParam>();
  check_random_lengths<std::int16_t, TypeParam>();
}

template <class Q, class A>
void check_extremes_at_every_position() {
  std::mt19937 rng(5);
  const std::size_t n = 4 * 16 + 5;
  const std::int32_t extremes[] = {std::numeric_limits<std::int32_t>::min(),
                                   std::numeric_limits<std::int32_t>::max(),
                                   std::numeric_limits<std::int32_t>::min() + 1,
                                   -1,
                                   0,
                                   1};
  for (RequantizeRounding r : kFamilies)
    for (double scale : {0x1p-32, 0.0173, 0x1.FFFFFEp-1, 7.5}) {
      if (r == RequantizeRounding::gemmlowp && scale > 1.0) continue;
      const RequantizeParams p{scale, 3, std::numeric_limits<Q>::min(), std::numeric_limits<Q>::max(), r};
      const auto base = random_accumulators(rng, scale, n);
      const auto c = kernels::make_requantize_constants(p);
      simd::FloatEnvironmentGuard env;
      for (std::int32_t e : extremes)
        for (std::size_t pos = 0; pos < n; ++pos) {
          auto x = base;
          x[pos] = e;
          std::vector<Q> got(n), want(n);
          reference::requantize(x.data(), want.data(), n, p);
          kernel_for<kernels::requantize<Q>, A>(x.data(), got.data(), n, c);
          ASSERT_TRUE(bitwise_equal(got.data(), want.data(), n, x.data())) << rounding_name(r) << " at " << pos;
        }
    }
}

TYPED_TEST(RequantizeKernels, ExtremesAtEveryLanePosition) {
  QKERN_SKIP_UNLESS_CPU_RUNS(TypeParam);
  check_extremes_at_every_position<std::int8_t, TypeParam>();
  check_extremes_at_every_position<std::uint8_t, TypeParam>();
  check_extremes_at_every_position<std::int16_t, TypeParam>();
}

// ---- per channel -------------------------------------------------------------------------------

template <class Q, class A>
void check_channels() {
  std::mt19937 rng(77);
  std::vector<ChannelLayout> layouts;
  for (std::size_t c : {1, 3, 7, 8, 15, 16, 17, 33, 64}) layouts.push_back({3, c, 1});
  for (std::size_t inner : {2, 5, 16, 19, 49}) layouts.push_back({2, 3, inner});
  layouts.push_back({0, 4, 4});
  std::uniform_real_distribution<double> log2s(-30.0, 0.0);
  for (RequantizeRounding r : kFamilies)
    for (const ChannelLayout& l : layouts) {
      ChannelRequantizeParams p;
      p.rounding = r;
      p.qmin = std::numeric_limits<Q>::min();
      p.qmax = std::numeric_limits<Q>::max();
      p.zero_point = std::is_signed<Q>::value ? -3 : 128;
      for (std::size_t c = 0; c < l.channels; ++c) {
        double s = std::exp2(c % 5 == 0 ? -double(1 + c % 31) : log2s(rng));  // powers of two: varied ties
        if (r != RequantizeRounding::gemmlowp && c % 7 == 3) s = 3.75;
        p.scale.push_back(s);
      }
      std::vector<std::int32_t> x(l.size());
      for (std::size_t o = 0; o < l.outer; ++o)
        for (std::size_t c = 0; c < l.channels; ++c) {
          const auto v = random_accumulators(rng, p.scale[c], l.inner);
          std::copy(v.begin(), v.end(), x.begin() + (o * l.channels + c) * l.inner);
        }
      const detail::ChannelRequantizeStorage k(p);
      simd::FloatEnvironmentGuard env;
      GuardedBuffer<Q> got(l.size(), 1, Q(0x5A));
      std::vector<Q> want(l.size() + 1);
      reference::requantize(x.data(), want.data(), l, p);
      kernel_for<kernels::requantize_channels<Q>, A>(x.data(), got.data(), l, k.view);
      ASSERT_TRUE(bitwise_equal(got.data(), want.data(), l.size(), x.data()))
          << rounding_name(r) << " layout " << l.outer << "x" << l.channels << "x" << l.inner;
      ASSERT_TRUE(got.guards_intact());
    }
}

TYPED_TEST(RequantizeKernels, PerChannelMatchesReference) {
  QKERN_SKIP_UNLESS_CPU_RUNS(TypeParam);
  check_channels<std::int8_t, TypeParam>();
  check_channels<std::uint8_t, TypeParam>();
  check_channels<std::int16_t, TypeParam>();
}

TEST(RequantizeApi, PublicEntryPointsMatchReferenceUnderAnyRoundingMode) {
  std::mt19937 rng(8);
  const RequantizeParams p{0.00731, -5, -128, 127, RequantizeRounding::fp32};
  const auto x = random_accumulators(rng, p.scale, 1000);
  std::vector<std::int8_t> want(x.size()), got(x.size());
  reference::requantize(x.data(), want.data(), x.size(), p);
  const int saved = std::fegetround();
  std::fesetround(FE_UPWARD);
  requantize(x.data(), got.data(), x.size(), p);
  std::fesetround(saved);
  EXPECT_EQ(got, want);
}

// ---- bias quantization (RQ-6) ------------------------------------------------------------------

TEST(QuantizeBias, RoundsHalfToEvenAndReportsSaturation) {
  const float bias[] = {0.5f, 1.5f, -2.5f, 10.0f, 1e9f, -1e9f, std::nanf(""), HUGE_VALF};
  std::int32_t out[8];
  const BiasQuantizeReport r = quantize_bias(bias, out, 8, 0.5f, {2.0f});  // scale 1
  EXPECT_EQ(out[0], 0);
  EXPECT_EQ(out[1], 2);
  EXPECT_EQ(out[2], -2);
  EXPECT_EQ(out[3], 10);
  EXPECT_EQ(out[4], 1000000000);
  EXPECT_EQ(out[5], -1000000000);
  EXPECT_EQ(out[6], 0);
  EXPECT_EQ(out[7], std::numeric_limits<std::int32_t>::max());
  EXPECT_EQ(r.saturated, 1u);
  EXPECT_EQ(r.nan, 1u);
  EXPECT_EQ(r.first_saturated, 6u);
  EXPECT_FALSE(r.ok());
}

TEST(QuantizeBias, TinyProductScaleSaturatesPerChannel) {
  // ORT#21155: input_scale * weight_scale ~ 1e-12 makes a bias of 0.01 exceed INT32_MAX.
  const float bias[] = {0.01f, -0.01f, 0.01f};
  std::int32_t out[3];
  const BiasQuantizeReport r = quantize_bias(bias, out, 3, 1e-6f, {1e-6f, 1e-6f, 1e-3f});
  EXPECT_EQ(out[0], std::numeric_limits<std::int32_t>::max());
  EXPECT_EQ(out[1], std::numeric_limits<std::int32_t>::min());
  const float s2 = 1e-6f * 1e-3f;
  EXPECT_EQ(out[2], static_cast<std::int32_t>(std::nearbyint(double(0.01f) / double(s2))));
  EXPECT_EQ(r.saturated, 2u);
  EXPECT_EQ(r.first_saturated, 0u);
}

TEST(QuantizeBias, ValidatesArguments) {
  const float bias[2] = {1, 2};
  std::int32_t out[2];
  auto arg_of = [&](auto f) {
    try {
      f();
    } catch (const InvalidArgument& e) {
      return e.argument();
    }
    return std::string("none");
  };
  EXPECT_EQ(arg_of([&] { quantize_bias(bias, out, 2, 0.0f, {1.0f}); }), "input_scale");
  EXPECT_EQ(arg_of([&] { quantize_bias(bias, out, 2, 1.0f, {1.0f, 2.0f, 3.0f}); }), "weight_scales");
  EXPECT_EQ(arg_of([&] { quantize_bias(bias, out, 2, 1.0f, {std::nanf("")}); }), "weight_scales");
  EXPECT_EQ(arg_of([&] { quantize_bias(bias, out, 2, 1e-30f, {1e-30f}); }), "weight_scales");  // product underflows
  EXPECT_EQ(arg_of([&] { quantize_bias(nullptr, out, 2, 1.0f, {1.0f}); }), "bias");
  EXPECT_EQ(arg_of([&] { quantize_bias(bias, out, 2, 1.0f, {1.0f, 0.5f}); }), "none");
}

}  // namespace
