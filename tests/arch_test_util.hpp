// qkern tests — SPDX-License-Identifier: Apache-2.0
//
// arch_test_util.hpp: the per-arch test scheme. Typed suites run over every arch the test binary
// compiled (qkern_add_dispatch), skip those the CPU lacks, and compare with the scalar reference
// bit for bit. Also: random and special-value generators, sentinel-guarded buffers.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "qkern/qkern.hpp"

namespace qkern_test {

// scalar_arch: the kernels' scalar forms (kernels/scalar.hpp), which QKERN_SCALAR_KERNELS builds
// dispatch to; the only "arch" on processors without x86 or aarch64 SIMD, and of a header-only
// QKERN_FORCE_SCALAR build (whose translation units cannot compile the higher x86 levels).
#if QKERN_SCALAR_KERNELS && !defined(QKERN_DISPATCH)
using AllArchs = ::testing::Types<qkern::simd::scalar_arch>;
//
// caller_arch: the header-only kernels' tag (simd/isa.hpp), compiled in the test's own translation
// unit at its flags: sse2 in the default build, avx512bw in CI's -march=native builds, so the
// header-only path is checked against the reference at the caller's flags, not only the dispatched one.
#elif QKERN_SIMD_X86 && QKERN_SCALAR_KERNELS
using AllArchs = ::testing::Types<xsimd::sse2, xsimd::sse4_2, xsimd::fma3<xsimd::avx2>, xsimd::avx512bw,
                                  qkern::simd::caller_arch, qkern::simd::scalar_arch>;
#elif QKERN_SIMD_X86
using AllArchs =
    ::testing::Types<xsimd::sse2, xsimd::sse4_2, xsimd::fma3<xsimd::avx2>, xsimd::avx512bw, qkern::simd::caller_arch>;
#elif QKERN_SIMD_NEON64 && QKERN_SCALAR_KERNELS
using AllArchs = ::testing::Types<xsimd::neon64, qkern::simd::neon64_dotprod, qkern::simd::neon64_i8mm,
                                  qkern::simd::caller_arch, qkern::simd::scalar_arch>;
#elif QKERN_SIMD_NEON64
using AllArchs =
    ::testing::Types<xsimd::neon64, qkern::simd::neon64_dotprod, qkern::simd::neon64_i8mm, qkern::simd::caller_arch>;
#endif

struct ArchNames {
  template <class A>
  static std::string GetName(int) {
#if !QKERN_SIMD_NONE
    if (std::is_same<A, qkern::simd::caller_arch>::value) return std::string("caller_") + qkern::simd::arch_name<A>();
#endif
    return qkern::simd::arch_name<A>();
  }
};

/// The kernel K compiled for arch A, as a plain function pointer.
template <class K, class A>
constexpr auto kernel_for = &qkern::dispatch::ArchKernel<K, A>::run;

#define QKERN_SKIP_UNLESS_CPU_RUNS(A)                                                                          \
  do {                                                                                                         \
    if (!qkern::simd::runtime_supports<A>()) GTEST_SKIP() << "CPU cannot run " << qkern::simd::arch_name<A>(); \
  } while (0)

inline std::uint32_t bits_of(float f) {
  std::uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}
inline float from_bits(std::uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}

/// Special float values: signed zeros, infinities, NaNs (quiet, signalling, payloads, negative),
/// denormals, extremes, and values whose quotient by any test scale exceeds 2^31.
inline std::vector<float> special_floats() {
  const float inf = std::numeric_limits<float>::infinity();
  return {0.0f,
          -0.0f,
          inf,
          -inf,
          from_bits(0x7fc00000u),  // quiet NaN
          from_bits(0xffc00000u),  // negative quiet NaN
          from_bits(0x7f800001u),  // signalling NaN
          from_bits(0x7fbfffffu),  // signalling NaN, full payload
          std::numeric_limits<float>::denorm_min(),
          -std::numeric_limits<float>::denorm_min(),
          from_bits(0x007fffffu),  // largest denormal
          std::numeric_limits<float>::min(),
          std::numeric_limits<float>::max(),
          -std::numeric_limits<float>::max(),
          3.0e9f,
          -3.0e9f,
          2147483648.0f,
          -2147483648.0f,
          1.0e20f,
          -1.0e20f};
}

/// Buffer with `pad` sentinel elements on both sides, data starting `offset` elements past an
/// aligned boundary (misaligned pointers), to check nothing is written outside [0, n).
template <class T>
class GuardedBuffer {
 public:
  GuardedBuffer(std::size_t n, std::size_t offset, T sentinel) : n_(n), offset_(offset), sentinel_(sentinel) {
    storage_.assign(kPad + offset + n + kPad, sentinel);
  }
  T* data() { return storage_.data() + kPad + offset_; }
  const T* data() const { return storage_.data() + kPad + offset_; }
  T& operator[](std::size_t i) { return data()[i]; }
  /// True when every element outside [0, n) still holds the sentinel (compared bitwise).
  bool guards_intact() const {
    for (std::size_t i = 0; i < storage_.size(); ++i) {
      if (i >= kPad + offset_ && i < kPad + offset_ + n_) continue;
      if (std::memcmp(&storage_[i], &sentinel_, sizeof(T)) != 0) return false;
    }
    return true;
  }

 private:
  static constexpr std::size_t kPad = 64;
  std::size_t n_, offset_;
  T sentinel_;
  std::vector<T> storage_;
};

/// Bitwise equality of two arrays, reporting the first mismatch with its index and inputs.
template <class T, class In>
::testing::AssertionResult bitwise_equal(const T* got, const T* want, std::size_t n, const In* input) {
  for (std::size_t i = 0; i < n; ++i) {
    if (std::memcmp(&got[i], &want[i], sizeof(T)) != 0) {
      return ::testing::AssertionFailure() << "at index " << i << " of " << n << ": input " << +input[i] << " got "
                                           << +got[i] << " want " << +want[i];
    }
  }
  return ::testing::AssertionSuccess();
}

inline std::vector<float> random_floats(std::mt19937& rng, std::size_t n, float spread) {
  std::normal_distribution<float> d(0.0f, spread);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

}  // namespace qkern_test
