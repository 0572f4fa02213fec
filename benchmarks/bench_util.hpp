// qkern benchmarks — SPDX-License-Identifier: Apache-2.0
//
// bench_util.hpp: what every benchmarks/bench_*.cpp shares: a same-run memory roofline per access
// pattern, the counters every kernel reports, per-arch registration and preallocated buffers.
//
// How to use it in a new bench_<family>.cpp (all names in namespace qkern_bench):
//
//   * Buffers: `input_f32(n)`, `output_f32(n)`, `codes<Q>(n)` return 64-byte aligned, prefaulted
//     buffers of n elements that live for the whole process and are shared by every benchmark of
//     that size (the roofline uses the very same buffers). Kernels never page-fault inside the
//     timed loop: "outputs preallocated" is part of every label. `input_f32` holds finite values,
//     roughly uniform in [-8, 8).
//   * Roofline: `roofline_bytes_per_second(Pattern, elements)` is the better of ordinary and
//     streaming (non-temporal) stores for that access pattern on buffers of `elements` elements,
//     measured in this process (median of several timed passes), cached, and re-measured when older
//     than QKERN_BENCH_ROOFLINE_MAX_AGE seconds (default 5, wall clock), so a DRAM-sized kernel is compared with
//     a roofline taken seconds away from it (DRAM bandwidth drifts by 10-15% over minutes on a
//     shared host). Patterns name the bytes moved per element: Pattern::read4_write1 is a f32 ->
//     int8 map, and so on. A kernel that moves different traffic picks the closest pattern.
//   * Pairing: `pair_roofline(state, pattern, elements)` as the last statement of a timed loop runs
//     one roofline pass (timer paused) after each kernel pass on DRAM-sized data, and report()
//     then divides by those passes: kernel and roofline alternate, so a drifting host cancels out.
//     `pair_read_roofline(state, x, n)` does the same for a read-only kernel with a read pass over
//     the kernel's own input x instead of the shared buffers.
//   * Counters: call `report(state, pattern, elements_per_call)` after the timed loop: it sets
//     items/s and bytes/s (bytes = elements * the pattern's read + write bytes, the useful traffic)
//     and `roofline` = the kernel's bytes/s divided by the same-run roofline of its pattern.
//   * Arches: `for_each_runnable_arch([&](auto arch) { using A = decltype(arch); ... })` visits every
//     arch compiled into qkern_bench (qkern_add_dispatch) that this CPU runs (QKERN_MAX_ARCH caps
//     it), best first; `kernel_fn<K, A>` is kernel K compiled for A; `arch_label<A>()` the label.
//     Register with `register_sizes(name, fn)` (arguments N = kSizes, real time) inside a
//     `QKERN_BENCH_REGISTER(function)` block.
//   * Clock: real time by default; QKERN_BENCH_CLOCK=cpu times kernels and rooflines alike in
//     thread CPU time, for hosts where other processes compete for the cores.
//
// Naming: <kernel>/<layout>/<arch>/N:<elements>, e.g. f32_s8_quantize/nchw/fma3_avx2/N:67108864, so
// `--benchmark_filter='quantize.*/fma3_avx2/N:67108864'` selects one arch at the DRAM size.
#pragma once

#include <benchmark/benchmark.h>
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "qkern/qkern.hpp"

namespace qkern_bench {

/// Sizes in elements: in L1 (32 KiB of f32), in L2 (256 KiB) and far beyond L3 (256 MiB).
inline constexpr std::int64_t kSizes[] = {8 << 10, 64 << 10, 64 << 20};

// ---------------------------------------------------------------------------------------------
// Preallocated buffers

enum class Role { input_f32, output_f32, codes8, codes16, scratch };

namespace detail {
struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};

inline void fill_input(float* x, std::size_t n) {
  std::uint64_t s = 0x9e3779b97f4a7c15ull;
  for (std::size_t i = 0; i < n; ++i) {
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;  // xorshift64: fast enough for 64 Mi values
    x[i] = static_cast<float>(static_cast<std::int32_t>(s >> 32)) * (8.0f / 2147483648.0f);
  }
}
}  // namespace detail

