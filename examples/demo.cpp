// qkern demo — SPDX-License-Identifier: Apache-2.0
//
// demo.cpp: what per-tensor vs per-channel parameters and two framework conventions do to one
// activation tensor. Runs on an embedded synthetic tensor (fixed seed): normal values, rare large
// outliers, one channel with a ten times wider range, and a few NaNs; prints scale, zero point,
// SQNR and max error per scheme.
#include <cmath>
#include <cstdio>
#include <qkern/qkern.hpp>
#include <random>
#include <string>
#include <vector>

#include "demo_emulation.hpp"

namespace {

struct Tensor {
  std::vector<std::size_t> shape;
  std::vector<float> data;
};

// NCHW activations: channel c ~ N(0.2c/16, 1), channel 5 ten times wider, 1 in 20000 values an
// outlier at +-40, 7 NaNs.
Tensor synthetic_activations() {
  Tensor t{{4, 16, 32, 32}, {}};
  t.data.resize(4 * 16 * 32 * 32);
  std::mt19937 rng(2026);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  const std::size_t inner = 32 * 32;
  for (std::size_t i = 0; i < t.data.size(); ++i) {
    const std::size_t c = (i / inner) % 16;
    float v = normal(rng) * (c == 5 ? 10.0f : 1.0f) + 0.2f * float(c) / 16.0f;
    if (u(rng) < 5e-5f) v = (u(rng) < 0.5f ? -40.0f : 40.0f);
    t.data[i] = v;
  }
  for (std::size_t k = 0; k < 7; ++k) t.data[(k * 7919 + 13) % t.data.size()] = std::nanf("");
  return t;
}

struct Error {
  double sqnr_db;
  double max_abs;
};

// SQNR = 10 log10(sum x^2 / sum (x - y)^2) over the finite x; max |x - y| over the same.
Error error_of(const std::vector<float>& x, const std::vector<float>& y) {
  double signal = 0, noise = 0, worst = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(x[i])) continue;
    const double d = double(x[i]) - y[i];
    signal += double(x[i]) * x[i];
    noise += d * d;
    worst = std::fmax(worst, std::fabs(d));
  }
  return {noise == 0 ? INFINITY : 10.0 * std::log10(signal / noise), worst};
}

const char* convention_name(qkern::Convention c) {
  switch (c) {
    case qkern::Convention::pytorch:
      return "pytorch";
    case qkern::Convention::tensorrt:
      return "tensorrt";
    default:
      return "qkern";
  }
}

}  // namespace

int main() {
  using namespace qkern;
  const Tensor t = synthetic_activations();
  const ChannelLayout layout = ChannelLayout::from_shape(t.shape, 1);
  const MinMax range = minmax(t.data.data(), t.data.size());
  std::printf("qkern %s demo: activations %zux%zux%zux%zu (NCHW), %llu finite, %llu NaN skipped, range [%.3f, %.3f]\n",
              version_string, t.shape[0], t.shape[1], t.shape[2], t.shape[3],
              static_cast<unsigned long long>(range.counts.finite), static_cast<unsigned long long>(range.counts.nan),
              range.min, range.max);
  std::printf("kernels run on: %s\n\n", dispatch::selected_arch_name());
  std::printf("%-11s %-9s %-10s %-12s %-6s %9s %10s\n", "granularity", "scheme", "convention", "scale", "zp", "SQNR dB",
              "max |err|");

  const std::vector<MinMax> channel_ranges = minmax(t.data.data(), layout);
  std::vector<std::int8_t> q(t.data.size());
  std::vector<float> back(t.data.size());
  const struct {
    Scheme scheme;
    Convention convention;
  } configs[] = {{Scheme::affine, Convention::qkern},
                 {Scheme::affine, Convention::pytorch},
                 {Scheme::symmetric, Convention::pytorch},
                 {Scheme::symmetric, Convention::tensorrt}};
  for (const auto& cfg : configs) {
    const RangeOptions opt{cfg.scheme};
    const QuantParams p = choose_params(range, DType::int8, opt, cfg.convention);
    quantize(t.data.data(), q.data(), q.size(), p);
    dequantize(q.data(), back.data(), q.size(), p);
    const Error e = error_of(t.data, back);
    std::printf("%-11s %-9s %-10s %-12.6g %-6d %9.2f %10.4f\n", "per-tensor",
                cfg.scheme == Scheme::affine ? "affine" : "symmetric", convention_name(cfg.convention), p.scale,
                p.zero_point, e.sqnr_db, e.max_abs);

    const ChannelQuantParams cp = choose_params(channel_ranges, DType::int8, opt, cfg.convention);
    quantize(t.data.data(), q.data(), layout, cp);
    dequantize(q.data(), back.data(), layout, cp);
    const Error ce = error_of(t.data, back);
    std::printf("%-11s %-9s %-10s %-12s %-6s %9.2f %10.4f\n", "per-channel",
                cfg.scheme == Scheme::affine ? "affine" : "symmetric", convention_name(cfg.convention),
                ("ch5 " + std::to_string(cp.scale[5]).substr(0, 7)).c_str(), "-", ce.sqnr_db, ce.max_abs);
  }
  std::printf(
      "\nPer-channel parameters give the wide channel 5 its own scale; the narrow channels keep\n"
      "their resolution, so SQNR rises. NaNs quantize to the zero point and are excluded here.\n");

  // Calibration: one histogram pass, every fitting method from it, side by side.
  std::printf("\n== Calibration: one histogram of |x|, every fitting method (per-tensor int8 symmetric) ==\n");
  HistogramObserver observer(2048, HistogramValues::absolute_values);
  observer.update(t.data.data(), t.data.size());
  std::vector<analysis::FitCandidate> candidates;
  for (FitMethod m : {FitMethod::minmax, FitMethod::percentile, FitMethod::mse, FitMethod::entropy, FitMethod::sqnr})
    candidates.push_back({fit_method_name(m), observer.qparams(m, DType::int8, FitOptions{Scheme::symmetric})});
  analysis::LayerNoiseTable noise;
  noise.add("activations", t.data.data(), t.data.size(), candidates);
  std::printf("%s", noise.table().c_str());
  std::vector<float> magnitude(t.data.size());
  for (std::size_t i = 0; i < magnitude.size(); ++i) magnitude[i] = std::fabs(t.data[i]);
  const ExactPercentile exact = percentile_exact(magnitude.data(), magnitude.size(), 99.9);
  const PercentileEstimate estimate = percentile(observer.view(), 99.9);
  std::printf(
      "99.9th percentile of |x|: exact %.4f (NaN skipped: %llu); from the histogram %.4f, guaranteed bracket "
      "[%.4f, %.4f]\n",
      exact.value, static_cast<unsigned long long>(exact.counts.nan), estimate.value, estimate.lower, estimate.upper);

  demo::run_emulation_section();
  return 0;
}
