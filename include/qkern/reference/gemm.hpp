// qkern — SPDX-License-Identifier: Apache-2.0
//
// reference/gemm.hpp: the scalar definition of the integer matrix multiply used to emulate integer
// accelerators: C[i][j] = sum_k A[i][k] * B[k][j] in int32 (exact for the K the public API
// accepts), row-major with leading dimensions. Optionally the int16 saturation of x86's vpmaddubsw
// (u8 x s8 pairs (k, k+1) summed and saturated to int16 before the int32 accumulation, RQ-5).
#pragma once

#include <cstddef>
#include <cstdint>

#include "qkern/core/abi.hpp"

namespace qkern {
namespace reference {
inline namespace QKERN_ABI_NS {

/// Saturates to int16 (what vpmaddubsw does to each pair sum).
inline std::int32_t saturate_int16(std::int32_t v) { return v < -32768 ? -32768 : v > 32767 ? 32767 : v; }

/// C (M x N, ldc) = A (M x K, lda) * B (K x N, ldb). With saturate_pairs, each pair of products
/// (k, k+1), k even, is saturated to int16 first (a final odd k is a single product, in range).
template <class TA>
void gemm(std::size_t M, std::size_t N, std::size_t K, const TA* A, std::size_t lda, const std::int8_t* B,
          std::size_t ldb, std::int32_t* C, std::size_t ldc, bool saturate_pairs = false) {
  for (std::size_t i = 0; i < M; ++i)
    for (std::size_t j = 0; j < N; ++j) {
      std::int32_t acc = 0;
      for (std::size_t k = 0; k < K; k += 2) {
        std::int32_t pair = std::int32_t{A[i * lda + k]} * B[k * ldb + j];
        if (k + 1 < K) pair += std::int32_t{A[i * lda + k + 1]} * B[(k + 1) * ldb + j];
        acc += saturate_pairs ? saturate_int16(pair) : pair;
      }
      C[i * ldc + j] = acc;
    }
}

}  // namespace QKERN_ABI_NS
}  // namespace reference
}  // namespace qkern
