// qkern benchmarks — SPDX-License-Identifier: Apache-2.0
//
// bench_histogram.cpp: histogram kernels (2048 bins) per tensor and per channel on DRAM-sized data,
// reporting elements/s, bytes/s and `roofline`, the fraction of a same-run read of the same buffer
// (benchmarks/bench_util.hpp), and two increment-only loops that bound them on this core.
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
  // Fraction of the read-only roofline: a plain read of the same buffer after every kernel pass
  // (pair_read_roofline, benchmarks/bench_util.hpp).
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
    qkern_bench::pair_read_roofline(state, x.data(), x.size());
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
    qkern_bench::pair_read_roofline(state, x.data(), x.size());
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
    qkern_bench::pair_read_roofline(state, x.data(), l.size());
  }
  set_rates(state, l.size());
}

// The scatter ceiling of this core: the counter increments alone, with the bin indices already
// computed (the 2048-bin slots of N(0, 1) data, element i into uint32 copy i % 2 as the kernels'
// sub-histograms count them, 16 KB of indices read from L1, one 32-bit index load per increment);
// compare the kernels with it.
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

// What the channels-last kernel's counting order costs at the least: the slots of the NHWC
// benchmark (64 channels, fixed range [-4, 4], 2048 bins), computed before timing, incremented in
// the kernel's order (row blocks of ~32 KB, 8 channels at a time, one uint32 counter array of 8 KB
// per channel: 512 KB for all, so most increments miss L1) when range(0) == 0, or in memory order
// (row by row, all channels) when range(0) == 1. The kernel also computes the slots, so it cannot
// beat the first; the second shows the memory order is no way out.
void BM_ChannelsLastIncrementFloor(benchmark::State& state) {
  const auto& x = data();
  const std::size_t rows = x.size() / kC;
  static const std::vector<std::uint16_t> bins = [&x] {
    std::vector<std::uint16_t> v(x.size());
    for (std::size_t i = 0; i < x.size(); ++i)
      v[i] = std::uint16_t(std::min(2047.0f, std::max(0.0f, std::floor((x[i] + 4.0f) * float(kBins / 8.0)))));
    return v;
  }();
  std::vector<std::uint32_t> h(kC * kBins);
  const std::size_t block_rows = (std::size_t{32} << 10) / (kC * sizeof(float));
  for (auto _ : state) {
    std::fill(h.begin(), h.end(), 0u);
    std::uint32_t* hp = h.data();
    const std::uint16_t* b = bins.data();
    if (state.range(0) == 0) {
      for (std::size_t r0 = 0; r0 < rows; r0 += block_rows)
        for (std::size_t c = 0; c < kC; c += 8)
          for (std::size_t r = r0; r < std::min(rows, r0 + block_rows); ++r)
            for (std::size_t j = 0; j < 8; ++j) ++hp[(c + j) * kBins + b[r * kC + c + j]];
    } else {
      for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < kC; ++c) ++hp[c * kBins + b[r * kC + c]];
    }
    benchmark::DoNotOptimize(hp);
    benchmark::ClobberMemory();
  }
  state.counters["elements"] = benchmark::Counter(double(x.size()) * state.iterations(), benchmark::Counter::kIsRate);
  state.SetLabel("precomputed slots, plain increments");
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
BENCHMARK(BM_ChannelsLastIncrementFloor)
    ->ArgName("memory_order")
    ->Arg(0)
    ->Arg(1)
    ->Apply(qkern_bench::bench_clock)
    ->Unit(benchmark::kMillisecond);

}  // namespace
