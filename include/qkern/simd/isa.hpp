// qkern — SPDX-License-Identifier: Apache-2.0
//
// isa.hpp: which instruction-set family this translation unit targets, and qkern's own aarch64 arch
// tags for the levels xsimd 8.1 does not name.
//
// Exactly one of these is 1:
// * QKERN_SIMD_X86: x86-64 (or i386 with SSE2). Only here may qkern code include <immintrin.h> or
//   name an x86 type or intrinsic.
// * QKERN_SIMD_NEON64: aarch64 with Advanced SIMD (xsimd::neon64). Only here may qkern code include
//   <arm_neon.h>.
// * QKERN_SIMD_NONE: anything else (riscv64, ppc64le, s390x, 32-bit ARM, ...): no vector kernels;
//   every public function runs the scalar reference (simd/dispatch.hpp).
//
// aarch64 levels (each a tag deriving from the one below, so every xsimd neon64 kernel applies):
//   xsimd::neon64             baseline Advanced SIMD (every aarch64 CPU)
//   qkern::simd::neon64_dotprod  + SDOT/UDOT (Armv8.2 dot product: Cortex-A55/A75 and later, Apple M1)
//   qkern::simd::neon64_i8mm     + USDOT/SMMLA (Armv8.6 int8 matrix multiply: Cortex-A510/A710/X2,
//                                Neoverse V1/N2, Apple M2)
// The dispatch helper compiles them with -march=armv8-a, armv8.2-a+dotprod and armv8.2-a+dotprod+i8mm;
// simd/arch.hpp checks the matching HWCAP bits at run time.
#pragma once

#if defined(__x86_64__) || defined(_M_X64) || ((defined(__i386__) || defined(_M_IX86)) && defined(__SSE2__))
#define QKERN_SIMD_X86 1
#define QKERN_SIMD_NEON64 0
#define QKERN_SIMD_NONE 0
#elif defined(__aarch64__) && (defined(__ARM_NEON) || defined(__ARM_NEON__))
#define QKERN_SIMD_X86 0
#define QKERN_SIMD_NEON64 1
#define QKERN_SIMD_NONE 0
#else
#define QKERN_SIMD_X86 0
#define QKERN_SIMD_NEON64 0
#define QKERN_SIMD_NONE 1
#endif

// QKERN_SCALAR_KERNELS: every public function runs the scalar reference of its kernel
// (kernels/scalar.hpp) instead of a SIMD kernel. Always on QKERN_SIMD_NONE targets; elsewhere when
// the user defines QKERN_FORCE_SCALAR (e.g. to test that path natively on x86-64).
#if QKERN_SIMD_NONE || defined(QKERN_FORCE_SCALAR)
#define QKERN_SCALAR_KERNELS 1
#else
#define QKERN_SCALAR_KERNELS 0
#endif

#include <cstdint>
#include <xsimd/xsimd.hpp>

#include "qkern/core/abi.hpp"

#if QKERN_SIMD_NEON64
#include <arm_neon.h>
#endif

namespace qkern {
namespace simd {

/// Armv8.2 dot product (SDOT/UDOT) on top of baseline NEON.
struct neon64_dotprod : xsimd::neon64 {
  static constexpr char const* name() noexcept { return "neon64_dotprod"; }
};

/// Armv8.6 int8 matrix multiply (USDOT, SMMLA/UMMLA/USMMLA) on top of the dot product.
struct neon64_i8mm : neon64_dotprod {
  static constexpr char const* name() noexcept { return "neon64_i8mm"; }
};

/// The arch tag without SIMD: with QKERN_SCALAR_KERNELS, dispatch runs every kernel as its scalar
/// reference (kernels/scalar.hpp) under this tag. Those scalar forms are compiled at the caller's
/// flags, so the tag lives in the ABI namespace (core/abi.hpp): ArchKernel<K, scalar_arch> then has a
/// different name per flag set, like every other function a user's TU compiles.
inline namespace QKERN_ABI_NS {
struct scalar_arch {
  static constexpr char const* name() noexcept { return "scalar"; }
};
}  // namespace QKERN_ABI_NS

}  // namespace simd

#if !QKERN_SIMD_NONE
// The tag lives in a namespace of its own that declares no function: xsimd calls its kernels
// unqualified (select(cond, a, b), ...), and argument-dependent lookup on batch<T, caller_arch> then
// finds nothing of qkern's to compete with them.
namespace arch_tag {
inline namespace QKERN_ABI_NS {
/// The arch of header-only kernels (no runtime dispatch): xsimd::default_arch, the best xsimd arch
/// this translation unit's flags allow, under a name of its own per flag set. Two TUs whose flags
/// differ but map to one xsimd arch (-march=skylake-avx512 and -march=icelake-server are both
/// avx512bw) compile different code for it (the icelake TU may emit VBMI); were the kernels
/// instantiated on xsimd::avx512bw itself, the linker would keep one TU's copy for both. Every kernel
/// and helper templated on the arch is instantiated on this tag instead, so its mangled name carries
/// the ABI namespace (core/abi.hpp). It derives from the xsimd arch, so every xsimd kernel and every
/// simd::derives_v check in qkern applies to it unchanged; its registers are the base arch's (below).
struct caller_arch : xsimd::default_arch {
  using base_arch = xsimd::default_arch;
  static constexpr char const* name() noexcept { return xsimd::default_arch::name(); }
};
}  // namespace QKERN_ABI_NS
}  // namespace arch_tag

namespace simd {
using arch_tag::caller_arch;
}  // namespace simd
#endif
}  // namespace qkern

