// qkern tool — SPDX-License-Identifier: Apache-2.0
#include "fitting.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "qkern/calib/percentile.hpp"

namespace qkern::tool {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  std::replace(s.begin(), s.end(), '-', '_');
  return s;
}

RangeOptions range_options(const FitSettings& s) {
  RangeOptions r;
  r.scheme = s.scheme;
  r.narrow_range = s.narrow_range;
  r.reduce_range = s.reduce_range;
  r.power_of_two_scale = s.power_of_two_scale;
  return r;
}

FitOptions fit_options(const FitSettings& s) {
  FitOptions o;
  o.scheme = s.scheme;
  o.num_bits = std::min(bit_width(s.dtype), 16);
  o.percentile = s.percentile;
  o.power_of_two_scale = s.power_of_two_scale;
  o.narrow_range = s.narrow_range;
  o.reduce_range = s.reduce_range;
  return o;
}

// Which histogram a method fits: |x| for the one-sided symmetric methods (and entropy, which is
// defined on |x| only), x otherwise.
bool uses_abs(const FitSettings& s) {
  if (s.method == FitMethod::entropy) return true;
  return s.scheme == Scheme::symmetric && (s.method == FitMethod::percentile || s.method == FitMethod::mse);
}

FitRange minmax_range(const MinMax& m, Scheme scheme) {
  if (scheme == Scheme::symmetric) {
    const double a = std::fmax(std::fabs(double(m.min)), std::fabs(double(m.max)));
    return {-a, a, "min/max of the observed values"};
  }
  return {double(m.min), double(m.max), "min/max of the observed values"};
}

std::string no_data(const LayerState& l, const ValueCounts& c, const std::string& where) {
  return "layer '" + l.name() + "'" + where + ": " +
         (c.total() == 0 ? std::string("no values observed")
                         : "no finite values observed (" + std::to_string(c.nan) + " NaN, " +
                               std::to_string(c.pos_inf) + " +Inf, " + std::to_string(c.neg_inf) + " -Inf)") +
         ", cannot fit";
}

}  // namespace

const char* convention_name(Convention c) {
  switch (c) {
    case Convention::qkern:
      return "qkern";
    case Convention::pytorch:
      return "pytorch";
    case Convention::onnxruntime:
      return "onnxruntime";
    case Convention::tensorrt:
      return "tensorrt";
    case Convention::tflite:
      return "tflite";
    case Convention::fbgemm:
      return "fbgemm";
  }
  return "?";
}

const char* scheme_name(Scheme s) { return s == Scheme::symmetric ? "symmetric" : "affine"; }

FitMethod parse_method(const std::string& s, const char* option) {
  const std::string v = lower(s);
  for (FitMethod m : {FitMethod::minmax, FitMethod::percentile, FitMethod::mse, FitMethod::entropy,
                      FitMethod::l2_search, FitMethod::sqnr})
    if (v == fit_method_name(m)) return m;
  if (v == "max" || v == "min_max") return FitMethod::minmax;
  if (v == "kl") return FitMethod::entropy;
  if (v == "l2") return FitMethod::l2_search;
  throw InvalidArgument(option, "unknown method '" + s + "' (minmax, percentile, mse, entropy, l2_search, sqnr)");
}

DType parse_dtype_option(const std::string& s, const char* option) {
  const std::string v = lower(s);
  for (DType t : {DType::int4, DType::uint4, DType::int8, DType::uint8, DType::int16, DType::uint16})
    if (v == dtype_name(t)) return t;
  throw InvalidArgument(option, "unknown dtype '" + s + "' (int4, uint4, int8, uint8, int16, uint16)");
}

Scheme parse_scheme(const std::string& s, const char* option) {
  const std::string v = lower(s);
  if (v == "symmetric" || v == "sym") return Scheme::symmetric;
  if (v == "affine" || v == "asymmetric" || v == "asym") return Scheme::affine;
  throw InvalidArgument(option, "unknown scheme '" + s + "' (symmetric, affine)");
}

Convention parse_convention(const std::string& s, const char* option) {
  const std::string v = lower(s);
  for (Convention c : {Convention::qkern, Convention::pytorch, Convention::onnxruntime, Convention::tensorrt,
                       Convention::tflite, Convention::fbgemm})
    if (v == convention_name(c)) return c;
  if (v == "ort") return Convention::onnxruntime;
  if (v == "trt") return Convention::tensorrt;
  if (v == "torch") return Convention::pytorch;
  throw InvalidArgument(option, "unknown tool '" + s + "' (qkern, pytorch, tensorrt, onnxruntime, tflite, fbgemm)");
}

