// qkern — SPDX-License-Identifier: Apache-2.0
//
// kernel_list.hpp: the one list of SIMD kernels. The runtime-dispatch translation units instantiate
// every entry per arch, the tests and benchmarks iterate it; adding a kernel is one line here.
#pragma once

#include "qkern/kernels/convert.hpp"
#include "qkern/kernels/gemm.hpp"
#include "qkern/kernels/histogram.hpp"
#include "qkern/kernels/metrics.hpp"
#include "qkern/kernels/minmax.hpp"
#include "qkern/kernels/quantize.hpp"
#include "qkern/kernels/requantize.hpp"
#include "qkern/kernels/scalar.hpp"
#include "qkern/kernels/select.hpp"
#include "qkern/simd/dispatch.hpp"

// X(kernel) for every kernel type in qkern::kernels: the union of the per-family lists, each defined
// next to its kernels (QKERN_QUANTIZE_KERNELS in kernels/quantize.hpp, ...).
#define QKERN_KERNELS(X)      \
  QKERN_QUANTIZE_KERNELS(X)   \
  QKERN_MINMAX_KERNELS(X)     \
  QKERN_HISTOGRAM_KERNELS(X)  \
  QKERN_SELECT_KERNELS(X)     \
  QKERN_METRICS_KERNELS(X)    \
  QKERN_REQUANTIZE_KERNELS(X) \
  QKERN_GEMM_KERNELS(X)       \
  QKERN_CONVERT_KERNELS(X)

// Explicit instantiation of every kernel for one arch (used by the generated dispatch TUs).
#define QKERN_INSTANTIATE_KERNEL_FOR(ARCH, K) template struct ::qkern::dispatch::ArchKernel<::qkern::kernels::K, ARCH>;
#define QKERN_DECLARE_EXTERN_KERNEL_FOR(ARCH, K) \
  extern template struct ::qkern::dispatch::ArchKernel<::qkern::kernels::K, ARCH>;

#if defined(QKERN_DISPATCH)
#define QKERN_DETAIL_EXTERN_SSE2(K) QKERN_DECLARE_EXTERN_KERNEL_FOR(::xsimd::sse2, K)
#define QKERN_DETAIL_EXTERN_SSE4_2(K) QKERN_DECLARE_EXTERN_KERNEL_FOR(::xsimd::sse4_2, K)
#define QKERN_DETAIL_EXTERN_FMA3_AVX2(K) QKERN_DECLARE_EXTERN_KERNEL_FOR(::xsimd::fma3<::xsimd::avx2>, K)
#define QKERN_DETAIL_EXTERN_AVX512BW(K) QKERN_DECLARE_EXTERN_KERNEL_FOR(::xsimd::avx512bw, K)
#define QKERN_DETAIL_EXTERN_NEON64(K) QKERN_DECLARE_EXTERN_KERNEL_FOR(::xsimd::neon64, K)
#define QKERN_DETAIL_EXTERN_NEON64_DOTPROD(K) QKERN_DECLARE_EXTERN_KERNEL_FOR(::qkern::simd::neon64_dotprod, K)
#define QKERN_DETAIL_EXTERN_NEON64_I8MM(K) QKERN_DECLARE_EXTERN_KERNEL_FOR(::qkern::simd::neon64_i8mm, K)
#if defined(QKERN_DISPATCH_SSE2)
QKERN_KERNELS(QKERN_DETAIL_EXTERN_SSE2)
#endif
#if defined(QKERN_DISPATCH_SSE4_2)
QKERN_KERNELS(QKERN_DETAIL_EXTERN_SSE4_2)
#endif
#if defined(QKERN_DISPATCH_FMA3_AVX2)
QKERN_KERNELS(QKERN_DETAIL_EXTERN_FMA3_AVX2)
#endif
#if defined(QKERN_DISPATCH_AVX512BW)
QKERN_KERNELS(QKERN_DETAIL_EXTERN_AVX512BW)
#endif
#if defined(QKERN_DISPATCH_NEON64)
QKERN_KERNELS(QKERN_DETAIL_EXTERN_NEON64)
#endif
#if defined(QKERN_DISPATCH_NEON64_DOTPROD)
QKERN_KERNELS(QKERN_DETAIL_EXTERN_NEON64_DOTPROD)
#endif
#if defined(QKERN_DISPATCH_NEON64_I8MM)
QKERN_KERNELS(QKERN_DETAIL_EXTERN_NEON64_I8MM)
#endif
#endif
