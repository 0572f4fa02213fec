// qkern tests — SPDX-License-Identifier: Apache-2.0
//
// test_observers.cpp: observers: PyTorch golden values for the moving averages, exact merges,
// non-finite values counted, clear errors at fit time (SF-1, SF-5), serialization round trips and
// rejection of corrupt blobs (HS-10).
#include <fstream>
#include <sstream>

#include "arch_test_util.hpp"
#include "qkern/calib/observers.hpp"

namespace {

using namespace qkern;
using namespace qkern_test;

std::vector<float> parse_floats(std::istringstream& in) {
  std::vector<float> v;
  float f;
  while (in >> f) v.push_back(f);
  return v;
}

TEST(Observers, MovingAveragesMatchPyTorchGolden) {
  std::ifstream file(std::string(QKERN_SOURCE_DIR) + "/tests/golden/data/moving_average_observers.txt");
  ASSERT_TRUE(file) << "missing golden file";
  std::string line;
  MovingAverageMinMaxObserver t;
  MovingAveragePerChannelMinMaxObserver p(3);
  std::vector<float> batch;
  int checked = 0;
  while (std::getline(file, line)) {
    std::istringstream in(line);
    std::string tag;
    in >> tag;
    if (tag == "constant") {
      float c;
      in >> c;
      t = MovingAverageMinMaxObserver(c);
      p = MovingAveragePerChannelMinMaxObserver(3, c);
    } else if (tag == "batch") {
      batch = parse_floats(in);
      t.update(batch.data(), batch.size());
      p.update(batch.data(), ChannelLayout{2, 3, 5});
    } else if (tag == "tensor") {
      const auto want = parse_floats(in);
      EXPECT_EQ(t.range().min, want[0]) << line;
      EXPECT_EQ(t.range().max, want[1]) << line;
      ++checked;
    } else if (tag == "channels") {
      const auto want = parse_floats(in);
      for (std::size_t c = 0; c < 3; ++c) {
        EXPECT_EQ(p.ranges()[c].min, want[2 * c]) << "channel " << c;
        EXPECT_EQ(p.ranges()[c].max, want[2 * c + 1]) << "channel " << c;
      }
    }
  }
  EXPECT_EQ(checked, 12);
}

TEST(Observers, NonFiniteValuesAreSkippedAndCounted) {  // SF-4, SF-6 (deviation from PyTorch: no NaN poisoning)
  std::vector<float> x = {1.0f, std::nanf(""), -3.0f, INFINITY, 2.0f, -INFINITY};
  MinMaxObserver m;
  MovingAverageMinMaxObserver ema;
  HistogramObserver h(64);
  m.update(x.data(), x.size());
  ema.update(x.data(), x.size());
  h.update(x.data(), x.size());
  for (const MinMax& r : {m.range(), ema.range(), h.range()}) {
    EXPECT_EQ(r.min, -3.0f);
    EXPECT_EQ(r.max, 2.0f);
    EXPECT_EQ(r.counts.finite, 3u);
    EXPECT_EQ(r.counts.nan, 1u);
    EXPECT_EQ(r.counts.pos_inf, 1u);
    EXPECT_EQ(r.counts.neg_inf, 1u);
  }
  const QuantParams want = choose_params(-3.0, 2.0, DType::int8);
  EXPECT_EQ(m.qparams(DType::int8).scale, want.scale);
  EXPECT_EQ(h.qparams(DType::int8).scale, want.scale);
  EXPECT_EQ(h.qparams(DType::int8).zero_point, want.zero_point);
}

TEST(Observers, FittingWithoutDataOrWithOnlyNonFiniteValuesIsAClearError) {  // SF-1, SF-5
  std::vector<float> nans(10, std::nanf(""));
  MinMaxObserver m;
  HistogramObserver h;
  PerChannelHistogramObserver ph(2);
  PerChannelMinMaxObserver pm(2);
  m.update(nullptr, 0);
  h.update(nullptr, 0);
  EXPECT_THROW(m.qparams(DType::int8), DataError);
  EXPECT_THROW(h.qparams(DType::int8), DataError);
  EXPECT_THROW(h.view(), DataError);
  EXPECT_THROW(ph.qparams(DType::int8), DataError);
  EXPECT_THROW(pm.qparams(DType::int8), DataError);
  m.update(nans.data(), nans.size());
  h.update(nans.data(), nans.size());
  try {
    h.qparams(DType::int8);
    FAIL();
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("no finite values"), std::string::npos) << e.what();
  }
  EXPECT_THROW(m.qparams(DType::int8), DataError);
  EXPECT_THROW(MovingAverageMinMaxObserver(0.0f), InvalidArgument);
  EXPECT_THROW(MovingAverageMinMaxObserver(1.5f), InvalidArgument);
}