void SqnrSums::add(const HistogramView& h, const QuantParams& p) {
  constexpr int kPoints = 8;
  const double w = h.bin_width() / kPoints;
  const double scale = p.scale;
  for (std::size_t b = 0; b < h.bins; ++b) {
    if (h.counts[b] == 0) continue;
    const double weight = double(h.counts[b]) / kPoints;
    const double left = h.left_edge(b);
    for (int k = 0; k < kPoints; ++k) {
      const double x = left + w * (k + 0.5);
      double q = std::nearbyint(x / scale) + p.zero_point;
      q = std::fmin(std::fmax(q, double(p.qmin)), double(p.qmax));
      const double e = (q - p.zero_point) * scale - x;
      signal += weight * x * x;
      noise += weight * e * e;
    }
  }
}

double SqnrSums::db() const {
  if (noise == 0.0) return signal == 0.0 ? 0.0 : std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(signal / noise);
}

LayerFit fit_layer(const LayerState& l, const FitSettings& s) {
  if (s.convention == Convention::tensorrt && s.scheme != Scheme::symmetric)
    throw InvalidArgument("--scheme", "the TensorRT convention is symmetric only");
  LayerFit f;
  f.name = l.name();
  f.shape = l.shape();
  f.dtype = s.dtype;
  f.scheme = scheme_name(s.scheme);
  f.method = fit_method_name(s.method);
  f.convention = convention_name(s.convention);
  const MinMax all = l.minmax().range();
  f.finite = all.counts.finite;
  f.nan = all.counts.nan;
  f.pos_inf = all.counts.pos_inf;
  f.neg_inf = all.counts.neg_inf;
  if (!all.has_finite()) throw DataError(no_data(l, all.counts, ""));
  const RangeOptions ro = range_options(s);
  const FitOptions fo = fit_options(s);
  SqnrSums sqnr;
  auto fit_one = [&](const MinMax& mm, const HistogramView& signed_view, const HistogramView* abs_view) {
    FitRange r = s.method == FitMethod::minmax ? minmax_range(mm, s.scheme)
                                               : fit_range(uses_abs(s) ? *abs_view : signed_view, s.method, fo);
    const QuantParams p = choose_params(r.min, r.max, s.dtype, ro, s.convention);
    f.scales.push_back(p.scale);
    f.zero_points.push_back(p.zero_point);
    f.qmin = p.qmin;
    f.qmax = p.qmax;
    f.range_min.push_back(r.min);
    f.range_max.push_back(r.max);
    f.observed_min.push_back(mm.min);
    f.observed_max.push_back(mm.max);
    sqnr.add(signed_view, p);
  };
  if (s.per_channel && l.per_channel()) {
    f.axis = l.channel_axis();
    for (std::size_t c = 0; c < l.channels(); ++c) {
      const MinMax mm = l.channel_minmax().ranges()[c];
      if (!mm.has_finite()) throw DataError(no_data(l, mm.counts, " channel " + std::to_string(c)));
      const HistogramView av = l.channel_abs_histogram().view(c);
      fit_one(mm, l.channel_histogram().view(c), &av);
    }
  } else {
    const HistogramView av = l.abs_histogram().view();
    fit_one(all, l.histogram().view(), &av);
  }
  f.sqnr_db = sqnr.db();
  f.summary["sqnr_db_estimate"] = f.sqnr_db;
  if (s.method == FitMethod::percentile) f.summary["percentile"] = s.percentile;
  return f;
}

std::map<std::string, double> layer_statistics(const LayerState& l) {
  std::map<std::string, double> m;
  const MinMax all = l.minmax().range();
  m["elements"] = double(l.elements());
  m["finite"] = double(all.counts.finite);
  m["nan"] = double(all.counts.nan);
  m["pos_inf"] = double(all.counts.pos_inf);
  m["neg_inf"] = double(all.counts.neg_inf);
  if (!all.has_finite()) return m;
  m["min"] = all.min;
  m["max"] = all.max;
  const HistogramView h = l.histogram().view();
  const char* names[] = {"p0.01", "p0.1", "p1", "p50", "p99", "p99.9", "p99.99"};
  const double ps[] = {0.01, 0.1, 1, 50, 99, 99.9, 99.99};
  for (int i = 0; i < 7; ++i) m[names[i]] = percentile(h, ps[i]).value;
  const HistogramView a = l.abs_histogram().view();
  m["abs_p99.9"] = percentile(a, 99.9).value;
  m["abs_p99.99"] = percentile(a, 99.99).value;
  m["abs_max"] = std::fmax(std::fabs(all.min), std::fabs(all.max));
  return m;
}

}  // namespace qkern::tool
