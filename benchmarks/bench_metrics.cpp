// qkern benchmarks — SPDX-License-Identifier: Apache-2.0
//
// bench_metrics.cpp: error-metric sums (two float inputs, double accumulation) and clip-range
// counts, through the public API (best arch) and, in a runtime-dispatch build, per compiled arch.
// Counters: bytes/s of input read and items/s (elements, i.e. pairs for the metrics).
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "bench_util.hpp"
#include "qkern/analysis/layer_checks.hpp"
#include "qkern/analysis/metrics.hpp"
#include "qkern/qkern.hpp"

namespace {

std::vector<float> noise(std::size_t n, unsigned seed, float spread) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, spread);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

void set_rates(benchmark::State& state, std::size_t bytes_per_iter, std::size_t items_per_iter) {
  const double it = static_cast<double>(state.iterations());
  state.counters["bytes/s"] = benchmark::Counter(it * static_cast<double>(bytes_per_iter), benchmark::Counter::kIsRate,
                                                 benchmark::Counter::OneK::kIs1024);
  state.counters["items/s"] = benchmark::Counter(it * static_cast<double>(items_per_iter), benchmark::Counter::kIsRate);
  // Two f32 streams read, nothing written: the read-only roofline over the same number of bytes.
  const std::size_t floats_read = bytes_per_iter / sizeof(float);
  state.counters["roofline"] =
      benchmark::Counter(it * static_cast<double>(bytes_per_iter) /
                             qkern_bench::roofline_bytes_per_second(qkern_bench::Pattern::read4, floats_read),
                         benchmark::Counter::kIsRate);
}

void BM_metric_sums(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto x = noise(n, 1, 1.0f), y = noise(n, 2, 1.0f);
  for (auto _ : state) benchmark::DoNotOptimize(qkern::analysis::metric_sums(x.data(), y.data(), n));
  set_rates(state, 2 * n * sizeof(float), n);
  state.SetLabel(qkern::dispatch::selected_arch_name());
}
BENCHMARK(BM_metric_sums)->Arg(1 << 12)->Arg(1 << 16)->Arg(1 << 20)->Arg(1 << 24);

void BM_metric_sums_channels(benchmark::State& state) {
  // NCHW {8, 64, 56*56} (inner > 1) and NHWC {8*56*56, 64, 1} (channels last).
  const bool last = state.range(0) != 0;
  const qkern::ChannelLayout l = last ? qkern::ChannelLayout{8 * 56 * 56, 64, 1} : qkern::ChannelLayout{8, 64, 56 * 56};
  const auto x = noise(l.size(), 3, 1.0f), y = noise(l.size(), 4, 1.0f);
  for (auto _ : state) benchmark::DoNotOptimize(qkern::analysis::metric_sums(x.data(), y.data(), l));
  set_rates(state, 2 * l.size() * sizeof(float), l.size());
  state.SetLabel(last ? "channels_last" : "nchw");
}
BENCHMARK(BM_metric_sums_channels)->Arg(0)->Arg(1);

void BM_count_outside(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto x = noise(n, 5, 1.0f);
  const std::vector<qkern::analysis::ClipCandidate> c = {{"3sigma", -3.0f, 3.0f}};
  for (auto _ : state) benchmark::DoNotOptimize(qkern::analysis::clip_fractions(x.data(), n, c));
  set_rates(state, n * sizeof(float), n);
}
BENCHMARK(BM_count_outside)->Arg(1 << 16)->Arg(1 << 20);

#if defined(QKERN_DISPATCH)
template <class A>
void BM_metric_sums_arch(benchmark::State& state) {
  if (!qkern::simd::runtime_supports<A>()) {
    state.SkipWithError("CPU cannot run this arch");
    return;
  }
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto x = noise(n, 1, 1.0f), y = noise(n, 2, 1.0f);
  qkern::simd::FloatEnvironmentGuard env;
  for (auto _ : state)
    benchmark::DoNotOptimize(
        qkern::dispatch::ArchKernel<qkern::kernels::f32_metric_sums, A>::run(x.data(), y.data(), n));
  set_rates(state, 2 * n * sizeof(float), n);
  state.SetLabel(qkern::simd::arch_name<A>());
}
#if defined(QKERN_DISPATCH_SSE2)
BENCHMARK_TEMPLATE(BM_metric_sums_arch, xsimd::sse2)->Arg(1 << 16);
#endif
#if defined(QKERN_DISPATCH_SSE4_2)
BENCHMARK_TEMPLATE(BM_metric_sums_arch, xsimd::sse4_2)->Arg(1 << 16);
#endif
#if defined(QKERN_DISPATCH_FMA3_AVX2)
BENCHMARK_TEMPLATE(BM_metric_sums_arch, xsimd::fma3<xsimd::avx2>)->Arg(1 << 16);
#endif
#if defined(QKERN_DISPATCH_AVX512BW)
BENCHMARK_TEMPLATE(BM_metric_sums_arch, xsimd::avx512bw)->Arg(1 << 16);
#endif
#endif

// Scalar reference over the same data, for the speed-up.
void BM_metric_sums_reference(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto x = noise(n, 1, 1.0f), y = noise(n, 2, 1.0f);
  for (auto _ : state) benchmark::DoNotOptimize(qkern::reference::metric_sums(x.data(), y.data(), n));
  set_rates(state, 2 * n * sizeof(float), n);
}
BENCHMARK(BM_metric_sums_reference)->Arg(1 << 16);

}  // namespace
