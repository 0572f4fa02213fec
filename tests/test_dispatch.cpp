// qkern tests — SPDX-License-Identifier: Apache-2.0
//
// test_dispatch.cpp: runtime dispatch picks an arch the CPU runs, QKERN_MAX_ARCH caps it, and the
// log names the instruction sets this run covered.
#include "arch_test_util.hpp"

namespace {

using namespace qkern;

TEST(Dispatch, LogsTheInstructionSetsThisRunCovers) {
  std::string ran, skipped;
  auto note = [&](const char* name, bool ok) { (ok ? ran : skipped) += std::string(" ") + name; };
  note("sse2", simd::runtime_supports<xsimd::sse2>());
  note("sse4_2", simd::runtime_supports<xsimd::sse4_2>());
  note("fma3_avx2", simd::runtime_supports<xsimd::fma3<xsimd::avx2>>());
  note("avx512bw", simd::runtime_supports<xsimd::avx512bw>());
  std::printf("[ qkern ] instruction sets tested:%s; skipped (CPU lacks them):%s; dispatch selects %s\n", ran.c_str(),
              skipped.empty() ? " none" : skipped.c_str(), dispatch::selected_arch_name());
  EXPECT_TRUE(simd::runtime_supports<xsimd::sse2>());
}

TEST(Dispatch, SelectsTheBestArchTheCpuRuns) {
  const std::string chosen = dispatch::selected_arch_name();
  if (simd::runtime_supports<xsimd::avx512bw>())
    EXPECT_EQ(chosen, "avx512bw");
  else if (simd::runtime_supports<xsimd::fma3<xsimd::avx2>>())
    EXPECT_EQ(chosen, "fma3_avx2");
  else if (simd::runtime_supports<xsimd::sse4_2>())
    EXPECT_EQ(chosen, "sse4_2");
  else
    EXPECT_EQ(chosen, "sse2");
  // The selected pointer is one of the compiled instantiations.
  using K = kernels::f32_s8_quantize;
  const auto f = dispatch::select<K>();
  const bool known = f == qkern_test::kernel_for<K, xsimd::avx512bw> ||
                     f == qkern_test::kernel_for<K, xsimd::fma3<xsimd::avx2>> ||
                     f == qkern_test::kernel_for<K, xsimd::sse4_2> || f == qkern_test::kernel_for<K, xsimd::sse2>;
  EXPECT_TRUE(known);
}

}  // namespace
