// qkern tests — SPDX-License-Identifier: Apache-2.0
//
// test_streaming_histogram.cpp: the power-of-two-grid streaming histogram: state is a function of
// the data only (any split, merge order, thread count gives bit-identical counts), counts match a
// brute-force definition, bounded memory under huge growth, 64-bit counts, and a loader that rejects
// every truncated or corrupted blob.
#include <algorithm>
#include <cmath>

#include "arch_test_util.hpp"
#include "qkern/calib/streaming_histogram.hpp"

namespace {

using namespace qkern;
using namespace qkern_test;

// A stream whose range keeps growing and shifting, with zeros, ties and specials.
std::vector<std::vector<float>> growing_batches(std::mt19937& rng) {
  std::vector<std::vector<float>> batches;
  const float spreads[] = {0.0f, 1e-3f, 0.5f, 0.01f, 3.0f, 40.0f, 2.0f, 1e4f};
  for (float s : spreads) {
    auto b = random_floats(rng, 1000 + rng() % 70000, s == 0.0f ? 1.0f : s);
    if (s == 0.0f) std::fill(b.begin(), b.end(), 0.0f);               // HS-5: an all-zero first batch
    for (std::size_t i = 0; i < b.size(); i += 97) b[i] = s + 0.25f;  // a shifted cluster
    batches.push_back(b);
  }
  batches[3][5] = std::nanf("");
  batches[4][6] = INFINITY;
  batches[5][7] = -INFINITY;
  return batches;
}

std::vector<float> concat(const std::vector<std::vector<float>>& b) {
  std::vector<float> all;
  for (const auto& v : b) all.insert(all.end(), v.begin(), v.end());
  return all;
}

// The definition, computed independently in double: k from the range, count[floor(x/2^k) - base].
void expect_matches_definition(const StreamingHistogram& h, const std::vector<float>& all) {
  const bool absolute = h.values() == HistogramValues::absolute_values;
  std::vector<float> fin;
  for (float v : all)
    if (std::isfinite(v)) fin.push_back(absolute ? std::fabs(v) : v);
  ASSERT_FALSE(fin.empty());
  const float mn = *std::min_element(fin.begin(), fin.end()), mx = *std::max_element(fin.begin(), fin.end());
  EXPECT_EQ(h.range().min, mn);
  EXPECT_EQ(h.range().max, mx);
  const int k = detail::grid_exponent(mn, mx, h.bins());
  ASSERT_EQ(h.width_exponent(), k);
  const double base = std::floor(std::ldexp(double(mn), -k));
  ASSERT_EQ(double(h.first_bin()), base);
  std::vector<std::uint64_t> want(h.bins(), 0);
  for (float v : fin) {
    const double j = std::floor(std::ldexp(double(v), -k)) - base;
    ASSERT_GE(j, 0.0);
    ASSERT_LT(j, double(h.bins()));
    ++want[static_cast<std::size_t>(j)];
  }
  const HistogramView view = h.view();
  ASSERT_EQ(view.bins, h.bins());
  for (std::size_t i = 0; i < h.bins(); ++i) ASSERT_EQ(view.counts[i], want[i]) << "bin " << i;
  // Resolution: within 2x of the best fixed-range histogram over [min, max].
  if (mx > mn && k > kMinGridExponent) {
    EXPECT_LT(view.bin_width(), 2.0 * (double(mx) - mn) / (h.bins() - 1.0));
  }
  EXPECT_EQ(view.lo, std::ldexp(base, k));
}

TEST(StreamingHistogram, MatchesTheDefinitionAfterGrowth) {
  std::mt19937 rng(41);
  const auto batches = growing_batches(rng);
  for (auto mode : {HistogramValues::signed_values, HistogramValues::absolute_values})
    for (std::size_t bins : {2u, 3u, 64u, 2048u}) {
      StreamingHistogram h(bins, mode);
      for (const auto& b : batches) h.update(b.data(), b.size());
      expect_matches_definition(h, concat(batches));
      const ValueCounts c = h.counts();
      EXPECT_EQ(c.nan, 1u);
      EXPECT_EQ(c.pos_inf, 1u);
      EXPECT_EQ(c.neg_inf, 1u);
      EXPECT_EQ(c.total(), concat(batches).size());
    }
}

TEST(StreamingHistogram, OneLargeUpdateGrowingAcrossItsChunksMatchesTheDefinition) {
  // One update() call over many internal chunks (detail::kStreamingChunk values each) whose range
  // grows every 2^18 values, so growths happen in chunks after the first and re-count their values.
  std::mt19937 rng(44);
  std::vector<float> x = random_floats(rng, (std::size_t{1} << 20) + 12345, 1.0f);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] *= 1.0f + float(i >> 18) * 3.0f;
  for (auto mode : {HistogramValues::signed_values, HistogramValues::absolute_values}) {
    StreamingHistogram h(2048, mode);
    h.update(x.data(), x.size());
    expect_matches_definition(h, x);
  }
}