TEST(Observers, ExactObserversMergeToTheSameStateAsOnePass) {
  std::mt19937 rng(51);
  const ChannelLayout whole{6, 4, 50}, half{3, 4, 50};
  auto x = random_floats(rng, whole.size(), 2.0f);
  x[7] = std::nanf("");
  MinMaxObserver m1, m2, m3;
  PerChannelMinMaxObserver p1(4), p2(4), p3(4);
  HistogramObserver h1(128), h2(128), h3(128);
  PerChannelHistogramObserver c1(4, 128), c2(4, 128), c3(4, 128);
  m1.update(x.data(), x.size());
  p1.update(x.data(), whole);
  h1.update(x.data(), x.size());
  c1.update(x.data(), whole);
  m2.update(x.data(), half.size());
  m3.update(x.data() + half.size(), half.size());
  p2.update(x.data(), half);
  p3.update(x.data() + half.size(), half);
  h2.update(x.data() + half.size(), half.size());
  h3.update(x.data(), half.size());
  c2.update(x.data() + half.size(), half);
  c3.update(x.data(), half);
  m3.merge(m2);
  p3.merge(p2);
  h3.merge(h2);
  c3.merge(c2);
  EXPECT_EQ(m3.range().min, m1.range().min);
  EXPECT_EQ(m3.range().max, m1.range().max);
  EXPECT_TRUE(m3.range().counts == m1.range().counts);
  for (std::size_t c = 0; c < 4; ++c) {
    EXPECT_EQ(p3.ranges()[c].min, p1.ranges()[c].min);
    EXPECT_EQ(p3.ranges()[c].max, p1.ranges()[c].max);
    EXPECT_TRUE(p3.ranges()[c].counts == p1.ranges()[c].counts);
  }
  EXPECT_TRUE(h3.histogram() == h1.histogram());
  EXPECT_TRUE(c3.histogram() == c1.histogram());
  const ChannelQuantParams q = c1.qparams(DType::int8, RangeOptions{Scheme::symmetric});
  const ChannelQuantParams qm = p1.qparams(DType::int8, RangeOptions{Scheme::symmetric});
  EXPECT_EQ(q.scale, qm.scale);
}

TEST(Observers, MovingAverageMergeWeighsByBatches) {
  std::vector<float> a = {-1.0f, 1.0f}, b = {-3.0f, 3.0f};
  MovingAverageMinMaxObserver x(0.5f), y(0.5f), empty(0.5f);
  x.update(a.data(), 2);
  y.update(b.data(), 2);
  y.update(b.data(), 2);
  x.merge(empty);
  EXPECT_EQ(x.range().max, 1.0f);
  x.merge(y);
  EXPECT_FLOAT_EQ(x.range().max, (1.0f + 2 * 3.0f) / 3);
  EXPECT_EQ(x.batches(), 3u);
  EXPECT_EQ(x.range().counts.finite, 6u);
}

