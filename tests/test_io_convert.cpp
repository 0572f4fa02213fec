// qkern tests — SPDX-License-Identifier: Apache-2.0
//
// test_io_convert.cpp: the element -> float32 conversion kernels (kernels/convert.hpp) on every arch
// against the scalar reference (reference/convert.hpp) bit for bit: every f16 and bf16 bit pattern,
// f64 special values and rounding cases, integer extremes, every tail length, misaligned input and
// output pointers, nothing written outside the output. The reference itself is checked against an
// independent arithmetic definition (ldexp) for every f16 pattern.
#include <cmath>

#include "arch_test_util.hpp"
#include "qkern/kernels/convert.hpp"
#include "qkern/reference/convert.hpp"

namespace {

using namespace qkern;
using namespace qkern_test;

using ConvertFn = void (*)(const void*, std::size_t, float*);

template <class A>
class ConvertKernels : public ::testing::Test {};
TYPED_TEST_SUITE(ConvertKernels, AllArchs, ArchNames);

// Runs `kernel` and `ref` over the bytes of `input` (count elements of elem_size bytes) at every
// length 0..max_len (and the full length), with input misaligned by 0..elem_size bytes and the output
// by 0..3 floats; results compared bitwise and the output guards checked.
void check_against_reference(ConvertFn kernel, ConvertFn ref, const std::vector<unsigned char>& input,
                             std::size_t elem_size, std::size_t max_len, const char* what) {
  const std::size_t count = input.size() / elem_size;
  std::vector<std::size_t> lengths;
  for (std::size_t n = 0; n <= max_len && n <= count; ++n) lengths.push_back(n);
  if (count > max_len) lengths.push_back(count);
  for (std::size_t in_off = 0; in_off <= elem_size; ++in_off) {
    std::vector<unsigned char> shifted(input.size() + in_off + 16, 0xab);
    std::memcpy(shifted.data() + in_off, input.data(), input.size());
    for (std::size_t n : lengths) {
      const std::size_t out_off = (n + in_off) % 4;
      GuardedBuffer<float> got(n, out_off, from_bits(0x7fa5a5a5u));
      std::vector<float> want(n);
      kernel(shifted.data() + in_off, n, got.data());
      ref(shifted.data() + in_off, n, want.data());
      const std::vector<float> got_v(got.data(), got.data() + n);
      for (std::size_t i = 0; i < n; ++i) {
        if (bits_of(got_v[i]) != bits_of(want[i])) {
          ADD_FAILURE() << what << ": n=" << n << " in_off=" << in_off << " at " << i << " got 0x" << std::hex
                        << bits_of(got_v[i]) << " want 0x" << bits_of(want[i]);
          return;
        }
      }
      ASSERT_TRUE(got.guards_intact()) << what << ": wrote outside the output, n=" << n;
    }
  }
}

template <class T>
std::vector<unsigned char> bytes_of(const std::vector<T>& v) {
  std::vector<unsigned char> b(v.size() * sizeof(T));
  if (!b.empty()) std::memcpy(b.data(), v.data(), b.size());
  return b;
}

std::vector<std::uint16_t> all_16bit_patterns() {
  std::vector<std::uint16_t> v(65536);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<std::uint16_t>(i);
  return v;
}

// Independent definition of binary16 for the reference check: (-1)^s * 2^(e-15) * (1 + m/1024),
// denormals 2^-14 * m/1024, NaN bits (quiet bit and payload) moved to the top of the f32 mantissa.
float f16_by_arithmetic(std::uint16_t h) {
  const int s = h >> 15, e = (h >> 10) & 31, m = h & 1023;
  const float sign = s ? -1.0f : 1.0f;
  if (e == 31) {
    if (m == 0) return sign * std::numeric_limits<float>::infinity();
    return from_bits((static_cast<std::uint32_t>(s) << 31) | 0x7f800000u | (static_cast<std::uint32_t>(m) << 13));
  }
  if (e == 0) return sign * std::ldexp(static_cast<float>(m), -24);
  return sign * std::ldexp(1.0f + static_cast<float>(m) / 1024.0f, e - 15);
}

TEST(ConvertReference, F16MatchesArithmeticDefinitionForEveryPattern) {
  for (std::uint32_t h = 0; h < 65536; ++h) {
    const float want = f16_by_arithmetic(static_cast<std::uint16_t>(h));
    const float got = reference::f16_to_f32(static_cast<std::uint16_t>(h));
    ASSERT_EQ(bits_of(got), bits_of(want)) << "f16 0x" << std::hex << h;
  }
  EXPECT_EQ(bits_of(reference::f16_to_f32(std::uint16_t{0x7c01})), 0x7f802000u);  // signalling NaN kept (numpy)
  EXPECT_EQ(bits_of(reference::f16_to_f32(std::uint16_t{0xfe00})), 0xffc00000u);
  EXPECT_EQ(bits_of(reference::f16_to_f32(std::uint16_t{0x0001})), 0x33800000u);  // smallest denormal = 2^-24
}

TEST(ConvertReference, Bf16IsTheTopHalfAndF64RoundsToNearestEven) {
  for (std::uint32_t h = 0; h < 65536; ++h)
    ASSERT_EQ(bits_of(reference::bf16_to_f32(static_cast<std::uint16_t>(h))), h << 16);
  // 1 + 2^-24 is a tie between 1 and 1 + 2^-23: nearest even gives 1; 1 + 3*2^-24 rounds up.
  EXPECT_EQ(reference::f64_to_f32(1.0 + std::ldexp(1.0, -24)), 1.0f);
  EXPECT_EQ(reference::f64_to_f32(1.0 + 3 * std::ldexp(1.0, -24)), 1.0f + std::ldexp(1.0f, -22));
  EXPECT_EQ(reference::f64_to_f32(1e300), std::numeric_limits<float>::infinity());
  EXPECT_EQ(reference::f64_to_f32(-1e300), -std::numeric_limits<float>::infinity());
  double snan;
  const std::uint64_t snan_bits = 0xfff4000000000123ull;
  std::memcpy(&snan, &snan_bits, 8);
  EXPECT_EQ(bits_of(reference::f64_to_f32(snan)), 0xffe00000u);
  EXPECT_EQ(reference::int_to_f32<std::uint32_t>(0xffffffffu), 4294967296.0f);
  EXPECT_EQ(reference::int_to_f32<std::int64_t>(INT64_MIN), -9223372036854775808.0f);
  EXPECT_EQ(reference::bool_to_f32(std::uint8_t{2}), 1.0f);
}

template <class K, class A>
ConvertFn kfn() {
  return kernel_for<K, A>;
}

TYPED_TEST(ConvertKernels, F16EveryBitPattern) {
  QKERN_SKIP_UNLESS_CPU_RUNS(TypeParam);
  const auto in = bytes_of(all_16bit_patterns());
  check_against_reference(kfn<kernels::f16_to_f32, TypeParam>(), &reference::f16_to_f32<void>, in, 2, 140, "f16");
}

TYPED_TEST(ConvertKernels, Bf16EveryBitPattern) {
  QKERN_SKIP_UNLESS_CPU_RUNS(TypeParam);
  const auto in = bytes_of(all_16bit_patterns());
  check_against_reference(kfn<kernels::bf16_to_f32, TypeParam>(), &reference::bf16_to_f32<void>, in, 2, 140, "bf16");
}

// Every f16 pattern at every lane position of a vector (the loop above covers each pattern at one
// position per length; this shifts the whole table through all 32 lanes of the widest vector).
TYPED_TEST(ConvertKernels, F16PatternsAtEveryLane) {
  QKERN_SKIP_UNLESS_CPU_RUNS(TypeParam);
  const auto all = all_16bit_patterns();
  std::vector<float> got(all.size()), want(all.size());
  for (std::size_t shift = 0; shift < 32; ++shift) {
    std::vector<std::uint16_t> rotated(all.size());
    for (std::size_t i = 0; i < all.size(); ++i) rotated[i] = all[(i + shift) % all.size()];
    kernel_for<kernels::f16_to_f32, TypeParam>(rotated.data(), rotated.size(), got.data());
    reference::f16_to_f32(rotated.data(), rotated.size(), want.data());
    ASSERT_TRUE(bitwise_equal(got.data(), want.data(), got.size(), rotated.data())) << "shift " << shift;
  }
}

TYPED_TEST(ConvertKernels, F64SpecialAndRandomValues) {
  QKERN_SKIP_UNLESS_CPU_RUNS(TypeParam);
  std::mt19937_64 rng(5);
  std::vector<double> v;
  const double inf = std::numeric_limits<double>::infinity();
  const std::uint64_t nan_bits[] = {0x7ff8000000000000ull, 0xfff8000000000000ull, 0x7ff0000000000001ull,
                                    0x7ff4000000000123ull, 0xfff7ffffffffffffull, 0x7fffffffffffffffull};
  for (std::uint64_t b : nan_bits) {
    double d;
    std::memcpy(&d, &b, 8);
    v.push_back(d);
  }
  for (double d :
       {0.0, -0.0, inf, -inf, 1e300, -1e300, 3.4028235677973366e38, 3.4028234663852886e38, 3.4028235677973362e38, 1e-40,
        -1e-40, 1e-46, 7e-46, 1.401298464324817e-45, std::numeric_limits<double>::denorm_min(),
        std::numeric_limits<double>::min(), 1.0 + 1e-8, 1.0 + std::ldexp(1.0, -24), 1.0 + 3 * std::ldexp(1.0, -24)})
    v.push_back(d);
  for (float f : special_floats()) v.push_back(f);
  for (int i = 0; i < 2000; ++i) {
    std::uint64_t b = rng();
    double d;
    std::memcpy(&d, &b, 8);
    v.push_back(d);
    v.push_back(std::ldexp(static_cast<double>(rng() % 1000000) - 500000.0, static_cast<int>(rng() % 300) - 150));
  }
  check_against_reference(kfn<kernels::f64_to_f32, TypeParam>(), &reference::f64_to_f32<void>, bytes_of(v), 8, 70,
                          "f64");
}

template <class T>
std::vector<unsigned char> int_inputs(std::mt19937_64& rng) {
  std::vector<T> v = {std::numeric_limits<T>::min(), std::numeric_limits<T>::max(), T(0), T(1), T(-1)};
  if (sizeof(T) >= 4) {
    // Around 2^24 and 2^25, where int -> float starts to round (ties included).
    for (std::uint64_t base : {1ull << 24, 1ull << 25, 1ull << 31, 0xffffff80ull})
      for (int d = -3; d <= 3; ++d) v.push_back(static_cast<T>(base + d));
  }
  for (int i = 0; i < 3000; ++i) {
    T x;
    const std::uint64_t r = rng();
    std::memcpy(&x, &r, sizeof(T));
    v.push_back(x);
  }
  return bytes_of(v);
}

TYPED_TEST(ConvertKernels, IntegersAndBool) {
  QKERN_SKIP_UNLESS_CPU_RUNS(TypeParam);
  using A = TypeParam;
  std::mt19937_64 rng(9);
  check_against_reference(kfn<kernels::i8_to_f32, A>(), &reference::int_to_f32<std::int8_t, void>,
                          int_inputs<std::int8_t>(rng), 1, 140, "i8");
  check_against_reference(kfn<kernels::u8_to_f32, A>(), &reference::int_to_f32<std::uint8_t, void>,
                          int_inputs<std::uint8_t>(rng), 1, 140, "u8");
  check_against_reference(kfn<kernels::i16_to_f32, A>(), &reference::int_to_f32<std::int16_t, void>,
                          int_inputs<std::int16_t>(rng), 2, 140, "i16");
  check_against_reference(kfn<kernels::u16_to_f32, A>(), &reference::int_to_f32<std::uint16_t, void>,
                          int_inputs<std::uint16_t>(rng), 2, 140, "u16");
  check_against_reference(kfn<kernels::i32_to_f32, A>(), &reference::int_to_f32<std::int32_t, void>,
                          int_inputs<std::int32_t>(rng), 4, 140, "i32");
  check_against_reference(kfn<kernels::u32_to_f32, A>(), &reference::int_to_f32<std::uint32_t, void>,
                          int_inputs<std::uint32_t>(rng), 4, 140, "u32");
  check_against_reference(kfn<kernels::i64_to_f32, A>(), &reference::int_to_f32<std::int64_t, void>,
                          int_inputs<std::int64_t>(rng), 8, 70, "i64");
  check_against_reference(kfn<kernels::u64_to_f32, A>(), &reference::int_to_f32<std::uint64_t, void>,
                          int_inputs<std::uint64_t>(rng), 8, 70, "u64");
  check_against_reference(kfn<kernels::bool_to_f32, A>(), &reference::bool_to_f32<void>, int_inputs<std::uint8_t>(rng),
                          1, 140, "bool");
}

// Every kernel again with streaming (non-temporal) stores forced on for any size, so the aligned
// streaming body, its unaligned head and the ordinary-store tail are all checked.
TYPED_TEST(ConvertKernels, StreamingStoresGiveTheSameBits) {
  QKERN_SKIP_UNLESS_CPU_RUNS(TypeParam);
  using A = TypeParam;
  const std::size_t saved = simd::streaming_min_bytes;
  simd::streaming_min_bytes = 0;
  std::vector<std::uint16_t> some16(4096);
  for (std::size_t i = 0; i < some16.size(); ++i) some16[i] = static_cast<std::uint16_t>(i * 40503u);
  const auto in16 = bytes_of(some16);
  check_against_reference(kfn<kernels::f16_to_f32, A>(), &reference::f16_to_f32<void>, in16, 2, 200, "f16 stream");
  check_against_reference(kfn<kernels::bf16_to_f32, A>(), &reference::bf16_to_f32<void>, in16, 2, 200, "bf16 stream");
  std::mt19937_64 rng(11);
  std::vector<double> d(1000);
  for (auto& x : d) x = std::ldexp(static_cast<double>(rng() % 100000) - 50000.0, static_cast<int>(rng() % 60) - 30);
  check_against_reference(kfn<kernels::f64_to_f32, A>(), &reference::f64_to_f32<void>, bytes_of(d), 8, 100,
                          "f64 stream");
  check_against_reference(kfn<kernels::i8_to_f32, A>(), &reference::int_to_f32<std::int8_t, void>,
                          int_inputs<std::int8_t>(rng), 1, 200, "i8 stream");
  check_against_reference(kfn<kernels::u32_to_f32, A>(), &reference::int_to_f32<std::uint32_t, void>,
                          int_inputs<std::uint32_t>(rng), 4, 200, "u32 stream");
  check_against_reference(kfn<kernels::i64_to_f32, A>(), &reference::int_to_f32<std::int64_t, void>,
                          int_inputs<std::int64_t>(rng), 8, 100, "i64 stream");
  check_against_reference(kfn<kernels::bool_to_f32, A>(), &reference::bool_to_f32<void>, int_inputs<std::uint8_t>(rng),
                          1, 200, "bool stream");
  simd::streaming_min_bytes = saved;
}

}  // namespace
