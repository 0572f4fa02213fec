// qkern — SPDX-License-Identifier: Apache-2.0
//
// dispatch.hpp: how a public function finds the kernel it runs.
//
// A kernel is a functor with `using signature = R(Args...)` and a call operator templated on the
// xsimd arch tag. ArchKernel<Kernel, Arch>::run is that call operator as a plain function pointer.
//
// * Header-only use (default): run is instantiated for xsimd::default_arch, i.e. whatever the
//   user's compile flags allow.
// * Runtime dispatch (opt in with qkern_add_dispatch() from cmake/qkernDispatch.cmake): the helper
//   defines QKERN_DISPATCH and QKERN_DISPATCH_<ARCH> for the target and compiles one translation
//   unit per arch with that arch's flags, each holding the explicit instantiations of every kernel
//   in QKERN_KERNELS. Here those instantiations are declared `extern`, so a baseline translation
//   unit never instantiates AVX-512 code itself; select<Kernel>() picks the best arch the CPU runs,
//   once, on first use.
//
// run is defined out of class on purpose: an in-class (inline) definition would be instantiated
// despite the extern declaration, and the baseline TU cannot compile AVX-512 batches.
#pragma once

#include <type_traits>

#include "qkern/core/abi.hpp"
#include "qkern/simd/arch.hpp"

namespace qkern {
namespace dispatch {

template <class Kernel, class Arch, class Signature = typename Kernel::signature>
struct ArchKernel;

template <class Kernel, class Arch, class R, class... Args>
struct ArchKernel<Kernel, Arch, R(Args...)> {
  using function_type = R (*)(Args...);
  static R run(Args... args);
};

template <class Kernel, class Arch, class R, class... Args>
R ArchKernel<Kernel, Arch, R(Args...)>::run(Args... args) {
  return Kernel{}(Arch{}, args...);
}

}  // namespace dispatch

namespace kernels {
inline namespace QKERN_ABI_NS {
/// The scalar form of kernel K (a static run() with K's signature), defined per kernel in
/// kernels/scalar.hpp; compiled at the caller's flags, hence in the ABI namespace.
template <class K>
struct ScalarKernel;
}  // namespace QKERN_ABI_NS
}  // namespace kernels

namespace dispatch {

/// Kernels "compiled for" simd::scalar_arch are their scalar forms (kernels/scalar.hpp).
template <class Kernel, class R, class... Args>
struct ArchKernel<Kernel, simd::scalar_arch, R(Args...)> {
  using function_type = R (*)(Args...);
  static R run(Args... args) { return kernels::ScalarKernel<Kernel>::run(args...); }
};

template <class Kernel>
using function_type = typename ArchKernel<Kernel, simd::scalar_arch>::function_type;

/// The arches a dispatching build compiled, best first (terminated by void).
template <class... Archs>
struct ArchList {};

#if defined(QKERN_DISPATCH)
using DispatchArchs = ArchList<
#if defined(QKERN_DISPATCH_AVX512BW)
    xsimd::avx512bw,
#endif
#if defined(QKERN_DISPATCH_FMA3_AVX2)
    xsimd::fma3<xsimd::avx2>,
#endif
#if defined(QKERN_DISPATCH_SSE4_2)
    xsimd::sse4_2,
#endif
#if defined(QKERN_DISPATCH_SSE2)
    xsimd::sse2,
#endif
#if defined(QKERN_DISPATCH_NEON64_I8MM)
    simd::neon64_i8mm,
#endif
#if defined(QKERN_DISPATCH_NEON64_DOTPROD)
    simd::neon64_dotprod,
#endif
#if defined(QKERN_DISPATCH_NEON64)
    xsimd::neon64,
#endif
    void>;
#endif

// Everything below runs in the caller's translation unit at the caller's flags (it instantiates
// runtime_supports<Arch> for arches the caller was not compiled for): in the ABI namespace
// (core/abi.hpp). ArchKernel and the kernel types above are the one-name interface to the dispatch TUs.
inline namespace QKERN_ABI_NS {
namespace detail {

// The first arch of the list the CPU runs; the last one (the baseline) when none does.
template <class Kernel, class Arch>
function_type<Kernel> pick(ArchList<Arch, void>) {
  return &ArchKernel<Kernel, Arch>::run;
}

template <class Kernel, class Arch, class Next, class... Rest>
function_type<Kernel> pick(ArchList<Arch, Next, Rest...>) {
  if (simd::runtime_supports<Arch>()) return &ArchKernel<Kernel, Arch>::run;
  return pick<Kernel>(ArchList<Next, Rest...>{});
}

template <class Arch>
const char* pick_name(ArchList<Arch, void>) {
  return simd::arch_name<Arch>();
}

template <class Arch, class Next, class... Rest>
const char* pick_name(ArchList<Arch, Next, Rest...>) {
  if (simd::runtime_supports<Arch>()) return simd::arch_name<Arch>();
  return pick_name(ArchList<Next, Rest...>{});
}

}  // namespace detail

/// The kernel a public function should call. With runtime dispatch: the best compiled arch this CPU
/// runs (QKERN_MAX_ARCH may lower it); if none qualifies, the last (baseline) arch compiled.
template <class Kernel>
function_type<Kernel> select() {
#if QKERN_SCALAR_KERNELS
  // The kernel's scalar reference (kernels/scalar.hpp): processors without x86 or aarch64 SIMD,
  // or QKERN_FORCE_SCALAR.
  return &ArchKernel<Kernel, simd::scalar_arch>::run;
#elif defined(QKERN_DISPATCH)
  static const function_type<Kernel> chosen = detail::pick<Kernel>(DispatchArchs{});
  return chosen;
#else
  // Header-only: the kernel compiled here, for this TU's flags, under simd::caller_arch (a tag
  // deriving from xsimd::default_arch whose name carries the ABI namespace, so that TUs of different
  // flags never share an instantiation; simd/isa.hpp).
  return &ArchKernel<Kernel, simd::caller_arch>::run;
#endif
}

/// Name of the arch select() chooses for kernels (for logs and benchmark labels).
inline const char* selected_arch_name() {
#if QKERN_SCALAR_KERNELS
  return simd::arch_name<simd::scalar_arch>();
#elif defined(QKERN_DISPATCH)
  return detail::pick_name(DispatchArchs{});
#else
  return simd::arch_name<simd::caller_arch>();
#endif
}

}  // namespace QKERN_ABI_NS
}  // namespace dispatch
}  // namespace qkern
