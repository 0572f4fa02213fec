// qkern tests — SPDX-License-Identifier: Apache-2.0
//
// test_select.cpp: exact O(n) percentiles of raw data: numpy goldens bit for bit, a sort-based
// reference on random data with NaN/Inf/signed zeros/duplicates, n beyond 2^24, and the argument
// and data errors (SF-1, SF-5, SF-9, SF-10, SF-12).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "arch_test_util.hpp"
#include "fit_golden_util.hpp"
#include "qkern/calib/select.hpp"
#include "qkern/reference/select.hpp"

namespace {

using namespace qkern;
using namespace qkern_test;

std::uint64_t bits64(double d) {
  std::uint64_t b;
  std::memcpy(&b, &d, 8);
  return b;
}

// numpy 'linear' by full sort of the finite values (the definition, independent of the select).
double sorted_percentile(const std::vector<float>& x, double p) {
  std::vector<float> v;
  for (float f : x)
    if (std::isfinite(f)) v.push_back(f);
  std::sort(v.begin(), v.end());
  const auto lr = detail::numpy_linear_rank(v.size(), p);
  return detail::numpy_lerp(v[lr.previous], v[lr.next], lr.gamma);
}

template <class A>
class KeyWindowScanKernel : public ::testing::Test {};
TYPED_TEST_SUITE(KeyWindowScanKernel, AllArchs, ArchNames);

void expect_same_scan(const float* x, std::size_t n, std::int32_t lo, std::int32_t hi, std::size_t cap,
                      KeyWindowScan (*kernel)(const float*, std::size_t, std::int32_t, std::int32_t, std::int32_t*,
                                              std::size_t),
                      const std::string& where) {
  std::vector<std::int32_t> got(cap + 8, 77), want(cap + 8, 77);
  const KeyWindowScan g = kernel(x, n, lo, hi, got.data(), cap);
  const KeyWindowScan w = reference::key_window_scan(x, n, lo, hi, want.data(), cap);
  EXPECT_EQ(g.below, w.below) << where;
  EXPECT_EQ(g.inside, w.inside) << where;
  EXPECT_EQ(g.neg_nonfinite, w.neg_nonfinite) << where;
  EXPECT_EQ(g.pos_nonfinite, w.pos_nonfinite) << where;
  EXPECT_EQ(got, want) << where;  // same keys, same order, nothing written past the capacity
}

TYPED_TEST(KeyWindowScanKernel, MatchesReferenceAtEveryLengthOffsetAndWindow) {
  QKERN_SKIP_UNLESS_CPU_RUNS(TypeParam);
  std::mt19937 rng(31);
  const auto x = random_floats(rng, 300, 2.0f);
  const auto key = [](float f) { return signed_order_key(bits_of(f)); };
  const std::pair<std::int32_t, std::int32_t> windows[] = {
      {key(-0.5f), key(0.5f)},        {key(1.0f), key(1.5f)},  {kLowestFiniteKey, key(-1.0f)},
      {key(2.0f), kHighestFiniteKey}, {key(-0.0f), key(0.0f)}, {kLowestFiniteKey, kHighestFiniteKey}};
  for (const auto& w : windows)
    for (std::size_t n = 0; n <= 130; ++n)
      for (std::size_t off = 0; off < 4; ++off)
        for (std::size_t cap : {std::size_t{0}, std::size_t{3}, n}) {
          const std::string where = "n=" + std::to_string(n) + " off=" + std::to_string(off) +
                                    " cap=" + std::to_string(cap) + " lo=" + std::to_string(w.first);
          expect_same_scan(x.data() + off, n, w.first, w.second, cap,
                           kernel_for<kernels::f32_key_window_scan, TypeParam>, where);
        }
}

TYPED_TEST(KeyWindowScanKernel, SpecialValuesAtEveryLanePosition) {
  QKERN_SKIP_UNLESS_CPU_RUNS(TypeParam);
  std::mt19937 rng(32);
  const std::size_t n = 4 * 16 + 7;
  const auto base = random_floats(rng, n, 1.0f);
  for (float s : special_floats())
    for (std::size_t pos = 0; pos < n; ++pos) {
      auto x = base;
      x[pos] = s;
      x[(pos * 5 + 3) % n] = -s;
      expect_same_scan(x.data(), n, signed_order_key(bits_of(-0.25f)), signed_order_key(bits_of(1e20f)), n,
                       kernel_for<kernels::f32_key_window_scan, TypeParam>,
                       "special " + std::to_string(s) + " at " + std::to_string(pos));
    }
}

TEST(Select, SampledWindowPathMatchesRadixPathAndSortedReference) {
  // n >= 2^20 takes the sampled-window path; adversarial layouts (sorted, reversed, constant
  // blocks) either succeed or fall back; the result is exact either way.
  std::mt19937 rng(77);
  const std::size_t n = (std::size_t{1} << 20) + 333;
  std::vector<std::vector<float>> inputs;
  inputs.push_back(random_floats(rng, n, 1.0f));
  auto sorted = inputs.back();
  std::sort(sorted.begin(), sorted.end());
  inputs.push_back(sorted);
  std::reverse(sorted.begin(), sorted.end());
  inputs.push_back(sorted);
  std::vector<float> blocks(n);
  for (std::size_t i = 0; i < n; ++i) blocks[i] = static_cast<float>((i / 4096) % 7) - 3.0f;
  inputs.push_back(blocks);
  auto with_nan = inputs[0];
  for (std::size_t i = 0; i < n; i += 1001) with_nan[i] = std::nanf("");
  with_nan[5] = -std::numeric_limits<float>::infinity();
  inputs.push_back(with_nan);
  for (std::size_t t = 0; t < inputs.size(); ++t) {
    const auto& x = inputs[t];
    for (double p : {0.0, 0.01, 50.0, 99.99, 100.0}) {
      const double got = percentile_exact(x.data(), x.size(), p).value;
      EXPECT_EQ(got, sorted_percentile(x, p)) << "input " << t << " p=" << p;
      ExactPercentile w;
      if (detail::percentile_by_window(x.data(), x.size(), p, w)) {
        EXPECT_EQ(w.value, got);
      }
    }
  }
  const auto r = percentile_exact(inputs[4].data(), n, 50.0);
  EXPECT_EQ(r.counts.nan, (n + 1000) / 1001 - 1 + 1 - (5 % 1001 == 0 ? 1 : 0));
  EXPECT_EQ(r.counts.neg_inf, 1u);
}

TEST(Select, MatchesNumpyPercentileBitForBit) {
  const auto lines = golden_lines("fit_numpy_percentile.txt");
  std::size_t checked = 0;
  for (std::size_t i = 0; i < lines.size();) {
    ASSERT_EQ(lines[i][0], "A");
    const std::string name = lines[i][1];
    const std::size_t n = std::stoul(lines[i][2]);
    std::vector<float> a;
    for (std::size_t j = 0; j < n; ++j) a.push_back(f32_from_hex(lines[i + 1 + j][0]));
    i += 1 + n;
    for (; i < lines.size() && lines[i][0] == "P"; ++i) {
      const double p = f64_from_hex(lines[i][1]), want = f64_from_hex(lines[i][2]);
      const ExactPercentile got = percentile_exact(a.data(), a.size(), p);
      if (want == 0.0)
        EXPECT_EQ(got.value, 0.0) << name << " p=" << p;  // qkern returns +0.0
      else
        EXPECT_EQ(bits64(got.value), bits64(want)) << name << " p=" << p << " got " << got.value << " want " << want;
      EXPECT_EQ(got.counts.finite, n);
      ++checked;
    }
  }
  EXPECT_GE(checked, 70u);
}

TEST(Select, MatchesSortedReferenceWithNonFiniteValuesSkippedAndCounted) {
  std::mt19937 rng(5);
  const float inf = std::numeric_limits<float>::infinity();
  for (std::size_t n : {1u, 2u, 3u, 10u, 127u, 1000u, 40000u}) {
    std::vector<float> x = random_floats(rng, n, 3.0f);
    for (std::size_t i = 0; i < n; i += 7) x[i] = std::round(x[i]);  // duplicates
    for (std::size_t i = 3; i < n; i += 11) x[i] = (i % 2) ? -0.0f : 0.0f;
    std::vector<float> with = x;
    with.push_back(std::nanf(""));
    with.push_back(-std::nanf(""));
    with.push_back(inf);
    with.push_back(-inf);
    with.push_back(from_bits(0x7f800001u));
    std::shuffle(with.begin(), with.end(), rng);
    const std::vector<double> ps = {0, 0.01, 1, 25, 50, 75, 99, 99.99, 100, 33.3333};
    const auto got = percentiles_exact(with.data(), with.size(), ps);
    for (std::size_t k = 0; k < ps.size(); ++k) {
      EXPECT_EQ(got[k].value, sorted_percentile(x, ps[k])) << "n=" << n << " p=" << ps[k];
      EXPECT_EQ(got[k].counts.finite, n);
      EXPECT_EQ(got[k].counts.nan, 3u);
      EXPECT_EQ(got[k].counts.pos_inf, 1u);
      EXPECT_EQ(got[k].counts.neg_inf, 1u);
    }
  }
}

TEST(Select, ZeroAndHundredAreExactlyMinAndMax) {  // SF-10
  std::mt19937 rng(9);
  auto x = random_floats(rng, 5000, 1e3f);
  x[17] = std::numeric_limits<float>::infinity();
  float mn = std::numeric_limits<float>::infinity(), mx = -mn;
  for (float v : x)
    if (std::isfinite(v)) mn = std::min(mn, v), mx = std::max(mx, v);
  EXPECT_EQ(percentile_exact(x.data(), x.size(), 0.0).value, static_cast<double>(mn));
  EXPECT_EQ(percentile_exact(x.data(), x.size(), 100.0).value, static_cast<double>(mx));
}

TEST(Select, SingleValueAndExtremeMagnitudes) {  // SF-12, SF-7
  const float one = -3.5f;
  for (double p : {0.0, 12.5, 50.0, 100.0}) EXPECT_EQ(percentile_exact(&one, 1, p).value, -3.5);
  const float big[2] = {-std::numeric_limits<float>::max(), std::numeric_limits<float>::max()};
  const double mid = percentile_exact(big, 2, 50.0).value;
  EXPECT_TRUE(std::isfinite(mid));
  EXPECT_EQ(mid, 0.0);
  const float tiny[3] = {std::numeric_limits<float>::denorm_min(), -std::numeric_limits<float>::denorm_min(), 0.0f};
  EXPECT_EQ(percentile_exact(tiny, 3, 100.0).value, static_cast<double>(std::numeric_limits<float>::denorm_min()));
  EXPECT_EQ(percentile_exact(tiny, 3, 0.0).value, -static_cast<double>(std::numeric_limits<float>::denorm_min()));
}

TEST(Select, ExactBeyondTwoToThe24Elements) {
  // 2^24 + 5 values where float32 counting (torch.histc) can no longer count one more: the ranks
  // must still be exact.
  const std::size_t n = (std::size_t{1} << 24) + 5;
  std::vector<float> x(n);
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> d(0, 999);
  for (auto& v : x) v = static_cast<float>(d(rng)) * 0.25f;  // many duplicates
  x[12345] = 1e6f;
  const std::vector<double> ps = {0.0, 50.0, 99.9999, 100.0};
  const auto got = percentiles_exact(x.data(), n, ps);
  std::vector<float> s = x;
  for (std::size_t k = 0; k < ps.size(); ++k) {
    const auto lr = detail::numpy_linear_rank(n, ps[k]);
    std::nth_element(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(lr.previous), s.end());
    const float a = s[lr.previous];
    std::nth_element(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(lr.next), s.end());
    const float b = s[lr.next];
    EXPECT_EQ(got[k].value, detail::numpy_lerp(a, b, lr.gamma)) << "p=" << ps[k];
  }
  EXPECT_EQ(got[3].value, 1e6);
}

TEST(Select, RejectsBadPercentilesAndDataWithoutFiniteValues) {  // SF-9, SF-1, SF-5
  const float x[3] = {1, 2, 3};
  for (double p : {-0.001, 100.0001, std::nan(""), std::numeric_limits<double>::infinity()}) {
    try {
      percentile_exact(x, 3, p);
      FAIL() << "accepted p=" << p;
    } catch (const InvalidArgument& e) {
      EXPECT_EQ(e.argument(), "percentile");
    }
  }
  EXPECT_THROW(percentile_exact(x, 0, 50.0), DataError);
  const float bad[3] = {std::nanf(""), std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity()};
  EXPECT_THROW(percentile_exact(bad, 3, 50.0), DataError);
  EXPECT_THROW(percentile_exact(nullptr, 3, 50.0), InvalidArgument);
}

}  // namespace
