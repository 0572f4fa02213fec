// qkern — SPDX-License-Identifier: Apache-2.0
//
// abi.hpp: the ABI namespace, which lets translation units compiled with different -march (or
// -ffast-math) link into one program safely. See docs/abi.md.
//
// qkern is header-only: every inline function a user's translation unit calls is compiled there, with
// that TU's flags, and emitted (when not inlined) as a weak symbol. Two TUs of one program built for
// different instruction sets emit the same mangled name, and the linker keeps one copy for both: the
// x86-64-v4 copy serving the baseline caller is an illegal instruction on a CPU without AVX-512.
// So (Highway's HWY_NAMESPACE idea, keyed on the compiler's own target macros instead of a target
// list) everything a user's TU compiles at its own flags lives in
//
//   namespace qkern { inline namespace QKERN_ABI_NS { ... } }
//
// whose name spells, one digit each, every predefined macro that changes what the compiler may emit
// or how it rounds (the ISA extensions, -ffast-math / -ffinite-math-only), and whether qkern throws
// or calls the error handler (QKERN_NO_EXCEPTIONS). E.g. -march=x86-64 gives
// qkern_abi_x86_1100000_000000000_00000_000000000_fp000, -march=x86-64-v4 sets the first four groups. TUs with the same
// flags share one copy as before; TUs with different flags never share a symbol. The namespace is inline, so user code
// still writes qkern::choose_params.
//
// Exempt (outside the ABI namespace, one name in every TU): the runtime-dispatch interface, i.e. the
// kernel tag types (qkern::kernels::*), qkern::dispatch::ArchKernel and every type in a kernel's
// signature (ChannelLayout, MinMax, QuantizeConstants, ...), whose per-arch instantiations the
// dispatch TUs (cmake/qkernDispatch.cmake) define once for callers of any arch; the exception types
// (a handler must catch what any TU throws); and the arch-templated kernel helpers (their names carry
// the xsimd arch). Their member functions that are not templates on the arch are QKERN_ALWAYS_INLINE,
// so no TU emits them out of line.
#pragma once

// One digit (0 or 1) per macro. `defined(X)` cannot be used inside a macro expansion portably, so
// each feature is first mapped to a digit.
#if defined(__FAST_MATH__)
#define QKERN_ABI_D_FASTMATH 1
#else
#define QKERN_ABI_D_FASTMATH 0
#endif
#if defined(__FINITE_MATH_ONLY__) && __FINITE_MATH_ONLY__
#define QKERN_ABI_D_FINITE 1
#else
#define QKERN_ABI_D_FINITE 0
#endif

// Exceptions on or off (core/error.hpp's QKERN_NO_EXCEPTIONS, decided here so the name can carry it):
// the error helpers throw in one mode and call the handler in the other.
#if !defined(QKERN_NO_EXCEPTIONS)
#if defined(__cpp_exceptions) || defined(__EXCEPTIONS) || defined(_CPPUNWIND)
#define QKERN_NO_EXCEPTIONS 0
#else
#define QKERN_NO_EXCEPTIONS 1
#endif
#endif
#if QKERN_NO_EXCEPTIONS
#define QKERN_ABI_D_NOEXC 1
#else
#define QKERN_ABI_D_NOEXC 0
#endif

