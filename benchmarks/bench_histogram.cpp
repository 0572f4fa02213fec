// qkern benchmarks — SPDX-License-Identifier: Apache-2.0
//
// bench_histogram.cpp: histogram kernels (2048 bins) per tensor and per channel on DRAM-sized data,
// reporting elements/s, bytes/s and `roofline`, the fraction of the same-run read-only roofline
// (benchmarks/bench_util.hpp) on the same number of elements.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "bench_util.hpp"
#include "qkern/qkern.hpp"

namespace {

constexpr std::size_t kBins = 2048;
constexpr std::size_t kN = 8, kC = 64, kHW = 56 * 56;

// One DRAM-sized buffer (~64 M floats = 257 MB, shape 320 x 64 x 56 x 56, far beyond L3), filled
// once from a fixed seed.
const std::vector<float>& data() {
  static const std::vector<float> x = [] {
    std::vector<float> v(320 * kC * kHW);
    std::mt19937 rng(1234);
    std::normal_distribution<float> d(0.0f, 1.0f);
    for (auto& e : v) e = d(rng);
    return v;
  }();
  return x;
}

void set_rates(benchmark::State& state, std::size_t n) {
  state.counters["elements"] = benchmark::Counter(double(n) * state.iterations(), benchmark::Counter::kIsRate);
  state.counters["bytes"] = benchmark::Counter(double(n) * 4 * state.iterations(), benchmark::Counter::kIsRate);
  // Fraction of the read-only roofline on the same size, from passes paired with the kernel's
  // (benchmarks/bench_util.hpp).
  state.counters["roofline"] = benchmark::Counter(
      double(n) * 4 * state.iterations() / qkern_bench::roofline_for(state, qkern_bench::Pattern::read4, n),
      benchmark::Counter::kIsRate);
  state.SetLabel(qkern::dispatch::selected_arch_name());
}

void BM_FixedHistogramPerTensor(benchmark::State& state) {
  const auto& x = data();
  const qkern::FixedBinning b{-4.0f, 4.0f, float(kBins / 8.0), std::uint32_t(kBins), state.range(0) != 0};
  std::vector<std::uint64_t> counts(kBins + qkern::kHistogramExtraSlots);
  const auto k = qkern::dispatch::select<qkern::kernels::f32_histogram>();
  for (auto _ : state) {
    k(x.data(), x.size(), b, counts.data());
    benchmark::DoNotOptimize(counts.data());
    qkern_bench::pair_roofline(state, qkern_bench::Pattern::read4, x.size());
  }
  set_rates(state, x.size());
}

void BM_GridHistogramPerTensor(benchmark::State& state) {
  const auto& x = data();
  const qkern::GridBinning b{std::ldexp(1.0f, 8), -1024.0f, std::uint32_t(kBins), false};
  std::vector<std::uint64_t> counts(kBins + qkern::kHistogramExtraSlots);
  const auto k = qkern::dispatch::select<qkern::kernels::f32_grid_histogram>();
  for (auto _ : state) {
    benchmark::DoNotOptimize(k(x.data(), x.size(), b, counts.data()));
    qkern_bench::pair_roofline(state, qkern_bench::Pattern::read4, x.size());
  }
  set_rates(state, x.size());
}

// Per channel, 64 channels: NCHW (inner = 56*56) when range(0) == 0, NHWC (inner = 1) otherwise.
void BM_FixedHistogramPerChannel(benchmark::State& state) {
  const auto& x = data();
  const std::size_t outer = x.size() / (kC * kHW);
  const qkern::ChannelLayout l =
      state.range(0) == 0 ? qkern::ChannelLayout{outer, kC, kHW} : qkern::ChannelLayout{outer * kHW, kC, 1};
  std::vector<float> lo(kC + 16, -4.0f), hi(kC + 16, 4.0f), scale(kC + 16, float(kBins / 8.0));
  const qkern::FixedChannelBinnings b{lo.data(), hi.data(), scale.data(), std::uint32_t(kBins), false};
  std::vector<std::uint64_t> counts(kC * (kBins + qkern::kHistogramExtraSlots));
  const auto k = qkern::dispatch::select<qkern::kernels::f32_histogram_channels>();
  for (auto _ : state) {
    k(x.data(), l, b, counts.data());
    benchmark::DoNotOptimize(counts.data());
    qkern_bench::pair_roofline(state, qkern_bench::Pattern::read4, l.size());
  }
  set_rates(state, l.size());
}

// The scatter ceiling of this core: the counter increments alone, with the bin indices already
// computed (the 2048-bin slots of N(0, 1) data, element i into uint32 copy i % 2 as the kernels'
// sub-histograms count them, 16 KB of indices read from L1). No histogram that increments one
// counter per element can count faster than this on the same core; compare the kernels with it.
void BM_HistogramIncrementCeiling(benchmark::State& state) {
  constexpr std::size_t kIdx = 4096;
  static const std::vector<std::uint32_t> idx = [] {
    std::vector<std::uint32_t> v(kIdx);
    std::mt19937 rng(7);
    std::normal_distribution<float> d(0.0f, 1.0f);
    for (std::size_t i = 0; i < kIdx; ++i) {
      const int b = std::min(2047, std::max(0, int((d(rng) + 4.0f) * float(kBins / 8.0))));
      v[i] = std::uint32_t(b) + std::uint32_t(i % 2) * std::uint32_t(kBins);
    }
    return v;
  }();
  std::vector<std::uint32_t> h(kBins * 2, 0);
  for (auto _ : state) {
    std::uint32_t* hp = h.data();
    const std::uint32_t* ip = idx.data();
    for (std::size_t i = 0; i < kIdx; i += 4) {
      ++hp[ip[i]];
      ++hp[ip[i + 1]];
      ++hp[ip[i + 2]];
      ++hp[ip[i + 3]];
    }
    benchmark::DoNotOptimize(hp);
    benchmark::ClobberMemory();
  }
  state.counters["elements"] = benchmark::Counter(double(kIdx) * state.iterations(), benchmark::Counter::kIsRate);
}

BENCHMARK(BM_FixedHistogramPerTensor)
    ->ArgName("abs")
    ->Arg(0)
    ->Arg(1)
    ->Apply(qkern_bench::bench_clock)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_GridHistogramPerTensor)->Apply(qkern_bench::bench_clock)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_HistogramIncrementCeiling)->Apply(qkern_bench::bench_clock);
BENCHMARK(BM_FixedHistogramPerChannel)
    ->ArgName("nhwc")
    ->Arg(0)
    ->Arg(1)
    ->Apply(qkern_bench::bench_clock)
    ->Unit(benchmark::kMillisecond);

}  // namespace
