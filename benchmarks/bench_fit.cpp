// qkern benchmarks — SPDX-License-Identifier: Apache-2.0
//
// bench_fit.cpp: each scale-fitting method on a 2048-bin histogram (target: < 5 ms each), the
// histogram percentile, and the exact O(n) percentile (select) on raw floats up to 64 Mi elements.
// Compare select with benchmarks/compare_percentile.py (np.partition, torch.kthvalue) on the same sizes.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "bench_util.hpp"
#include "qkern/calib/fit.hpp"
#include "qkern/calib/percentile.hpp"
#include "qkern/calib/select.hpp"

namespace {

// 2048-bin histograms of 1 Mi samples: |N(0, 1)| with a few outliers over [0, max] (symmetric
// methods, as ModelOpt collects), and N(1, 1) over [min, max] (affine methods).
struct Histograms {
  std::vector<std::uint64_t> abs_counts, signed_counts;
  qkern::HistogramView abs_view, signed_view;
  Histograms() : abs_counts(2048, 0), signed_counts(2048, 0) {
    std::mt19937 rng(1);
    std::normal_distribution<double> nd(0.0, 1.0);
    std::vector<double> x(1 << 20);
    for (auto& v : x) v = nd(rng);
    for (std::size_t i = 0; i < 16; ++i) x[i] = (i % 2 ? 1.0 : -1.0) * (8.0 + static_cast<double>(i));
    double amax = 0, mn = x[0], mx = x[0];
    for (double v : x) amax = std::fmax(amax, std::fabs(v)), mn = std::fmin(mn, v + 1), mx = std::fmax(mx, v + 1);
    for (double v : x) {
      ++abs_counts[std::min<std::size_t>(2047, static_cast<std::size_t>(std::fabs(v) / amax * 2048))];
      ++signed_counts[std::min<std::size_t>(2047, static_cast<std::size_t>((v + 1 - mn) / (mx - mn) * 2048))];
    }
    abs_view = {abs_counts.data(), 2048, 0.0, amax};
    signed_view = {signed_counts.data(), 2048, mn, mx};
  }
};

const Histograms& histograms() {
  static const Histograms h;
  return h;
}

void BM_fit(benchmark::State& state, qkern::FitMethod method, qkern::Scheme scheme) {
  const auto& h = histograms();
  qkern::FitOptions o;
  o.scheme = scheme;
  const qkern::HistogramView& v = scheme == qkern::Scheme::symmetric ? h.abs_view : h.signed_view;
  for (auto _ : state) {
    qkern::FitRange r = qkern::fit_range(v, method, o);
    benchmark::DoNotOptimize(r);
  }
  state.SetLabel(qkern::fit_range(v, method, o).reproduces);
  state.counters["bins"] = 2048;
}

void BM_histogram_percentile(benchmark::State& state) {
  const auto& h = histograms();
  for (auto _ : state) {
    auto e = qkern::percentile(h.abs_view, 99.99);
    benchmark::DoNotOptimize(e);
  }
}

// Exact percentile of N(0, 1) data: N elements, percentile p100 / 100. Compare with
// benchmarks/compare_percentile.py (np.partition / torch.kthvalue on the same sizes and percentiles).
void BM_percentile_exact(benchmark::State& state) {
  const std::size_t n = static_cast<std::size_t>(state.range(0));
  const double p = static_cast<double>(state.range(1)) / 100.0;
  static std::vector<float> x;
  if (x.size() != n) {
    x.resize(n);
    std::mt19937 rng(2);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    for (auto& v : x) v = nd(rng);
  }
  for (auto _ : state) {
    auto r = qkern::percentile_exact(x.data(), n, p);
    benchmark::DoNotOptimize(r);
  }
  state.counters["elements"] =
      benchmark::Counter(static_cast<double>(n) * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["bytes"] = benchmark::Counter(4.0 * static_cast<double>(n) * static_cast<double>(state.iterations()),
                                               benchmark::Counter::kIsRate);
}

using qkern::FitMethod;
using qkern::Scheme;
BENCHMARK_CAPTURE(BM_fit, minmax, FitMethod::minmax, Scheme::symmetric)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_fit, percentile, FitMethod::percentile, Scheme::symmetric)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_fit, percentile_affine, FitMethod::percentile, Scheme::affine)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_fit, mse_symmetric, FitMethod::mse, Scheme::symmetric)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_fit, mse_affine, FitMethod::mse, Scheme::affine)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_fit, entropy, FitMethod::entropy, Scheme::symmetric)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_fit, l2_search, FitMethod::l2_search, Scheme::affine)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_fit, sqnr_symmetric, FitMethod::sqnr, Scheme::symmetric)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_fit, sqnr_affine, FitMethod::sqnr, Scheme::affine)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_histogram_percentile)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_percentile_exact)
    ->ArgNames({"N", "p100"})
    ->ArgsProduct({{1 << 20, 64 << 20}, {5000, 9900, 9999}})
    ->Unit(benchmark::kMillisecond)
    ->Apply(qkern_bench::bench_clock);

}  // namespace