TEST(StreamingHistogram, AbsoluteFirstBatchCrossingZeroGetsTheExactRangeOfAbsX) {  // HS-3
  // |x| lies in [4.5, 5] although x crosses zero: the first window must come from 4.5, not 0,
  // or the grid (and state) would depend on whether the first batch had both signs.
  const std::vector<float> both = {-5.0f, 4.75f, -4.5f, 5.0f}, pos = {4.75f, 5.0f}, neg = {-5.0f, -4.5f};
  StreamingHistogram a(2048, HistogramValues::absolute_values), b(2048, HistogramValues::absolute_values);
  a.update(both.data(), both.size());
  b.update(pos.data(), pos.size());
  b.update(neg.data(), neg.size());
  EXPECT_EQ(a.range().min, 4.5f);
  EXPECT_EQ(a.range().max, 5.0f);
  EXPECT_TRUE(a == b);
  expect_matches_definition(a, both);
}

TEST(StreamingHistogram, AnySplitAndMergeOrderGivesBitIdenticalState) {  // HS-3, HS-8
  std::mt19937 rng(42);
  const auto all = concat(growing_batches(rng));
  for (auto mode : {HistogramValues::signed_values, HistogramValues::absolute_values}) {
    StreamingHistogram one(2048, mode);
    one.update(all.data(), all.size());
    for (int trial = 0; trial < 6; ++trial) {
      // Random cut points, each shard its own histogram, merged in a random order and tree shape.
      std::vector<std::size_t> cuts = {0, all.size()};
      for (int i = 0; i < 1 + trial * 3; ++i) cuts.push_back(rng() % all.size());
      std::sort(cuts.begin(), cuts.end());
      std::vector<StreamingHistogram> parts;
      for (std::size_t i = 0; i + 1 < cuts.size(); ++i) {
        parts.emplace_back(2048, mode);
        // Feed each shard in random sub-batches too.
        std::size_t p = cuts[i];
        while (p < cuts[i + 1]) {
          const std::size_t m = std::min<std::size_t>(cuts[i + 1] - p, 1 + rng() % 30000);
          parts.back().update(all.data() + p, m);
          p += m;
        }
      }
      std::shuffle(parts.begin(), parts.end(), rng);
      while (parts.size() > 1) {
        const std::size_t a = rng() % parts.size();
        std::size_t b = rng() % parts.size();
        if (a == b) continue;
        parts[a].merge(parts[b]);
        parts.erase(parts.begin() + static_cast<std::ptrdiff_t>(b));
      }
      EXPECT_TRUE(parts[0] == one) << "trial " << trial;
    }
  }
}

TEST(StreamingHistogram, HugeGrowthKeepsMemoryBoundedAndCountsExact) {  // HS-6, SF-8
  StreamingHistogram h(2048);
  std::vector<float> tiny(5000, 1e-3f), huge(7, 1e30f), denorm(3, 1e-42f);
  h.update(denorm.data(), denorm.size());
  h.update(tiny.data(), tiny.size());
  h.update(huge.data(), huge.size());
  EXPECT_EQ(h.view().bins, 2048u);
  EXPECT_EQ(h.view().total(), 5010u);
  expect_matches_definition(h, concat({denorm, tiny, huge}));
  std::vector<float> extremes = {std::numeric_limits<float>::max(), -std::numeric_limits<float>::max()};
  h.update(extremes.data(), 2);
  EXPECT_EQ(h.view().total(), 5012u);
  expect_matches_definition(h, concat({denorm, tiny, huge, extremes}));
  // Tiny ranges: the width floor 2^-126 applies, nothing divides by zero.
  StreamingHistogram t(16);
  std::vector<float> d = {std::numeric_limits<float>::denorm_min(), 2 * std::numeric_limits<float>::denorm_min()};
  t.update(d.data(), 2);
  EXPECT_EQ(t.width_exponent(), kMinGridExponent);
  EXPECT_EQ(t.view().counts[0], 2u);
}

