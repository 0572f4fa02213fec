// qkern tests — SPDX-License-Identifier: Apache-2.0
//
// test_quantize.cpp: every quantize / dequantize / fake-quantize kernel on every arch against the
// scalar reference, bit for bit: random data, constructed ties, special values at every lane
// position and in the tail, every length 0..130, misaligned pointers, sentinel-guarded outputs,
// in-place fake-quant, per-channel layouts with the channel axis first, middle and last.
#include <cfenv>

#include "arch_test_util.hpp"

namespace {

using namespace qkern;
using namespace qkern_test;

const Arithmetic kArithmetics[] = {Arithmetic::onnx(),
                                   Arithmetic::pytorch(),
                                   Arithmetic::tflite(),
                                   {ScaleOp::multiply_by_reciprocal, Rounding::half_away_from_zero}};

// Parameter sets for storage Q: several dtypes / ranges stored in Q, scales (powers of two make
// (k + 0.5) * scale an exact tie under both divide and multiply), zero points at the ends and inside.
template <class Q>
std::vector<QuantParams> param_sets() {
  std::vector<DType> dtypes;
  if (std::is_same<Q, std::int8_t>::value) dtypes = {DType::int8, DType::int4};
  if (std::is_same<Q, std::uint8_t>::value) dtypes = {DType::uint8, DType::uint4};
  if (std::is_same<Q, std::int16_t>::value) dtypes = {DType::int16};
  if (std::is_same<Q, std::uint16_t>::value) dtypes = {DType::uint16};
  std::vector<QuantParams> out;
  for (DType t : dtypes) {
    for (QRange r : {full_range(t), narrow_range(t)}) {
      if (out.size() % 2 == 1 && r == full_range(t) && !is_signed(t)) continue;
      const std::int32_t mid = static_cast<std::int32_t>((std::int64_t{r.qmin} + r.qmax) / 2);
      for (std::int32_t zp : {r.qmin, mid, r.qmax, static_cast<std::int32_t>(is_signed(t) ? 0 : r.qmin + 3)})
        for (float scale : {1.0f, 0.0078125f, 0.1f, 0.0173f, 3.5f})
          for (Arithmetic a : kArithmetics) out.push_back(QuantParams::make(t, scale, zp, r, a));
    }
  }
  return out;
}

// Data covering the code range and 30% beyond, exact ties, and a few special values.
std::vector<float> test_data(std::mt19937& rng, const QuantParams& p, std::size_t n) {
  const float half_span = p.scale * float(double(p.qmax) - p.qmin) * 0.65f;
  const float centre = p.scale * float((double(p.qmax) + p.qmin) / 2.0 - p.zero_point);
  std::uniform_real_distribution<float> u(centre - half_span, centre + half_span);
  std::uniform_int_distribution<int> kind(0, 9);
  std::uniform_int_distribution<std::int32_t> code(p.qmin - 2, p.qmax + 2);
  const auto specials = special_floats();
  std::vector<float> v(n);
  for (auto& x : v) {
    const int k = kind(rng);
    if (k < 6)
      x = u(rng);
    else if (k < 9)
      x = (float(code(rng) - p.zero_point) + 0.5f) * p.scale;  // tie (exact when scale is 2^k)
    else
      x = specials[rng() % specials.size()];
  }
  return v;
}

template <class A>
class QuantizeKernels : public ::testing::Test {};
TYPED_TEST_SUITE(QuantizeKernels, AllArchs, ArchNames);

template <class Q, class A>
void check_quantize_lengths() {
  std::mt19937 rng(1234);
  for (const QuantParams& p : param_sets<Q>()) {
    const auto x = test_data(rng, p, 200);
    const auto c = kernels::make_constants(p);
    simd::FloatEnvironmentGuard env;
    for (std::size_t n = 0; n <= 130; ++n) {
      const std::size_t off = n % 4;
      GuardedBuffer<float> in(n, off, 0.0f);
      std::memcpy(in.data(), x.data(), n * sizeof(float));
      GuardedBuffer<Q> got(n, (n / 4) % 4, Q(0x5A));
      std::vector<Q> want(n + 1);
      reference::quantize(in.data(), want.data(), n, p);
      kernel_for<kernels::f32_quantize<Q>, A>(in.data(), got.data(), n, c);
      ASSERT_TRUE(bitwise_equal(got.data(), want.data(), n, in.data()))
          << "n=" << n << " dtype=" << dtype_name(p.dtype) << " scale=" << p.scale << " zp=" << p.zero_point
          << " qmin=" << p.qmin << " arith=" << int(p.arithmetic.scale_op) << int(p.arithmetic.rounding);
      ASSERT_TRUE(got.guards_intact()) << "wrote outside [0, n) for n=" << n;
    }
  }
}

TYPED_TEST(QuantizeKernels, QuantizeMatchesReferenceAtEveryLength) {
  QKERN_SKIP_UNLESS_CPU_RUNS(TypeParam);
  check_quantize_lengths<std::int8_t, TypeParam>();
  check_quantize_lengths<std::uint8_t, TypeParam>();
  check_quantize_lengths<std::int16_t, TypeParam>();
  check_quantize_lengths<std::uint16_t, TypeParam>();
}

template <class Q, class A>
void check_specials_at_every_position() {
  std::mt19937 rng(99);
  const auto specials = special_floats();
  const std::size_t n = 4 * 16 + 3;  // four AVX-512 vectors and a tail
  for (const QuantParams& p : param_sets<Q>()) {
    if (p.scale != 0.1f && p.scale != 0.0078125f) continue;
    const auto base = test_data(rng, p, n);
    const auto c = kernels::make_constants(p);
    simd::FloatEnvironmentGuard env;
    for (float s : specials)
      for (std::size_t pos = 0; pos < n; ++pos) {
        auto x = base;
        x[pos] = s;
        std::vector<Q> got(n), want(n);
        reference::quantize(x.data(), want.data(), n, p);
        kernel_for<kernels::f32_quantize<Q>, A>(x.data(), got.data(), n, c);
        ASSERT_TRUE(bitwise_equal(got.data(), want.data(), n, x.data())) << "special " << s << " at " << pos;
      }
  }
}

TYPED_TEST(QuantizeKernels, QuantizeSpecialValuesAtEveryLanePosition) {
  QKERN_SKIP_UNLESS_CPU_RUNS(TypeParam);
  check_specials_at_every_position<std::int8_t, TypeParam>();
  check_specials_at_every_position<std::uint8_t, TypeParam>();
  check_specials_at_every_position<std::int16_t, TypeParam>();
  check_specials_at_every_position<std::uint16_t, TypeParam>();
}

template <class Q, class A>
void check_dequantize() {
  std::mt19937 rng(7);
  for (const QuantParams& p : param_sets<Q>()) {
    if (p.arithmetic.rounding != Rounding::half_to_even || p.arithmetic.scale_op != ScaleOp::divide) continue;
    const auto c = kernels::make_constants(p);
    std::vector<Q> codes(300);
    std::uniform_int_distribution<std::int32_t> d(std::numeric_limits<Q>::min(), std::numeric_limits<Q>::max());
    for (std::size_t i = 0; i < codes.size(); ++i)
      codes[i] = sizeof(Q) == 1 ? static_cast<Q>(i) : static_cast<Q>(d(rng));  // every 8-bit code
    simd::FloatEnvironmentGuard env;
    for (std::size_t n = 0; n <= 130; ++n) {
      GuardedBuffer<Q> in(n, n % 4, Q(0));
      std::memcpy(in.data(), codes.data() + (n * 7) % 150, n * sizeof(Q));
      GuardedBuffer<float> got(n, (n / 4) % 4, from_bits(0x7fa5a5a5u));
      std::vector<float> want(n + 1);
      reference::dequantize(in.data(), want.data(), n, p);
      kernel_for<kernels::dequantize_f32<Q>, A>(in.data(), got.data(), n, c);
      ASSERT_TRUE(bitwise_equal(got.data(), want.data(), n, in.data())) << "n=" << n;
      ASSERT_TRUE(got.guards_intact());
    }
  }
}

TYPED_TEST(QuantizeKernels, DequantizeMatchesReference) {
  QKERN_SKIP_UNLESS_CPU_RUNS(TypeParam);
  check_dequantize<std::int8_t, TypeParam>();
  check_dequantize<std::uint8_t, TypeParam>();
  check_dequantize<std::int16_t, TypeParam>();
  check_dequantize<std::uint16_t, TypeParam>();
}

// The kernel's block loads subtract a zero point that Q can represent while widening; any other
// zero point (unvalidated parameters) must take the general path and still match the reference.
template <class Q, class A>
void check_dequantize_outside_zero_points() {
  std::mt19937 rng(11);
  std::uniform_int_distribution<std::int32_t> d(std::numeric_limits<Q>::min(), std::numeric_limits<Q>::max());
  std::vector<Q> codes(80);
  for (auto& q : codes) q = static_cast<Q>(d(rng));
  for (std::int32_t zp : {std::int32_t(std::numeric_limits<Q>::min()) - 1,
                          std::int32_t(std::numeric_limits<Q>::max()) + 1, -70000, 70000}) {
    QuantParams p = QuantParams::make(DType::int32, 0.0173f, 0);
    p.zero_point = zp;  // deliberately not validated against a Q-sized range
    const auto c = kernels::make_constants(p);
    for (std::size_t n : {std::size_t{16}, std::size_t{37}, std::size_t{80}}) {
      std::vector<float> got(n), want(n);
      reference::dequantize(codes.data(), want.data(), n, p);
      kernel_for<kernels::dequantize_f32<Q>, A>(codes.data(), got.data(), n, c);
      ASSERT_TRUE(bitwise_equal(got.data(), want.data(), n, codes.data())) << "zp=" << zp << " n=" << n;
    }
  }
}

TYPED_TEST(QuantizeKernels, DequantizeZeroPointOutsideCodeRange) {
  QKERN_SKIP_UNLESS_CPU_RUNS(TypeParam);
  check_dequantize_outside_zero_points<std::int8_t, TypeParam>();
  check_dequantize_outside_zero_points<std::uint8_t, TypeParam>();
  check_dequantize_outside_zero_points<std::int16_t, TypeParam>();
  check_dequantize_outside_zero_points<std::uint16_t, TypeParam>();
}

template <class Q, class A>
void check_fake_quantize() {
  std::mt19937 rng(4321);
  for (const QuantParams& p : param_sets<Q>()) {
    const auto x = test_data(rng, p, 200);
    const auto c = kernels::make_constants(p);
    simd::FloatEnvironmentGuard env;
    for (std::size_t n = 0; n <= 130; n += (n < 70 ? 1 : 7)) {
      GuardedBuffer<float> in(n, n % 4, 0.0f);
      std::memcpy(in.data(), x.data(), n * sizeof(float));
      GuardedBuffer<float> got(n, (n / 4) % 4, from_bits(0x7fa5a5a5u));
      std::vector<float> want(n + 1), via_codes(n + 1);
      std::vector<Q> codes(n + 1);
      reference::fake_quantize(in.data(), want.data(), n, p);
      kernel_for<kernels::f32_fake_quantize, A>(in.data(), got.data(), n, c);
      ASSERT_TRUE(bitwise_equal(got.data(), want.data(), n, in.data())) << "n=" << n;
      ASSERT_TRUE(got.guards_intact());
      // fake_quantize == dequantize(quantize(x)) bit for bit for every non-NaN x (QZ-16).
      kernel_for<kernels::f32_quantize<Q>, A>(in.data(), codes.data(), n, c);
      kernel_for<kernels::dequantize_f32<Q>, A>(codes.data(), via_codes.data(), n, c);
      for (std::size_t i = 0; i < n; ++i) {
        if (!reference::is_nan(in[i])) {
          ASSERT_EQ(bits_of(got[i]), bits_of(via_codes[i])) << "at " << i << " x=" << in[i];
        }
      }
      // In place.
      std::vector<float> inplace(in.data(), in.data() + n);
      kernel_for<kernels::f32_fake_quantize, A>(inplace.data(), inplace.data(), n, c);
      ASSERT_TRUE(bitwise_equal(inplace.data(), want.data(), n, in.data())) << "in place, n=" << n;
    }
  }
}

TYPED_TEST(QuantizeKernels, FakeQuantizeMatchesReferenceAndQuantDequant) {
  QKERN_SKIP_UNLESS_CPU_RUNS(TypeParam);
  check_fake_quantize<std::int8_t, TypeParam>();
  check_fake_quantize<std::uint8_t, TypeParam>();
  check_fake_quantize<std::int16_t, TypeParam>();
  check_fake_quantize<std::uint16_t, TypeParam>();
}

// ---- per channel -----------------------------------------------------------------------------

std::vector<ChannelLayout> channel_layouts() {
  std::vector<ChannelLayout> ls;
  for (std::size_t c : {1, 3, 15, 16, 17, 33, 64}) ls.push_back({3, c, 1});  // channels last (NHWC)
  for (std::size_t inner : {2, 5, 16, 19, 49}) ls.push_back({2, 3, inner});  // NCHW-like
  ls.push_back({1, 5, 37});                                                  // axis 0 (OIHW weights)
  ls.push_back({0, 4, 4});                                                   // empty
  return ls;
}

// Code range of the per-channel checks: the type's full range, or one unit narrower on each side
// (narrow range, which the channels-last kernels clamp to in int32 after adding the zero point).
enum class CodeRange { full, narrowed };

template <class Q>
ChannelQuantParams channel_params(std::mt19937& rng, std::size_t channels, DType dtype, Arithmetic a,
                                  CodeRange range = CodeRange::full) {
  ChannelQuantParams p;
  p.dtype = dtype;
  p.qmin = full_range(dtype).qmin + (range == CodeRange::narrowed ? 1 : 0);
  p.qmax = full_range(dtype).qmax - (range == CodeRange::narrowed ? 1 : 0);
  p.arithmetic = a;
  std::uniform_real_distribution<float> ls(-9.0f, 2.0f);
  std::uniform_int_distribution<std::int32_t> zp(p.qmin, p.qmax);
  for (std::size_t c = 0; c < channels; ++c) {
    p.scale.push_back(std::exp2(std::round(ls(rng))) * (c % 3 == 0 ? 1.0f : 1.37f));
    p.zero_point.push_back(c % 4 == 0 ? (is_signed(dtype) ? 0 : p.qmin) : zp(rng));
  }
  return p;
}

template <class Q, class A>
void check_channels(DType dtype, CodeRange range = CodeRange::full) {
  std::mt19937 rng(55);
  for (const ChannelLayout& l : channel_layouts())
    for (Arithmetic a : kArithmetics) {
      const auto p = channel_params<Q>(rng, l.channels, dtype, a, range);
      const detail::ChannelConstantsStorage k(p);
      std::vector<float> x(l.size());
      for (std::size_t o = 0; o < l.outer; ++o)
        for (std::size_t c = 0; c < l.channels; ++c) {
          const auto v = test_data(rng, p.channel(c), l.inner);
          std::copy(v.begin(), v.end(), x.begin() + (o * l.channels + c) * l.inner);
        }
      simd::FloatEnvironmentGuard env;
      GuardedBuffer<Q> got(l.size(), 1, Q(0x5A));
      std::vector<Q> want(l.size() + 1);
      reference::quantize(x.data(), want.data(), l, p);
      kernel_for<kernels::f32_quantize_channels<Q>, A>(x.data(), got.data(), l, k.view);
      ASSERT_TRUE(bitwise_equal(got.data(), want.data(), l.size(), x.data()))
          << "layout " << l.outer << "x" << l.channels << "x" << l.inner;
      ASSERT_TRUE(got.guards_intact());

      GuardedBuffer<float> deq(l.size(), 3, 1.5f);
      std::vector<float> deq_want(l.size() + 1);
      reference::dequantize(want.data(), deq_want.data(), l, p);
      kernel_for<kernels::dequantize_f32_channels<Q>, A>(want.data(), deq.data(), l, k.view);
      ASSERT_TRUE(bitwise_equal(deq.data(), deq_want.data(), l.size(), want.data()));
      ASSERT_TRUE(deq.guards_intact());

      GuardedBuffer<float> fq(l.size(), 2, 1.5f);
      std::vector<float> fq_want(l.size() + 1);
      reference::fake_quantize(x.data(), fq_want.data(), l, p);
      kernel_for<kernels::f32_fake_quantize_channels, A>(x.data(), fq.data(), l, k.view);
      ASSERT_TRUE(bitwise_equal(fq.data(), fq_want.data(), l.size(), x.data()));
      ASSERT_TRUE(fq.guards_intact());
    }
}

TYPED_TEST(QuantizeKernels, PerChannelMatchesReference) {
  QKERN_SKIP_UNLESS_CPU_RUNS(TypeParam);
  check_channels<std::int8_t, TypeParam>(DType::int8);
  check_channels<std::int8_t, TypeParam>(DType::int4);
  check_channels<std::uint8_t, TypeParam>(DType::uint8);
  check_channels<std::int16_t, TypeParam>(DType::int16);
  check_channels<std::uint16_t, TypeParam>(DType::uint16);
  check_channels<std::int8_t, TypeParam>(DType::int8, CodeRange::narrowed);
  check_channels<std::uint8_t, TypeParam>(DType::uint8, CodeRange::narrowed);
  check_channels<std::uint16_t, TypeParam>(DType::uint16, CodeRange::narrowed);
}

// ---- public API: semantics and validation ---------------------------------------------------

TEST(Quantize, DocumentedSemanticsOnSpecialValues) {
  const float inf = std::numeric_limits<float>::infinity();
  const float x[] = {std::nanf(""), inf,    -inf,    1e30f,   -1e30f,  -0.0f,
                     0.04f,         -0.04f, 0.0625f, 0.1875f, 0.3125f, -0.3125f};
  std::int8_t q[12];
  quantize(x, q, 12, QuantParams::make(DType::int8, 0.125f, 3));
  // NaN -> zp; +-Inf and huge saturate; -0 and |x| < scale/2 give zp; ties (0.5, 1.5, 2.5) go to even.
  const std::int8_t want[] = {3, 127, -128, 127, -128, 3, 3, 3, 3, 5, 5, 1};
  for (int i = 0; i < 12; ++i) EXPECT_EQ(q[i], want[i]) << "at " << i;
  float y[12];
  fake_quantize(x, y, 12, QuantParams::make(DType::int8, 0.125f, 3));
  EXPECT_TRUE(std::isnan(y[0]));
  EXPECT_EQ(bits_of(y[5]), bits_of(0.0f)) << "fake_quantize(-0.0) is +0.0";
  EXPECT_EQ(y[1], (127 - 3) * 0.125f);
  // Ties away from zero (TFLite reference) on the same values.
  quantize(x, q, 12, QuantParams::make(DType::int8, 0.125f, 3, Arithmetic::tflite()));
  const std::int8_t away[] = {3, 127, -128, 127, -128, 3, 3, 3, 4, 5, 6, 0};
  for (int i = 0; i < 12; ++i) EXPECT_EQ(q[i], away[i]) << "ties away, at " << i;
}

TEST(Quantize, Int4RangeSaturatesInsideInt8Storage) {
  const float x[] = {-100.0f, -8.0f, -7.5f, 6.5f, 7.49f, 100.0f};
  std::int8_t q[6];
  quantize(x, q, 6, QuantParams::make(DType::int4, 1.0f, 0));
  const std::int8_t want[] = {-8, -8, -8, 6, 7, 7};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(q[i], want[i]) << i;
}

TEST(Quantize, Uint8NeverWrapsNegativeValues) {  // QZ-8
  const float x[] = {-1.0f, -1000.0f, -0.2f};
  std::uint8_t q[3];
  quantize(x, q, 3, QuantParams::make(DType::uint8, 0.1f, 0));
  for (auto v : q) EXPECT_EQ(v, 0);
}

TEST(Quantize, Int32BiasCodesSaturateAtTheInt32Limits) {
  const float x[] = {1e30f, -1e30f, 12.0f, std::nanf("")};
  std::int32_t q[4];
  quantize(x, q, 4, QuantParams::make(DType::int32, 0.5f, 0));
  EXPECT_EQ(q[0], std::numeric_limits<std::int32_t>::max());
  EXPECT_EQ(q[1], std::numeric_limits<std::int32_t>::min());
  EXPECT_EQ(q[2], 24);
  EXPECT_EQ(q[3], 0);
  const std::int32_t big[] = {std::numeric_limits<std::int32_t>::min()};
  float y[1];
  dequantize(big, y, 1, QuantParams::make(DType::int32, 1.0f, 5));  // QZ-12: q - zp needs 64 bits
  EXPECT_EQ(y[0], -2147483653.0f);
}

TEST(Quantize, ResultsDoNotDependOnTheCallersRoundingMode) {  // DT-2
  std::mt19937 rng(3);
  auto x = random_floats(rng, 999, 3.0f);
  for (auto& v : x) v = std::round(v * 8.0f) / 8.0f + 0.0625f;  // many exact ties at scale 1/8
  const QuantParams p = QuantParams::make(DType::int8, 0.125f, 0);
  std::vector<std::int8_t> want(x.size()), got(x.size());
  std::vector<float> fwant(x.size()), fgot(x.size());
  quantize(x.data(), want.data(), x.size(), p);
  fake_quantize(x.data(), fwant.data(), x.size(), p);
  for (int mode : {FE_UPWARD, FE_DOWNWARD, FE_TOWARDZERO}) {
    std::fesetround(mode);
    quantize(x.data(), got.data(), x.size(), p);
    fake_quantize(x.data(), fgot.data(), x.size(), p);
    const int after = std::fegetround();
    std::fesetround(FE_TONEAREST);
    EXPECT_EQ(after, mode) << "the caller's rounding mode must be restored";
    EXPECT_EQ(got, want) << "mode " << mode;
    EXPECT_TRUE(bitwise_equal(fgot.data(), fwant.data(), x.size(), x.data())) << "mode " << mode;
  }
}

TEST(Quantize, InvalidArgumentsNameTheArgument) {
  const float x[4] = {};
  std::int8_t q[4];
  auto expect_arg = [](auto&& f, const std::string& arg) {
    try {
      f();
      ADD_FAILURE() << "expected InvalidArgument for " << arg;
    } catch (const InvalidArgument& e) {
      EXPECT_EQ(e.argument(), arg) << e.what();
      EXPECT_NE(std::string(e.what()).find(arg), std::string::npos);
    }
  };
  expect_arg([&] { quantize(x, q, 4, QuantParams::make(DType::int8, 0.0f, 0)); }, "params.scale");
  expect_arg([&] { quantize(x, q, 4, QuantParams::make(DType::int8, -1.0f, 0)); }, "params.scale");
  expect_arg([&] { quantize(x, q, 4, QuantParams::make(DType::int8, std::nanf(""), 0)); }, "params.scale");
  expect_arg([&] { quantize(x, q, 4, QuantParams::make(DType::int8, std::numeric_limits<float>::infinity(), 0)); },
             "params.scale");
  expect_arg([&] { quantize(x, q, 4, QuantParams::make(DType::int8, 1e-45f, 0)); },
             "params.scale");  // 1/scale overflows
  expect_arg([&] { quantize(x, q, 4, QuantParams::make(DType::int8, 1.0f, 200)); }, "params.zero_point");
  expect_arg([&] { quantize(x, q, 4, QuantParams::make(DType::int8, 1.0f, 0, QRange{5, 5})); }, "params.qmin/qmax");
  expect_arg([&] { quantize(x, q, 4, QuantParams::make(DType::int8, 1.0f, 0, QRange{-200, 5})); }, "params.qmin/qmax");
  expect_arg([&] { quantize(x, q, 4, QuantParams::make(DType::uint8, 1.0f, 0)); }, "q");
  expect_arg([&] { quantize(static_cast<const float*>(nullptr), q, 4, QuantParams::make(DType::int8, 1.0f, 0)); }, "x");
  ChannelQuantParams cp;
  cp.scale = {1.0f, 1.0f};
  cp.zero_point = {0, 0};
  expect_arg([&] { quantize(x, q, ChannelLayout{1, 4, 1}, cp); }, "params.scale");
  cp.scale = {1.0f, 1.0f, 1.0f, 1.0f};
  expect_arg([&] { quantize(x, q, ChannelLayout{1, 4, 1}, cp); }, "params.zero_point");
  expect_arg([&] { ChannelLayout::from_shape({2, 3, 4}, 3); }, "axis");
  expect_arg([&] { ChannelLayout::from_shape({2, 3, 4}, -4); }, "axis");
  // Empty input is valid and does nothing.
  EXPECT_NO_THROW(quantize(static_cast<const float*>(nullptr), static_cast<std::int8_t*>(nullptr), 0,
                           QuantParams::make(DType::int8, 1.0f, 0)));
}

TEST(Quantize, ChannelLayoutFromShapeCoversEveryAxis) {
  EXPECT_EQ(ChannelLayout::from_shape({8, 64, 56, 56}, 1).inner, 56u * 56u);
  const auto nhwc = ChannelLayout::from_shape({8, 56, 56, 64}, -1);
  EXPECT_EQ(nhwc.outer, 8u * 56u * 56u);
  EXPECT_EQ(nhwc.channels, 64u);
  EXPECT_EQ(nhwc.inner, 1u);
  const auto w = ChannelLayout::from_shape({32, 16, 3, 3}, 0);
  EXPECT_EQ(w.outer, 1u);
  EXPECT_EQ(w.inner, 16u * 9u);
}

TEST(Quantize, PerChannelEqualsALoopOfPerTensorCalls) {  // QZ-13
  std::mt19937 rng(11);
  const std::vector<std::size_t> shape = {2, 3, 4, 5};
  for (int axis = -4; axis < 4; ++axis) {
    const auto l = ChannelLayout::from_shape(shape, axis);
    const auto x = random_floats(rng, l.size(), 2.0f);
    ChannelQuantParams p;
    for (std::size_t c = 0; c < l.channels; ++c) {
      p.scale.push_back(0.01f * float(c + 1));
      p.zero_point.push_back(int(c) - 1);
    }
    std::vector<std::int8_t> got(l.size()), want(l.size());
    quantize(x.data(), got.data(), l, p);
    for (std::size_t o = 0; o < l.outer; ++o)
      for (std::size_t c = 0; c < l.channels; ++c) {
        const std::size_t base = (o * l.channels + c) * l.inner;
        quantize(x.data() + base, want.data() + base, l.inner, p.channel(c));
      }
    EXPECT_EQ(got, want) << "axis " << axis;
  }
}

TEST(Int4Packing, RoundTripsEveryByteInOnnxNibbleOrder) {  // QZ-10
  for (int b = 0; b < 256; ++b) {
    const std::uint8_t packed[1] = {static_cast<std::uint8_t>(b)};
    std::int8_t s[2];
    std::uint8_t u[2];
    unpack_int4(packed, s, 2);
    unpack_uint4(packed, u, 2);
    EXPECT_EQ(u[0], b & 0x0F) << "element 0 is the low nibble";
    EXPECT_EQ(u[1], b >> 4);
    std::uint8_t again[1];
    pack_int4(s, again, 2);
    EXPECT_EQ(again[0], b);
    pack_uint4(u, again, 2);
    EXPECT_EQ(again[0], b);
  }
  const std::int8_t odd[3] = {-8, 7, -1};
  std::uint8_t packed[2] = {0xEE, 0xEE};
  pack_int4(odd, packed, 3);
  EXPECT_EQ(packed[0], 0x78);
  EXPECT_EQ(packed[1], 0x0F) << "odd n: the last high nibble is 0";
  const std::int8_t bad[2] = {3, 8};
  EXPECT_THROW(pack_int4(bad, packed, 2), InvalidArgument);
}

}  // namespace
