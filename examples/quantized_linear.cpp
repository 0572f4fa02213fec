// qkern example — SPDX-License-Identifier: Apache-2.0
//
// quantized_linear.cpp: a quantized Linear layer (equivalently a 1x1 convolution over N*H*W pixels)
// run the way an integer accelerator runs it: quantize the input to uint8, int8 per-channel
// weights, integer GEMM with int32 accumulators, zero-point correction, int32 bias, requantize to
// uint8 with each rounding family. Compared with the fake-quant float emulation of the same layer
// (dequantized operands, exact product in double, one quantization of the output): the codes may
// differ by one only where the requantization multiplier's rounding or a tie decides.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <qkern/qkern.hpp>
#include <random>
#include <vector>

int main() {
  using namespace qkern;
  const std::size_t M = 196, K = 256, N = 64;  // 14x14 pixels, 256 -> 64 channels
  std::mt19937 rng(7);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> x(M * K), w(N * K), bias(N);
  for (auto& v : x) v = std::max(0.0f, nd(rng)) * 2.0f;  // post-ReLU activations
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t k = 0; k < K; ++k) w[n * K + k] = nd(rng) * 0.05f * (1.0f + float(n % 4));
  for (auto& b : bias) b = nd(rng) * 0.1f;

  // Input: uint8 asymmetric per tensor. Weights: int8 symmetric per output channel.
  const float xmax = *std::max_element(x.begin(), x.end());
  const QuantParams px = QuantParams::make(DType::uint8, xmax / 255.0f, 0, Arithmetic::pytorch());
  std::vector<std::uint8_t> xq(M * K);
  quantize(x.data(), xq.data(), xq.size(), px);
  ChannelQuantParams pw;
  pw.dtype = DType::int8;
  pw.qmin = -127;
  pw.qmax = 127;
  pw.arithmetic = Arithmetic::pytorch();
  for (std::size_t n = 0; n < N; ++n) {
    float amax = 0.0f;
    for (std::size_t k = 0; k < K; ++k) amax = std::max(amax, std::fabs(w[n * K + k]));
    pw.scale.push_back(amax / 127.0f);
    pw.zero_point.push_back(0);
  }
  std::vector<std::int8_t> wq(N * K), wt(K * N);
  quantize(w.data(), wq.data(), ChannelLayout{1, N, K}, pw);
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t k = 0; k < K; ++k) wt[k * N + n] = wq[n * K + k];  // B = W^T (K x N)
  std::vector<std::int32_t> bq(N);
  const BiasQuantizeReport br = quantize_bias(bias.data(), bq.data(), N, px.scale, pw.scale);

  // Fake-quant float emulation, exact in double, and the output quantization derived from it.
  std::vector<double> yref(M * N);
  for (std::size_t m = 0; m < M; ++m)
    for (std::size_t n = 0; n < N; ++n) {
      double s = 0;
      for (std::size_t k = 0; k < K; ++k)
        s += double(int(xq[m * K + k]) - px.zero_point) * px.scale * (double(wq[n * K + k]) * pw.scale[n]);
      yref[m * N + n] = s + double(bq[n]) * (double(px.scale) * pw.scale[n]);
    }
  const auto [ymin_it, ymax_it] = std::minmax_element(yref.begin(), yref.end());
  const double ymin = std::min(0.0, *ymin_it), ymax = std::max(0.0, *ymax_it);
  const float sy = float((ymax - ymin) / 255.0);
  const std::int32_t zpy = std::int32_t(std::nearbyint(-ymin / sy));

  // Integer pipeline: GEMM, zero-point correction (input zp times the weight column sums), bias.
  std::vector<std::int32_t> acc(M * N);
  const PackedB packed(K, N, wt.data(), N);
  gemm_u8s8_s32(M, xq.data(), K, packed, acc.data(), N);
  std::vector<std::int32_t> colsum(N, 0);
  for (std::size_t k = 0; k < K; ++k)
    for (std::size_t n = 0; n < N; ++n) colsum[n] += wt[k * N + n];
  for (std::size_t m = 0; m < M; ++m)
    for (std::size_t n = 0; n < N; ++n) acc[m * N + n] += bq[n] - px.zero_point * colsum[n];

  std::printf("quantized Linear %zux%zu * %zux%zu (bias saturated: %zu), output scale %.6g zp %d, %s\n", M, K, K, N,
              br.saturated, double(sy), zpy, dispatch::selected_arch_name());
  std::printf("%-14s %10s %10s %12s\n", "family", "mismatch", "max |d|", "max |err|/s");
  for (RequantizeRounding r : {RequantizeRounding::gemmlowp, RequantizeRounding::tflite_single,
                               RequantizeRounding::rndnu, RequantizeRounding::fp32}) {
    ChannelRequantizeParams rp;
    rp.rounding = r;
    rp.zero_point = zpy;
    rp.qmin = 0;
    rp.qmax = 255;
    for (std::size_t n = 0; n < N; ++n) rp.scale.push_back(double(px.scale) * pw.scale[n] / sy);
    std::vector<std::uint8_t> y(M * N);
    requantize(acc.data(), y.data(), ChannelLayout{M, N, 1}, rp);
    std::size_t mismatches = 0;
    int max_diff = 0;
    double max_err = 0;
    for (std::size_t i = 0; i < y.size(); ++i) {
      const double want = std::clamp(std::nearbyint(yref[i] / sy) + zpy, 0.0, 255.0);
      const int d = std::abs(int(y[i]) - int(want));
      mismatches += d != 0;
      max_diff = std::max(max_diff, d);
      max_err = std::max(max_err, std::fabs((double(y[i]) - zpy) - yref[i] / sy));
    }
    std::printf("%-14s %10zu %10d %12.4f\n", rounding_name(r), mismatches, max_diff, max_err);
    if (max_diff > 1) return 1;
  }
  return 0;
}
