// qkern tests — SPDX-License-Identifier: Apache-2.0
//
// test_histogram.cpp: the fixed-range and power-of-two-grid histogram kernels (per tensor and per
// channel, signed and |x|) on every arch against the scalar reference, slot for slot; edge
// conventions; every value accounted for.
#include <cmath>

#include "arch_test_util.hpp"

namespace {

using namespace qkern;
using namespace qkern_test;

template <class A>
class HistogramKernels : public ::testing::Test {};
TYPED_TEST_SUITE(HistogramKernels, AllArchs, ArchNames);

FixedBinning fixed(float lo, float hi, std::uint32_t bins, bool absolute) {
  return {lo, hi, static_cast<float>(bins / (double(hi) - double(lo))), bins, absolute};
}
GridBinning grid(int k, float base, std::uint32_t bins, bool absolute) {
  return {std::ldexp(1.0f, -k), base, bins, absolute};
}

::testing::AssertionResult same_counts(const std::vector<std::uint64_t>& got, const std::vector<std::uint64_t>& want) {
  if (got.size() != want.size()) return ::testing::AssertionFailure() << "sizes differ";
  for (std::size_t i = 0; i < got.size(); ++i)
    if (got[i] != want[i])
      return ::testing::AssertionFailure()
             << "slot " << i << " of " << got.size() << ": got " << got[i] << " want " << want[i];
  return ::testing::AssertionSuccess();
}

std::uint64_t sum(const std::vector<std::uint64_t>& v) {
  std::uint64_t s = 0;
  for (auto c : v) s += c;
  return s;
}

// Data that exercises every slot: normal values, exact edges and ends, out-of-range, specials.
std::vector<float> mixed_data(std::mt19937& rng, std::size_t n, float lo, float hi) {
  auto x = random_floats(rng, n, (hi - lo) / 3.0f);
  const auto sp = special_floats();
  for (std::size_t i = 0; i < n; i += 7) x[i] = sp[(i / 7) % sp.size()];
  for (std::size_t i = 3; i < n; i += 13) x[i] = (i % 2) ? lo : hi;
  return x;
}

TYPED_TEST(HistogramKernels, FixedMatchesReferenceAtEveryLengthAndOffset) {
  QKERN_SKIP_UNLESS_CPU_RUNS(TypeParam);
  std::mt19937 rng(31);
  for (bool absolute : {false, true})
    for (std::uint32_t bins : {1u, 7u, 16u, 2048u}) {
      const FixedBinning b = absolute ? fixed(0.0f, 2.5f, bins, true) : fixed(-2.0f, 3.0f, bins, false);
      const auto x = mixed_data(rng, 140, b.lo, b.hi);
      for (std::size_t n = 0; n <= 130; ++n)
        for (std::size_t off = 0; off < 4 && off + n <= x.size(); ++off) {
          std::vector<std::uint64_t> got(bins + kHistogramExtraSlots, 1), want(got);
          kernel_for<kernels::f32_histogram, TypeParam>(x.data() + off, n, b, got.data());
          reference::histogram(x.data() + off, n, b, want.data());
          ASSERT_TRUE(same_counts(got, want)) << "bins=" << bins << " abs=" << absolute << " n=" << n << " off=" << off;
          ASSERT_EQ(sum(got), got.size() + n);  // nothing dropped
        }
    }
}

TYPED_TEST(HistogramKernels, FixedLongRunsUseSubHistogramsAndMatchReference) {
  QKERN_SKIP_UNLESS_CPU_RUNS(TypeParam);
  std::mt19937 rng(32);
  // The sub-histograms are flushed every 2^16 vectors: 2^16 * 16 lanes (AVX-512) < 1.1 M < 2.3 M
  // elements, so every arch flushes mid-run at least twice; a long run of zeros (one-slot vectors).
  auto x = mixed_data(rng, 2300001, -4.0f, 4.0f);
  for (std::size_t i = 1000; i < 1300000; ++i) x[i] = 0.0f;
  for (bool absolute : {false, true}) {
    const FixedBinning b = fixed(absolute ? 0.0f : -3.0f, 3.5f, 2048, absolute);
    std::vector<std::uint64_t> got(2048 + kHistogramExtraSlots), want(got);
    kernel_for<kernels::f32_histogram, TypeParam>(x.data() + 1, x.size() - 1, b, got.data());
    reference::histogram(x.data() + 1, x.size() - 1, b, want.data());
    EXPECT_TRUE(same_counts(got, want)) << "abs=" << absolute;
  }
}

TYPED_TEST(HistogramKernels, SpecialValuesAtEveryLanePositionLandInTheirSlots) {
  QKERN_SKIP_UNLESS_CPU_RUNS(TypeParam);
  std::mt19937 rng(33);
  const std::size_t n = 4 * 16 + 5;
  const auto base = random_floats(rng, n, 1.0f);
  const FixedBinning fb = fixed(-1.0f, 1.0f, 64, false);
  const GridBinning gb = grid(-5, -40.0f, 96, false);
  for (float s : special_floats())
    for (std::size_t pos = 0; pos < n; ++pos) {
      auto x = base;
      x[pos] = s;
      x[(pos * 5) % n] = -s;
      std::vector<std::uint64_t> got(64 + kHistogramExtraSlots), want(got);
      kernel_for<kernels::f32_histogram, TypeParam>(x.data(), n, fb, got.data());
      reference::histogram(x.data(), n, fb, want.data());
      ASSERT_TRUE(same_counts(got, want)) << "fixed: special " << s << " at " << pos;
      std::vector<std::uint64_t> ggot(96 + kHistogramExtraSlots), gwant(ggot);
      const MinMax r = kernel_for<kernels::f32_grid_histogram, TypeParam>(x.data(), n, gb, ggot.data());
      reference::grid_histogram(x.data(), n, gb, gwant.data());
      ASSERT_TRUE(same_counts(ggot, gwant)) << "grid: special " << s << " at " << pos;
      const MinMax m = reference::minmax(x.data(), n);
      ASSERT_EQ(bits_of(r.min), bits_of(m.min));
      ASSERT_EQ(bits_of(r.max), bits_of(m.max));
      ASSERT_TRUE(r.counts == m.counts);
    }
}

TEST(HistogramReference, FixedBinsAreHalfOpenWithTheLastClosed) {  // HS-7
  const FixedBinning b = fixed(-4.0f, 4.0f, 8, false);             // width 1: exact edges
  EXPECT_EQ(reference::fixed_slot(-4.0f, b), 0u);
  EXPECT_EQ(reference::fixed_slot(-3.0f, b), 1u);
  EXPECT_EQ(reference::fixed_slot(std::nextafter(-3.0f, -4.0f), b), 0u);
  EXPECT_EQ(reference::fixed_slot(0.0f, b), 4u);
  EXPECT_EQ(reference::fixed_slot(-0.0f, b), 4u);
  EXPECT_EQ(reference::fixed_slot(3.0f, b), 7u);
  EXPECT_EQ(reference::fixed_slot(4.0f, b), 7u);  // the last bin is closed
  EXPECT_EQ(reference::fixed_slot(std::nextafter(4.0f, 5.0f), b), 8u + kSlotAbove);
  EXPECT_EQ(reference::fixed_slot(std::nextafter(-4.0f, -5.0f), b), 8u + kSlotBelow);
  EXPECT_EQ(reference::fixed_slot(std::nanf(""), b), 8u + kSlotNaN);
  EXPECT_EQ(reference::fixed_slot(-INFINITY, b), 8u + kSlotNegInf);
  const FixedBinning a = fixed(0.0f, 4.0f, 4, true);
  EXPECT_EQ(reference::fixed_slot(-3.5f, a), 3u);
  EXPECT_EQ(reference::fixed_slot(-INFINITY, a), 4u + kSlotNegInf);  // classified on the raw value
  // Arbitrary ranges: the bin index never decreases as x grows.
  const FixedBinning c = fixed(-0.37f, 1.91f, 2048, false);
  std::uint32_t prev = 0;
  for (float v = -0.37f; v <= 1.91f; v = std::nextafter(v, 2.0f) + 1e-5f) {
    const std::uint32_t s = reference::fixed_slot(v, c);
    ASSERT_LT(s, 2048u);
    ASSERT_GE(s, prev) << v;
    prev = s;
  }
  EXPECT_EQ(reference::fixed_slot(1.91f, c), 2047u);
}

TEST(HistogramReference, GridBinIsTheExactFloorOnTheZeroAnchoredGrid) {
  const GridBinning b = grid(-2, -8.0f, 16, false);  // width 0.25, bins -8..7 -> [-2, 2)
  EXPECT_EQ(reference::grid_slot(-2.0f, b), 0u);
  EXPECT_EQ(reference::grid_slot(-0.0f, b), 8u);
  EXPECT_EQ(reference::grid_slot(0.0f, b), 8u);
  EXPECT_EQ(reference::grid_slot(-1e-30f, b), 7u);  // floor(-tiny / w) = -1
  EXPECT_EQ(reference::grid_slot(0.25f, b), 9u);
  EXPECT_EQ(reference::grid_slot(std::nextafter(0.25f, 0.0f), b), 8u);
  EXPECT_EQ(reference::grid_slot(2.0f, b), 16u + kSlotAbove);
  EXPECT_EQ(reference::grid_slot(std::nextafter(-2.0f, -3.0f), b), 16u + kSlotBelow);
  // Huge bins (2^100 wide): a negative denormal's x * 2^-100 underflows to -0 but is bin -1.
  const GridBinning h = grid(100, -1.0f, 4, false);
  EXPECT_EQ(reference::grid_slot(-std::numeric_limits<float>::denorm_min(), h), 0u);
  EXPECT_EQ(reference::grid_slot(std::numeric_limits<float>::denorm_min(), h), 1u);
  EXPECT_EQ(reference::grid_slot(std::ldexp(1.5f, 100), h), 2u);
  EXPECT_EQ(reference::grid_slot(std::numeric_limits<float>::max(), h), 4u + kSlotAbove);
  // Windows far from zero: bins around 2^40 at width 2^-3 are still exact.
  const float big = std::ldexp(1.0f, 30);
  const GridBinning f = grid(-3, std::ldexp(1.0f, 33), 8, false);
  EXPECT_EQ(reference::grid_slot(big, f), 0u);
  EXPECT_EQ(reference::grid_slot(std::nextafter(big, 0.0f), f), 8u + kSlotBelow);
}

TYPED_TEST(HistogramKernels, GridMatchesReferenceAtEveryLengthOffsetAndScale) {
  QKERN_SKIP_UNLESS_CPU_RUNS(TypeParam);
  std::mt19937 rng(34);
  const std::vector<GridBinning> grids = {grid(-6, -200.0f, 400, false), grid(-6, 0.0f, 200, true),
                                          grid(0, -3.0f, 7, false),      grid(120, -1.0f, 3, false),
                                          grid(-126, -5.0f, 11, false),  grid(-20, 1000.0f, 2048, true)};
  for (const GridBinning& b : grids) {
    auto x = mixed_data(rng, 140, -4.0f, 4.0f);
    x[9] = -std::numeric_limits<float>::denorm_min();
    x[10] = std::numeric_limits<float>::denorm_min() * 3;
    x[11] = -1e-40f;
    for (std::size_t n = 0; n <= 130; ++n)
      for (std::size_t off = 0; off < 4 && off + n <= x.size(); ++off) {
        std::vector<std::uint64_t> got(b.bins + kHistogramExtraSlots, 2), want(got);
        const MinMax r = kernel_for<kernels::f32_grid_histogram, TypeParam>(x.data() + off, n, b, got.data());
        reference::grid_histogram(x.data() + off, n, b, want.data());
        ASSERT_TRUE(same_counts(got, want)) << "k=" << -std::ilogb(b.inv_width) << " n=" << n << " off=" << off;
        std::vector<float> v(x.begin() + off, x.begin() + off + n);
        if (b.absolute)
          for (auto& e : v) e = std::fabs(e);
        const MinMax m = reference::minmax(v.data(), n);
        ASSERT_EQ(bits_of(r.min), bits_of(m.min)) << n;
        ASSERT_EQ(bits_of(r.max), bits_of(m.max)) << n;
        ASSERT_TRUE(r.counts == reference::minmax(x.data() + off, n).counts);  // classified on raw values
      }
  }
}

TYPED_TEST(HistogramKernels, GridLongRunsMatchReference) {
  QKERN_SKIP_UNLESS_CPU_RUNS(TypeParam);
  std::mt19937 rng(35);
  auto x = mixed_data(rng, 300007, -4.0f, 4.0f);
  for (std::size_t i = 5000; i < 90000; ++i) x[i] = (i / 1000) % 2 ? 0.0f : 1.5f;
  const GridBinning b = grid(-8, -1024.0f, 2048, false);
  std::vector<std::uint64_t> got(2048 + kHistogramExtraSlots), want(got);
  kernel_for<kernels::f32_grid_histogram, TypeParam>(x.data(), x.size(), b, got.data());
  reference::grid_histogram(x.data(), x.size(), b, want.data());
  EXPECT_TRUE(same_counts(got, want));
}

TYPED_TEST(HistogramKernels, PerChannelMatchesReferenceInEveryLayout) {
  QKERN_SKIP_UNLESS_CPU_RUNS(TypeParam);
  std::mt19937 rng(36);
  for (ChannelLayout l :
       {ChannelLayout{5, 1, 1}, ChannelLayout{4, 15, 1}, ChannelLayout{3, 16, 1}, ChannelLayout{7, 33, 1},
        ChannelLayout{2, 3, 7}, ChannelLayout{3, 4, 49}, ChannelLayout{1, 6, 130}, ChannelLayout{2, 2, 5000},
        // channels-first groups of 8 channels: full and partial groups, with and without sub-histograms
        ChannelLayout{3, 19, 40}, ChannelLayout{5, 9, 13}, ChannelLayout{2, 8, 300},
        // channels-last with uint32 sub-counters (>= 2 x 42 rows), and past their 2^16-row flush
        ChannelLayout{200, 17, 1}, ChannelLayout{70001, 17, 1}})
    for (bool absolute : {false, true}) {
      const std::uint32_t bins = 37;
      auto x = mixed_data(rng, l.size(), -3.0f, 3.0f);
      std::vector<float> lo(l.channels), hi(l.channels), scale(l.channels), inv(l.channels), base(l.channels);
      for (std::size_t c = 0; c < l.channels; ++c) {
        lo[c] = absolute ? 0.0f : -1.0f - 0.1f * c;
        hi[c] = 0.5f + 0.2f * c;
        scale[c] = static_cast<float>(bins / (double(hi[c]) - lo[c]));
        inv[c] = std::ldexp(1.0f, 3 + int(c % 3));
        base[c] = absolute ? 0.0f : -float(bins / 2) - float(c % 4);
      }
      const FixedChannelBinnings fb{lo.data(), hi.data(), scale.data(), bins, absolute};
      std::vector<std::uint64_t> got(l.channels * (bins + kHistogramExtraSlots)), want(got);
      kernel_for<kernels::f32_histogram_channels, TypeParam>(x.data(), l, fb, got.data());
      reference::histogram(x.data(), l, fb, want.data());
      ASSERT_TRUE(same_counts(got, want)) << l.outer << "x" << l.channels << "x" << l.inner << " abs=" << absolute;
      const GridChannelBinnings gb{inv.data(), base.data(), bins, absolute};
      std::vector<std::uint64_t> ggot(got.size()), gwant(got.size());
      std::vector<float> mn(l.channels, INFINITY), mx(l.channels, -INFINITY);
      kernel_for<kernels::f32_grid_histogram_channels, TypeParam>(x.data(), l, gb, ggot.data(), mn.data(), mx.data());
      reference::grid_histogram(x.data(), l, gb, gwant.data());
      ASSERT_TRUE(same_counts(ggot, gwant)) << l.outer << "x" << l.channels << "x" << l.inner << " abs=" << absolute;
      for (std::size_t c = 0; c < l.channels; ++c) {
        std::vector<float> v;
        for (std::size_t o = 0; o < l.outer; ++o)
          for (std::size_t i = 0; i < l.inner; ++i) {
            const float e = x[(o * l.channels + c) * l.inner + i];
            v.push_back(absolute ? std::fabs(e) : e);
          }
        const MinMax m = reference::minmax(v.data(), v.size());
        ASSERT_EQ(bits_of(mn[c]), bits_of(m.min)) << "channel " << c;
        ASSERT_EQ(bits_of(mx[c]), bits_of(m.max)) << "channel " << c;
      }
    }
}

}  // namespace