#define QKERN_ABI_CAT2(a, b) a##b
#define QKERN_ABI_CAT(a, b) QKERN_ABI_CAT2(a, b)

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__) || defined(_M_IX86)
// x86: SSE/SSE2 (for 32-bit builds), the x86-64-v2/v3 features, then AVX-512 and later extensions.
#if defined(__SSE__)
#define QKERN_ABI_D_SSE 1
#else
#define QKERN_ABI_D_SSE 0
#endif
#if defined(__SSE2__)
#define QKERN_ABI_D_SSE2 1
#else
#define QKERN_ABI_D_SSE2 0
#endif
#if defined(__SSE3__)
#define QKERN_ABI_D_SSE3 1
#else
#define QKERN_ABI_D_SSE3 0
#endif
#if defined(__SSSE3__)
#define QKERN_ABI_D_SSSE3 1
#else
#define QKERN_ABI_D_SSSE3 0
#endif
#if defined(__SSE4_1__)
#define QKERN_ABI_D_SSE4_1 1
#else
#define QKERN_ABI_D_SSE4_1 0
#endif
#if defined(__SSE4_2__)
#define QKERN_ABI_D_SSE4_2 1
#else
#define QKERN_ABI_D_SSE4_2 0
#endif
#if defined(__POPCNT__)
#define QKERN_ABI_D_POPCNT 1
#else
#define QKERN_ABI_D_POPCNT 0
#endif
#if defined(__AVX__)
#define QKERN_ABI_D_AVX 1
#else
#define QKERN_ABI_D_AVX 0
#endif
#if defined(__AVX2__)
#define QKERN_ABI_D_AVX2 1
#else
#define QKERN_ABI_D_AVX2 0
#endif
#if defined(__FMA__)
#define QKERN_ABI_D_FMA 1
#else
#define QKERN_ABI_D_FMA 0
#endif
#if defined(__F16C__)
#define QKERN_ABI_D_F16C 1
#else
#define QKERN_ABI_D_F16C 0
#endif
#if defined(__BMI__)
#define QKERN_ABI_D_BMI 1
#else
#define QKERN_ABI_D_BMI 0
#endif
#if defined(__BMI2__)
#define QKERN_ABI_D_BMI2 1
#else
#define QKERN_ABI_D_BMI2 0
#endif
#if defined(__LZCNT__)
#define QKERN_ABI_D_LZCNT 1
#else
#define QKERN_ABI_D_LZCNT 0
#endif
#if defined(__MOVBE__)
#define QKERN_ABI_D_MOVBE 1
#else
#define QKERN_ABI_D_MOVBE 0
#endif
#if defined(__FMA4__) || defined(__XOP__) || defined(__SSE4A__)
#define QKERN_ABI_D_AMD 1  // AMD-only extensions (FMA4, XOP, SSE4a)
#else
#define QKERN_ABI_D_AMD 0
#endif
#if defined(__AVX512F__)
#define QKERN_ABI_D_AVX512F 1
#else
#define QKERN_ABI_D_AVX512F 0
#endif
#if defined(__AVX512CD__)
#define QKERN_ABI_D_AVX512CD 1
#else
#define QKERN_ABI_D_AVX512CD 0
#endif
#if defined(__AVX512BW__)
#define QKERN_ABI_D_AVX512BW 1
#else
#define QKERN_ABI_D_AVX512BW 0
#endif
#if defined(__AVX512DQ__)
#define QKERN_ABI_D_AVX512DQ 1
#else
#define QKERN_ABI_D_AVX512DQ 0
#endif
#if defined(__AVX512VL__)
#define QKERN_ABI_D_AVX512VL 1
#else
#define QKERN_ABI_D_AVX512VL 0
#endif
#if defined(__AVX512VNNI__)
#define QKERN_ABI_D_AVX512VNNI 1
#else
#define QKERN_ABI_D_AVX512VNNI 0
#endif
#if defined(__AVX512BF16__)
#define QKERN_ABI_D_AVX512BF16 1
#else
#define QKERN_ABI_D_AVX512BF16 0
#endif
#if defined(__AVX512FP16__)
#define QKERN_ABI_D_AVX512FP16 1
#else
#define QKERN_ABI_D_AVX512FP16 0
#endif
#if defined(__AVX512VBMI__)
#define QKERN_ABI_D_AVX512VBMI 1
#else
#define QKERN_ABI_D_AVX512VBMI 0
#endif
#if defined(__AVX512VBMI2__)
#define QKERN_ABI_D_AVX512VBMI2 1
#else
#define QKERN_ABI_D_AVX512VBMI2 0
#endif
#if defined(__AVX512IFMA__)
#define QKERN_ABI_D_AVX512IFMA 1
#else
#define QKERN_ABI_D_AVX512IFMA 0
#endif
#if defined(__AVX512BITALG__) || defined(__AVX512VPOPCNTDQ__)
#define QKERN_ABI_D_AVX512BITS 1
#else
#define QKERN_ABI_D_AVX512BITS 0
#endif
#if defined(__AVXVNNI__)
#define QKERN_ABI_D_AVXVNNI 1
#else
#define QKERN_ABI_D_AVXVNNI 0
#endif
#if defined(__GFNI__)
#define QKERN_ABI_D_GFNI 1
#else
#define QKERN_ABI_D_GFNI 0
#endif
#define QKERN_ABI_NAME_X86(s, s2, s3, ss3, s41, s42, pc, avx, avx2, fma, f16c, bmi, bmi2, lz, movbe, amd, f, cd, bw, \
                           dq, vl, vnni, bf16, fp16, vbmi, vbmi2, ifma, bits, avxvnni, gfni, fm, fin, nx)            \
  qkern_abi_x86_##s##s2##s3##ss3##s41##s42##pc##_##avx##avx2##fma##f16c##bmi##bmi2##lz##movbe##amd##_##f##cd##bw##dq##vl##_##vnni##bf16##fp16##vbmi##vbmi2##ifma##bits##avxvnni##gfni##_fp##fm##fin##nx
