// qkern benchmarks — SPDX-License-Identifier: Apache-2.0
//
// bench_quantize.cpp: quantize (f32 -> s8/u8/s16/u16), dequantize (each -> f32) and fake-quantize
// (f32 -> f32), per tensor and per channel (NCHW {1, 64, N/64} and NHWC {N/64, 64, 1}), every
// runnable arch, against the same-run roofline of their access pattern (bench_util.hpp).
// Arithmetic: ONNX (divide, half to even, the QuantParams default) unless the layout says
// `_mulrcp` (PyTorch/XNNPACK: multiply by the reciprocal).
#include "bench_util.hpp"

namespace qkern_bench {
namespace {

using qkern::ChannelLayout;
using qkern::kernels::QuantizeConstants;
constexpr std::size_t kChannels = 64;

template <class Q>
qkern::DType dtype_of() {
  if (std::is_same<Q, std::int8_t>::value) return qkern::DType::int8;
  if (std::is_same<Q, std::uint8_t>::value) return qkern::DType::uint8;
  if (std::is_same<Q, std::int16_t>::value) return qkern::DType::int16;
  return qkern::DType::uint16;
}

// Parameters that map the input's [-8, 8) onto most of Q's range (a little saturates).
template <class Q>
qkern::QuantParams tensor_params(qkern::Arithmetic a = qkern::Arithmetic::onnx()) {
  constexpr double span = static_cast<double>(std::numeric_limits<Q>::max()) - std::numeric_limits<Q>::min();
  const auto zp = static_cast<std::int32_t>(std::is_signed<Q>::value ? 0 : (span + 1) / 2);
  return qkern::QuantParams::make(dtype_of<Q>(), static_cast<float>(15.0 / span), zp, a);
}

template <class Q>
qkern::ChannelQuantParams channel_params() {
  const qkern::QuantParams t = tensor_params<Q>();
  qkern::ChannelQuantParams p;
  p.dtype = t.dtype;
  p.qmin = t.qmin;
  p.qmax = t.qmax;
  p.arithmetic = t.arithmetic;
  for (std::size_t c = 0; c < kChannels; ++c) {
    p.scale.push_back(t.scale * (1.0f + static_cast<float>(c) / kChannels));
    p.zero_point.push_back(t.zero_point + static_cast<std::int32_t>(c % 3) - 1);
  }
  return p;
}

ChannelLayout layout_of(const std::string& layout, std::size_t n) {
  if (layout == "nchw") return {1, kChannels, n / kChannels};
  return {n / kChannels, kChannels, 1};
}

template <class Q>
Pattern quantize_pattern() {
  return sizeof(Q) == 1 ? Pattern::read4_write1 : Pattern::read4_write2;
}
template <class Q>
Pattern dequantize_pattern() {
  return sizeof(Q) == 1 ? Pattern::read1_write4 : Pattern::read2_write4;
}

template <class A, class Q, class KT, class KC, class KD, class KDC>
void register_type(const char* q_name) {
  const std::string arch = qkern::simd::arch_name<A>();
  // Per tensor.
  for (const bool mulrcp : {false, true}) {
    if (mulrcp && !std::is_same<Q, std::int8_t>::value) continue;
    const std::string layout = mulrcp ? "tensor_mulrcp" : "tensor";
    register_sizes(std::string("f32_") + q_name + "_quantize/" + layout + "/" + arch, [mulrcp](benchmark::State& st) {
      const auto n = static_cast<std::size_t>(st.range(0));
      const float* x = input_f32(n);
      Q* y = codes<Q>(n);
      const QuantizeConstants c = qkern::kernels::make_constants(
          tensor_params<Q>(mulrcp ? qkern::Arithmetic::pytorch() : qkern::Arithmetic::onnx()));
      for (auto _ : st) {
        kernel_fn<KT, A>(x, y, n, c);
        benchmark::ClobberMemory();
        pair_roofline(st, quantize_pattern<Q>(), n);
      }
      st.SetLabel(arch_label<A>());
      report(st, quantize_pattern<Q>(), n);
    });
  }
  register_sizes(std::string(q_name) + "_f32_dequantize/tensor/" + arch, [](benchmark::State& st) {
    const auto n = static_cast<std::size_t>(st.range(0));
    const Q* q = codes<Q>(n);
    float* y = output_f32(n);
    const QuantizeConstants c = qkern::kernels::make_constants(tensor_params<Q>());
    for (auto _ : st) {
      kernel_fn<KD, A>(q, y, n, c);
      benchmark::ClobberMemory();
      pair_roofline(st, dequantize_pattern<Q>(), n);
    }
    st.SetLabel(arch_label<A>());
    report(st, dequantize_pattern<Q>(), n);
  });
  // Per channel.
  for (const std::string layout : {"nchw", "nhwc"}) {
    register_sizes(std::string("f32_") + q_name + "_quantize_channels/" + layout + "/" + arch,
                   [layout](benchmark::State& st) {
                     const auto n = static_cast<std::size_t>(st.range(0));
                     const float* x = input_f32(n);
                     Q* y = codes<Q>(n);
                     const qkern::detail::ChannelConstantsStorage k(channel_params<Q>());
                     const ChannelLayout l = layout_of(layout, n);
                     for (auto _ : st) {
                       kernel_fn<KC, A>(x, y, l, k.view);
                       benchmark::ClobberMemory();
                       pair_roofline(st, quantize_pattern<Q>(), n);
                     }
                     st.SetLabel(arch_label<A>());
                     report(st, quantize_pattern<Q>(), n);
                   });
    register_sizes(std::string(q_name) + "_f32_dequantize_channels/" + layout + "/" + arch,
                   [layout](benchmark::State& st) {
                     const auto n = static_cast<std::size_t>(st.range(0));
                     const Q* q = codes<Q>(n);
                     float* y = output_f32(n);
                     const qkern::detail::ChannelConstantsStorage k(channel_params<Q>());
                     const ChannelLayout l = layout_of(layout, n);
                     for (auto _ : st) {
                       kernel_fn<KDC, A>(q, y, l, k.view);
                       benchmark::ClobberMemory();
                       pair_roofline(st, dequantize_pattern<Q>(), n);
                     }
                     st.SetLabel(arch_label<A>());
                     report(st, dequantize_pattern<Q>(), n);
                   });
  }
}

template <class A>
void register_fake_quantize() {
  using namespace qkern::kernels;
  const std::string arch = qkern::simd::arch_name<A>();
  for (const bool mulrcp : {false, true}) {
    register_sizes(std::string("f32_fake_quantize/") + (mulrcp ? "tensor_mulrcp/" : "tensor/") + arch,
                   [mulrcp](benchmark::State& st) {
                     const auto n = static_cast<std::size_t>(st.range(0));
                     const float* x = input_f32(n);
                     float* y = output_f32(n);
                     const QuantizeConstants c = make_constants(
                         tensor_params<std::int8_t>(mulrcp ? qkern::Arithmetic::pytorch() : qkern::Arithmetic::onnx()));
                     for (auto _ : st) {
                       kernel_fn<f32_fake_quantize, A>(x, y, n, c);
                       benchmark::ClobberMemory();
                       pair_roofline(st, Pattern::read4_write4, n);
                     }
                     st.SetLabel(arch_label<A>());
                     report(st, Pattern::read4_write4, n);
                   });
  }
  for (const std::string layout : {"nchw", "nhwc"}) {
    register_sizes("f32_fake_quantize_channels/" + layout + "/" + arch, [layout](benchmark::State& st) {
      const auto n = static_cast<std::size_t>(st.range(0));
      const float* x = input_f32(n);
      float* y = output_f32(n);
      const qkern::detail::ChannelConstantsStorage k(channel_params<std::int8_t>());
      const ChannelLayout l = layout_of(layout, n);
      for (auto _ : st) {
        kernel_fn<f32_fake_quantize_channels, A>(x, y, l, k.view);
        benchmark::ClobberMemory();
        pair_roofline(st, Pattern::read4_write4, n);
      }
      st.SetLabel(arch_label<A>());
      report(st, Pattern::read4_write4, n);
    });
  }
}

void register_quantize() {
  using namespace qkern::kernels;
  for_each_runnable_arch([](auto arch) {
    using A = decltype(arch);
    register_type<A, std::int8_t, f32_s8_quantize, f32_s8_quantize_channels, s8_f32_dequantize,
                  s8_f32_dequantize_channels>("s8");
    register_type<A, std::uint8_t, f32_u8_quantize, f32_u8_quantize_channels, u8_f32_dequantize,
                  u8_f32_dequantize_channels>("u8");
    register_type<A, std::int16_t, f32_s16_quantize, f32_s16_quantize_channels, s16_f32_dequantize,
                  s16_f32_dequantize_channels>("s16");
    register_type<A, std::uint16_t, f32_u16_quantize, f32_u16_quantize_channels, u16_f32_dequantize,
                  u16_f32_dequantize_channels>("u16");
    register_fake_quantize<A>();
  });
}

QKERN_BENCH_REGISTER(register_quantize);

}  // namespace
}  // namespace qkern_bench