TEST(StreamingHistogram, CountsBeyond32BitsAreExact) {  // HS-1
  StreamingHistogram h(64);
  std::vector<float> x(1 << 20, 0.75f);
  h.update(x.data(), x.size());
  for (int i = 0; i < 13; ++i) h.merge(StreamingHistogram(h));  // 2^20 * 2^13 = 2^33 in one bin
  EXPECT_EQ(h.counts().finite, std::uint64_t{1} << 33);
  const HistogramView v = h.view();
  EXPECT_EQ(*std::max_element(v.counts, v.counts + v.bins), std::uint64_t{1} << 33);
}

TEST(StreamingHistogram, EmptyAndNonFiniteOnlyGiveClearErrors) {  // SF-1, SF-5
  StreamingHistogram h;
  h.update(nullptr, 0);
  EXPECT_THROW(h.view(), DataError);
  std::vector<float> nans(100, std::nanf(""));
  nans[3] = INFINITY;
  h.update(nans.data(), nans.size());
  try {
    h.view();
    FAIL();
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("no finite values"), std::string::npos) << e.what();
  }
  EXPECT_EQ(h.counts().nan, 99u);
  EXPECT_EQ(h.counts().pos_inf, 1u);
  EXPECT_THROW(h.update(nullptr, 3), InvalidArgument);
  EXPECT_THROW(StreamingHistogram(1), InvalidArgument);
  StreamingHistogram other(1024);
  EXPECT_THROW(h.merge(other), InvalidArgument);  // HS-9
  EXPECT_THROW(h.merge(StreamingHistogram(2048, HistogramValues::absolute_values)), InvalidArgument);
}

TEST(StreamingHistogram, SerializationRoundTripsAndRejectsEveryCorruption) {  // HS-10
  std::mt19937 rng(43);
  const auto all = concat(growing_batches(rng));
  StreamingHistogram h(32);
  h.update(all.data(), all.size());
  const auto blob = h.serialize();
  const StreamingHistogram back = StreamingHistogram::deserialize(blob);
  EXPECT_TRUE(back == h);
  StreamingHistogram merged = back;
  merged.merge(h);
  EXPECT_EQ(merged.counts().total(), 2 * h.counts().total());
  for (std::size_t n = 0; n < blob.size(); ++n)
    EXPECT_THROW(StreamingHistogram::deserialize(blob.data(), n), DataError) << "truncated to " << n;
  for (std::size_t i = 0; i < blob.size(); ++i) {
    auto bad = blob;
    bad[i] ^= static_cast<std::uint8_t>(1u << (i % 8));
    EXPECT_THROW(StreamingHistogram::deserialize(bad), DataError) << "byte " << i;
  }
  auto v2 = blob;
  v2[4] = 2;  // version 2, checksum fixed up: rejected for the version, not the checksum
  const std::uint64_t sum = detail::fnv1a64(v2.data(), v2.size() - 8);
  for (int i = 0; i < 8; ++i) v2[v2.size() - 8 + i] = static_cast<std::uint8_t>(sum >> (8 * i));
  try {
    StreamingHistogram::deserialize(v2);
    FAIL();
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("version 2"), std::string::npos) << e.what();
  }
  EXPECT_THROW(ChannelStreamingHistogram::deserialize(blob), DataError);  // wrong kind
  StreamingHistogram empty;
  EXPECT_TRUE(StreamingHistogram::deserialize(empty.serialize()) == empty);
}

