// qkern tests — SPDX-License-Identifier: Apache-2.0
//
// test_fixed_histogram.cpp: the public fixed-range histograms (FixedHistogram, ChannelFixedHistogram)
// against the scalar reference, slot for slot; merge of any split equals one pass; argument errors.
#include <cmath>

#include "arch_test_util.hpp"

namespace {

using namespace qkern;
using namespace qkern_test;

// Data hitting every slot: normal values, exact ends, out-of-range values and specials.
std::vector<float> mixed(std::mt19937& rng, std::size_t n, float lo, float hi) {
  auto x = random_floats(rng, n, (hi - lo) / 2.0f);
  const auto sp = special_floats();
  for (std::size_t i = 0; i < n; i += 11) x[i] = sp[(i / 11) % sp.size()];
  for (std::size_t i = 5; i < n; i += 17) x[i] = (i % 2) ? lo : hi;
  for (std::size_t i = 20000; i < n && i < 60000; ++i) x[i] = 0.0f;  // a long run of one value
  return x;
}

std::vector<std::uint64_t> reference_slots(const float* x, std::size_t n, const FixedBinning& b) {
  std::vector<std::uint64_t> s(b.bins + kHistogramExtraSlots, 0);
  reference::histogram(x, n, b, s.data());
  return s;
}

void expect_matches(const FixedHistogram& h, const std::vector<std::uint64_t>& want) {
  for (std::size_t i = 0; i < h.bins(); ++i) ASSERT_EQ(h.bin_counts()[i], want[i]) << "bin " << i;
  EXPECT_EQ(h.underflow(), want[h.bins() + kSlotBelow]);
  EXPECT_EQ(h.overflow(), want[h.bins() + kSlotAbove]);
  EXPECT_EQ(h.nan(), want[h.bins() + kSlotNaN]);
  EXPECT_EQ(h.pos_inf(), want[h.bins() + kSlotPosInf]);
  EXPECT_EQ(h.neg_inf(), want[h.bins() + kSlotNegInf]);
}

TEST(FixedHistogram, MatchesTheReferenceSlotForSlot) {
  std::mt19937 rng(71);
  const auto x = mixed(rng, 300001, -2.0f, 3.0f);
  for (HistogramValues mode : {HistogramValues::signed_values, HistogramValues::absolute_values})
    for (std::size_t bins : {std::size_t{1}, std::size_t{7}, std::size_t{2048}}) {
      FixedHistogram h(mode == HistogramValues::signed_values ? -2.0f : 0.0f, 3.0f, bins, mode);
      EXPECT_EQ(h.binning().scale, static_cast<float>(double(bins) / (3.0 - double(h.lo()))));
      h.update(x.data() + 1, x.size() - 1);
      expect_matches(h, reference_slots(x.data() + 1, x.size() - 1, h.binning()));
      const ValueCounts c = h.counts();
      EXPECT_EQ(c.total(), x.size() - 1);  // nothing dropped
      EXPECT_EQ(c.finite, reference::minmax(x.data() + 1, x.size() - 1).counts.finite);
      const HistogramView v = h.view();
      EXPECT_EQ(v.bins, bins);
      EXPECT_EQ(v.counts, h.bin_counts());
      EXPECT_EQ(v.lo, double(h.lo()));
      EXPECT_EQ(v.hi, 3.0);
    }
}

TEST(FixedHistogram, DefaultsTo2048SignedBins) {
  FixedHistogram h(-1.0f, 1.0f);
  EXPECT_EQ(h.bins(), 2048u);
  EXPECT_EQ(h.values(), HistogramValues::signed_values);
  const float x[] = {-1.0f, 1.0f, 0.0f, -0.0f, std::nextafter(1.0f, 2.0f), -INFINITY};
  h.update(x, 6);
  EXPECT_EQ(h.bin_counts()[0], 1u);
  EXPECT_EQ(h.bin_counts()[2047], 1u);  // the last bin is closed at hi
  EXPECT_EQ(h.bin_counts()[1024], 2u);  // +-0
  EXPECT_EQ(h.overflow(), 1u);
  EXPECT_EQ(h.neg_inf(), 1u);
  h.update(nullptr, 0);  // empty batch: a no-op
  EXPECT_EQ(h.counts().total(), 6u);
}

TEST(FixedHistogram, MergeOfAnySplitEqualsOnePass) {
  std::mt19937 rng(72);
  const auto x = mixed(rng, 200003, -1.5f, 2.5f);
  FixedHistogram whole(-1.5f, 2.5f, 2048, HistogramValues::absolute_values);
  whole.update(x.data(), x.size());
  for (std::size_t split : {std::size_t{0}, std::size_t{1}, std::size_t{4097}, std::size_t{150000}, x.size()}) {
    FixedHistogram a(-1.5f, 2.5f, 2048, HistogramValues::absolute_values), b(a);
    a.update(x.data(), split);
    b.update(x.data() + split, x.size() - split);
    b.merge(a);
    EXPECT_TRUE(b == whole) << "split at " << split;
  }
}

TEST(FixedHistogram, RejectsBadArgumentsNamingThem) {
  auto names = [](auto f) -> std::string {
    try {
      f();
    } catch (const InvalidArgument& e) {
      return e.argument();
    }
    return "(no throw)";
  };
  EXPECT_EQ(names([] { FixedHistogram(0.0f, 1.0f, 0); }), "bins");
  EXPECT_EQ(names([] { FixedHistogram(0.0f, 1.0f, kMaxHistogramBins + 1); }), "bins");
  EXPECT_EQ(names([] { FixedHistogram(NAN, 1.0f); }), "lo");
  EXPECT_EQ(names([] { FixedHistogram(-INFINITY, 1.0f); }), "lo");
  EXPECT_EQ(names([] { FixedHistogram(0.0f, INFINITY); }), "hi");
  EXPECT_EQ(names([] { FixedHistogram(1.0f, 1.0f); }), "hi");
  EXPECT_EQ(names([] { FixedHistogram(2.0f, 1.0f); }), "hi");
  EXPECT_EQ(names([] { FixedHistogram(0.0f, std::numeric_limits<float>::denorm_min(), 2048); }), "hi");
  EXPECT_EQ(names([] { FixedHistogram(0.0f, 1.0f).update(nullptr, 3); }), "x");
  FixedHistogram h(0.0f, 1.0f, 16);
  EXPECT_EQ(names([&] { h.merge(FixedHistogram(0.0f, 1.0f, 32)); }), "other");
  EXPECT_EQ(names([&] { h.merge(FixedHistogram(0.0f, 2.0f, 16)); }), "other");
  EXPECT_EQ(names([&] { h.merge(FixedHistogram(0.0f, 1.0f, 16, HistogramValues::absolute_values)); }), "other");
  EXPECT_EQ(names([] { ChannelFixedHistogram(0, 0.0f, 1.0f); }), "channels");
  EXPECT_EQ(names([] { ChannelFixedHistogram({0.0f, 1.0f}, {1.0f}); }), "hi");
  EXPECT_EQ(names([] { ChannelFixedHistogram({0.0f, 1.0f}, {1.0f, 1.0f}); }), "hi");
  ChannelFixedHistogram ch(3, -1.0f, 1.0f);
  const float x[6] = {};
  EXPECT_EQ(names([&] { ch.update(x, ChannelLayout{2, 2, 1}); }), "layout");
  EXPECT_EQ(names([&] { ch.update(nullptr, ChannelLayout{2, 3, 1}); }), "x");
  EXPECT_EQ(names([&] { ch.merge(ChannelFixedHistogram(3, -1.0f, 2.0f)); }), "other");
  EXPECT_EQ(names([&] { ch.view(3); }), "channel");
}

TEST(ChannelFixedHistogram, MatchesTheReferenceInEveryLayoutAndMerges) {
  std::mt19937 rng(73);
  for (ChannelLayout l : {ChannelLayout{4, 64, 56 * 56}, ChannelLayout{3 * 9, 64, 1}, ChannelLayout{5, 3, 1},
                          ChannelLayout{2, 7, 131}, ChannelLayout{1, 1, 70001}})
    for (HistogramValues mode : {HistogramValues::signed_values, HistogramValues::absolute_values}) {
      std::vector<float> lo(l.channels), hi(l.channels);
      for (std::size_t c = 0; c < l.channels; ++c) {
        lo[c] = mode == HistogramValues::absolute_values ? 0.0f : -1.0f - 0.05f * float(c);
        hi[c] = 0.5f + 0.1f * float(c);
      }
      const auto x = mixed(rng, l.size(), -2.0f, 2.0f);
      ChannelFixedHistogram h(lo, hi, 2048, mode);
      h.update(x.data(), l);
      for (std::size_t c = 0; c < l.channels; ++c) {
        std::vector<float> v;
        for (std::size_t o = 0; o < l.outer; ++o)
          for (std::size_t i = 0; i < l.inner; ++i) v.push_back(x[(o * l.channels + c) * l.inner + i]);
        const auto want = reference_slots(v.data(), v.size(), h.binning(c));
        for (std::size_t i = 0; i < h.bins(); ++i)
          ASSERT_EQ(h.bin_counts(c)[i], want[i])
              << "channel " << c << " bin " << i << " layout " << l.outer << "x" << l.channels << "x" << l.inner;
        ASSERT_EQ(h.underflow(c), want[h.bins() + kSlotBelow]);
        ASSERT_EQ(h.overflow(c), want[h.bins() + kSlotAbove]);
        ASSERT_EQ(h.nan(c), want[h.bins() + kSlotNaN]);
        ASSERT_EQ(h.pos_inf(c), want[h.bins() + kSlotPosInf]);
        ASSERT_EQ(h.neg_inf(c), want[h.bins() + kSlotNegInf]);
        ASSERT_EQ(h.counts(c).total(), l.outer * l.inner);
        ASSERT_EQ(h.view(c).lo, double(lo[c]));
      }
      if (l.outer < 2) continue;
      // Split along the outer axis and merge: identical to one pass.
      const std::size_t first = l.outer / 2;
      ChannelFixedHistogram a(lo, hi, 2048, mode), b(lo, hi, 2048, mode);
      a.update(x.data(), ChannelLayout{first, l.channels, l.inner});
      b.update(x.data() + first * l.channels * l.inner, ChannelLayout{l.outer - first, l.channels, l.inner});
      a.merge(b);
      EXPECT_TRUE(a == h);
    }
}

}  // namespace
