// qkern benchmarks — SPDX-License-Identifier: Apache-2.0
//
// bench_convert.cpp: element -> float32 conversion kernels (kernels/convert.hpp) used by the tensor
// file readers, every runnable arch, against the same-run roofline of their traffic: f16, bf16,
// int16, uint16 -> f32 (read2_write4), int8, uint8, bool -> f32 (read1_write4), int32, uint32 -> f32
// (read4_write4). f64 / int64 -> f32 (8 bytes in, 4 out) have no roofline pattern and are not
// benchmarked here.
//
// The f16 input is realistic data (finite values, roughly N(0, 4), as activations are): the F16C
// path sends vectors holding Inf or NaN through the integer construction (to keep NaN bits), so a
// buffer of arbitrary bit patterns would measure that slow path instead.
#include <set>

#include "bench_util.hpp"

namespace qkern_bench {
namespace {

// The shared 16-bit code buffer of n elements, filled once with f16 values of input_f32(n) / 2
// (finite; converted with the reference's exact inverse on the 16-bit grid: round to nearest by
// truncating the mantissa, enough for benchmark data).
const std::uint16_t* f16_input(std::size_t n) {
  static std::set<std::size_t> filled;
  std::uint16_t* h = codes<std::uint16_t>(n);
  if (filled.insert(n).second) {
    const float* x = input_f32(n);
    for (std::size_t i = 0; i < n; ++i) {
      std::uint32_t b;
      const float v = x[i] * 0.5f;
      std::memcpy(&b, &v, 4);
      const std::uint32_t sign = (b >> 16) & 0x8000u;
      const int e = static_cast<int>((b >> 23) & 0xff) - 127 + 15;
      h[i] = static_cast<std::uint16_t>(e <= 0 ? sign
                                               : (e >= 31 ? sign | 0x7bff : sign | (e << 10) | ((b >> 13) & 0x3ff)));
    }
  }
  return h;
}

template <class K, class A>
void register_one(const std::string& name, Pattern pattern, const void* (*input)(std::size_t)) {
  const std::string arch = qkern::simd::arch_name<A>();
  register_sizes(name + "/flat/" + arch, [pattern, input](benchmark::State& st) {
    const auto n = static_cast<std::size_t>(st.range(0));
    const void* x = input(n);
    float* y = output_f32(n);
    for (auto _ : st) {
      kernel_fn<K, A>(x, n, y);
      benchmark::ClobberMemory();
      pair_roofline(st, pattern, n);
    }
    st.SetLabel(arch_label<A>());
    report(st, pattern, n);
  });
}

const void* in_f16(std::size_t n) { return f16_input(n); }
const void* in_u16(std::size_t n) { return codes<std::uint16_t>(n); }
const void* in_u8(std::size_t n) { return codes<std::uint8_t>(n); }
const void* in_32(std::size_t n) { return input_f32(n); }

template <class A>
void register_arch() {
  using namespace qkern::kernels;
  register_one<f16_to_f32, A>("f16_to_f32", Pattern::read2_write4, in_f16);
  register_one<bf16_to_f32, A>("bf16_to_f32", Pattern::read2_write4, in_u16);
  register_one<i16_to_f32, A>("i16_to_f32", Pattern::read2_write4, in_u16);
  register_one<u16_to_f32, A>("u16_to_f32", Pattern::read2_write4, in_u16);
  register_one<i8_to_f32, A>("i8_to_f32", Pattern::read1_write4, in_u8);
  register_one<u8_to_f32, A>("u8_to_f32", Pattern::read1_write4, in_u8);
  register_one<bool_to_f32, A>("bool_to_f32", Pattern::read1_write4, in_u8);
  register_one<i32_to_f32, A>("i32_to_f32", Pattern::read4_write4, in_32);
  register_one<u32_to_f32, A>("u32_to_f32", Pattern::read4_write4, in_32);
}

void register_convert() {
  for_each_runnable_arch([](auto arch) { register_arch<decltype(arch)>(); });
}

QKERN_BENCH_REGISTER(register_convert);

}  // namespace
}  // namespace qkern_bench