/// A 64-byte aligned buffer of `bytes` bytes for `role`, allocated and written once (prefaulted),
/// then shared by every caller asking for the same role and size for the rest of the process.
inline void* buffer(Role role, std::size_t bytes) {
  static std::map<std::pair<int, std::size_t>, std::unique_ptr<void, detail::FreeDeleter>> pool;
  auto& slot = pool[{static_cast<int>(role), bytes}];
  if (!slot) {
    const std::size_t rounded = (bytes + 63) / 64 * 64 + 64;
    void* p = std::aligned_alloc(64, rounded);
    if (p == nullptr) throw std::bad_alloc();
    slot.reset(p);
    if (role == Role::input_f32)
      detail::fill_input(static_cast<float*>(p), bytes / sizeof(float));
    else {
      auto* b = static_cast<unsigned char*>(p);
      for (std::size_t i = 0; i < rounded; ++i) b[i] = static_cast<unsigned char>(i * 131 + 7);
    }
  }
  return slot.get();
}

inline const float* input_f32(std::size_t n) { return static_cast<const float*>(buffer(Role::input_f32, n * 4)); }
inline float* output_f32(std::size_t n) { return static_cast<float*>(buffer(Role::output_f32, n * 4)); }
/// Code buffer of n elements of Q; 8-bit and 16-bit types share one buffer per width.
template <class Q>
inline Q* codes(std::size_t n) {
  static_assert(sizeof(Q) == 1 || sizeof(Q) == 2, "codes<Q>: 8- or 16-bit codes");
  return static_cast<Q*>(buffer(sizeof(Q) == 1 ? Role::codes8 : Role::codes16, n * sizeof(Q)));
}

// ---------------------------------------------------------------------------------------------
// Roofline patterns

/// Memory access patterns: bytes read and written per element.
enum class Pattern { read4, read4_write1, read1_write4, read4_write4, read4_write2, read2_write4 };
enum class StoreKind { ordinary, streaming };

struct PatternInfo {
  const char* name;
  std::size_t read_bytes, write_bytes;
  std::size_t bytes() const { return read_bytes + write_bytes; }
};

inline PatternInfo pattern_info(Pattern p) {
  switch (p) {
    case Pattern::read4:
      return {"read4", 4, 0};
    case Pattern::read4_write1:
      return {"read4_write1", 4, 1};
    case Pattern::read1_write4:
      return {"read1_write4", 1, 4};
    case Pattern::read4_write4:
      return {"read4_write4", 4, 4};
    case Pattern::read4_write2:
      return {"read4_write2", 4, 2};
    case Pattern::read2_write4:
      return {"read2_write4", 2, 4};
  }
  return {"?", 0, 0};
}

inline const std::vector<Pattern>& all_patterns() {
  static const std::vector<Pattern> p = {Pattern::read4,        Pattern::read4_write1, Pattern::read1_write4,
                                         Pattern::read4_write4, Pattern::read4_write2, Pattern::read2_write4};
  return p;
}

namespace detail {

// The pattern loops: plain data movement with the narrowing/widening a kernel of that pattern needs
// at least (packs / sign extension), 64 elements per iteration; n is a multiple of 64 and every
// pointer 64-byte aligned (the buffers above), except for the read4 loops, which also read a
// kernel's own input (pair_read_roofline) and so load unaligned (free on aligned data). AVX2 when the CPU has it
// (256-bit accesses read DRAM as fast as 512-bit ones on the machines measured), else SSE2.
#define QKERN_BENCH_AVX2 __attribute__((target("avx2")))

template <bool NT>
QKERN_BENCH_AVX2 inline void st256(void* p, __m256i v) {
  if (NT)
    _mm256_stream_si256(static_cast<__m256i*>(p), v);
  else
    _mm256_store_si256(static_cast<__m256i*>(p), v);
}
QKERN_BENCH_AVX2 inline __m256i ld256(const void* p) { return _mm256_load_si256(static_cast<const __m256i*>(p)); }

QKERN_BENCH_AVX2 inline float avx2_read4(const float* x, std::size_t n) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  for (std::size_t i = 0; i < n; i += 32) {
    a0 = _mm256_add_ps(a0, _mm256_loadu_ps(x + i));
    a1 = _mm256_add_ps(a1, _mm256_loadu_ps(x + i + 8));
    a2 = _mm256_add_ps(a2, _mm256_loadu_ps(x + i + 16));
    a3 = _mm256_add_ps(a3, _mm256_loadu_ps(x + i + 24));
  }
  alignas(32) float l[8];
  _mm256_store_ps(l, _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  return l[0] + l[1] + l[2] + l[3] + l[4] + l[5] + l[6] + l[7];
}

template <bool NT>
QKERN_BENCH_AVX2 inline void avx2_read4_write1(const float* x, std::uint8_t* y, std::size_t n) {
  for (std::size_t i = 0; i < n; i += 32) {
    const __m256i ab = _mm256_packs_epi32(ld256(x + i), ld256(x + i + 8));
    const __m256i cd = _mm256_packs_epi32(ld256(x + i + 16), ld256(x + i + 24));
    st256<NT>(y + i, _mm256_packs_epi16(ab, cd));
  }
}

template <bool NT>
QKERN_BENCH_AVX2 inline void avx2_read4_write2(const float* x, std::uint16_t* y, std::size_t n) {
  for (std::size_t i = 0; i < n; i += 32) {
    st256<NT>(y + i, _mm256_packs_epi32(ld256(x + i), ld256(x + i + 8)));
    st256<NT>(y + i + 16, _mm256_packs_epi32(ld256(x + i + 16), ld256(x + i + 24)));
  }
}

template <bool NT>
QKERN_BENCH_AVX2 inline void avx2_read4_write4(const float* x, float* y, std::size_t n) {
  for (std::size_t i = 0; i < n; i += 32)
    for (std::size_t j = 0; j < 32; j += 8) st256<NT>(y + i + j, ld256(x + i + j));
}

template <bool NT>
QKERN_BENCH_AVX2 inline void avx2_read1_write4(const std::uint8_t* x, float* y, std::size_t n) {
  for (std::size_t i = 0; i < n; i += 32)
    for (std::size_t j = 0; j < 32; j += 8)
      st256<NT>(y + i + j, _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(x + i + j))));
}

