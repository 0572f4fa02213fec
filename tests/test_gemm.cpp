// qkern tests — SPDX-License-Identifier: Apache-2.0
//
// test_gemm.cpp: the int8 / uint8 x int8 -> int32 GEMM on every arch against the scalar reference,
// bit for bit: odd M / N / K including 1 and non-multiples of every vector width and of the
// packing (16 columns, 4 k), leading dimensions larger than the row, the extreme values -128 / 127
// / 255 (exactness at the K limit), the vpmaddubsw saturation emulation (RQ-5), and validation.
#include "arch_test_util.hpp"

namespace {

using namespace qkern;
using namespace qkern_test;

template <class A>
class GemmKernels : public ::testing::Test {};
TYPED_TEST_SUITE(GemmKernels, AllArchs, ArchNames);

template <class TA>
std::vector<TA> random_bytes(std::mt19937& rng, std::size_t n, int extremes_percent) {
  std::uniform_int_distribution<int> d(std::numeric_limits<TA>::min(), std::numeric_limits<TA>::max());
  std::uniform_int_distribution<int> pct(0, 99);
  std::vector<TA> v(n);
  for (auto& x : v) {
    const int k = pct(rng);
    if (k < extremes_percent / 2)
      x = std::numeric_limits<TA>::min();
    else if (k < extremes_percent)
      x = std::numeric_limits<TA>::max();
    else
      x = static_cast<TA>(d(rng));
  }
  return v;
}

template <class TA, class A>
void check_shapes(bool saturate) {
  std::mt19937 rng(31);
  const std::size_t sizes_m[] = {1, 2, 3, 4, 5, 7, 9};
  const std::size_t sizes_n[] = {1, 3, 4, 8, 15, 16, 17, 31, 33, 40};
  const std::size_t sizes_k[] = {1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 33, 64, 67};
  for (std::size_t M : sizes_m)
    for (std::size_t N : sizes_n)
      for (std::size_t K : sizes_k) {
        const std::size_t lda = K + (M % 2), ldb = N + (K % 3), ldc = N + 2;
        const auto a = random_bytes<TA>(rng, M * lda, 20);
        const auto b = random_bytes<std::int8_t>(rng, K * ldb, 20);
        const PackedB packed(K, N, b.data(), ldb);
        GuardedBuffer<std::int32_t> got(M * ldc, 1, 0x5A5A5A5A);
        std::vector<std::int32_t> want(M * ldc, 0x5A5A5A5A);
        reference::gemm(M, N, K, a.data(), lda, b.data(), ldb, want.data(), ldc, saturate);
        kernel_for<kernels::gemm_s32<TA>, A>(M, a.data(), lda, packed.view(), got.data(), ldc, saturate);
        ASSERT_TRUE(bitwise_equal(got.data(), want.data(), M * ldc, want.data()))
            << "M=" << M << " N=" << N << " K=" << K << " saturate=" << saturate;
        ASSERT_TRUE(got.guards_intact());
      }
}

TYPED_TEST(GemmKernels, MatchesReferenceOnOddShapes) {
  QKERN_SKIP_UNLESS_CPU_RUNS(TypeParam);
  check_shapes<std::int8_t, TypeParam>(false);
  check_shapes<std::uint8_t, TypeParam>(false);
}

TYPED_TEST(GemmKernels, SaturationEmulationMatchesReference) {
  QKERN_SKIP_UNLESS_CPU_RUNS(TypeParam);
  check_shapes<std::uint8_t, TypeParam>(true);
}

template <class TA, class A>
void check_extremes_at_k_limit(std::size_t K) {
  // Every product at its largest magnitude, all of one sign: the sum sits just under 2^31.
  const std::size_t M = 3, N = 19;
  const TA amax = std::is_signed<TA>::value ? TA(-128) : TA(255);
  std::vector<TA> a(M * K, amax);
  std::vector<std::int8_t> b(K * N, std::is_signed<TA>::value ? std::int8_t(-128) : std::int8_t(127));
  for (std::size_t j = 0; j < N; j += 2)
    for (std::size_t k = 0; k < K; ++k) b[k * N + j] = std::is_signed<TA>::value ? 127 : -128;
  const PackedB packed(K, N, b.data(), N);
  std::vector<std::int32_t> got(M * N), want(M * N);
  reference::gemm(M, N, K, a.data(), K, b.data(), N, want.data(), N);
  kernel_for<kernels::gemm_s32<TA>, A>(M, a.data(), K, packed.view(), got.data(), N, false);
  ASSERT_EQ(got, want);
  const std::int64_t exact = std::int64_t(amax) * b[1] * std::int64_t(K);
  ASSERT_EQ(got[1], exact);
}

TYPED_TEST(GemmKernels, ExactAtTheKLimitWithExtremeValues) {
  QKERN_SKIP_UNLESS_CPU_RUNS(TypeParam);
  check_extremes_at_k_limit<std::int8_t, TypeParam>(kGemmMaxK_s8s8);
  check_extremes_at_k_limit<std::uint8_t, TypeParam>(kGemmMaxK_u8s8);
}

TEST(Gemm, Vpmaddubsw_SaturationFixture) {
  // pytorch#44939: 211*71 + 171*107 = 33278 saturates to 32767 in vpmaddubsw.
  const std::uint8_t a[2] = {211, 171};
  const std::int8_t b[2] = {71, 107};
  std::int32_t c = 0;
  gemm_u8s8_s32(1, 1, 2, a, 2, b, 1, &c, 1);
  EXPECT_EQ(c, 33278);
  gemm_u8s8_s32(1, 1, 2, a, 2, b, 1, &c, 1, GemmOptions{true});
  EXPECT_EQ(c, 32767);
}

TEST(Gemm, PublicApiMatchesReferenceAndValidates) {
  std::mt19937 rng(4);
  const std::size_t M = 37, N = 45, K = 70;
  const auto a = random_bytes<std::int8_t>(rng, M * K, 5);
  const auto au = random_bytes<std::uint8_t>(rng, M * K, 5);
  const auto b = random_bytes<std::int8_t>(rng, K * N, 5);
  std::vector<std::int32_t> got(M * N), want(M * N);
  gemm_s8s8_s32(M, N, K, a.data(), K, b.data(), N, got.data(), N);
  reference::gemm(M, N, K, a.data(), K, b.data(), N, want.data(), N);
  EXPECT_EQ(got, want);
  gemm_u8s8_s32(M, N, K, au.data(), K, b.data(), N, got.data(), N);
  reference::gemm(M, N, K, au.data(), K, b.data(), N, want.data(), N);
  EXPECT_EQ(got, want);
  // K == 0 writes zeros; M == 0 / N == 0 do nothing.
  std::vector<std::int32_t> z(6, 7);
  gemm_s8s8_s32(2, 3, 0, a.data(), 0, b.data(), 3, z.data(), 3);
  EXPECT_EQ(z, std::vector<std::int32_t>(6, 0));
  EXPECT_NO_THROW(gemm_s8s8_s32(0, 3, 4, nullptr, 4, b.data(), 3, nullptr, 3));
  auto arg_of = [&](auto f) {
    try {
      f();
    } catch (const InvalidArgument& e) {
      return e.argument();
    }
    return std::string("none");
  };
  EXPECT_EQ(arg_of([&] { gemm_s8s8_s32(M, N, K, a.data(), K - 1, b.data(), N, got.data(), N); }), "lda");
  EXPECT_EQ(arg_of([&] { gemm_s8s8_s32(M, N, K, a.data(), K, b.data(), N - 1, got.data(), N); }), "ldb");
  EXPECT_EQ(arg_of([&] { gemm_s8s8_s32(M, N, K, a.data(), K, b.data(), N, got.data(), N - 1); }), "ldc");
  EXPECT_EQ(arg_of([&] { gemm_s8s8_s32(M, N, K, nullptr, K, b.data(), N, got.data(), N); }), "A");
  EXPECT_EQ(arg_of([&] { gemm_s8s8_s32(M, N, K, a.data(), K, nullptr, N, got.data(), N); }), "B");
  EXPECT_EQ(arg_of([&] { gemm_s8s8_s32(M, N, K, a.data(), K, b.data(), N, nullptr, N); }), "C");
  EXPECT_EQ(arg_of([&] {
              gemm_u8s8_s32(1, 1, kGemmMaxK_u8s8 + 1, au.data(), kGemmMaxK_u8s8 + 1, b.data(), 1, got.data(), 1);
            }),
            "K");
}

}  // namespace
