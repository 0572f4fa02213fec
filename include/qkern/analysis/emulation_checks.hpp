// qkern — SPDX-License-Identifier: Apache-2.0
//
// analysis/emulation_checks.hpp: suspect 1 of the checklist. Before blaming quantization, run the
// accelerator's emulation in FLOAT (quantization off) on the same inputs as the original model and
// compare. Float emulation differs from the original only by operation order, so the outputs agree
// to float rounding (SQNR far above 60 dB); a lower SQNR, or a changed decision, means the mismatch
// is already there before quantization: "not a quantization problem" (pre/post-processing applied
// twice, omitted or split differently around the accelerator's part of the graph, a different
// resize, channel order, layout...).
//
// With per-layer dumps of both (in graph order), the first layer whose SQNR drops below
// EmulationCheckOptions::layer_sqnr_db is where the two diverge. At that layer the two tensors are
// also fitted with a line, emulated = a x original + b: a correlation near 1 with a != 1 or b != 0
// is the signature of a scaling / normalization mismatch, and the report says so.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "qkern/analysis/diagnosis.hpp"
#include "qkern/analysis/metrics.hpp"
#include "qkern/core/abi.hpp"
#include "qkern/core/error.hpp"

namespace qkern {
inline namespace QKERN_ABI_NS {
namespace analysis {

struct EmulationCheckOptions {
  /// Outputs agree when their SQNR is at least this (float rounding alone gives > 60 dB; the digits
  /// dump's preprocessing mismatches measure -17 dB and -4.7 dB: docs/doctor.md).
  double output_sqnr_db = 40.0;
  /// A per-layer dump diverges when its SQNR is below this.
  double layer_sqnr_db = 40.0;
  /// Fraction of samples whose top-1 decision may differ before the check fails (0: any flip).
  double decision_flip_fraction = 0.0;
  /// An affine relation explains the divergence when the correlation is at least this.
  double affine_correlation = 0.999;
};

/// The original and emulated tensors of one layer, same size and order (from per-layer dumps).
struct LayerPair {
  std::string name;
  const float* original = nullptr;
  const float* emulated = nullptr;
  std::size_t n = 0;
};

struct LayerAgreement {
  std::string layer;
  ErrorMetrics metrics;                                    ///< emulated against original
  double slope = 1.0, intercept = 0.0, correlation = 1.0;  ///< least squares emulated = slope x original + intercept
};

struct EmulationCheck {
  std::size_t samples = 0;
  ErrorMetrics outputs;                ///< emulated against original outputs, all samples
  std::vector<double> sample_sqnr_db;  ///< per sample
  std::vector<std::size_t> flipped;    ///< samples whose top-1 class differs
  std::vector<LayerAgreement> layers;
  std::ptrdiff_t first_diverging = -1;  ///< index into layers, -1 when none diverges
  bool mismatch = false;                ///< the outputs already disagree before quantization
  Diagnosis diagnosis;
};

/// Least-squares line y = a x + b through the finite pairs, and their correlation.
inline void fit_affine(const float* x, const float* y, std::size_t n, double& a, double& b, double& r) {
  double c = 0.0, sx = 0.0, sy = 0.0, sxx = 0.0, syy = 0.0, sxy = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!::qkern::detail::is_finite(x[i]) || !::qkern::detail::is_finite(y[i])) continue;
    c += 1.0;
    sx += x[i];
    sy += y[i];
    sxx += static_cast<double>(x[i]) * x[i];
    syy += static_cast<double>(y[i]) * y[i];
    sxy += static_cast<double>(x[i]) * y[i];
  }
  a = 1.0;
  b = 0.0;
  r = std::numeric_limits<double>::quiet_NaN();
  if (c < 2.0) return;
  const double vx = sxx / c - (sx / c) * (sx / c), vy = syy / c - (sy / c) * (sy / c);
  const double cov = sxy / c - (sx / c) * (sy / c);
  if (vx > 0.0) {
    a = cov / vx;
    b = sy / c - a * sx / c;
  }
  if (vx > 0.0 && vy > 0.0) r = cov / std::sqrt(vx * vy);
}

/// Compares the original model's outputs with the float emulation's on the same `samples` inputs
/// (outputs_per_sample floats each, back to back), and the per-layer dumps when given (graph
/// order). Throws InvalidArgument naming "original" / "emulated" (null with data),
/// "outputs_per_sample" (0 with samples) or "layers[i]" (a null pointer).
inline EmulationCheck check_emulation(const float* original, const float* emulated, std::size_t samples,
                                      std::size_t outputs_per_sample, const std::vector<LayerPair>& layers = {},
                                      const EmulationCheckOptions& options = {}) {
  if (samples != 0 && outputs_per_sample == 0) qkern::detail::throw_invalid("outputs_per_sample", "is 0");
  const std::size_t n = samples * outputs_per_sample;
  if (n != 0 && original == nullptr) qkern::detail::throw_invalid("original", "is null");
  if (n != 0 && emulated == nullptr) qkern::detail::throw_invalid("emulated", "is null");
  EmulationCheck r;
  r.samples = samples;
  MetricsAccumulator all;
  for (std::size_t s = 0; s < samples; ++s) {
    const float* o = original + s * outputs_per_sample;
    const float* e = emulated + s * outputs_per_sample;
    const MetricSums ms = metric_sums(o, e, outputs_per_sample);
    all.add(ms);
    r.sample_sqnr_db.push_back(sqnr_db(ms));
    if (outputs_per_sample > 1) {
      const std::size_t ao = static_cast<std::size_t>(std::max_element(o, o + outputs_per_sample) - o);
      const std::size_t ae = static_cast<std::size_t>(std::max_element(e, e + outputs_per_sample) - e);
      if (ao != ae) r.flipped.push_back(s);
    }
  }
  r.outputs = all.result();
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const LayerPair& p = layers[i];
    if (p.n != 0 && (p.original == nullptr || p.emulated == nullptr))
      qkern::detail::throw_invalid(("layers[" + std::to_string(i) + "]").c_str(), "'" + p.name + "' has a null tensor");
    LayerAgreement a;
    a.layer = p.name;
    a.metrics = compare(p.original, p.emulated, p.n);
    fit_affine(p.original, p.emulated, p.n, a.slope, a.intercept, a.correlation);
    if (r.first_diverging < 0 && !(a.metrics.sqnr_db >= options.layer_sqnr_db))
      r.first_diverging = static_cast<std::ptrdiff_t>(i);
    r.layers.push_back(a);
  }
  const double flip_fraction = samples ? static_cast<double>(r.flipped.size()) / static_cast<double>(samples) : 0.0;
  r.mismatch = !(r.outputs.sqnr_db >= options.output_sqnr_db) || flip_fraction > options.decision_flip_fraction;