#define QKERN_ABI_NAME_X86_I(...) QKERN_ABI_NAME_X86(__VA_ARGS__)
#define QKERN_ABI_NS                                                                                               \
  QKERN_ABI_NAME_X86_I(QKERN_ABI_D_SSE, QKERN_ABI_D_SSE2, QKERN_ABI_D_SSE3, QKERN_ABI_D_SSSE3, QKERN_ABI_D_SSE4_1, \
                       QKERN_ABI_D_SSE4_2, QKERN_ABI_D_POPCNT, QKERN_ABI_D_AVX, QKERN_ABI_D_AVX2, QKERN_ABI_D_FMA, \
                       QKERN_ABI_D_F16C, QKERN_ABI_D_BMI, QKERN_ABI_D_BMI2, QKERN_ABI_D_LZCNT, QKERN_ABI_D_MOVBE,  \
                       QKERN_ABI_D_AMD, QKERN_ABI_D_AVX512F, QKERN_ABI_D_AVX512CD, QKERN_ABI_D_AVX512BW,           \
                       QKERN_ABI_D_AVX512DQ, QKERN_ABI_D_AVX512VL, QKERN_ABI_D_AVX512VNNI, QKERN_ABI_D_AVX512BF16, \
                       QKERN_ABI_D_AVX512FP16, QKERN_ABI_D_AVX512VBMI, QKERN_ABI_D_AVX512VBMI2,                    \
                       QKERN_ABI_D_AVX512IFMA, QKERN_ABI_D_AVX512BITS, QKERN_ABI_D_AVXVNNI, QKERN_ABI_D_GFNI,      \
                       QKERN_ABI_D_FASTMATH, QKERN_ABI_D_FINITE, QKERN_ABI_D_NOEXC)

