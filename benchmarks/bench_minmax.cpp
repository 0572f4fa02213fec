// qkern benchmarks — SPDX-License-Identifier: Apache-2.0
//
// bench_minmax.cpp: min/max and abs-max over the finite values, per tensor and per channel (NCHW
// {1, 64, N/64} and NHWC {N/64, 64, 1}), every runnable arch, against the same-run read-only
// roofline (bench_util.hpp).
#include "bench_util.hpp"

namespace qkern_bench {
namespace {

using qkern::ChannelLayout;
constexpr std::size_t kChannels = 64;

ChannelLayout layout_of(const std::string& layout, std::size_t n) {
  if (layout == "nchw") return {1, kChannels, n / kChannels};
  return {n / kChannels, kChannels, 1};
}

template <class A>
void register_arch() {
  using namespace qkern::kernels;
  const std::string arch = qkern::simd::arch_name<A>();
  register_sizes("f32_minmax/tensor/" + arch, [](benchmark::State& st) {
    const auto n = static_cast<std::size_t>(st.range(0));
    const float* x = input_f32(n);
    for (auto _ : st) {
      qkern::MinMax r = kernel_fn<f32_minmax, A>(x, n);
      benchmark::DoNotOptimize(r);
      pair_roofline(st, Pattern::read4, n);
    }
    st.SetLabel(arch_label<A>());
    report(st, Pattern::read4, n);
  });
  register_sizes("f32_absmax/tensor/" + arch, [](benchmark::State& st) {
    const auto n = static_cast<std::size_t>(st.range(0));
    const float* x = input_f32(n);
    for (auto _ : st) {
      qkern::AbsMax r = kernel_fn<f32_absmax, A>(x, n);
      benchmark::DoNotOptimize(r);
      pair_roofline(st, Pattern::read4, n);
    }
    st.SetLabel(arch_label<A>());
    report(st, Pattern::read4, n);
  });
  for (const std::string layout : {"nchw", "nhwc"}) {
    // Accumulators merge across calls (the kernels' contract), so they are set up once.
    register_sizes("f32_minmax_channels/" + layout + "/" + arch, [layout](benchmark::State& st) {
      const auto n = static_cast<std::size_t>(st.range(0));
      const float* x = input_f32(n);
      const ChannelLayout l = layout_of(layout, n);
      std::vector<float> mn(kChannels, std::numeric_limits<float>::infinity()), mx(kChannels, -mn[0]);
      std::vector<qkern::ValueCounts> counts(kChannels);
      for (auto _ : st) {
        kernel_fn<f32_minmax_channels, A>(x, l, mn.data(), mx.data(), counts.data());
        benchmark::ClobberMemory();
        pair_roofline(st, Pattern::read4, n);
      }
      st.SetLabel(arch_label<A>());
      report(st, Pattern::read4, n);
    });
    register_sizes("f32_absmax_channels/" + layout + "/" + arch, [layout](benchmark::State& st) {
      const auto n = static_cast<std::size_t>(st.range(0));
      const float* x = input_f32(n);
      const ChannelLayout l = layout_of(layout, n);
      std::vector<float> am(kChannels, 0.0f);
      std::vector<qkern::ValueCounts> counts(kChannels);
      for (auto _ : st) {
        kernel_fn<f32_absmax_channels, A>(x, l, am.data(), counts.data());
        benchmark::ClobberMemory();
        pair_roofline(st, Pattern::read4, n);
      }
      st.SetLabel(arch_label<A>());
      report(st, Pattern::read4, n);
    });
  }
}

void register_minmax() {
  for_each_runnable_arch([](auto arch) { register_arch<decltype(arch)>(); });
}

QKERN_BENCH_REGISTER(register_minmax);

}  // namespace
}  // namespace qkern_bench