template <bool NT>
QKERN_BENCH_AVX2 inline void avx2_read2_write4(const std::uint16_t* x, float* y, std::size_t n) {
  for (std::size_t i = 0; i < n; i += 32)
    for (std::size_t j = 0; j < 32; j += 8)
      st256<NT>(y + i + j, _mm256_cvtepi16_epi32(_mm_load_si128(reinterpret_cast<const __m128i*>(x + i + j))));
}

template <bool NT>
inline void st128(void* p, __m128i v) {
  if (NT)
    _mm_stream_si128(static_cast<__m128i*>(p), v);
  else
    _mm_store_si128(static_cast<__m128i*>(p), v);
}
inline __m128i ld128(const void* p) { return _mm_load_si128(static_cast<const __m128i*>(p)); }

inline float sse2_read4(const float* x, std::size_t n) {
  __m128 a0 = _mm_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  for (std::size_t i = 0; i < n; i += 16) {
    a0 = _mm_add_ps(a0, _mm_loadu_ps(x + i));
    a1 = _mm_add_ps(a1, _mm_loadu_ps(x + i + 4));
    a2 = _mm_add_ps(a2, _mm_loadu_ps(x + i + 8));
    a3 = _mm_add_ps(a3, _mm_loadu_ps(x + i + 12));
  }
  alignas(16) float l[4];
  _mm_store_ps(l, _mm_add_ps(_mm_add_ps(a0, a1), _mm_add_ps(a2, a3)));
  return l[0] + l[1] + l[2] + l[3];
}

template <bool NT>
inline void sse2_read4_write1(const float* x, std::uint8_t* y, std::size_t n) {
  for (std::size_t i = 0; i < n; i += 16) {
    const __m128i ab = _mm_packs_epi32(ld128(x + i), ld128(x + i + 4));
    const __m128i cd = _mm_packs_epi32(ld128(x + i + 8), ld128(x + i + 12));
    st128<NT>(y + i, _mm_packs_epi16(ab, cd));
  }
}
template <bool NT>
inline void sse2_read4_write2(const float* x, std::uint16_t* y, std::size_t n) {
  for (std::size_t i = 0; i < n; i += 8) st128<NT>(y + i, _mm_packs_epi32(ld128(x + i), ld128(x + i + 4)));
}
template <bool NT>
inline void sse2_read4_write4(const float* x, float* y, std::size_t n) {
  for (std::size_t i = 0; i < n; i += 4) st128<NT>(y + i, ld128(x + i));
}
template <bool NT>
inline void sse2_read1_write4(const std::uint8_t* x, float* y, std::size_t n) {
  for (std::size_t i = 0; i < n; i += 16) {
    const __m128i b = ld128(x + i);
    const __m128i lo = _mm_unpacklo_epi8(b, b), hi = _mm_unpackhi_epi8(b, b);
    st128<NT>(y + i, _mm_srai_epi32(_mm_unpacklo_epi16(lo, lo), 24));
    st128<NT>(y + i + 4, _mm_srai_epi32(_mm_unpackhi_epi16(lo, lo), 24));
    st128<NT>(y + i + 8, _mm_srai_epi32(_mm_unpacklo_epi16(hi, hi), 24));
    st128<NT>(y + i + 12, _mm_srai_epi32(_mm_unpackhi_epi16(hi, hi), 24));
  }
}
template <bool NT>
inline void sse2_read2_write4(const std::uint16_t* x, float* y, std::size_t n) {
  for (std::size_t i = 0; i < n; i += 8) {
    const __m128i w = ld128(x + i);
    st128<NT>(y + i, _mm_srai_epi32(_mm_unpacklo_epi16(w, w), 16));
    st128<NT>(y + i + 4, _mm_srai_epi32(_mm_unpackhi_epi16(w, w), 16));
  }
}

