// qkern — SPDX-License-Identifier: Apache-2.0
// side.cpp: one user translation unit of the mixed-arch link test, compiled twice into one program
// (-march=x86-64 as QKERN_SIDE=base, -march=x86-64-v4 as QKERN_SIDE=v4). Both copies run the same
// public qkern calls, so every inline function and template instantiation they emit is a candidate
// for the linker's one-copy-per-name merging; qkern's ABI namespace must keep the two apart.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <qkern/qkern.hpp>
#include <string>
#include <vector>

#if !defined(QKERN_SIDE)
#error "compile with -DQKERN_SIDE=<name>"
#endif

namespace {
// The packaging consumers' checks (quantize vs reference and the definition, NaN/Inf through
// histograms and observers), with internal linkage here: only qkern's own symbols may be shared.
#include "consumer_checks.hpp"

// FNV-1a over the bytes of every result, so the two sides can be compared.
struct Digest {
  std::uint64_t h = 1469598103934665603ull;
  void add(const void* p, std::size_t n) {
    const unsigned char* b = static_cast<const unsigned char*>(p);
    for (std::size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ull;
  }
  template <class T>
  void add(const std::vector<T>& v) {
    add(v.data(), v.size() * sizeof(T));
  }
  void add(const qkern::QuantParams& p) {
    add(&p.scale, sizeof p.scale);
    add(&p.zero_point, sizeof p.zero_point);
  }
  void add(double d) { add(&d, sizeof d); }
};

std::vector<float> make_data(std::size_t n, unsigned seed) {
  std::vector<float> x(n);
  std::uint32_t s = seed * 2654435761u + 1u;
  for (std::size_t i = 0; i < n; ++i) {
    s = s * 1664525u + 1013904223u;
    x[i] = static_cast<float>(static_cast<std::int32_t>(s >> 8) % 20000) / 3000.0f - 1.5f;
  }
  return x;
}

int workload(Digest& d) {
  int rc = consumer::check_quantize();
  rc |= consumer::check_nonfinite_histograms();

  const std::size_t channels = 8, inner = 37;
  const std::vector<float> x = make_data(3 * channels * inner, 7);
  const qkern::ChannelLayout layout{3, channels, inner};

  // Per-tensor: range, params under several conventions, quantize / dequantize / fake-quantize.
  const qkern::MinMax range = qkern::minmax(x.data(), x.size());
  for (qkern::Convention c : {qkern::Convention::pytorch, qkern::Convention::qkern, qkern::Convention::onnxruntime}) {
    const qkern::QuantParams p = qkern::choose_params(range, qkern::DType::int8, {qkern::Scheme::affine}, c);
    d.add(p);
    std::vector<std::int8_t> q(x.size());
    qkern::quantize(x.data(), q.data(), x.size(), p);
    d.add(q);
    std::vector<float> back(x.size()), fake(x.size());
    qkern::dequantize(q.data(), back.data(), x.size(), p);
    qkern::fake_quantize(x.data(), fake.data(), x.size(), p);
    d.add(back);
    d.add(fake);
    if (back != fake) rc |= consumer::fail("dequantize(quantize(x)) != fake_quantize(x)");
  }

  // Observers (moving averages are where contraction once showed), serialization round trips.
  qkern::MinMaxObserver mm;
  qkern::MovingAverageMinMaxObserver ma(0.01f);
  qkern::PerChannelMinMaxObserver pc(channels);
  qkern::HistogramObserver hist(2048);
  qkern::HistogramObserver hist_abs(2048, qkern::HistogramValues::absolute_values);  // for the symmetric fits
  for (unsigned b = 0; b < 4; ++b) {
    const std::vector<float> batch = make_data(channels * inner, 100 + b);
    mm.update(batch.data(), batch.size());
    ma.update(batch.data(), batch.size());
    pc.update(batch.data(), qkern::ChannelLayout{1, channels, inner});
    hist.update(batch.data(), batch.size());
    hist_abs.update(batch.data(), batch.size());
  }
  d.add(mm.qparams(qkern::DType::uint8));
  d.add(ma.qparams(qkern::DType::int8));
  const qkern::ChannelQuantParams cp = pc.qparams(qkern::DType::int8, {qkern::Scheme::symmetric});
  d.add(cp.scale);
  d.add(cp.zero_point);
  const qkern::MovingAverageMinMaxObserver ma2 = qkern::MovingAverageMinMaxObserver::deserialize(ma.serialize());
  if (ma2.serialize() != ma.serialize()) rc |= consumer::fail("observer state round trip");
  const qkern::HistogramObserver h2 = qkern::HistogramObserver::deserialize(hist.serialize());
  d.add(h2.serialize());

  // Every fitting method from one histogram.
  const qkern::HistogramView view = hist_abs.view();
  qkern::FitOptions fit_options;
  fit_options.scheme = qkern::Scheme::symmetric;
  for (qkern::FitMethod m : {qkern::FitMethod::minmax, qkern::FitMethod::percentile, qkern::FitMethod::mse,
                             qkern::FitMethod::entropy, qkern::FitMethod::l2_search, qkern::FitMethod::sqnr}) {
    d.add(qkern::fit_params(view, m, qkern::DType::int8, fit_options));
  }

  // Per-channel quantize and error metrics.
  std::vector<std::int8_t> qc(x.size());
  std::vector<float> fc(x.size());
  const qkern::ChannelQuantParams cp3 = qkern::choose_params(qkern::minmax(x.data(), layout), qkern::DType::int8);
  qkern::quantize(x.data(), qc.data(), layout, cp3);
  qkern::fake_quantize(x.data(), fc.data(), layout, cp3);
  d.add(qc);
  d.add(fc);
  const qkern::analysis::ErrorMetrics e = qkern::analysis::compare(x, fc);
  d.add(e.mse);
  d.add(e.sqnr_db);
  d.add(e.cosine);

  // BatchNorm folding.
  qkern::BatchNormParams bn;
  for (std::size_t c = 0; c < channels; ++c) {
    bn.gamma.push_back(0.5f + 0.1f * static_cast<float>(c));
    bn.beta.push_back(0.01f * static_cast<float>(c));
    bn.mean.push_back(100.0f + static_cast<float>(c));
    bn.var.push_back(0.3f + static_cast<float>(c));
  }
  const qkern::WeightSpec spec{{channels, 4, 3, 3}, qkern::WeightLayout::oihw, 1};
  const std::vector<float> w = make_data(spec.size(), 3);
  const qkern::FoldedWeights f = qkern::fold_batchnorm(w.data(), spec, nullptr, bn);
  d.add(f.weight);
  d.add(f.bias);

  // Tensor files: a .npy image written and parsed in memory.
  const std::vector<std::size_t> shape{3, channels, inner};
  const std::string image =
      qkern::io::detail::npy_image(qkern::io::TensorRef{"x", qkern::io::ElementType::f32, shape, x.data()}, "x");
  const qkern::io::TensorView t = qkern::io::parse_npy(image.data(), image.size(), "mem.npy", "x");
  std::vector<float> y(t.element_count());
  t.to_float32(y.data());
  if (y != x) rc |= consumer::fail(".npy round trip");
  return rc;
}

}  // namespace

#define QKERN_SIDE_CAT2(a, b) a##b
#define QKERN_SIDE_CAT(a, b) QKERN_SIDE_CAT2(a, b)

/// Runs the workload; the digest of every result goes to *digest. Returns 0 when every check passed.
int QKERN_SIDE_CAT(mixed_arch_side_, QKERN_SIDE)(std::uint64_t* digest, const char** arch) {
  Digest d;
  int rc = 0;
  try {
    rc = workload(d);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "FAIL: exception %s\n", e.what());
    rc = 1;
  }
  *digest = d.h;
  *arch = qkern::dispatch::selected_arch_name();
  return rc;
}