template <class Obs>
void expect_blob_checks(const Obs& o, const std::vector<std::uint8_t>& blob) {
  for (std::size_t n = 0; n < blob.size(); ++n) {
    std::vector<std::uint8_t> cut(blob.begin(), blob.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_THROW(Obs::deserialize(cut), DataError) << "truncated to " << n;
  }
  for (std::size_t i = 0; i < blob.size(); ++i) {
    auto bad = blob;
    bad[i] ^= 0x10;
    EXPECT_THROW(Obs::deserialize(bad), DataError) << "byte " << i;
  }
  EXPECT_EQ(Obs::deserialize(blob).serialize(), o.serialize());
}

TEST(Observers, SerializationRoundTripsAndRejectsCorruptInput) {  // HS-10
  std::mt19937 rng(52);
  auto x = random_floats(rng, 4 * 3 * 10, 1.0f);
  x[2] = INFINITY;
  const ChannelLayout l{4, 3, 10};
  MinMaxObserver m;
  MovingAverageMinMaxObserver e(0.1f);
  PerChannelMinMaxObserver p(3);
  MovingAveragePerChannelMinMaxObserver pe(3);
  HistogramObserver h(16);
  PerChannelHistogramObserver ph(3, 16, HistogramValues::absolute_values);
  m.update(x.data(), x.size());
  e.update(x.data(), x.size());
  e.update(x.data(), 7);
  p.update(x.data(), l);
  pe.update(x.data(), l);
  h.update(x.data(), x.size());
  ph.update(x.data(), l);
  expect_blob_checks(m, m.serialize());
  expect_blob_checks(e, e.serialize());
  expect_blob_checks(p, p.serialize());
  expect_blob_checks(pe, pe.serialize());
  expect_blob_checks(h, h.serialize());
  expect_blob_checks(ph, ph.serialize());
  EXPECT_TRUE(HistogramObserver::deserialize(h.serialize()).histogram() == h.histogram());
  EXPECT_THROW(MinMaxObserver::deserialize(h.serialize()), DataError);  // wrong kind
}

}  // namespace

namespace {

// The histogram observers fit with every method from the one collected histogram, and each result
// equals fitting the observer's view() directly.
TEST(ObserverFitMethods, EveryMethodFromOneCollectedHistogram) {
  std::mt19937 rng(404);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> x(50000);
  for (auto& v : x) v = nd(rng);
  x[7] = 30.0f;  // an outlier the clipping methods should cut
  qkern::HistogramObserver abs_obs(2048, qkern::HistogramValues::absolute_values);
  abs_obs.update(x.data(), x.size());
  const float minmax_scale = abs_obs.qparams(qkern::DType::int8, {qkern::Scheme::symmetric}).scale;
  for (qkern::FitMethod m : {qkern::FitMethod::minmax, qkern::FitMethod::percentile, qkern::FitMethod::mse,
                             qkern::FitMethod::entropy, qkern::FitMethod::sqnr}) {
    const qkern::FitOptions sym{qkern::Scheme::symmetric};  // |x| histograms fit symmetric ranges only
    const qkern::QuantParams p = abs_obs.qparams(m, qkern::DType::int8, sym);
    const qkern::QuantParams direct = qkern::fit_params(abs_obs.view(), m, qkern::DType::int8, sym);
    EXPECT_THROW(abs_obs.qparams(m, qkern::DType::int8), qkern::InvalidArgument);  // default affine: explicit error
    EXPECT_EQ(p.scale, direct.scale) << qkern::fit_method_name(m);
    EXPECT_NO_THROW(qkern::validate(p));
    if (m != qkern::FitMethod::minmax) {
      EXPECT_LT(p.scale, minmax_scale) << qkern::fit_method_name(m) << " clips the outlier";
    }
  }
  qkern::PerChannelHistogramObserver pc(4, 512);
  pc.update(x.data(), qkern::ChannelLayout{1, 4, x.size() / 4});
  const qkern::ChannelQuantParams cp = pc.qparams(qkern::FitMethod::percentile, qkern::DType::int8);
  EXPECT_EQ(cp.scale.size(), 4u);
  EXPECT_NO_THROW(qkern::validate(cp, qkern::ChannelLayout{1, 4, 1}));
  qkern::HistogramObserver empty;
  EXPECT_THROW(empty.qparams(qkern::FitMethod::mse, qkern::DType::int8), qkern::DataError);  // SF-1
}

}  // namespace
