// qkern tests — SPDX-License-Identifier: Apache-2.0
//
// test_state_safety.cpp: observer state loaded from disk is untrusted input (issue 10). Hand-made
// blobs (checksum fixed up, so only the content check can reject them) that break an invariant
// merge / regrid / the fits rely on are rejected at load time; non-canonical encodings are rejected;
// 64-bit counts never wrap on merge; and a percentile read from a histogram stays inside the exact
// range the collector tracked.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "qkern/calib/fixed_histogram.hpp"
#include "qkern/calib/observers.hpp"
#include "qkern/calib/percentile.hpp"

namespace {

using namespace qkern;
using Blob = std::vector<std::uint8_t>;

// Envelope: "QKST" | u16 version | u16 kind | u64 payload size | payload | u64 fnv1a.
constexpr std::size_t kPayload = 16;

void fix_checksum(Blob& b) {
  const std::uint64_t sum = detail::fnv1a64(b.data(), b.size() - 8);
  for (int i = 0; i < 8; ++i) b[b.size() - 8 + i] = static_cast<std::uint8_t>(sum >> (8 * i));
}
void put_u64(Blob& b, std::size_t at, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) b[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
}
void put_u32(Blob& b, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
}
std::uint64_t get_u64(const Blob& b, std::size_t at) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= std::uint64_t{b[at + i]} << (8 * i);
  return v;
}

// Offsets inside a grid histogram payload (bins u32, mode u8, channels u32, then per channel: flag
// u8, k i64, base i64, min f32, max f32, bins + 5 u64 slots).
std::size_t channel_at(std::size_t bins, std::size_t c) { return kPayload + 9 + c * (25 + 8 * (bins + 5)); }
std::size_t flag_at(std::size_t bins, std::size_t c) { return channel_at(bins, c); }
std::size_t min_at(std::size_t bins, std::size_t c) { return channel_at(bins, c) + 17; }
std::size_t max_at(std::size_t bins, std::size_t c) { return channel_at(bins, c) + 21; }
std::size_t slot_at(std::size_t bins, std::size_t c, std::size_t i) { return channel_at(bins, c) + 25 + 8 * i; }

template <class Obs>
void expect_rejected(Blob b, const char* what) {
  fix_checksum(b);
  EXPECT_THROW(Obs::deserialize(b), DataError) << what;
}

// The smallest case: 8 bins holding {0, 1} (k = -2, max's bin is 4) plus one count in bin 7
// above it, merged with an observer that saw {-0.5}: a heap-buffer-overflow in regrid before.
TEST(StateSafety, HistogramCountsAboveTheMaximumsBinAreRejected) {
  const float data[] = {0.0f, 1.0f};
  HistogramObserver h(8);
  h.update(data, 2);
  ASSERT_EQ(h.histogram().width_exponent(), -2);
  Blob b = h.serialize();
  EXPECT_EQ(get_u64(b, slot_at(8, 0, 4)), 1u);  // max's bin
  put_u64(b, slot_at(8, 0, 7), 1);
  // The total must also agree with nothing else: the blob is otherwise well formed.
  expect_rejected<HistogramObserver>(b, "stray count in bin 7");
  fix_checksum(b);
  try {
    HistogramObserver::deserialize(b);
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("above the maximum's bin"), std::string::npos) << e.what();
  }
  // Unmodified, the same state loads and merges both ways.
  HistogramObserver other(8);
  const float neg = -0.5f;
  other.update(&neg, 1);
  HistogramObserver a = HistogramObserver::deserialize(h.serialize()), c = other;
  a.merge(other);
  c.merge(h);
  EXPECT_TRUE(a.histogram() == c.histogram());
  EXPECT_EQ(a.histogram().counts().finite, 3u);
  EXPECT_EQ(a.histogram().counts().nan, 0u);
}

TEST(StateSafety, PerChannelHistogramStrayCountsAreRejected) {
  PerChannelHistogramObserver h(2, 8);
  const float data[] = {0.0f, 5.0f, 1.0f, 6.0f};  // NHWC-like: 2 rows x 2 channels
  h.update(data, ChannelLayout{2, 2, 1});
  Blob b = h.serialize();
  put_u64(b, slot_at(8, 1, 7), 3);  // channel 1: {5, 6} lies in bins 0 and 1 of k = 0 ... bin 7 must be 0
  expect_rejected<PerChannelHistogramObserver>(b, "stray count in channel 1");
  EXPECT_NO_THROW(PerChannelHistogramObserver::deserialize(h.serialize()));
}

