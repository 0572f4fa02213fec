// qkern — SPDX-License-Identifier: Apache-2.0
//
// kernel_driver.cpp: runs one qkern kernel `reps` times over n elements, for instruction counting
// (count.sh runs it twice with different reps under qemu's insn_count plugin or callgrind and
// divides the difference by the extra elements, which cancels start-up and data set-up).
//
//   kernel_driver <kernel> <n> <reps>      prints the arch dispatch selected
// kernels: quantize_div quantize_mul dequantize fake_quantize minmax absmax histogram
//          requantize_gemmlowp requantize_rndnu gemm_s8s8 gemm_u8s8 (n = K = N, M = 4, per MAC)
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "qkern/qkern.hpp"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s <kernel> <n> <reps>\n", argv[0]);
    return 2;
  }
  const std::string k = argv[1];
  const std::size_t n = std::strtoull(argv[2], nullptr, 10), reps = std::strtoull(argv[3], nullptr, 10);
  std::mt19937 rng(1);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> x(n), y(n);
  for (auto& v : x) v = d(rng);
  std::vector<std::int8_t> q(n);
  std::vector<std::int32_t> acc(n);
  for (std::size_t i = 0; i < n; ++i) {
    q[i] = static_cast<std::int8_t>(rng());
    acc[i] = static_cast<std::int32_t>(rng() % 200001) - 100000;
  }
  using namespace qkern;
  const QuantParams div = QuantParams::make(DType::int8, 0.0123f, 3, Arithmetic::onnx());
  const QuantParams mul = QuantParams::make(DType::int8, 0.0123f, 3, Arithmetic::pytorch());
  FixedHistogram hist(-4.0f, 4.0f, 2048);
  float sink = 0.0f;
  if (k == "gemm_s8s8" || k == "gemm_u8s8") {
    const std::size_t M = 4, K = n, N = n;
    std::vector<std::int8_t> b(K * N), a(M * K);
    for (auto& v : b) v = static_cast<std::int8_t>(rng());
    for (auto& v : a) v = static_cast<std::int8_t>(rng());
    const PackedB pb(K, N, b.data(), N);
    std::vector<std::int32_t> c(M * N);
    for (std::size_t r = 0; r < reps; ++r) {
      if (k == "gemm_s8s8")
        gemm_s8s8_s32(M, a.data(), K, pb, c.data(), N);
      else
        gemm_u8s8_s32(M, reinterpret_cast<const std::uint8_t*>(a.data()), K, pb, c.data(), N);
    }
    sink += static_cast<float>(c[0]);
  } else {
    for (std::size_t r = 0; r < reps; ++r) {
      if (k == "quantize_div") {
        quantize(x.data(), q.data(), n, div);
      } else if (k == "quantize_mul") {
        quantize(x.data(), q.data(), n, mul);
      } else if (k == "dequantize") {
        dequantize(q.data(), y.data(), n, div);
      } else if (k == "fake_quantize") {
        fake_quantize(x.data(), y.data(), n, div);
      } else if (k == "minmax") {
        sink += minmax(x.data(), n).max;
      } else if (k == "absmax") {
        sink += absmax(x.data(), n).value;
      } else if (k == "histogram") {
        hist.update(x.data(), n);
      } else if (k == "requantize_gemmlowp" || k == "requantize_rndnu") {
        RequantizeParams p;
        p.scale = 0.00123;
        p.rounding = k == "requantize_rndnu" ? RequantizeRounding::rndnu : RequantizeRounding::gemmlowp;
        requantize(acc.data(), q.data(), n, p);
      } else {
        std::fprintf(stderr, "unknown kernel %s\n", k.c_str());
        return 2;
      }
    }
  }
  std::printf("arch %s sink %g q0 %d y0 %g\n", dispatch::selected_arch_name(), static_cast<double>(sink), q[0],
              static_cast<double>(y[0]));
  return 0;
}