#if !QKERN_SIMD_NONE
// caller_arch's registers are its base arch's (as xsimd declares fma3<avx2>'s on avx2's). Its masks:
// the AVX-512 mask registers and NEON's unsigned lane masks are declared per arch by xsimd; the
// other x86 arches use the primary template (the data register), which needs nothing here.
namespace xsimd {
namespace types {
XSIMD_DECLARE_SIMD_REGISTER_ALIAS(::qkern::simd::caller_arch, ::xsimd::default_arch);
#if QKERN_SIMD_NEON64
template <class T>
struct get_bool_simd_register<T, ::qkern::simd::caller_arch>
    : detail::neon_bool_simd_register<T, ::qkern::simd::caller_arch> {};
#elif defined(__AVX512F__)
template <class T>
struct get_bool_simd_register<T, ::qkern::simd::caller_arch> {
  using type = simd_avx512_bool_register<T>;
};
#endif
}  // namespace types
}  // namespace xsimd
#endif

#if QKERN_SIMD_NEON64
// The registers of the derived levels are neon64's (as xsimd declares fma3<avx2> on avx2's).
namespace xsimd {
namespace types {
XSIMD_DECLARE_SIMD_REGISTER_ALIAS(::qkern::simd::neon64_dotprod, neon64);
XSIMD_DECLARE_SIMD_REGISTER_ALIAS(::qkern::simd::neon64_i8mm, ::qkern::simd::neon64_dotprod);
template <class T>
struct get_bool_simd_register<T, ::qkern::simd::neon64_dotprod>
    : detail::neon_bool_simd_register<T, ::qkern::simd::neon64_dotprod> {};
template <class T>
struct get_bool_simd_register<T, ::qkern::simd::neon64_i8mm>
    : detail::neon_bool_simd_register<T, ::qkern::simd::neon64_i8mm> {};
}  // namespace types

// xsimd 8.1's neon64 broadcast names neon64 instead of its arch parameter (xsimd_neon64.hpp:
// `return broadcast<neon64>(val, neon {})`), so batch<T, A>(scalar) does not compile for a tag
// deriving from neon64. Explicit specializations for qkern's tags (double has its own overload).
namespace kernel {
#define QKERN_DETAIL_NEON_BROADCAST(TAG, T, DUP)                                  \
  template <>                                                                     \
  inline batch<T, TAG> broadcast<TAG, T>(T val, requires_arch<neon64>) noexcept { \
    return DUP(val);                                                              \
  }
#define QKERN_DETAIL_NEON_BROADCASTS(TAG)                      \
  QKERN_DETAIL_NEON_BROADCAST(TAG, std::int8_t, vdupq_n_s8)    \
  QKERN_DETAIL_NEON_BROADCAST(TAG, std::uint8_t, vdupq_n_u8)   \
  QKERN_DETAIL_NEON_BROADCAST(TAG, std::int16_t, vdupq_n_s16)  \
  QKERN_DETAIL_NEON_BROADCAST(TAG, std::uint16_t, vdupq_n_u16) \
  QKERN_DETAIL_NEON_BROADCAST(TAG, std::int32_t, vdupq_n_s32)  \
  QKERN_DETAIL_NEON_BROADCAST(TAG, std::uint32_t, vdupq_n_u32) \
  QKERN_DETAIL_NEON_BROADCAST(TAG, std::int64_t, vdupq_n_s64)  \
  QKERN_DETAIL_NEON_BROADCAST(TAG, std::uint64_t, vdupq_n_u64) \
  QKERN_DETAIL_NEON_BROADCAST(TAG, float, vdupq_n_f32)
QKERN_DETAIL_NEON_BROADCASTS(::qkern::simd::neon64_dotprod)
QKERN_DETAIL_NEON_BROADCASTS(::qkern::simd::neon64_i8mm)
QKERN_DETAIL_NEON_BROADCASTS(::qkern::simd::caller_arch)
#undef QKERN_DETAIL_NEON_BROADCASTS
#undef QKERN_DETAIL_NEON_BROADCAST
}  // namespace kernel
}  // namespace xsimd
#endif
