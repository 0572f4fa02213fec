// qkern tests — SPDX-License-Identifier: Apache-2.0
//
// test_dispatch.cpp: runtime dispatch picks an arch the CPU runs, QKERN_MAX_ARCH caps it, and the
// log names the instruction sets this run covered. With QKERN_EXPECT_ARCH set (CI does, per
// emulated CPU), the selected arch must be exactly that one: a check of the CPU feature detection.
#include <cstdlib>

#include "arch_test_util.hpp"

namespace {

using namespace qkern;

template <class... As>
struct ArchPack {};

// Every arch of this platform, best first.
#if QKERN_SIMD_X86
using BestFirst = ArchPack<xsimd::avx512bw, xsimd::fma3<xsimd::avx2>, xsimd::sse4_2, xsimd::sse2>;
#elif QKERN_SIMD_NEON64
using BestFirst = ArchPack<simd::neon64_i8mm, simd::neon64_dotprod, xsimd::neon64>;
#else
using BestFirst = ArchPack<simd::scalar_arch>;
#endif
// What dispatch may select: the scalar forms only in a QKERN_SCALAR_KERNELS build.
#if QKERN_SCALAR_KERNELS
using Selectable = ArchPack<simd::scalar_arch>;
#else
using Selectable = BestFirst;
#endif

template <class F, class... As>
void for_each_arch(ArchPack<As...>, F&& f) {
  (f(As{}), ...);
}

TEST(Dispatch, LogsTheInstructionSetsThisRunCovers) {
  std::string ran, skipped;
  const char* baseline = nullptr;
  bool baseline_runs = false;
  for_each_arch(BestFirst{}, [&](auto a) {
    using A = decltype(a);
    const bool ok = simd::runtime_supports<A>();
    (ok ? ran : skipped) = std::string(" ") + simd::arch_name<A>() + (ok ? ran : skipped);
    baseline = simd::arch_name<A>();
    baseline_runs = ok;
  });
  std::printf("[ qkern ] instruction sets tested:%s; skipped (CPU lacks them):%s; dispatch selects %s\n", ran.c_str(),
              skipped.empty() ? " none" : skipped.c_str(), dispatch::selected_arch_name());
  EXPECT_TRUE(baseline_runs) << baseline;
}

TEST(Dispatch, SelectsTheBestArchTheCpuRuns) {
  const std::string chosen = dispatch::selected_arch_name();
  std::string best;
  for_each_arch(Selectable{}, [&](auto a) {
    using A = decltype(a);
    if (best.empty() && simd::runtime_supports<A>()) best = simd::arch_name<A>();
  });
  EXPECT_EQ(chosen, best);
  if (const char* expect = std::getenv("QKERN_EXPECT_ARCH")) {
    EXPECT_EQ(chosen, expect);
  }
  // The selected pointer is one of the compiled instantiations.
  using K = kernels::f32_s8_quantize;
  const auto f = dispatch::select<K>();
  bool known = false;
  for_each_arch(Selectable{}, [&](auto a) { known = known || f == qkern_test::kernel_for<K, decltype(a)>; });
  EXPECT_TRUE(known);
}

}  // namespace
