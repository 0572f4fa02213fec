// qkern tests — SPDX-License-Identifier: Apache-2.0
//
// test_metrics.cpp: error-metric sums and clip-range counts on every arch against the scalar
// reference, bit for bit (every length 0..130, misaligned, special values at every position, per
// channel); the metrics against a naive double-precision computation; the documented edge cases.
#include <cfloat>

#include "arch_test_util.hpp"
#include "qkern/analysis/metrics.hpp"
#include "qkern/reference/metrics.hpp"

namespace {

using namespace qkern;
using namespace qkern_test;

template <class A>
class MetricsKernels : public ::testing::Test {};
TYPED_TEST_SUITE(MetricsKernels, AllArchs, ArchNames);

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

::testing::AssertionResult same_sums(const MetricSums& got, const MetricSums& want) {
  const double g[] = {got.sum_ref_sq,  got.sum_test_sq, got.sum_err_sq, got.sum_dot,
                      got.sum_abs_err, got.sum_err,     got.max_abs_err};
  const double w[] = {want.sum_ref_sq,  want.sum_test_sq, want.sum_err_sq, want.sum_dot,
                      want.sum_abs_err, want.sum_err,     want.max_abs_err};
  const char* names[] = {"sum_ref_sq", "sum_test_sq", "sum_err_sq", "sum_dot", "sum_abs_err", "sum_err", "max_abs_err"};
  for (int i = 0; i < 7; ++i)
    if (!same_bits(g[i], w[i]))
      return ::testing::AssertionFailure() << names[i] << " got " << g[i] << " want " << w[i] << " (bits differ)";
  if (got.compared != want.compared)
    return ::testing::AssertionFailure() << "compared " << got.compared << " vs " << want.compared;
  if (!(got.reference == want.reference)) return ::testing::AssertionFailure() << "reference counts differ";
  if (!(got.test == want.test)) return ::testing::AssertionFailure() << "test counts differ";
  return ::testing::AssertionSuccess();
}

// A test tensor that looks like a quantized copy of the reference (small, structured error).
std::vector<float> perturbed(const std::vector<float>& x, std::mt19937& rng, float noise) {
  std::normal_distribution<float> d(0.0f, noise);
  std::vector<float> y(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) y[i] = x[i] + d(rng);
  return y;
}

TYPED_TEST(MetricsKernels, PerTensorMatchesReferenceAtEveryLengthAndOffset) {
  QKERN_SKIP_UNLESS_CPU_RUNS(TypeParam);
  std::mt19937 rng(31);
  const auto x = random_floats(rng, 300, 4.0f);
  const auto y = perturbed(x, rng, 0.05f);
  for (std::size_t n = 0; n <= 130; ++n)
    for (std::size_t off = 0; off < 4; ++off)
      for (std::size_t off2 : {off, (off + 1) % 4}) {  // the two pointers misaligned differently too
        const float* r = x.data() + off;
        const float* t = y.data() + off2;
        EXPECT_TRUE(
            same_sums(kernel_for<kernels::f32_metric_sums, TypeParam>(r, t, n), reference::metric_sums(r, t, n)))
            << "n=" << n << " off=" << off << "/" << off2;
      }
}

TYPED_TEST(MetricsKernels, SpecialValuesAtEveryPositionOnEitherSide) {
  QKERN_SKIP_UNLESS_CPU_RUNS(TypeParam);
  std::mt19937 rng(32);
  const std::size_t n = 4 * 16 + 5;  // four full blocks and a tail
  const auto base = random_floats(rng, n, 1.0f);
  const auto base_t = perturbed(base, rng, 0.01f);
  for (float s : special_floats())
    for (std::size_t pos = 0; pos < n; ++pos)
      for (int side = 0; side < 3; ++side) {  // reference only, test only, both
        auto x = base, y = base_t;
        if (side != 1) x[pos] = s;
        if (side != 0) y[(pos * 7) % n] = -s;
        EXPECT_TRUE(same_sums(kernel_for<kernels::f32_metric_sums, TypeParam>(x.data(), y.data(), n),
                              reference::metric_sums(x.data(), y.data(), n)))
            << "special " << s << " at " << pos << " side " << side;
        const OutsideCounts got = kernel_for<kernels::f32_count_outside, TypeParam>(x.data(), n, -0.5f, 0.75f);
        EXPECT_TRUE(got == reference::count_outside(x.data(), n, -0.5f, 0.75f)) << "count_outside, special " << s;
      }
}

TYPED_TEST(MetricsKernels, CountOutsideMatchesReferenceAtEveryLength) {
  QKERN_SKIP_UNLESS_CPU_RUNS(TypeParam);
  std::mt19937 rng(33);
  auto x = random_floats(rng, 300, 2.0f);
  x[5] = 1.0f;  // exactly on the bounds: inside
  x[9] = -1.0f;
  for (std::size_t n = 0; n <= 130; ++n)
    for (std::size_t off = 0; off < 4; ++off) {
      const float* p = x.data() + off;
      for (float lo : {-1.0f, 0.0f, -std::numeric_limits<float>::infinity()})
        EXPECT_TRUE((kernel_for<kernels::f32_count_outside, TypeParam>(p, n, lo, 1.0f) ==
                     reference::count_outside(p, n, lo, 1.0f)))
            << "n=" << n << " off=" << off << " lo=" << lo;
    }
}

TYPED_TEST(MetricsKernels, PerChannelMatchesReference) {
  QKERN_SKIP_UNLESS_CPU_RUNS(TypeParam);
  std::mt19937 rng(34);
  const auto specials = special_floats();
  for (ChannelLayout l : {ChannelLayout{5, 1, 1}, ChannelLayout{4, 15, 1}, ChannelLayout{3, 16, 1},
                          ChannelLayout{7, 33, 1}, ChannelLayout{2, 300, 1}, ChannelLayout{3, 520, 1},
                          ChannelLayout{2, 3, 7}, ChannelLayout{3, 4, 49}, ChannelLayout{1, 6, 130}}) {
    auto x = random_floats(rng, l.size(), 3.0f);
    auto y = perturbed(x, rng, 0.1f);
    for (std::size_t i = 0; i < x.size(); i += 11) x[i] = specials[i % specials.size()];
    for (std::size_t i = 3; i < y.size(); i += 13) y[i] = specials[(i + 5) % specials.size()];
    const auto want = reference::metric_sums(x.data(), y.data(), l);
    std::vector<MetricSums> got(l.channels);
    got[0].sum_err = 123.0;  // the kernel overwrites, never merges
    kernel_for<kernels::f32_metric_sums_channels, TypeParam>(x.data(), y.data(), l, got.data());
    for (std::size_t c = 0; c < l.channels; ++c)
      EXPECT_TRUE(same_sums(got[c], want[c]))
          << "layout " << l.outer << "x" << l.channels << "x" << l.inner << " channel " << c;
  }
}

TEST(Metrics, PublicApiMatchesReferenceBitForBit) {
  std::mt19937 rng(35);
  const auto x = random_floats(rng, 10007, 1.0f);
  const auto y = perturbed(x, rng, 0.02f);
  EXPECT_TRUE(same_sums(analysis::metric_sums(x.data(), y.data(), x.size()),
                        reference::metric_sums(x.data(), y.data(), x.size())));
  const ChannelLayout l{7, 11, 13};
  const auto got = analysis::compare(x.data(), y.data(), l);
  const auto want = reference::metric_sums(x.data(), y.data(), l);
  ASSERT_EQ(got.size(), 11u);
  for (std::size_t c = 0; c < 11; ++c) EXPECT_TRUE(same_sums(got[c].sums, want[c]));
}

// Tolerance: the sums are in double with 16 interleaved accumulators, so against a naive
// sequential double loop they agree to a few ulps of the total (relative 1e-12 leaves ample room
// for n = 1e5); derived metrics inherit that.
TEST(Metrics, ValuesAgreeWithANaiveDoublePrecisionComputation) {
  std::mt19937 rng(36);
  const auto x = random_floats(rng, 100000, 3.0f);
  const auto y = perturbed(x, rng, 0.01f);
  double r2 = 0, t2 = 0, e2 = 0, dot = 0, ae = 0, e1 = 0, mx = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double r = x[i], t = y[i], e = t - r;
    r2 += r * r;
    t2 += t * t;
    e2 += e * e;
    dot += r * t;
    ae += std::fabs(e);
    e1 += e;
    mx = std::max(mx, std::fabs(e));
  }
  const double n = static_cast<double>(x.size());
  const analysis::ErrorMetrics m = analysis::compare(x, y);
  EXPECT_NEAR(m.mse, e2 / n, 1e-12 * (e2 / n));
  EXPECT_NEAR(m.sqnr_db, 20.0 * std::log10(std::sqrt(r2) / std::sqrt(e2)), 1e-10);
  EXPECT_NEAR(m.cosine, dot / (std::sqrt(r2) * std::sqrt(t2)), 1e-12);
  EXPECT_NEAR(m.normalized_l2_error, std::sqrt(e2) / std::sqrt(r2), 1e-12 * std::sqrt(e2 / r2));
  EXPECT_NEAR(m.mean_abs_error, ae / n, 1e-12 * (ae / n));
  EXPECT_NEAR(m.mean_error, e1 / n, 1e-9 * (ae / n));  // a signed sum cancels: bound by the |e| scale
  EXPECT_EQ(m.max_abs_error, mx);                      // exact
  EXPECT_EQ(m.compared, x.size());
  EXPECT_EQ(m.skipped, 0u);
  // 0.01 noise on a 3.0 signal: SQNR = 20 log10(300) ~ 49.5 dB.
  EXPECT_NEAR(m.sqnr_db, 20.0 * std::log10(300.0), 0.2);
}

