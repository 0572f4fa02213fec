// qkern tool tests — SPDX-License-Identifier: Apache-2.0
//
// test_state.cpp: the calibration state: bit-identical for any split / order of the batches and any
// merge order, exact round trip, corrupt files rejected with a DataError naming the file, shapes
// that cannot be concatenated rejected naming the layer.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "collect.hpp"
#include "state.hpp"

namespace {

using namespace qkern;
using namespace qkern::tool;

struct Data {
  std::vector<float> values;
  std::vector<std::size_t> sample_shape;  // without the batch axis
  std::size_t rows;
  std::size_t row_size() const {
    std::size_t n = 1;
    for (auto d : sample_shape) n *= d;
    return n;
  }
};

Data make_data(std::size_t rows, std::vector<std::size_t> sample_shape, unsigned seed, float spread) {
  Data d{{}, std::move(sample_shape), rows};
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.5f, spread);
  d.values.resize(rows * d.row_size());
  for (float& v : d.values) v = n(rng);
  // special values: they are counted, not binned
  d.values[3] = std::numeric_limits<float>::quiet_NaN();
  d.values[7] = std::numeric_limits<float>::infinity();
  d.values[d.values.size() / 2] = -0.0f;
  d.values.back() = 40.0f * spread;  // an outlier that grows the histogram late
  return d;
}

// Adds rows [r0, r1) of d as one batch of layer `name`.
void add_rows(CalibrationState& s, const std::string& name, const Data& d, std::size_t r0, std::size_t r1,
              const ObserverOptions& o) {
  std::vector<std::size_t> shape = {r1 - r0};
  shape.insert(shape.end(), d.sample_shape.begin(), d.sample_shape.end());
  add_batch(s, {name, shape, d.values.data() + r0 * d.row_size()}, o);
}

TEST(ToolState, BitIdenticalForAnySplitOrderAndMerge) {
  const Data conv = make_data(37, {6, 5, 3}, 1, 2.0f), fc = make_data(37, {10}, 2, 0.01f);
  ObserverOptions o;
  o.bins = 256;
  CalibrationState one;
  add_rows(one, "conv", conv, 0, 37, o);
  add_rows(one, "fc", fc, 0, 37, o);
  const std::vector<std::uint8_t> expected = one.serialize();

  std::mt19937 rng(7);
  for (int trial = 0; trial < 8; ++trial) {
    // random cut points, batches added in a random order, into one or two partial states
    std::vector<std::size_t> cuts = {0, 37};
    for (int k = 0; k < trial; ++k) cuts.push_back(1 + rng() % 36);
    std::sort(cuts.begin(), cuts.end());
    cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
    std::vector<std::pair<std::string, std::pair<std::size_t, std::size_t>>> batches;
    for (std::size_t i = 0; i + 1 < cuts.size(); ++i) {
      batches.push_back({"conv", {cuts[i], cuts[i + 1]}});
      batches.push_back({"fc", {cuts[i], cuts[i + 1]}});
    }
    std::shuffle(batches.begin(), batches.end(), rng);
    CalibrationState a, b;
    for (std::size_t i = 0; i < batches.size(); ++i) {
      const Data& d = batches[i].first == "conv" ? conv : fc;
      add_rows(i % 2 ? a : b, batches[i].first, d, batches[i].second.first, batches[i].second.second, o);
    }
    CalibrationState ab = a, ba = b;
    ab.merge(b);
    ba.merge(a);
    EXPECT_EQ(ab.serialize(), expected) << "trial " << trial;
    EXPECT_EQ(ba.serialize(), expected) << "trial " << trial;
  }
}

TEST(ToolState, RoundTripAndContents) {
  const Data conv = make_data(9, {4, 3}, 3, 1.0f);
  CalibrationState s;
  add_rows(s, "b.conv", conv, 0, 9, {});
  add_rows(s, "a.input", make_data(9, {}, 4, 1.0f), 0, 9, {});
  ASSERT_EQ(s.layers.size(), 2u);
  EXPECT_EQ(s.layers[0].name(), "a.input");  // sorted by name
  const LayerState& l = *s.find("b.conv");
  EXPECT_EQ(l.shape(), (std::vector<std::uint64_t>{9, 4, 3}));
  EXPECT_EQ(l.channel_axis(), 1);
  EXPECT_EQ(l.channels(), 4u);
  EXPECT_EQ(s.layers[0].channel_axis(), -1);  // rank 1: per tensor only
  EXPECT_EQ(l.minmax().range().counts.nan, 1u);
  EXPECT_EQ(l.minmax().range().counts.pos_inf, 1u);
  EXPECT_EQ(l.minmax().range().counts.total(), 9u * 12u);
  const std::vector<std::uint8_t> bytes = s.serialize();
  const CalibrationState r = CalibrationState::deserialize(bytes, "x.qkstate");
  EXPECT_EQ(r.serialize(), bytes);
  EXPECT_TRUE(r.layers[1] == s.layers[1]);
}

TEST(ToolState, ChannelAxisOptions) {
  const Data d = make_data(5, {2, 3, 7}, 5, 1.0f);
  ObserverOptions last;
  last.channel_axis = -1;
  CalibrationState s;
  add_rows(s, "x", d, 0, 5, last);
  EXPECT_EQ(s.layers[0].channel_axis(), 3);
  EXPECT_EQ(s.layers[0].channels(), 7u);
  ObserverOptions none;
  none.channel_axis.reset();
  CalibrationState t;
  add_rows(t, "x", d, 0, 5, none);
  EXPECT_FALSE(t.layers[0].per_channel());
  ObserverOptions batch_axis;
  batch_axis.channel_axis = -4;  // resolves to the batch axis: per tensor only
  CalibrationState u;
  add_rows(u, "x", d, 0, 5, batch_axis);
  EXPECT_FALSE(u.layers[0].per_channel());
  // states collected with different axes do not merge
  EXPECT_THROW(s.merge(t), DataError);
}

TEST(ToolState, ShapeMismatchNamesTheLayer) {
  CalibrationState s;
  const Data a = make_data(4, {3, 2}, 6, 1.0f), b = make_data(4, {2, 3}, 7, 1.0f);
  add_rows(s, "conv7", a, 0, 4, {});
  try {
    add_rows(s, "conv7", b, 0, 4, {});
    FAIL() << "no error";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("conv7"), std::string::npos) << e.what();
  }
}

TEST(ToolState, CorruptStatesAreRejectedNamingTheFile) {
  CalibrationState s;
  add_rows(s, "layer", make_data(6, {3, 4}, 8, 1.0f), 0, 6, {});
  const std::vector<std::uint8_t> bytes = s.serialize();
  auto rejects = [](const std::vector<std::uint8_t>& b) {
    try {
      CalibrationState::deserialize(b, "bad.qkstate");
    } catch (const DataError& e) {
      return std::string(e.what()).find("bad.qkstate") != std::string::npos;
    }
    return false;
  };
  for (std::size_t n = 0; n < bytes.size(); n += 1 + n / 16)
    EXPECT_TRUE(rejects(std::vector<std::uint8_t>(bytes.begin(), bytes.begin() + n))) << "prefix " << n;
  for (std::size_t i = 0; i < bytes.size(); i += 1 + i / 8) {
    std::vector<std::uint8_t> b = bytes;
    b[i] ^= 0x20;
    EXPECT_TRUE(rejects(b)) << "byte " << i;
  }
  std::vector<std::uint8_t> b = bytes;
  b.push_back(0);
  EXPECT_TRUE(rejects(b));
}

}  // namespace
