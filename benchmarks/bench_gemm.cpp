// qkern benchmarks — SPDX-License-Identifier: Apache-2.0
//
// bench_gemm.cpp: integer GEMM throughput in GOP/s (2 * M * N * K operations per call, B packed
// outside the timed loop), next to a same-run estimate of this machine's int8 multiply-add peak: a
// register-only loop of independent vpmaddwd + vpaddd (the instructions of the exact path, 16
// int8-valued multiply-adds each on 256 bits) and of vpmaddubsw (32, saturating), and on AVX-512
// VNNI machines of vpdpbusd (64).
#include <benchmark/benchmark.h>
#include <immintrin.h>

#include <cstdint>
#include <random>
#include <vector>

#include "qkern/qkern.hpp"

namespace {

using namespace qkern;

template <class TA>
void BM_gemm(benchmark::State& state) {
  const std::size_t M = std::size_t(state.range(0)), N = std::size_t(state.range(1)), K = std::size_t(state.range(2));
  std::mt19937 rng(1);
  std::uniform_int_distribution<int> d(-128, 127);
  std::vector<TA> a(M * K);
  std::vector<std::int8_t> b(K * N);
  for (auto& v : a) v = TA(d(rng));
  for (auto& v : b) v = std::int8_t(d(rng));
  const PackedB packed(K, N, b.data(), N);
  std::vector<std::int32_t> c(M * N);
  for (auto _ : state) {
    if constexpr (std::is_same<TA, std::int8_t>::value)
      gemm_s8s8_s32(M, a.data(), K, packed, c.data(), N);
    else
      gemm_u8s8_s32(M, a.data(), K, packed, c.data(), N);
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  state.counters["GOP/s"] =
      benchmark::Counter(2.0 * double(M) * double(N) * double(K) * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(dispatch::selected_arch_name());
}

// Square 256^3 and a ResNet-style 1x1 convolution (56x56 pixels, 64 -> 256 channels).
BENCHMARK_TEMPLATE(BM_gemm, std::int8_t)->Args({256, 256, 256})->Args({3136, 256, 64})->Unit(benchmark::kMicrosecond);
BENCHMARK_TEMPLATE(BM_gemm, std::uint8_t)->Args({256, 256, 256})->Args({3136, 256, 64})->Unit(benchmark::kMicrosecond);

// Peak estimates: 8 independent accumulator chains, nothing but the multiply-add instructions.
constexpr int kUnroll = 8;

__attribute__((target("avx2"))) __attribute__((noinline)) std::int32_t madd_loop(long iters) {
  __m256i acc[kUnroll];
  __m256i a = _mm256_set1_epi16(3), b = _mm256_set1_epi16(5);
  for (int i = 0; i < kUnroll; ++i) acc[i] = _mm256_setzero_si256();
  for (long it = 0; it < iters; ++it) {
    for (int i = 0; i < kUnroll; ++i) acc[i] = _mm256_add_epi32(acc[i], _mm256_madd_epi16(a, b));
    __asm__ volatile("" : "+x"(a), "+x"(b));  // keep the products from being hoisted
  }
  __m256i s = acc[0];
  for (int i = 1; i < kUnroll; ++i) s = _mm256_add_epi32(s, acc[i]);
  return _mm256_extract_epi32(s, 0);
}

__attribute__((target("avx2"))) __attribute__((noinline)) std::int32_t maddubs_loop(long iters) {
  __m256i acc[kUnroll];
  __m256i a = _mm256_set1_epi8(3), b = _mm256_set1_epi8(5), one = _mm256_set1_epi16(1);
  for (int i = 0; i < kUnroll; ++i) acc[i] = _mm256_setzero_si256();
  for (long it = 0; it < iters; ++it) {
    for (int i = 0; i < kUnroll; ++i)
      acc[i] = _mm256_add_epi32(acc[i], _mm256_madd_epi16(_mm256_maddubs_epi16(a, b), one));
    __asm__ volatile("" : "+x"(a), "+x"(b));
  }
  __m256i s = acc[0];
  for (int i = 1; i < kUnroll; ++i) s = _mm256_add_epi32(s, acc[i]);
  return _mm256_extract_epi32(s, 0);
}

// GCC 12's AVX-512 headers trip -Wuninitialized on their own _mm256_undefined_si256().
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
__attribute__((target("avx512f,avx512bw,avx512vnni"))) __attribute__((noinline)) std::int32_t dpbusd_loop(long iters) {
  __m512i acc[kUnroll];
  __m512i a = _mm512_set1_epi8(3), b = _mm512_set1_epi8(5);
  for (int i = 0; i < kUnroll; ++i) acc[i] = _mm512_setzero_si512();
  for (long it = 0; it < iters; ++it) {
    for (int i = 0; i < kUnroll; ++i) acc[i] = _mm512_dpbusd_epi32(acc[i], a, b);
    __asm__ volatile("" : "+v"(a), "+v"(b));
  }
  __m512i s = acc[0];
  for (int i = 1; i < kUnroll; ++i) s = _mm512_add_epi32(s, acc[i]);
  return _mm_cvtsi128_si32(_mm512_castsi512_si128(s));
}
#pragma GCC diagnostic pop

// ops per instruction group: vpmaddwd ymm = 16 multiply-adds = 32 ops; vpmaddubsw ymm = 32
// multiply-adds = 64 ops; vpdpbusd zmm = 64 multiply-adds = 128 ops.
void BM_peak(benchmark::State& state) {
  const int which = int(state.range(0));
  __builtin_cpu_init();
  if (which < 2 && !__builtin_cpu_supports("avx2")) return state.SkipWithError("no AVX2");
  if (which == 2 && !__builtin_cpu_supports("avx512vnni")) return state.SkipWithError("no AVX512-VNNI");
  const long iters = 1 << 20;
  for (auto _ : state) {
    const std::int32_t r = which == 0 ? madd_loop(iters) : which == 1 ? maddubs_loop(iters) : dpbusd_loop(iters);
    benchmark::DoNotOptimize(r);
  }
  const double ops_per_group = which == 0 ? 32.0 : which == 1 ? 64.0 : 128.0;
  state.counters["GOP/s"] =
      benchmark::Counter(double(iters) * kUnroll * ops_per_group * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(which == 0   ? "vpmaddwd ymm (exact path)"
                 : which == 1 ? "vpmaddubsw ymm (saturating)"
                              : "vpdpbusd zmm");
}
BENCHMARK(BM_peak)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond);

}  // namespace
