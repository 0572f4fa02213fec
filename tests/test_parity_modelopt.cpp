// qkern tests — SPDX-License-Identifier: Apache-2.0
//
// test_parity_modelopt.cpp: ModelOptHistogramCalibrator against ModelOpt's HistogramCalibrator
// (transcribed in tests/golden/generate_parity_golden.py, running torch 1.13 / numpy 1.24): the edges
// and counts after a stream (torch and numpy paths, growing ranges, ReLU zeros, skip_zeros,
// outliers, constant batches) and compute_amax (entropy, mse, percentile) bit for bit; torch's
// linspace / arange and numpy's float32 arange; a HistogramView with a tool's explicit edges.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "fit_golden_util.hpp"
#include "qkern/calib/modelopt_histogram.hpp"

namespace {

using qkern_test::f32_from_hex;

std::vector<float> floats(const std::vector<std::string>& f, std::size_t from) {
  std::vector<float> v;
  for (std::size_t i = from; i < f.size(); ++i) v.push_back(f32_from_hex(f[i]));
  return v;
}

std::size_t bit_diffs(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return a.size() + b.size() + 1;
  std::size_t d = 0;
  for (std::size_t i = 0; i < a.size(); ++i) d += std::memcmp(&a[i], &b[i], 4) != 0;
  return d;
}

qkern::FitMethod method_of(const std::string& m) {
  if (m == "entropy") return qkern::FitMethod::entropy;
  if (m == "mse") return qkern::FitMethod::mse;
  return qkern::FitMethod::percentile;
}

TEST(ParityModelOpt, RangeFactoriesEqualTorchAndNumpy) {
  int checked = 0;
  for (const auto& f : qkern_test::golden_lines("parity_modelopt.txt")) {
    if (f[0] == "L") {
      const auto e = qkern::detail::torch113::linspace(f32_from_hex(f[1]), f32_from_hex(f[2]), std::stoul(f[3]));
      EXPECT_EQ(bit_diffs(e, floats(f, 4)), 0u) << "linspace steps " << f[3];
      ++checked;
    } else if (f[0] == "A") {
      const auto e = qkern::detail::torch113::arange(double(f32_from_hex(f[1])), double(f32_from_hex(f[2])),
                                                     double(f32_from_hex(f[3])));
      EXPECT_EQ(bit_diffs(e, floats(f, 4)), 0u) << "arange end " << f[2];
      ++checked;
    } else if (f[0] == "N") {
      const auto e = qkern::detail::numpy124::arange<float>(f32_from_hex(f[1]), f32_from_hex(f[2]), f32_from_hex(f[3]));
      std::vector<double> want;
      for (std::size_t i = 4; i < f.size(); ++i) want.push_back(qkern_test::f64_from_hex(f[i]));
      EXPECT_EQ(e, want) << "np.arange " << f[1];
      ++checked;
    }
  }
  EXPECT_EQ(checked, 14);
}

TEST(ParityModelOpt, StreamsEqualModelOpt) {
  const auto lines = qkern_test::golden_lines("parity_modelopt.txt");
  std::unique_ptr<qkern::ModelOptHistogramCalibrator> cal;
  std::string name;
  int streams = 0, amaxes = 0, raises = 0;
  for (const auto& f : lines) {
    if (f[0] == "S") {
      name = f[1] + "/" + f[2] + "/" + f[3] + (f[4] == "1" ? "/skip_zeros" : "");
      // num_bits / unsigned only matter at compute_amax: a calibrator per R line below
      cal.reset(new qkern::ModelOptHistogramCalibrator(
          8, false, std::stoul(f[3]), f[4] == "1",
          f[2] == "torch" ? qkern::ModelOptPath::torch_histc : qkern::ModelOptPath::numpy));
      ++streams;
    } else if (f[0] == "B") {
      const auto x = floats(f, 1);
      cal->collect(x.data(), x.size());
    } else if (f[0] == "E" || f[0] == "E64") {  // float32 or float64 edges, as ModelOpt holds them
      std::vector<double> want;
      for (std::size_t i = 1; i < f.size(); ++i)
        want.push_back(f[0] == "E" ? double(f32_from_hex(f[i])) : qkern_test::f64_from_hex(f[i]));
      std::size_t d = want.size() == cal->bin_edges().size() ? 0 : 1000000;
      for (std::size_t i = 0; d == 0 && i < want.size(); ++i) d += want[i] != cal->bin_edges()[i];
      EXPECT_EQ(d, 0u) << name << " edges";
    } else if (f[0] == "C") {
      std::vector<std::uint64_t> c;
      for (std::size_t i = 1; i < f.size(); ++i) c.push_back(std::stoull(f[i]));
      EXPECT_EQ(cal->histogram(), c) << name << " counts";
    } else if (f[0] == "F") {
      EXPECT_EQ(bit_diffs(cal->float_histogram(), floats(f, 1)), 0u) << name << " float32 counts";
    } else if (f[0] == "R") {
      const int bits = std::stoi(f[2]);
      const bool uns = f[3] == "1";
      // The same collected state with this num_bits / unsigned (collection does not depend on them).
      const qkern::ModelOptHistogramCalibrator c2 = cal->with_quantizer(bits, uns);
      const std::string where = name + " " + f[1] + " bits " + f[2] + " unsigned " + f[3] + " stride " + f[4] +
                                " start " + f[5] + " p " + f[6];
      const double p = qkern_test::f64_from_hex(f[6]);
      if (f[7] == "-") {
        EXPECT_ANY_THROW(c2.compute_amax(method_of(f[1]), std::stoul(f[4]), std::stoul(f[5]), p)) << where;
        ++raises;
        continue;
      }
      const float got = c2.compute_amax(method_of(f[1]), std::stoul(f[4]), std::stoul(f[5]), p);
      const float want = f32_from_hex(f[7]);
      EXPECT_EQ(std::memcmp(&got, &want, 4), 0) << where << ": " << got << " vs ModelOpt " << want;
      ++amaxes;
    }
  }
  EXPECT_GE(streams, 10);
  EXPECT_GE(amaxes, 100);
  (void)raises;
}

TEST(ParityModelOpt, ViewWithExplicitEdgesGivesTheToolsEdge) {
  // A saved ModelOpt histogram: counts + float32 edges from torch.linspace(0, amax, 2049).
  const float top = 3.3f;
  const std::vector<float> edges = qkern::detail::torch113::linspace(0.0f, top, 2049);
  std::vector<std::uint64_t> counts(2048);
  for (std::size_t i = 0; i < counts.size(); ++i) counts[i] = 1 + (i * 7919) % 13;
  qkern::HistogramView v{counts.data(), 2048, 0.0, top};
  v.absolute = true;
  qkern::FitOptions o;
  o.scheme = qkern::Scheme::symmetric;
  o.percentile = 99.0;
  o.percentile_mode = qkern::PercentileMode::left_edge;
  const double plain = qkern::fit_range(v, qkern::FitMethod::percentile, o).max;
  v.edges = edges.data();
  const double with_edges = qkern::fit_range(v, qkern::FitMethod::percentile, o).max;
  bool is_edge = false;
  for (float e : edges) is_edge = is_edge || double(e) == with_edges;
  EXPECT_TRUE(is_edge);
  (void)plain;
  std::size_t differ = 0;  // torch's float32 edges are not lo + i * (hi - lo) / bins: explicit edges are needed
  qkern::HistogramView computed{counts.data(), 2048, 0.0, top};
  for (std::size_t i = 0; i <= 2048; ++i)
    differ += double(edges[i]) != (i == 2048 ? computed.hi : computed.left_edge(i));
  EXPECT_GT(differ, 0u);
}

}  // namespace

namespace {

TEST(ParityModelOpt, ExplicitEdgesAreValidated) {
  std::vector<std::uint64_t> counts = {1, 2, 3};
  std::vector<float> edges = {0.0f, 1.0f, 0.5f, 3.0f};  // decreasing
  qkern::HistogramView v{counts.data(), 3, 0.0, 3.0};
  v.absolute = true;
  v.edges = edges.data();
  qkern::FitOptions o;
  o.scheme = qkern::Scheme::symmetric;
  EXPECT_THROW(qkern::fit_range(v, qkern::FitMethod::minmax, o), qkern::InvalidArgument);
  edges[2] = 2.0f;
  EXPECT_NO_THROW(qkern::fit_range(v, qkern::FitMethod::minmax, o));
  v.hi = 2.5;  // edges[bins] != hi
  EXPECT_THROW(qkern::fit_range(v, qkern::FitMethod::minmax, o), qkern::InvalidArgument);
}

}  // namespace