TEST(Metrics, IdenticalZeroAndEmptyInputsFollowTheDocumentedRules) {
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<float> x = {1.0f, -2.0f, 3.0f, 0.5f}, zeros(4, 0.0f);
  const auto same = analysis::compare(x, x);
  EXPECT_EQ(same.sqnr_db, inf);
  EXPECT_EQ(same.mse, 0.0);
  EXPECT_EQ(same.cosine, 1.0);
  EXPECT_EQ(same.normalized_l2_error, 0.0);
  const auto both_zero = analysis::compare(zeros, zeros);
  EXPECT_EQ(both_zero.sqnr_db, inf);
  EXPECT_EQ(both_zero.cosine, 1.0);
  const auto zero_ref = analysis::compare(zeros, x);
  EXPECT_EQ(zero_ref.sqnr_db, -inf);
  EXPECT_EQ(zero_ref.cosine, 0.0);
  EXPECT_EQ(zero_ref.normalized_l2_error, inf);
  const auto negated = analysis::compare(x, std::vector<float>{-1.0f, 2.0f, -3.0f, -0.5f});
  EXPECT_EQ(negated.cosine, -1.0);
  EXPECT_NEAR(negated.sqnr_db, 20.0 * std::log10(0.5), 1e-12);  // ||e|| = 2 ||r||
  const auto empty = analysis::compare(nullptr, nullptr, 0);
  EXPECT_EQ(empty.compared, 0u);
  EXPECT_TRUE(std::isnan(empty.sqnr_db) && std::isnan(empty.mse) && std::isnan(empty.cosine));
  // ONNX Runtime's definition clamps both norms at DBL_EPSILON.
  EXPECT_NEAR(analysis::sqnr_db(same.sums, analysis::SqnrDefinition::onnxruntime_eps),
              20.0 * std::log10(std::sqrt(1.0 + 4.0 + 9.0 + 0.25) / DBL_EPSILON), 1e-9);
  EXPECT_NEAR(analysis::sqnr_db(zero_ref.sums, analysis::SqnrDefinition::onnxruntime_eps),
              20.0 * std::log10(DBL_EPSILON / std::sqrt(14.25)), 1e-9);
  EXPECT_THROW(analysis::compare(x.data(), nullptr, 4), InvalidArgument);
  EXPECT_THROW(analysis::compare(x, std::vector<float>(3)), InvalidArgument);
}