inline bool cpu_has_avx2() {
  static const bool ok = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0;
  }();
  return ok;
}

// The read-only pattern on any float buffer (AVX2 when the CPU has it).
inline float read4(const float* x, std::size_t n) { return cpu_has_avx2() ? avx2_read4(x, n) : sse2_read4(x, n); }

template <bool NT>
inline float run_pattern_as(Pattern p, std::size_t n) {
  const float* xf = input_f32(n);
  float* yf = output_f32(n);
  auto* c8 = codes<std::uint8_t>(n);
  auto* c16 = codes<std::uint16_t>(n);
  const bool avx2 = cpu_has_avx2();
  float sum = 0;
  switch (p) {
    case Pattern::read4:
      sum = read4(xf, n);
      break;
    case Pattern::read4_write1:
      avx2 ? avx2_read4_write1<NT>(xf, c8, n) : sse2_read4_write1<NT>(xf, c8, n);
      break;
    case Pattern::read1_write4:
      avx2 ? avx2_read1_write4<NT>(c8, yf, n) : sse2_read1_write4<NT>(c8, yf, n);
      break;
    case Pattern::read4_write4:
      avx2 ? avx2_read4_write4<NT>(xf, yf, n) : sse2_read4_write4<NT>(xf, yf, n);
      break;
    case Pattern::read4_write2:
      avx2 ? avx2_read4_write2<NT>(xf, c16, n) : sse2_read4_write2<NT>(xf, c16, n);
      break;
    case Pattern::read2_write4:
      avx2 ? avx2_read2_write4<NT>(c16, yf, n) : sse2_read2_write4<NT>(c16, yf, n);
      break;
  }
  if (NT) _mm_sfence();
  return sum;
}

}  // namespace detail

/// One pass of `pattern` over the shared buffers of n elements (n a multiple of 64).
inline void run_pattern(Pattern p, StoreKind k, std::size_t n) {
  float sum = k == StoreKind::streaming ? detail::run_pattern_as<true>(p, n) : detail::run_pattern_as<false>(p, n);
  benchmark::DoNotOptimize(sum);
  benchmark::ClobberMemory();
}

/// True when QKERN_BENCH_CLOCK=cpu: benchmarks and rooflines are then timed in this thread's CPU
/// time instead of real time. For hosts shared with other work, where real time counts the time
/// the thread waits for a core (a memory-bound loop still counts its memory stalls as CPU time).
inline bool use_cpu_clock() {
  static const bool cpu = [] {
    const char* v = std::getenv("QKERN_BENCH_CLOCK");
    return v != nullptr && std::strcmp(v, "cpu") == 0;
  }();
  return cpu;
}

