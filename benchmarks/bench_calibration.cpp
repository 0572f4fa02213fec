// qkern benchmarks — SPDX-License-Identifier: Apache-2.0
//
// bench_calibration.cpp: the end-to-end calibration case: a stream of 64 batches of 8x64x56x56
// float32 (~103 M values, generated from a fixed seed before timing) fed to (a) a per-tensor
// streaming histogram, (b) per-channel min/max, (c) a per-channel streaming histogram. Reports
// elements/s, bytes/s and `roofline` (fraction of the same-run read-only roofline, bench_util.hpp).
#include <benchmark/benchmark.h>

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
  // Fraction of the read-only roofline over the stream's size, from passes paired with the
  // stream passes (benchmarks/bench_util.hpp).
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
    qkern_bench::pair_roofline(state, qkern_bench::Pattern::read4, kBatches * kBatch);
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
    qkern_bench::pair_roofline(state, qkern_bench::Pattern::read4, kBatches * kBatch);
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
    qkern_bench::pair_roofline(state, qkern_bench::Pattern::read4, kBatches * kBatch);
  }
  set_rates(state);
}

BENCHMARK(BM_CalibrationStreamingHistogram)->Apply(qkern_bench::bench_clock)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CalibrationChannelMinMax)->Apply(qkern_bench::bench_clock)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CalibrationChannelStreamingHistogram)->Apply(qkern_bench::bench_clock)->Unit(benchmark::kMillisecond);

}  // namespace
