// qkern benchmarks — SPDX-License-Identifier: Apache-2.0
//
// bench_calibration.cpp: the end-to-end calibration case: a stream of 64 batches of 8x64x56x56
// float32 (~103 M values, generated from a fixed seed before timing) fed to (a) a per-tensor
// streaming histogram, (b) per-channel min/max, (c) a per-channel streaming histogram. Reports
// elements/s, bytes/s and `roofline` (fraction of the same-run read-only roofline, bench_util.hpp).
// BM_CalibrationIncrementFloor puts a machine limit next to (a): see its comment.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "bench_util.hpp"
#include "qkern/qkern.hpp"

namespace {

constexpr std::size_t kBatches = 64, kN = 8, kC = 64, kHW = 56 * 56, kBatch = kN * kC * kHW;
const qkern::ChannelLayout kLayout{kN, kC, kHW};

// Activation-like stream: per-channel scale and offset, a ReLU on half the channels, a few outliers.
const std::vector<float>& stream() {
  static const std::vector<float> x = [] {
    std::vector<float> v(kBatches * kBatch);
    std::mt19937 rng(2024);
    std::normal_distribution<float> d(0.0f, 1.0f);
    for (std::size_t i = 0; i < v.size(); ++i) {
      const std::size_t c = (i / kHW) % kC;
      float e = d(rng) * (0.5f + 0.05f * float(c)) + 0.01f * float(c);
      if (c % 2 == 0 && e < 0.0f) e = 0.0f;
      v[i] = e;
    }
    for (std::size_t i = 12345; i < v.size(); i += 9999991) v[i] *= 40.0f;
    return v;
  }();
  return x;
}

void set_rates(benchmark::State& state) {
  const double n = double(kBatches * kBatch) * double(state.iterations());
  state.counters["elements"] = benchmark::Counter(n, benchmark::Counter::kIsRate);
  state.counters["bytes"] = benchmark::Counter(4 * n, benchmark::Counter::kIsRate);
  // Fraction of the read-only roofline: a plain read of the stream itself after every pass
  // (pair_read_roofline, benchmarks/bench_util.hpp).
  state.counters["roofline"] =
      benchmark::Counter(4 * n / qkern_bench::roofline_for(state, qkern_bench::Pattern::read4, kBatches * kBatch),
                         benchmark::Counter::kIsRate);
  state.SetLabel(qkern::dispatch::selected_arch_name());
}

// (a) per-tensor streaming histogram, 2048 bins, a fresh histogram per pass over the stream.
void BM_CalibrationStreamingHistogram(benchmark::State& state) {
  const auto& x = stream();
  for (auto _ : state) {
    qkern::StreamingHistogram h(2048);
    for (std::size_t b = 0; b < kBatches; ++b) h.update(x.data() + b * kBatch, kBatch);
    benchmark::DoNotOptimize(h.view().counts);
    qkern_bench::pair_read_roofline(state, x.data(), kBatches * kBatch);
  }
  set_rates(state);
}

// (b) per-channel min/max (NCHW, channel axis 1).
void BM_CalibrationChannelMinMax(benchmark::State& state) {
  const auto& x = stream();
  for (auto _ : state) {
    qkern::ChannelMinMaxAccumulator acc(kC);
    for (std::size_t b = 0; b < kBatches; ++b) acc.update(x.data() + b * kBatch, kLayout);
    benchmark::DoNotOptimize(acc.min().data());
    qkern_bench::pair_read_roofline(state, x.data(), kBatches * kBatch);
  }
  set_rates(state);
}

// (c) per-channel streaming histogram, 2048 bins per channel.
void BM_CalibrationChannelStreamingHistogram(benchmark::State& state) {
  const auto& x = stream();
  for (auto _ : state) {
    qkern::ChannelStreamingHistogram h(kC, 2048);
    for (std::size_t b = 0; b < kBatches; ++b) h.update(x.data() + b * kBatch, kLayout);
    benchmark::DoNotOptimize(h.view(0).counts);
    qkern_bench::pair_read_roofline(state, x.data(), kBatches * kBatch);
  }
  set_rates(state);
}

// What (a) costs at the least on this machine: the stream's bins under (a)'s final grid, computed
// before timing (uint16, each value's sub-histogram copy folded in, as the kernels lay them out),
// and counted by the fastest plain increment loop we found (four indices per 64-bit load). Every
// histogram value needs a counter read-modify-write, and a histogram kernel must also compute the
// index, so (a) cannot run faster than this; elements/s of the two, same run, give the headroom.
// Why not faster still: the core retires at most one store per cycle here (a loop of nothing but
// independent stores to fixed L1 addresses runs at ~1 per cycle), so G increments/s <= GHz.
void BM_CalibrationIncrementFloor(benchmark::State& state) {
  constexpr std::size_t kBins = 2048;
  static const std::vector<std::uint16_t> idx = [] {
    const auto& x = stream();
    qkern::StreamingHistogram h(kBins);
    for (std::size_t b = 0; b < kBatches; ++b) h.update(x.data() + b * kBatch, kBatch);
    const int k = h.width_exponent();
    const double base = double(h.first_bin());
    std::vector<std::uint16_t> v(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double bin = std::floor(std::ldexp(double(x[i]), -k)) - base;  // the grid's definition
      v[i] = std::uint16_t(bin + double((i % 2) * kBins));
    }
    return v;
  }();
  std::vector<std::uint32_t> h(2 * kBins);
  for (auto _ : state) {
    std::fill(h.begin(), h.end(), 0u);
    std::uint32_t* hp = h.data();
    for (std::size_t i = 0; i + 4 <= idx.size(); i += 4) {
      std::uint64_t q;
      std::memcpy(&q, idx.data() + i, sizeof q);
      ++hp[q & 0xffff];
      ++hp[(q >> 16) & 0xffff];
      ++hp[(q >> 32) & 0xffff];
      ++hp[q >> 48];
    }
    benchmark::DoNotOptimize(hp);
    benchmark::ClobberMemory();
  }
  state.counters["elements"] =
      benchmark::Counter(double(idx.size()) * double(state.iterations()), benchmark::Counter::kIsRate);
  state.SetLabel("precomputed bins, plain increments");
}

BENCHMARK(BM_CalibrationStreamingHistogram)->Apply(qkern_bench::bench_clock)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CalibrationChannelMinMax)->Apply(qkern_bench::bench_clock)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CalibrationChannelStreamingHistogram)->Apply(qkern_bench::bench_clock)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CalibrationIncrementFloor)->Apply(qkern_bench::bench_clock)->Unit(benchmark::kMillisecond);

}  // namespace
