// qkern benchmarks — SPDX-License-Identifier: Apache-2.0
//
// bench_requantize.cpp: int32 -> uint8 requantization throughput per rounding family, per tensor
// and per channel (channels last, 64 channels), in accumulators per second and bytes per second
// (4 read + 1 written per element).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <vector>

#include "bench_util.hpp"
#include "qkern/qkern.hpp"

namespace {

using namespace qkern;

constexpr RequantizeRounding kFamilies[] = {RequantizeRounding::gemmlowp, RequantizeRounding::tflite_single,
                                            RequantizeRounding::rndnu, RequantizeRounding::fp32};

std::vector<std::int32_t> accumulators(std::size_t n) {
  std::mt19937 rng(3);
  std::uniform_int_distribution<std::int32_t> d(-200000, 200000);
  std::vector<std::int32_t> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

void set_counters(benchmark::State& state, std::size_t n, RequantizeRounding r) {
  state.counters["items/s"] = benchmark::Counter(double(n), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["bytes/s"] =
      benchmark::Counter(5.0 * double(n), benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1024);
  // int32 in, 8-bit out: the read 4 B + write 1 B roofline of the same size, measured in this run.
  state.counters["roofline"] = benchmark::Counter(
      5.0 * double(n) / qkern_bench::roofline_bytes_per_second(qkern_bench::Pattern::read4_write1, n),
      benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(std::string(rounding_name(r)) + " " + dispatch::selected_arch_name());
}

void BM_requantize_tensor(benchmark::State& state) {
  const RequantizeRounding r = kFamilies[state.range(0)];
  const std::size_t n = std::size_t(state.range(1));
  const auto acc = accumulators(n);
  std::vector<std::uint8_t> out(n);
  const RequantizeParams p{0.00123, 128, 0, 255, r};
  for (auto _ : state) {
    requantize(acc.data(), out.data(), n, p);
    benchmark::DoNotOptimize(out.data());
  }
  set_counters(state, n, r);
}
BENCHMARK(BM_requantize_tensor)->ArgsProduct({{0, 1, 2, 3}, {4096, 1 << 20}});

void BM_requantize_channels(benchmark::State& state) {
  const RequantizeRounding r = kFamilies[state.range(0)];
  const std::size_t channels = 64, pixels = std::size_t(state.range(1)) / channels;
  const auto acc = accumulators(pixels * channels);
  std::vector<std::uint8_t> out(pixels * channels);
  ChannelRequantizeParams p;
  p.rounding = r;
  p.zero_point = 128;
  p.qmin = 0;
  p.qmax = 255;
  for (std::size_t c = 0; c < channels; ++c) p.scale.push_back(0.0005 * double(1 + c % 7));
  for (auto _ : state) {
    requantize(acc.data(), out.data(), ChannelLayout{pixels, channels, 1}, p);
    benchmark::DoNotOptimize(out.data());
  }
  set_counters(state, pixels * channels, r);
}
BENCHMARK(BM_requantize_channels)->ArgsProduct({{0, 1, 2, 3}, {1 << 20}});

}  // namespace
