// qkern — SPDX-License-Identifier: Apache-2.0
//
// arch.hpp: the instruction sets qkern compiles kernels for, their names, and a run-time CPU check
// we trust (xsimd 8.1's misreads AVX on Intel and never asks the OS via XGETBV; GCC's
// __builtin_cpu_supports does both). Each x86 arch is keyed on the x86-64 psABI level whose flags the
// dispatch helper (cmake/qkernDispatch.cmake) compiles it with, so the check covers every
// instruction the compiler may emit in that translation unit. On aarch64 Linux the levels are read
// from the kernel's HWCAP words (getauxval), again covering every extension the level's -march
// enables (see simd/isa.hpp).
#pragma once

#include <cstdlib>
#include <cstring>
#include <type_traits>

#include "qkern/core/abi.hpp"
#include "qkern/simd/xsimd_compat.hpp"

#if QKERN_SIMD_NEON64 && defined(__linux__)
#include <sys/auxv.h>
#endif

namespace qkern {
namespace simd {

/// Sanitised arch name (usable in test and benchmark names): "sse2", "sse4_2", "fma3_avx2",
/// "avx512bw", "neon64", "neon64_dotprod", "neon64_i8mm", "scalar", or "other".
template <class Arch>
QKERN_ALWAYS_INLINE constexpr const char* arch_name() {
#if !QKERN_SIMD_NONE
  // Header-only kernels' tag (simd/isa.hpp) is named after the xsimd arch it stands for.
  if (std::is_same<Arch, caller_arch>::value) return arch_name<typename caller_arch::base_arch>();
#endif
  if (std::is_same<Arch, neon64_i8mm>::value) return "neon64_i8mm";
  if (std::is_same<Arch, neon64_dotprod>::value) return "neon64_dotprod";
  if (std::is_same<Arch, xsimd::neon64>::value) return "neon64";
  if (std::is_same<Arch, scalar_arch>::value) return "scalar";
  if (std::is_same<Arch, xsimd::avx512bw>::value) return "avx512bw";
  if (std::is_same<Arch, xsimd::fma3<xsimd::avx2>>::value) return "fma3_avx2";
  if (std::is_same<Arch, xsimd::avx2>::value) return "avx2";
  if (std::is_same<Arch, xsimd::sse4_2>::value) return "sse4_2";
  if (std::is_same<Arch, xsimd::sse2>::value) return "sse2";
  return "other";
}

namespace detail {

// Highest arch rank allowed by the QKERN_MAX_ARCH environment variable (testing and
// troubleshooting: QKERN_MAX_ARCH=sse2 or =neon64 forces the baseline path). Read once.
// The functions here are not templates on the arch they run in (runtime_supports<avx512bw> runs in a
// baseline caller): always inlined, so no translation unit's copy serves another (core/abi.hpp).
QKERN_ALWAYS_INLINE int max_arch_rank_of(const char* v) {
  if (v == nullptr) return 4;
  if (std::strcmp(v, "sse2") == 0 || std::strcmp(v, "neon64") == 0) return 1;
  if (std::strcmp(v, "sse4_2") == 0 || std::strcmp(v, "neon64_dotprod") == 0) return 2;
  if (std::strcmp(v, "fma3_avx2") == 0 || std::strcmp(v, "avx2") == 0 || std::strcmp(v, "neon64_i8mm") == 0) return 3;
  return 4;
}
QKERN_ALWAYS_INLINE int max_arch_rank_from_env() {
  static const int rank = max_arch_rank_of(std::getenv("QKERN_MAX_ARCH"));
  return rank;
}

template <class Arch>
constexpr int arch_rank() {
  if (std::is_base_of<neon64_i8mm, Arch>::value) return 3;
  if (std::is_base_of<neon64_dotprod, Arch>::value) return 2;
  if (std::is_base_of<xsimd::avx512bw, Arch>::value) return 4;
  if (std::is_base_of<xsimd::avx2, Arch>::value) return 3;
  if (std::is_base_of<xsimd::sse4_2, Arch>::value) return 2;
  return 1;
}

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
QKERN_ALWAYS_INLINE bool cpu_has_level(int rank) {
  __builtin_cpu_init();
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
  switch (rank) {
    case 4:
      return __builtin_cpu_supports("x86-64-v4");
    case 3:
      return __builtin_cpu_supports("x86-64-v3");
    case 2:
      return __builtin_cpu_supports("x86-64-v2");
    default:
      return true;
  }
#else
  // Feature-by-feature spelling of the same psABI levels for compilers without level names.
  const bool v2 =
      __builtin_cpu_supports("sse4.2") && __builtin_cpu_supports("popcnt") && __builtin_cpu_supports("ssse3");
  const bool v3 = v2 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                  __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2");
  const bool v4 = v3 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                  __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512cd") &&
                  __builtin_cpu_supports("avx512vl");
  switch (rank) {
    case 4:
      return v4;
    case 3:
      return v3;
    case 2:
      return v2;
    default:
      return true;
  }
#endif
}
#elif QKERN_SIMD_NEON64 && defined(__linux__)
// HWCAP bits of the Linux aarch64 ABI (arch/arm64/include/uapi/asm/hwcap.h), spelled here so that
// old libc headers do not matter. The dot-product level is compiled with -march=armv8.2-a+dotprod,
// so it also needs what Armv8.1 made mandatory and the compiler may emit (LSE atomics, RDM, CRC32).
QKERN_ALWAYS_INLINE bool cpu_has_level(int rank) {
  if (rank <= 1) return true;
#if defined(AT_HWCAP2)
  const unsigned long hw2 = getauxval(AT_HWCAP2);
#else
  const unsigned long hw2 = getauxval(26);  // AT_HWCAP2
#endif
  const unsigned long hw = getauxval(AT_HWCAP);
  constexpr unsigned long kCrc32 = 1ul << 7, kAtomics = 1ul << 8, kRdm = 1ul << 12, kDotprod = 1ul << 20;
  constexpr unsigned long kI8mm2 = 1ul << 13;  // in AT_HWCAP2
  const bool dotprod = (hw & (kCrc32 | kAtomics | kRdm | kDotprod)) == (kCrc32 | kAtomics | kRdm | kDotprod);
  if (rank == 2) return dotprod;
  return dotprod && (hw2 & kI8mm2) != 0;
}
#else
QKERN_ALWAYS_INLINE bool cpu_has_level(int rank) { return rank <= 1; }
#endif

}  // namespace detail

/// True when this CPU (and OS) can run code compiled for `Arch` with qkern's dispatch flags, and
/// QKERN_MAX_ARCH does not forbid it.
template <class Arch>
QKERN_ALWAYS_INLINE bool runtime_supports() {
  constexpr int rank = detail::arch_rank<Arch>();
  if (rank > detail::max_arch_rank_from_env()) return false;
  static const bool ok = detail::cpu_has_level(rank);
  return ok;
}

}  // namespace simd
}  // namespace qkern
