// qkern — SPDX-License-Identifier: Apache-2.0
//
// gemm.hpp: the public integer matrix multiply for emulating integer accelerators:
// int8 x int8 -> int32 and uint8 x int8 -> int32, row-major with leading dimensions, on a plain or a
// packed B. Exact on every arch (C[i][j] = sum_k A[i][k] * B[k][j] in int32; K is limited so the
// sum cannot overflow). With requantize.hpp this runs a quantized Linear / 1x1 convolution end to
// end: quantize the input, gemm, add the int32 bias, requantize (examples/quantized_linear.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "qkern/core/abi.hpp"
#include "qkern/core/error.hpp"
#include "qkern/kernels/kernel_list.hpp"
#include "qkern/reference/gemm.hpp"

namespace qkern {
inline namespace QKERN_ABI_NS {

/// Largest K for which the int32 accumulation is exact whatever the data: |a * b| <= 128 * 128
/// (s8 x s8) or 255 * 128 (u8 x s8) per product.
inline constexpr std::size_t kGemmMaxK_s8s8 = 2147483647u / (128u * 128u);  // 131071
inline constexpr std::size_t kGemmMaxK_u8s8 = 2147483647u / (255u * 128u);  // 65793

/// B (K x N, int8) repacked once for the kernels (panels of 16 columns, groups of 4 k; see
/// kernels/gemm.hpp). Reuse it across calls for weights.
class PackedB {
 public:
  PackedB() = default;
  /// Packs B (K x N, row-major, leading dimension ldb >= N). Throws InvalidArgument naming "ldb"
  /// when ldb < N and "B" when B is null with K * N > 0.
  PackedB(std::size_t K, std::size_t N, const std::int8_t* B, std::size_t ldb) : K_(K), N_(N) {
    if (ldb < N) detail::throw_invalid("ldb", "must be >= N (" + std::to_string(N) + "), got " + std::to_string(ldb));
    if (K * N != 0 && B == nullptr) detail::throw_invalid("B", "is null");
    k_groups_ = (K + kernels::kGemmKGroup - 1) / kernels::kGemmKGroup;
    panels_ = (N + kernels::kGemmPanel - 1) / kernels::kGemmPanel;
    data_.assign(panels_ * k_groups_ * kernels::kGemmPanel * kernels::kGemmKGroup, 0);
    for (std::size_t p = 0; p < panels_; ++p)
      for (std::size_t g = 0; g < k_groups_; ++g)
        for (std::size_t j = 0; j < kernels::kGemmPanel; ++j)
          for (std::size_t t = 0; t < kernels::kGemmKGroup; ++t) {
            const std::size_t k = g * kernels::kGemmKGroup + t, n = p * kernels::kGemmPanel + j;
            if (k < K && n < N)
              data_[((p * k_groups_ + g) * kernels::kGemmPanel + j) * kernels::kGemmKGroup + t] = B[k * ldb + n];
          }
  }
  std::size_t K() const { return K_; }
  std::size_t N() const { return N_; }
  kernels::PackedBView view() const { return {data_.data(), K_, N_, k_groups_, panels_}; }

 private:
  std::size_t K_ = 0, N_ = 0, k_groups_ = 0, panels_ = 0;
  std::vector<std::int8_t> data_;
};

/// Options of the u8 x s8 GEMM.
struct GemmOptions {
  /// Emulate x86 vpmaddubsw: each pair of products (k, k+1), k even, is saturated to int16 before
  /// the int32 accumulation (e.g. 211*71 + 171*107 = 33278 becomes 32767), as FBGEMM / oneDNN AVX2
  /// int8 kernels compute when activations use the full uint8 range (RQ-5). Off: exact.
  bool emulate_vpmaddubsw_saturation = false;
};

namespace detail {

template <class TA>
void validate_gemm(std::size_t M, std::size_t N, std::size_t K, const TA* A, std::size_t lda, std::int32_t* C,
                   std::size_t ldc, std::size_t max_k) {
  if (K > max_k)
    throw_invalid("K", "K = " + std::to_string(K) + " exceeds " + std::to_string(max_k) +
                           ", beyond which the int32 accumulation could overflow");
  if (lda < K) throw_invalid("lda", "must be >= K (" + std::to_string(K) + "), got " + std::to_string(lda));
  if (ldc < N) throw_invalid("ldc", "must be >= N (" + std::to_string(N) + "), got " + std::to_string(ldc));
  if (M * K != 0 && A == nullptr) throw_invalid("A", "is null");
  if (M * N != 0 && C == nullptr) throw_invalid("C", "is null");
}

template <class Kernel, class TA>
void run_gemm(std::size_t M, const TA* A, std::size_t lda, const PackedB& B, std::int32_t* C, std::size_t ldc,
              bool saturate) {
  if (M == 0 || B.N() == 0) return;
  if (B.K() == 0) {
    for (std::size_t i = 0; i < M; ++i)
      for (std::size_t j = 0; j < B.N(); ++j) C[i * ldc + j] = 0;
    return;
  }
  dispatch::select<Kernel>()(M, A, lda, B.view(), C, ldc, saturate);
}

}  // namespace detail

/// C (M x N, ldc) = A (M x K int8, lda) * B (packed, K x N int8), int32, exact.
/// Throws InvalidArgument naming "K" (K > kGemmMaxK_s8s8), "lda" (< K), "ldc" (< N), "A" / "C"
/// (null with a non-empty product). M, N or K == 0 are valid (K == 0 writes zeros).
inline void gemm_s8s8_s32(std::size_t M, const std::int8_t* A, std::size_t lda, const PackedB& B, std::int32_t* C,
                          std::size_t ldc) {
  detail::validate_gemm(M, B.N(), B.K(), A, lda, C, ldc, kGemmMaxK_s8s8);
  detail::run_gemm<kernels::s8s8_s32_gemm>(M, A, lda, B, C, ldc, false);
}

/// C = A (uint8) * B (packed int8), int32: exact, or with vpmaddubsw's int16 pair saturation when
/// options ask for it. Throws as gemm_s8s8_s32 (K limit kGemmMaxK_u8s8).
inline void gemm_u8s8_s32(std::size_t M, const std::uint8_t* A, std::size_t lda, const PackedB& B, std::int32_t* C,
                          std::size_t ldc, GemmOptions options = {}) {
  detail::validate_gemm(M, B.N(), B.K(), A, lda, C, ldc, kGemmMaxK_u8s8);
  detail::run_gemm<kernels::u8s8_s32_gemm>(M, A, lda, B, C, ldc, options.emulate_vpmaddubsw_saturation);
}

/// Plain-B form: B is K x N row-major (ldb >= N), packed on each call.
inline void gemm_s8s8_s32(std::size_t M, std::size_t N, std::size_t K, const std::int8_t* A, std::size_t lda,
                          const std::int8_t* B, std::size_t ldb, std::int32_t* C, std::size_t ldc) {
  detail::validate_gemm(M, N, K, A, lda, C, ldc, kGemmMaxK_s8s8);
  gemm_s8s8_s32(M, A, lda, PackedB(K, N, B, ldb), C, ldc);
}

inline void gemm_u8s8_s32(std::size_t M, std::size_t N, std::size_t K, const std::uint8_t* A, std::size_t lda,
                          const std::int8_t* B, std::size_t ldb, std::int32_t* C, std::size_t ldc,
                          GemmOptions options = {}) {
  detail::validate_gemm(M, N, K, A, lda, C, ldc, kGemmMaxK_u8s8);
  gemm_u8s8_s32(M, A, lda, PackedB(K, N, B, ldb), C, ldc, options);
}

}  // namespace QKERN_ABI_NS
}  // namespace qkern
