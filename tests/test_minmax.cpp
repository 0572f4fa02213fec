// qkern tests — SPDX-License-Identifier: Apache-2.0
//
// test_minmax.cpp: min/max and abs-max kernels (per tensor and per channel) on every arch against
// the scalar reference, bit for bit, with non-finite values counted and never poisoning a range.
#include "arch_test_util.hpp"

namespace {

using namespace qkern;
using namespace qkern_test;

template <class A>
class MinMaxKernels : public ::testing::Test {};
TYPED_TEST_SUITE(MinMaxKernels, AllArchs, ArchNames);

void expect_same(const MinMax& got, const MinMax& want, const std::string& where) {
  EXPECT_EQ(bits_of(got.min), bits_of(want.min)) << where << " min " << got.min << " vs " << want.min;
  EXPECT_EQ(bits_of(got.max), bits_of(want.max)) << where << " max " << got.max << " vs " << want.max;
  EXPECT_TRUE(got.counts == want.counts) << where << " counts";
}

void expect_same(const AbsMax& got, const AbsMax& want, const std::string& where) {
  EXPECT_EQ(bits_of(got.value), bits_of(want.value)) << where << " absmax " << got.value << " vs " << want.value;
  EXPECT_TRUE(got.counts == want.counts) << where << " counts";
}

TYPED_TEST(MinMaxKernels, PerTensorMatchesReferenceAtEveryLengthAndOffset) {
  QKERN_SKIP_UNLESS_CPU_RUNS(TypeParam);
  std::mt19937 rng(17);
  const auto x = random_floats(rng, 300, 5.0f);
  for (std::size_t n = 0; n <= 130; ++n)
    for (std::size_t off = 0; off < 4; ++off) {
      const float* p = x.data() + off;
      const std::string where = "n=" + std::to_string(n) + " off=" + std::to_string(off);
      expect_same(kernel_for<kernels::f32_minmax, TypeParam>(p, n), reference::minmax(p, n), where);
      expect_same(kernel_for<kernels::f32_absmax, TypeParam>(p, n), reference::absmax(p, n), where);
    }
}

TYPED_TEST(MinMaxKernels, SpecialValuesAtEveryPositionAreCountedNotAbsorbed) {
  QKERN_SKIP_UNLESS_CPU_RUNS(TypeParam);
  std::mt19937 rng(18);
  const std::size_t n = 4 * 16 + 5;
  const auto base = random_floats(rng, n, 1.0f);
  for (float s : special_floats())
    for (std::size_t pos = 0; pos < n; ++pos) {
      auto x = base;
      x[pos] = s;
      x[(pos * 7) % n] = -s;
      const std::string where = "special " + std::to_string(s) + " at " + std::to_string(pos);
      expect_same(kernel_for<kernels::f32_minmax, TypeParam>(x.data(), n), reference::minmax(x.data(), n), where);
      expect_same(kernel_for<kernels::f32_absmax, TypeParam>(x.data(), n), reference::absmax(x.data(), n), where);
    }
}

TYPED_TEST(MinMaxKernels, SignedZerosGiveAPositiveZeroExtreme) {
  QKERN_SKIP_UNLESS_CPU_RUNS(TypeParam);
  std::vector<float> x(67);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = (i % 3 == 0) ? -0.0f : 0.0f;
  const MinMax r = kernel_for<kernels::f32_minmax, TypeParam>(x.data(), x.size());
  EXPECT_EQ(bits_of(r.min), 0u);
  EXPECT_EQ(bits_of(r.max), 0u);
}

TYPED_TEST(MinMaxKernels, PerChannelMatchesReference) {
  QKERN_SKIP_UNLESS_CPU_RUNS(TypeParam);
  std::mt19937 rng(19);
  const auto specials = special_floats();
  for (ChannelLayout l :
       {ChannelLayout{5, 1, 1}, ChannelLayout{4, 15, 1}, ChannelLayout{3, 16, 1}, ChannelLayout{7, 33, 1},
        ChannelLayout{2, 64, 1}, ChannelLayout{2, 3, 7}, ChannelLayout{3, 4, 49}, ChannelLayout{1, 6, 130}}) {
    auto x = random_floats(rng, l.size(), 3.0f);
    for (std::size_t i = 0; i < x.size(); i += 11) x[i] = specials[i % specials.size()];
    const auto want = reference::minmax(x.data(), l);
    const auto want_abs = reference::absmax(x.data(), l);
    std::vector<float> mn(l.channels, std::numeric_limits<float>::infinity()),
        mx(l.channels, -std::numeric_limits<float>::infinity());
    std::vector<ValueCounts> counts(l.channels);
    kernel_for<kernels::f32_minmax_channels, TypeParam>(x.data(), l, mn.data(), mx.data(), counts.data());
    std::vector<float> am(l.channels, 0.0f);
    std::vector<ValueCounts> acounts(l.channels);
    kernel_for<kernels::f32_absmax_channels, TypeParam>(x.data(), l, am.data(), acounts.data());
    for (std::size_t c = 0; c < l.channels; ++c) {
      const std::string where = "layout " + std::to_string(l.outer) + "x" + std::to_string(l.channels) + "x" +
                                std::to_string(l.inner) + " channel " + std::to_string(c);
      expect_same(MinMax{mn[c], mx[c], counts[c]}, want[c], where);
      expect_same(AbsMax{am[c], acounts[c]}, want_abs[c], where);
    }
  }
}

TEST(MinMax, NaNNeverPoisonsTheRangeAndIsCounted) {  // SF-4, SF-6
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> x(100, 1.0f);
  x[3] = std::nanf("");
  x[50] = inf;
  x[51] = -inf;
  x[99] = -2.0f;
  const MinMax r = minmax(x.data(), x.size());
  EXPECT_EQ(r.min, -2.0f);
  EXPECT_EQ(r.max, 1.0f);
  EXPECT_EQ(r.counts.nan, 1u);
  EXPECT_EQ(r.counts.pos_inf, 1u);
  EXPECT_EQ(r.counts.neg_inf, 1u);
  EXPECT_EQ(r.counts.finite, 97u);
  EXPECT_EQ(absmax(x.data(), x.size()).value, 2.0f);
}

TEST(MinMax, EmptyAndAllNonFiniteInputsAreReportedNotInvented) {
  const MinMax e = minmax(nullptr, 0);
  EXPECT_FALSE(e.has_finite());
  EXPECT_EQ(e.counts.total(), 0u);
  const std::vector<float> nans(40, std::nanf(""));
  const MinMax r = minmax(nans.data(), nans.size());
  EXPECT_FALSE(r.has_finite());
  EXPECT_EQ(r.counts.nan, 40u);
  EXPECT_THROW(choose_params(r, DType::int8), DataError);  // SF-5
  EXPECT_THROW(choose_params(e, DType::int8), DataError);  // SF-1
}

TEST(MinMax, StreamingPerChannelAccumulationDoesNotDependOnTheSplit) {
  std::mt19937 rng(21);
  const ChannelLayout whole{12, 8, 9};
  auto x = random_floats(rng, whole.size(), 2.0f);
  x[17] = std::nanf("");
  ChannelMinMaxAccumulator one(8), split_a(8), split_b(8);
  one.update(x.data(), whole);
  const ChannelLayout half{6, 8, 9};
  split_a.update(x.data(), half);
  split_b.update(x.data() + half.size(), half);
  split_b.merge(split_a);
  for (std::size_t c = 0; c < 8; ++c) {
    EXPECT_EQ(one.min()[c], split_b.min()[c]);
    EXPECT_EQ(one.max()[c], split_b.max()[c]);
    EXPECT_TRUE(one.counts()[c] == split_b.counts()[c]);
  }
  EXPECT_THROW(one.update(x.data(), ChannelLayout{1, 7, 1}), InvalidArgument);
}

}  // namespace
