// qkern benchmarks — SPDX-License-Identifier: Apache-2.0
//
// bench_calibration.cpp: the end-to-end calibration case: a stream of 64 batches of 8x64x56x56
// float32 (~103 M values, generated from a fixed seed before timing) fed to (a) a per-tensor
// streaming histogram, (b) per-channel min/max, (c) a per-channel streaming histogram. Reports
// elements/s, bytes/s and `roofline` (fraction of the same-run read-only roofline, bench_util.hpp).
// (a) also reports its increment floor, a machine limit measured pass by pass: see stream_bins.
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

// What (a) costs at the least on this machine: the stream's bins under (a)'s final grid, computed
// once before timing (uint16, each value's sub-histogram copy folded in, as the kernels lay them
// out), counted by the fastest plain increment loop we found (four indices per 64-bit load). A
// histogram kernel does this read-modify-write per value and must also compute the bins, so the
// floor's rate bounds (a)'s; (a) runs a floor pass after each of its own passes, so both see the
// same state of the host (whose speed drifts by up to 2x within minutes).
constexpr std::size_t kFloorBins = 2048;

const std::vector<std::uint16_t>& stream_bins() {
  static const std::vector<std::uint16_t> idx = [] {
    const auto& x = stream();
    qkern::StreamingHistogram h(kFloorBins);
    for (std::size_t b = 0; b < kBatches; ++b) h.update(x.data() + b * kBatch, kBatch);
    const int k = h.width_exponent();
    const double base = double(h.first_bin());
    std::vector<std::uint16_t> v(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double bin = std::floor(std::ldexp(double(x[i]), -k)) - base;  // the grid's definition
      v[i] = std::uint16_t(bin + double((i % 2) * kFloorBins));
    }
    return v;
  }();
  return idx;
}

// One floor pass (see stream_bins) into h (2 x kFloorBins counters).
void increment_floor_pass(std::vector<std::uint32_t>& h) {
  const auto& idx = stream_bins();
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

// (a) per-tensor streaming histogram, 2048 bins, a fresh histogram per pass over the stream.
// Also reports `floor_elements` (G/s of the paired increment-floor passes, see stream_bins) and
// `of_floor` ((a)'s rate over the floor's).
void BM_CalibrationStreamingHistogram(benchmark::State& state) {
  const auto& x = stream();
  std::vector<std::uint32_t> floor_counts(2 * kFloorBins);
  stream_bins();  // built before timing
  double kernel_s = 0, floor_s = 0;
  for (auto _ : state) {
    const double t0 = qkern_bench::bench_clock_seconds();
    qkern::StreamingHistogram h(2048);
    for (std::size_t b = 0; b < kBatches; ++b) h.update(x.data() + b * kBatch, kBatch);
    benchmark::DoNotOptimize(h.view().counts);
    kernel_s += qkern_bench::bench_clock_seconds() - t0;
    floor_s += qkern_bench::paused_seconds(state, [&] { increment_floor_pass(floor_counts); });
    qkern_bench::pair_read_roofline(state, x.data(), kBatches * kBatch);
  }
  set_rates(state);
  state.counters["floor_elements"] = double(kBatches * kBatch) * double(state.iterations()) / floor_s;
  state.counters["of_floor"] = floor_s / kernel_s;
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

BENCHMARK(BM_CalibrationStreamingHistogram)->Apply(qkern_bench::bench_clock)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CalibrationChannelMinMax)->Apply(qkern_bench::bench_clock)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CalibrationChannelStreamingHistogram)->Apply(qkern_bench::bench_clock)->Unit(benchmark::kMillisecond);

}  // namespace