TEST(Metrics, NonFinitePairsAreSkippedAndCountedPerSide) {
  std::vector<float> x(100, 1.0f), y(100, 1.5f);
  x[3] = std::nanf("");
  y[3] = std::nanf("");                             // one pair, NaN on both sides
  y[10] = std::numeric_limits<float>::infinity();   // test +Inf
  x[20] = -std::numeric_limits<float>::infinity();  // reference -Inf
  y[99] = std::nanf("");                            // in the tail
  const auto m = analysis::compare(x, y);
  EXPECT_EQ(m.compared, 96u);
  EXPECT_EQ(m.skipped, 4u);
  EXPECT_EQ(m.reference_counts().nan, 1u);
  EXPECT_EQ(m.reference_counts().neg_inf, 1u);
  EXPECT_EQ(m.reference_counts().finite, 98u);
  EXPECT_EQ(m.test_counts().nan, 2u);
  EXPECT_EQ(m.test_counts().pos_inf, 1u);
  EXPECT_EQ(m.mse, 0.25);  // the NaN never reaches the sums
  EXPECT_EQ(m.max_abs_error, 0.5);
  EXPECT_EQ(m.mean_error, 0.5);
  EXPECT_NE(analysis::describe(m).find("4 skipped"), std::string::npos);
  const std::vector<float> nans(40, std::nanf(""));
  const auto all_bad = analysis::compare(nans, nans);
  EXPECT_EQ(all_bad.compared, 0u);
  EXPECT_TRUE(std::isnan(all_bad.sqnr_db));
}

TEST(Metrics, AccumulatorMergesBatchesDeterministically) {
  std::mt19937 rng(37);
  const auto x = random_floats(rng, 4000, 1.0f);
  const auto y = perturbed(x, rng, 0.03f);
  analysis::MetricsAccumulator a, b, whole;
  a.update(x.data(), y.data(), 1500);
  b.update(x.data() + 1500, y.data() + 1500, 2500);
  a.merge(b);
  whole.update(x.data(), y.data(), x.size());
  EXPECT_EQ(a.sums().compared, 4000u);
  EXPECT_NEAR(a.result().sqnr_db, whole.result().sqnr_db, 1e-9);
  EXPECT_EQ(a.result().max_abs_error, whole.result().max_abs_error);
  analysis::MetricsAccumulator again;
  again.update(x.data(), y.data(), 1500);
  analysis::MetricsAccumulator again_b;
  again_b.update(x.data() + 1500, y.data() + 1500, 2500);
  again.merge(again_b);
  EXPECT_TRUE(same_sums(again.sums(), a.sums()));  // same split, same bits
}

}  // namespace