/// Seconds on the clock benchmarks are timed with (see use_cpu_clock).
inline double bench_clock_seconds() {
  timespec ts;
  clock_gettime(use_cpu_clock() ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

/// Bytes/s of `pattern` with store kind `k` on n elements, measured now: the median of 7 samples,
/// each long enough (>= 2 ms, at least one pass) to be timed reliably, after a warm-up pass.
inline double measure_pattern(Pattern p, StoreKind k, std::size_t n) {
  run_pattern(p, k, n);
  std::size_t reps = 1;
  for (;;) {
    const double t0 = bench_clock_seconds();
    for (std::size_t r = 0; r < reps; ++r) run_pattern(p, k, n);
    if (bench_clock_seconds() - t0 >= 2e-3) break;
    reps *= 2;
  }
  std::vector<double> rates;
  for (int sample = 0; sample < 7; ++sample) {
    const double t0 = bench_clock_seconds();
    for (std::size_t r = 0; r < reps; ++r) run_pattern(p, k, n);
    const double s = bench_clock_seconds() - t0;
    rates.push_back(static_cast<double>(reps * n * pattern_info(p).bytes()) / s);
  }
  std::nth_element(rates.begin(), rates.begin() + 3, rates.end());
  return rates[3];
}

namespace detail {
struct RooflineEntry {
  double rate;
  StoreKind kind;
  std::chrono::steady_clock::time_point when;
};
inline const RooflineEntry& roofline_entry(Pattern p, std::size_t n) {
  static std::map<std::pair<int, std::size_t>, RooflineEntry> cache;
  static const double max_age = [] {
    const char* v = std::getenv("QKERN_BENCH_ROOFLINE_MAX_AGE");
    return v ? std::atof(v) : 5.0;
  }();
  const auto now = std::chrono::steady_clock::now();
  auto it = cache.find({static_cast<int>(p), n});
  if (it != cache.end() && std::chrono::duration<double>(now - it->second.when).count() <= max_age) return it->second;
  RooflineEntry e{measure_pattern(p, StoreKind::ordinary, n), StoreKind::ordinary, {}};
  if (pattern_info(p).write_bytes != 0) {
    const double streaming = measure_pattern(p, StoreKind::streaming, n);
    if (streaming > e.rate) e = {streaming, StoreKind::streaming, {}};
  }
  e.when = std::chrono::steady_clock::now();
  return cache[{static_cast<int>(p), n}] = e;
}

// Paired roofline passes per running benchmark (see pair_roofline).
struct PairedPasses {
  double seconds = 0;
  std::size_t passes = 0;
};
inline std::map<const benchmark::State*, PairedPasses>& paired_passes() {
  static std::map<const benchmark::State*, PairedPasses> m;
  return m;
}
}  // namespace detail

/// The same-run roofline of `pattern` on n elements in bytes/s: the better of ordinary and
/// streaming stores (a read-only pattern has one kind). Cached; re-measured when older than
/// QKERN_BENCH_ROOFLINE_MAX_AGE seconds (default 5).
inline double roofline_bytes_per_second(Pattern p, std::size_t n) { return detail::roofline_entry(p, n).rate; }

/// Runs f() with st's timer paused and returns its seconds on the benchmark clock: for a reference
/// pass timed next to each kernel pass (the paired rooflines below, increment floors).
template <class F>
inline double paused_seconds(benchmark::State& st, F&& f) {
  st.PauseTiming();
  const double t0 = bench_clock_seconds();
  f();
  const double s = bench_clock_seconds() - t0;
  st.ResumeTiming();
  return s;
}

namespace detail {
inline void add_paired_pass(const benchmark::State& st, double seconds) {
  auto& pp = paired_passes()[&st];
  pp.seconds += seconds;
  ++pp.passes;
}
}  // namespace detail

/// Bytes (input + output) from which a benchmark pairs each kernel pass with a roofline pass:
/// DRAM-sized data (beyond a 32 MiB last-level cache).
inline constexpr std::size_t kPairedMinBytes = std::size_t{64} << 20;

/// Call as the last statement of the timed loop. On DRAM-sized data it runs one pass of `pattern`
/// (with the store kind that won the cached measurement) right after each kernel pass, timed
/// apart with the timer paused, so the kernel and its roofline alternate pass by pass and see the
/// same state of a shared host's memory system; report() then divides by these passes instead of
/// the cached roofline. Smaller sizes do nothing (the pause would cost more than the pass).
inline void pair_roofline(benchmark::State& st, Pattern p, std::size_t elements) {
  if (elements * pattern_info(p).bytes() < kPairedMinBytes) return;
  st.PauseTiming();  // looking up the store kind may measure the roofline (seconds): never timed
  const StoreKind kind = detail::roofline_entry(p, elements).kind;
  st.ResumeTiming();
  detail::add_paired_pass(st, paused_seconds(st, [&] { run_pattern(p, kind, elements); }));
}

/// As pair_roofline(st, Pattern::read4, n) for a read-only kernel, except that the roofline pass
/// reads the kernel's own input x[0, n) (n a multiple of 64) rather than the shared buffers. Why:
/// two DRAM-sized buffers of one process can read at different rates on this VM (a plain read
/// loop measured 5-18 % apart on a std::vector and an aligned_alloc block of 103 M floats), so a
/// kernel reading its own buffer is compared with reading that buffer. report / roofline_for then
/// use these passes as usual (pattern read4, n elements).
inline void pair_read_roofline(benchmark::State& st, const float* x, std::size_t n) {
  detail::add_paired_pass(st, paused_seconds(st, [&] {
                            float sum = detail::read4(x, n);
                            benchmark::DoNotOptimize(sum);
                            benchmark::ClobberMemory();
                          }));
}

/// The roofline (bytes/s) of `pattern` on `elements` elements for the benchmark running in st: its
/// paired passes when pair_roofline ran (and forgets them), else roofline_bytes_per_second.
inline double roofline_for(benchmark::State& st, Pattern p, std::size_t elements) {
  double roof = roofline_bytes_per_second(p, elements);
  auto& paired = detail::paired_passes();
  auto it = paired.find(&st);
  if (it != paired.end()) {
    if (it->second.passes != 0)
      roof = static_cast<double>(it->second.passes) * static_cast<double>(elements) *
             static_cast<double>(pattern_info(p).bytes()) / it->second.seconds;
    paired.erase(it);
  }
  return roof;
}

/// Sets items/s, bytes/s (elements x the pattern's bytes per element) and `roofline` (the kernel's
/// bytes/s over roofline_for(st, pattern, elements)). Call after the timed loop.
inline void report(benchmark::State& st, Pattern p, std::size_t elements) {
  const double items = static_cast<double>(st.iterations()) * static_cast<double>(elements);
  const double bytes = items * static_cast<double>(pattern_info(p).bytes());
  st.SetItemsProcessed(static_cast<std::int64_t>(items));
  st.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  st.counters["roofline"] = benchmark::Counter(bytes / roofline_for(st, p, elements), benchmark::Counter::kIsRate);
}

// ---------------------------------------------------------------------------------------------
// Arches and registration

/// Kernel K compiled for arch A (the dispatch TU's explicit instantiation).
template <class K, class A>
constexpr auto kernel_fn = &qkern::dispatch::ArchKernel<K, A>::run;

template <class A>
inline std::string arch_label() {
  return std::string(qkern::simd::arch_name<A>()) + ", outputs preallocated";
}

namespace detail {
template <class F>
inline void each_arch(qkern::dispatch::ArchList<void>, F&) {}
template <class A, class... Rest, class F>
inline void each_arch(qkern::dispatch::ArchList<A, Rest...>, F& f) {
  if (qkern::simd::runtime_supports<A>()) f(A{});
  each_arch(qkern::dispatch::ArchList<Rest...>{}, f);
}
}  // namespace detail

/// Calls f(A{}) for every arch compiled into the binary that this CPU runs, best first.
template <class F>
inline void for_each_runnable_arch(F&& f) {
#if defined(QKERN_DISPATCH)
  detail::each_arch(qkern::dispatch::DispatchArchs{}, f);
#else
  f(xsimd::default_arch{});
#endif
}

/// For BENCHMARK(...)->Apply(qkern_bench::bench_clock): real time, or the benchmark thread's CPU
/// time with QKERN_BENCH_CLOCK=cpu, the clock the same-run roofline is measured with.
inline void bench_clock(benchmark::internal::Benchmark* b) {
  if (!use_cpu_clock()) b->UseRealTime();
}

/// Registers fn(state) as `name` over kSizes (ArgName N), timed in real time (CPU time with
/// QKERN_BENCH_CLOCK=cpu).
template <class Fn>
inline benchmark::internal::Benchmark* register_sizes(const std::string& name, Fn&& fn) {
  auto* b = benchmark::RegisterBenchmark(name.c_str(), std::forward<Fn>(fn));
  b->ArgName("N")->Unit(benchmark::kMicrosecond);
  bench_clock(b);
  for (auto n : kSizes) b->Arg(n);
  return b;
}

}  // namespace qkern_bench

/// Runs `function` once at start-up (static initialisation), to register benchmarks.
#define QKERN_BENCH_REGISTER(function) \
  static const bool QKERN_BENCH_CONCAT(qkern_bench_registered_, __LINE__) = ((function)(), true)
#define QKERN_BENCH_CONCAT(a, b) QKERN_BENCH_CONCAT_(a, b)
#define QKERN_BENCH_CONCAT_(a, b) a##b