TEST(StateSafety, NonCanonicalHistogramEncodingsAreRejected) {
  const float data[] = {0.0f, 1.0f};
  HistogramObserver h(8);
  h.update(data, 2);
  Blob b = h.serialize();
  b[flag_at(8, 0)] = 2;  // any non-zero flag byte was read as "has a range"
  expect_rejected<HistogramObserver>(b, "flag byte 2");

  b = h.serialize();
  put_u32(b, min_at(8, 0), 0x80000000u);  // -0.0 as the minimum: serialize only writes +0.0
  expect_rejected<HistogramObserver>(b, "-0.0 minimum");

  const HistogramObserver empty(8);
  const Blob e = empty.serialize();
  EXPECT_NO_THROW(HistogramObserver::deserialize(e));
  for (std::uint32_t bits : {0x7fc00000u, 0xffc00000u, 0x7f800001u, 0x00000000u}) {
    b = e;
    put_u32(b, min_at(8, 0), bits);  // min of an empty channel: only +Inf
    expect_rejected<HistogramObserver>(b, "empty-channel min");
    b = e;
    put_u32(b, max_at(8, 0), bits);  // max of an empty channel: only -Inf
    expect_rejected<HistogramObserver>(b, "empty-channel max");
  }
  b = e;
  b[flag_at(8, 0)] = 0xff;
  expect_rejected<HistogramObserver>(b, "flag byte 0xff on an empty channel");
}

TEST(StateSafety, HistogramCountOverflowIsRejectedAtLoadAndOnMerge) {
  const std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  const float data[] = {0.0f, 1.0f};
  HistogramObserver h(8);
  h.update(data, 2);
  Blob b = h.serialize();
  put_u64(b, slot_at(8, 0, 0), kMax - 1);  // total 2^64 - 1: the largest count that loads
  fix_checksum(b);
  HistogramObserver full = HistogramObserver::deserialize(b);
  EXPECT_EQ(full.histogram().counts().finite, kMax);

  put_u64(b, slot_at(8, 0, 0), kMax);  // total 2^64: would wrap
  expect_rejected<HistogramObserver>(b, "bins total 2^64");
  b = h.serialize();
  put_u64(b, slot_at(8, 0, 8 + kSlotNaN), kMax);  // NaN count 2^64 - 1 plus 2 finite
  expect_rejected<HistogramObserver>(b, "bins + NaN total 2^64 + 1");

  HistogramObserver one(8);
  const float x = 0.5f;
  one.update(&x, 1);
  const HistogramObserver before = full;
  EXPECT_THROW(full.merge(one), DataError);
  EXPECT_TRUE(full.histogram() == before.histogram());  // a failed merge changes nothing
  EXPECT_THROW(one.merge(before), DataError);
}

TEST(StateSafety, MinMaxCountOverflowIsRejectedOnMerge) {
  const std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  MinMaxObserver a;
  const float x[] = {1.0f, 2.0f};
  a.update(x, 2);
  Blob b = a.serialize();
  put_u64(b, kPayload + 8, kMax);  // finite count 2^64 - 1
  fix_checksum(b);
  MinMaxObserver full = MinMaxObserver::deserialize(b);
  MinMaxObserver one;
  one.update(x, 1);
  EXPECT_THROW(full.merge(one), DataError);  // 2^64 - 1 + 1 wrapped to 0 before
  EXPECT_EQ(full.range().counts.finite, kMax);
  EXPECT_EQ(MinMaxObserver::deserialize(full.serialize()).range().counts.finite, kMax);

  put_u64(b, kPayload + 16, 1);  // finite 2^64 - 1 plus one NaN
  expect_rejected<MinMaxObserver>(b, "counts total 2^64");

  PerChannelMinMaxObserver p(2), q(2);
  p.update(x, ChannelLayout{1, 2, 1});
  q.update(x, ChannelLayout{1, 2, 1});
  Blob pb = p.serialize();
  put_u64(pb, kPayload + 4 + 40 + 8, kMax);  // channel 1's finite count
  fix_checksum(pb);
  PerChannelMinMaxObserver pf = PerChannelMinMaxObserver::deserialize(pb);
  EXPECT_THROW(pf.merge(q), DataError);
  EXPECT_EQ(pf.ranges()[0].counts.finite, 1u);  // channel 0 not merged either

  MovingAverageMinMaxObserver m;
  m.update(x, 2);
  Blob mb = m.serialize();
  put_u64(mb, kPayload + 4 + 8 + 8, kMax);  // finite count
  fix_checksum(mb);
  MovingAverageMinMaxObserver mf = MovingAverageMinMaxObserver::deserialize(mb);
  MovingAverageMinMaxObserver m1;
  m1.update(x, 1);
  EXPECT_THROW(mf.merge(m1), DataError);
  EXPECT_EQ(mf.batches(), 1u);
}