namespace {

using namespace qkern;
using namespace qkern_test;

template <class A>
class HistogramFastPath : public ::testing::Test {};
TYPED_TEST_SUITE(HistogramFastPath, AllArchs, ArchNames);

// The kernels' in-range fast path (float window bounds, no clamps) must agree with the reference at
// the exact window edges, for tiny negatives on wide grids (t underflows to -0), and for fixed ranges
// whose width overflows float. Long runs, so the sub-histogram path is taken too.
TYPED_TEST(HistogramFastPath, WindowEdgesAndExtremeGridsMatchReference) {
  QKERN_SKIP_UNLESS_CPU_RUNS(TypeParam);
  std::mt19937 rng(37);
  const float dmin = std::numeric_limits<float>::denorm_min();
  for (int k : {-126, -20, -3, 0, 1, 5, 100, 127, 130})
    for (float base : {-1024.0f, -1.0f, 0.0f, 3.0f, 1e9f})
      for (std::uint32_t bins : {2u, 2048u}) {
        const GridBinning b{std::ldexp(1.0f, -k), base, bins, false};
        const double w = std::ldexp(1.0, k);
        std::vector<float> edges = {float(double(base) * w),
                                    float((double(base) + bins) * w),
                                    0.0f,
                                    -0.0f,
                                    dmin,
                                    -dmin,
                                    -1e-40f,
                                    -1e-30f,
                                    std::numeric_limits<float>::max(),
                                    -std::numeric_limits<float>::max()};
        const std::size_t ne = edges.size();
        for (std::size_t e = 0; e < ne; ++e) {
          edges.push_back(std::nextafter(edges[e], INFINITY));
          edges.push_back(std::nextafter(edges[e], -INFINITY));
        }
        std::vector<float> x(20000);
        std::uniform_int_distribution<std::size_t> pick(0, edges.size() - 1);
        for (std::size_t i = 0; i < x.size(); ++i)
          x[i] = (i / 64) % 3 == 0 ? edges[pick(rng)] : edges[(i / 8) % edges.size()];
        std::vector<std::uint64_t> got(bins + kHistogramExtraSlots), want(got);
        const MinMax r = kernel_for<kernels::f32_grid_histogram, TypeParam>(x.data(), x.size(), b, got.data());
        reference::grid_histogram(x.data(), x.size(), b, want.data());
        ASSERT_EQ(got, want) << "k=" << k << " base=" << base << " bins=" << bins;
        const MinMax m = reference::minmax(x.data(), x.size());
        ASSERT_EQ(bits_of(r.min), bits_of(m.min));
        ASSERT_EQ(bits_of(r.max), bits_of(m.max));
      }
  // Fixed range whose width overflows float (t = +Inf), and a huge scale.
  for (const FixedBinning& b : {FixedBinning{-3e38f, 3e38f, float(2048 / 6e38), 2048, false},
                                FixedBinning{1.0f, std::nextafter(1.0f, 2.0f), float(16 / 1.1920929e-7), 16, false}}) {
    std::vector<float> x(9000);
    for (std::size_t i = 0; i < x.size(); ++i)
      x[i] = i % 3 == 0 ? b.lo : i % 3 == 1 ? b.hi : std::nextafter(b.lo + (b.hi - b.lo) * 0.5f, INFINITY);
    std::vector<std::uint64_t> got(b.bins + kHistogramExtraSlots), want(got);
    kernel_for<kernels::f32_histogram, TypeParam>(x.data(), x.size(), b, got.data());
    reference::histogram(x.data(), x.size(), b, want.data());
    ASSERT_EQ(got, want) << "lo=" << b.lo;
  }
}

}  // namespace