#elif defined(__aarch64__) || defined(_M_ARM64) || defined(__arm__)
#if defined(__ARM_NEON)
#define QKERN_ABI_D_NEON 1
#else
#define QKERN_ABI_D_NEON 0
#endif
#if defined(__ARM_FEATURE_FMA)
#define QKERN_ABI_D_AFMA 1
#else
#define QKERN_ABI_D_AFMA 0
#endif
#if defined(__ARM_FEATURE_ATOMICS)
#define QKERN_ABI_D_LSE 1
#else
#define QKERN_ABI_D_LSE 0
#endif
#if defined(__ARM_FEATURE_CRC32)
#define QKERN_ABI_D_CRC32 1
#else
#define QKERN_ABI_D_CRC32 0
#endif
#if defined(__ARM_FEATURE_QRDMX)
#define QKERN_ABI_D_RDM 1
#else
#define QKERN_ABI_D_RDM 0
#endif
#if defined(__ARM_FEATURE_DOTPROD)
#define QKERN_ABI_D_DOTPROD 1
#else
#define QKERN_ABI_D_DOTPROD 0
#endif
#if defined(__ARM_FEATURE_MATMUL_INT8)
#define QKERN_ABI_D_I8MM 1
#else
#define QKERN_ABI_D_I8MM 0
#endif
#if defined(__ARM_FEATURE_FP16_VECTOR_ARITHMETIC) || defined(__ARM_FEATURE_FP16_SCALAR_ARITHMETIC)
#define QKERN_ABI_D_FP16 1
#else
#define QKERN_ABI_D_FP16 0
#endif
#if defined(__ARM_FEATURE_BF16) || defined(__ARM_FEATURE_BF16_VECTOR_ARITHMETIC)
#define QKERN_ABI_D_BF16 1
#else
#define QKERN_ABI_D_BF16 0
#endif
#if defined(__ARM_FEATURE_SVE)
#define QKERN_ABI_D_SVE 1
#else
#define QKERN_ABI_D_SVE 0
#endif
#if defined(__ARM_FEATURE_SVE2)
#define QKERN_ABI_D_SVE2 1
#else
#define QKERN_ABI_D_SVE2 0
#endif
#define QKERN_ABI_NAME_ARM(neon, fma, lse, crc, rdm, dot, i8mm, fp16, bf16, sve, sve2, fm, fin, nx) \
  qkern_abi_arm_##neon##fma##lse##crc##rdm##_##dot##i8mm##fp16##bf16##_##sve##sve2##_fp##fm##fin##nx
#define QKERN_ABI_NAME_ARM_I(...) QKERN_ABI_NAME_ARM(__VA_ARGS__)
#define QKERN_ABI_NS                                                                                               \
  QKERN_ABI_NAME_ARM_I(QKERN_ABI_D_NEON, QKERN_ABI_D_AFMA, QKERN_ABI_D_LSE, QKERN_ABI_D_CRC32, QKERN_ABI_D_RDM,    \
                       QKERN_ABI_D_DOTPROD, QKERN_ABI_D_I8MM, QKERN_ABI_D_FP16, QKERN_ABI_D_BF16, QKERN_ABI_D_SVE, \
                       QKERN_ABI_D_SVE2, QKERN_ABI_D_FASTMATH, QKERN_ABI_D_FINITE, QKERN_ABI_D_NOEXC)

#else
// Other processors: qkern runs its scalar reference there; only the floating-point mode is encoded.
#define QKERN_ABI_NS                                                                                          \
  QKERN_ABI_CAT(QKERN_ABI_CAT(QKERN_ABI_CAT(qkern_abi_generic_fp, QKERN_ABI_D_FASTMATH), QKERN_ABI_D_FINITE), \
                QKERN_ABI_D_NOEXC)
#endif

/// For functions of the exempt (dispatch-interface) types that are not templates on the arch: never
/// emitted out of line, at any optimisation level, so no TU's copy can serve another TU.
#if defined(__GNUC__) || defined(__clang__)
#define QKERN_ALWAYS_INLINE inline __attribute__((always_inline))
#elif defined(_MSC_VER)
#define QKERN_ALWAYS_INLINE __forceinline
#else
#define QKERN_ALWAYS_INLINE inline
#endif

/// The ABI namespace's name as a string literal (diagnostics, tests).
#define QKERN_ABI_STR2(x) #x
#define QKERN_ABI_STR(x) QKERN_ABI_STR2(x)
#define QKERN_ABI_NAME QKERN_ABI_STR(QKERN_ABI_NS)