TEST(StateSafety, NonCanonicalMinMaxEncodingsAreRejected) {
  const MinMaxObserver empty;
  const Blob e = empty.serialize();
  for (std::uint32_t bits : {0x7fc00000u, 0xffc00000u, 0x7f800001u, 0x3f800000u}) {
    Blob b = e;
    put_u32(b, kPayload, bits);
    expect_rejected<MinMaxObserver>(b, "empty min");
    b = e;
    put_u32(b, kPayload + 4, bits);
    expect_rejected<MinMaxObserver>(b, "empty max");
  }
  MinMaxObserver z;
  const float zeros[] = {0.0f, -0.0f};
  z.update(zeros, 2);
  Blob b = z.serialize();
  EXPECT_NO_THROW(MinMaxObserver::deserialize(b));
  put_u32(b, kPayload, 0x80000000u);
  expect_rejected<MinMaxObserver>(b, "-0.0 min");

  MovingAverageMinMaxObserver m;
  m.update(zeros, 2);
  Blob mb = m.serialize();
  put_u64(mb, kPayload + 4, 3);  // 3 batches with a finite value, but only 2 finite values
  expect_rejected<MovingAverageMinMaxObserver>(mb, "more batches than finite values");
  mb = m.serialize();
  put_u32(mb, kPayload, 0x7fc00000u);  // NaN averaging constant
  expect_rejected<MovingAverageMinMaxObserver>(mb, "NaN averaging constant");
}

// Issue 10 §2: p99.995 of data in [0, 1] read 1.00098 (max = 1.0 is the left edge of the last
// non-empty bin, [1, 1 + 2^-10)).
TEST(StateSafety, PercentileStaysInsideTheTrackedRange) {
  std::vector<float> x(100000);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i) / static_cast<float>(x.size() - 1);
  for (auto mode : {HistogramValues::signed_values, HistogramValues::absolute_values}) {
    HistogramObserver h(2048, mode);
    h.update(x.data(), x.size());
    const HistogramView v = h.view();
    ASSERT_GT(v.hi, 1.0);  // the bins do extend past the data
    ASSERT_TRUE(v.has_data_range);
    for (double p : {0.0, 0.001, 1.0, 50.0, 99.0, 99.9, 99.995, 99.9999, 100.0}) {
      const PercentileEstimate e = percentile(v, p);
      EXPECT_GE(e.lower, 0.0) << p;
      EXPECT_LE(e.upper, 1.0) << p;
      EXPECT_GE(e.value, e.lower) << p;
      EXPECT_LE(e.value, e.upper) << p;
    }
    EXPECT_EQ(percentile(v, 100.0).value, 1.0);
    EXPECT_EQ(percentile(v, 0.0).value, 0.0);
    const PercentileRange r = percentile_range(v, 99.99);
    EXPECT_GE(r.min.value, 0.0);
    EXPECT_LE(r.max.value, 1.0);
  }
  // Data strictly inside one bin: every percentile lies in [min, max].
  const float y[] = {0.30f, 0.31f, 0.32f};
  HistogramObserver one(2048);
  one.update(y, 3);
  for (double p : {0.0, 10.0, 50.0, 90.0, 100.0}) {
    const PercentileEstimate e = percentile(one.view(), p);
    EXPECT_GE(e.value, 0.30f) << p;
    EXPECT_LE(e.value, 0.32f) << p;
  }
  // A fit from the histogram respects it too.
  HistogramObserver h(2048);
  h.update(x.data(), x.size());
  FitOptions o;
  o.percentile = 99.995;
  o.scheme = Scheme::affine;
  const FitRange fr = fit_range(h.view(), FitMethod::percentile, o);
  EXPECT_LE(fr.max, 1.0);
}

}  // namespace