// Channel c of h (fed x laid out NCHW as l) equals a per-tensor histogram fed channel c's planes.
void expect_each_channel_equals_per_tensor(const ChannelStreamingHistogram& h, const std::vector<float>& x,
                                           const ChannelLayout& l) {
  for (std::size_t c = 0; c < l.channels; ++c) {
    StreamingHistogram t(h.bins(), h.values());
    for (std::size_t n = 0; n < l.outer; ++n) t.update(x.data() + (n * l.channels + c) * l.inner, l.inner);
    EXPECT_EQ(h.width_exponent(c), t.width_exponent());
    EXPECT_EQ(h.first_bin(c), t.first_bin());
    EXPECT_TRUE(h.counts(c) == t.counts());
    const HistogramView vh = h.view(c), vt = t.view();
    EXPECT_TRUE(std::equal(vh.counts, vh.counts + vh.bins, vt.counts)) << "channel " << c;
  }
}

TEST(ChannelStreamingHistogram, EachChannelEqualsAPerTensorHistogramOfItsValuesInAnyLayout) {
  std::mt19937 rng(44);
  const std::size_t N = 3, C = 5, HW = 777;
  auto nchw = random_floats(rng, N * C * HW, 1.0f);
  for (std::size_t i = 0; i < nchw.size(); ++i) nchw[i] *= float(1 + (i / HW) % C * 7);  // per-channel spread
  nchw[11] = std::nanf("");
  std::vector<float> nhwc(nchw.size());
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t p = 0; p < HW; ++p) nhwc[(n * HW + p) * C + c] = nchw[(n * C + c) * HW + p];
  for (auto mode : {HistogramValues::signed_values, HistogramValues::absolute_values}) {
    ChannelStreamingHistogram a(C, 256, mode), b(C, 256, mode), split(C, 256, mode), other(C, 256, mode);
    a.update(nchw.data(), ChannelLayout{N, C, HW});
    b.update(nhwc.data(), ChannelLayout{N * HW, C, 1});
    split.update(nchw.data(), ChannelLayout{1, C, HW});
    other.update(nchw.data() + C * HW, ChannelLayout{N - 1, C, HW});
    split.merge(other);
    EXPECT_TRUE(a == b);
    EXPECT_TRUE(a == split);
    expect_each_channel_equals_per_tensor(a, nchw, ChannelLayout{N, C, HW});
    const auto blob = a.serialize();
    EXPECT_TRUE(ChannelStreamingHistogram::deserialize(blob) == a);
    EXPECT_THROW(ChannelStreamingHistogram::deserialize(blob.data(), blob.size() - 1), DataError);
    EXPECT_THROW(a.update(nchw.data(), ChannelLayout{1, C + 1, 1}), InvalidArgument);
    EXPECT_THROW(a.view(C), InvalidArgument);
  }
}

// Rows larger than a chunk's value budget: update() takes several rows per chunk (one kernel channel
// group), and a range that grows from image to image regrids and re-counts inside such a chunk.
TEST(ChannelStreamingHistogram, ChunksOfSeveralLargeRowsGrowingWithinMatchPerChannelHistograms) {
  std::mt19937 rng(45);
  const std::size_t N = 11, C = 3, HW = 40000;
  auto x = random_floats(rng, N * C * HW, 1.0f);
  for (std::size_t i = 0; i < x.size(); ++i) {
    const std::size_t n = i / (C * HW), c = (i / HW) % C;
    x[i] *= std::ldexp(1.0f, int(n)) * float(1 + c);  // every image doubles the spread
    if (c == 1 && x[i] < 0.0f) x[i] = 0.0f;           // a ReLU channel
  }
  x[5 * C * HW + 7] = INFINITY;
  for (auto mode : {HistogramValues::signed_values, HistogramValues::absolute_values}) {
    ChannelStreamingHistogram all(C, 2048, mode), parts(C, 2048, mode);
    all.update(x.data(), ChannelLayout{N, C, HW});
    for (std::size_t n = 0; n < N; n += 3)
      parts.update(x.data() + n * C * HW, ChannelLayout{std::min<std::size_t>(3, N - n), C, HW});
    EXPECT_TRUE(all == parts);
    expect_each_channel_equals_per_tensor(all, x, ChannelLayout{N, C, HW});
  }
}

}  // namespace