  Diagnosis& d = r.diagnosis;
  d.check = "fp_emulation";
  d.suspect = Suspect::emulation;
  d.value = r.outputs.sqnr_db;
  d.threshold = options.output_sqnr_db;
  d.threshold_name = "EmulationCheckOptions::output_sqnr_db";
  // The worst samples, worst first.
  std::vector<std::size_t> order(samples);
  for (std::size_t i = 0; i < samples; ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const double x = r.sample_sqnr_db[a], y = r.sample_sqnr_db[b];
    return (::qkern::detail::is_nan(x) ? -1e300 : x) < (::qkern::detail::is_nan(y) ? -1e300 : y);
  });
  char buf[600];
  std::snprintf(buf, sizeof buf,
                "float emulation vs original model outputs over %zu samples: SQNR %.3g dB, %zu top-1 decisions differ",
                samples, r.outputs.sqnr_db, r.flipped.size());
  d.evidence = buf;
  if (r.mismatch) {
    d.severity = Severity::failed;
    if (!r.flipped.empty())
      d.samples.assign(r.flipped.begin(), r.flipped.begin() + std::min<std::ptrdiff_t>(16, r.flipped.size()));
    else
      for (std::size_t k = 0; k < std::min<std::size_t>(8, samples); ++k) d.samples.push_back(order[k]);
    std::sort(d.samples.begin(), d.samples.end());
    d.action =
        "not a quantization problem: the emulation disagrees before quantization; fix the pre/post-processing "
        "split around the accelerator's graph first";
    if (r.first_diverging >= 0) {
      const LayerAgreement& a = r.layers[static_cast<std::size_t>(r.first_diverging)];
      d.layer = a.layer;
      std::snprintf(
          buf, sizeof buf, "; first diverging layer '%s' (SQNR %.3g dB < %.3g dB, %s)", a.layer.c_str(),
          a.metrics.sqnr_db, options.layer_sqnr_db,
          r.first_diverging == 0
              ? "the first dumped layer"
              : ("after '" + r.layers[static_cast<std::size_t>(r.first_diverging) - 1].layer + "' agreed").c_str());
      d.evidence += buf;
      if (a.correlation >= options.affine_correlation) {
        std::snprintf(buf, sizeof buf,
                      "; there emulated = %.4g x original + %.4g (correlation %.6f): a scaling / normalization "
                      "mismatch",
                      a.slope, a.intercept, a.correlation);
        d.evidence += buf;
        d.action = "not a quantization problem: at layer '" + a.layer +
                   "' the emulation's input is an affine map of the original's: normalization applied twice, "
                   "omitted, or with other constants; use the same preprocessing on both sides";
      } else {
        d.action = "not a quantization problem: compare the two implementations of layer '" + a.layer +
                   "' (layout, channel order, resize, op semantics)";
      }
    }
  } else {
    d.severity = Severity::ok;
    d.action = "the emulation matches the original: quantization is the next suspect";
  }
  return r;
}

}  // namespace analysis
}  // namespace QKERN_ABI_NS
}  // namespace qkern
