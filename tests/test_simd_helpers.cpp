// qkern tests — SPDX-License-Identifier: Apache-2.0
//
// test_simd_helpers.cpp: the per-arch helpers of simd/ that exist because xsimd 8.1 gets them wrong
// on some arch, checked directly on every arch (the kernel tests check them through the kernels).
// simd::divide must be IEEE division: xsimd 8.1's neon64 float division is a reciprocal estimate
// with Newton steps, which misses the correctly rounded quotient for some near-tie quantize inputs.
#include <cmath>
#include <cstdio>

#include "arch_test_util.hpp"

#if !QKERN_SIMD_NONE  // no SIMD helpers without x86 or aarch64 SIMD
namespace {

using namespace qkern;
using namespace qkern_test;

// The helpers are instantiated in this translation unit, compiled with the baseline flags: on x86
// only sse2 batches (and caller_arch, at these flags) compile here; every aarch64 level uses neon64's registers and
// baseline NEON.
#if QKERN_SIMD_X86
using HelperArchs = ::testing::Types<xsimd::sse2, qkern::simd::caller_arch>;
#else
using HelperArchs = AllArchs;
#endif

template <class A>
class SimdHelpers : public ::testing::Test {};
TYPED_TEST_SUITE(SimdHelpers, HelperArchs, ArchNames);

// x = (k + 0.5) * s rounded to float and its neighbours within 3 ulps, for non-power-of-two scales:
// the inputs whose quotient x / s lies closest to a rounding boundary.
std::vector<float> near_tie_numerators(float s) {
  std::vector<float> v;
  for (int k = -1100; k <= 1100; ++k) {
    float x = (static_cast<float>(k) + 0.5f) * s;
    for (int j = 0; j < 3; ++j) x = std::nextafter(x, -INFINITY);
    for (int j = 0; j < 7; ++j, x = std::nextafter(x, INFINITY)) v.push_back(x);
  }
  return v;
}

template <class A>
__attribute__((noinline)) void divide_lanes(const float* x, float s, float* out, std::size_t n, bool ieee) {
  using B = simd::batch<float, A>;
  const B sv(s);
  for (std::size_t i = 0; i + B::size <= n; i += B::size) {
    const B v = B::load_unaligned(x + i);
    (ieee ? simd::divide(v, sv) : v / sv).store_unaligned(out + i);
  }
}

TYPED_TEST(SimdHelpers, DivideIsIeeeDivisionOnNearTies) {
  QKERN_SKIP_UNLESS_CPU_RUNS(TypeParam);
  constexpr std::size_t N = simd::batch<float, TypeParam>::size;
  std::size_t total = 0, xsimd_off = 0;
  for (float s : {0.1f, 0.0173f, 0.3f, 1.0f / 3.0f, 0.0123f, 7.1f, 2.9e-3f}) {
    std::vector<float> x = near_tie_numerators(s);
    x.resize(x.size() / N * N);
    std::vector<float> got(x.size()), loose(x.size());
    divide_lanes<TypeParam>(x.data(), s, got.data(), x.size(), true);
    divide_lanes<TypeParam>(x.data(), s, loose.data(), x.size(), false);
    for (std::size_t i = 0; i < x.size(); ++i) {
      volatile float xs = x[i], ss = s;
      const float want = xs / ss;
      ASSERT_EQ(bits_of(got[i]), bits_of(want)) << x[i] << " / " << s;
      xsimd_off += bits_of(loose[i]) != bits_of(want);
    }
    total += x.size();
  }
  // Informational: how often xsimd's own operator/ misses (0 on x86; nonzero on xsimd 8.1 neon64).
  std::printf("[ qkern ] %s: xsimd operator/ differs from IEEE division on %zu of %zu near-tie inputs\n",
              simd::arch_name<TypeParam>(), xsimd_off, total);
}

// Saturating narrow + widening load round trip of every in-range value, block and single stores.
template <class Q, class A>
void check_narrow_widen() {
  using BI = simd::batch<std::int32_t, A>;
  constexpr std::size_t N = BI::size;
  const std::int32_t lo = std::numeric_limits<Q>::min(), hi = std::numeric_limits<Q>::max();
  std::vector<std::int32_t> vals;
  for (std::int64_t v = lo; v <= hi; v += (hi - lo) > 1000 ? 97 : 1) vals.push_back(static_cast<std::int32_t>(v));
  vals.push_back(hi);
  while (vals.size() % (4 * N) != 0) vals.push_back(lo);
  std::vector<Q> one(vals.size() + 1), four(vals.size() + 1);
  for (std::size_t i = 0; i < vals.size(); i += N)
    simd::store_narrow<Q>(one.data() + 1 + i, BI::load_unaligned(&vals[i]));
  for (std::size_t i = 0; i < vals.size(); i += 4 * N)
    simd::store_narrow4<Q, false>(four.data() + 1 + i, BI::load_unaligned(&vals[i]), BI::load_unaligned(&vals[i + N]),
                                  BI::load_unaligned(&vals[i + 2 * N]), BI::load_unaligned(&vals[i + 3 * N]));
  for (std::size_t i = 0; i < vals.size(); ++i) {
    ASSERT_EQ(std::int32_t{one[1 + i]}, vals[i]);
    ASSERT_EQ(std::int32_t{four[1 + i]}, vals[i]);
  }
  for (std::size_t i = 0; i < vals.size(); i += N) {
    alignas(64) std::int32_t back[N];
    simd::load_widen<A>(one.data() + 1 + i).store_aligned(back);
    for (std::size_t j = 0; j < N; ++j) ASSERT_EQ(back[j], vals[i + j]);
  }
}

TYPED_TEST(SimdHelpers, NarrowingStoresAndWideningLoadsRoundTrip) {
  QKERN_SKIP_UNLESS_CPU_RUNS(TypeParam);
  check_narrow_widen<std::int8_t, TypeParam>();
  check_narrow_widen<std::uint8_t, TypeParam>();
  check_narrow_widen<std::int16_t, TypeParam>();
  check_narrow_widen<std::uint16_t, TypeParam>();
}

}  // namespace
#endif
