// qkern tool — SPDX-License-Identifier: Apache-2.0
//
// fitting.hpp: `qkern fit` / `export` / `stats`: quantization parameters for every layer of a
// CalibrationState with any calib/fit.hpp method and convention, an SQNR estimate of each fit from
// the layer's histogram, and the summary statistics `stats` prints.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "qkern/calib/fit.hpp"
#include "state.hpp"

namespace qkern::tool {

struct FitSettings {
  FitMethod method = FitMethod::minmax;
  DType dtype = DType::int8;
  Scheme scheme = Scheme::symmetric;
  Convention convention = Convention::qkern;
  bool per_channel = false;  ///< use the layer's per-channel observers (layers without: per tensor)
  double percentile = 99.99;
  bool narrow_range = false;
  bool reduce_range = false;
  bool power_of_two_scale = false;
};

/// One layer's fitted parameters (the fields of qkern::tool::LayerCalibration, plus the shape).
struct LayerFit {
  std::string name;
  std::vector<std::uint64_t> shape;
  DType dtype = DType::int8;
  std::int64_t qmin = 0, qmax = 0;
  std::string scheme, method, convention;
  int axis = -1;
  std::vector<double> scales;
  std::vector<std::int64_t> zero_points;
  std::vector<double> range_min, range_max;        ///< fitted clip range (per tensor or channel)
  std::vector<double> observed_min, observed_max;  ///< data range
  std::uint64_t finite = 0, nan = 0, pos_inf = 0, neg_inf = 0;
  double sqnr_db = 0.0;  ///< estimated from the histogram(s), see estimate_sqnr_db
  std::map<std::string, double> summary;
};

const char* convention_name(Convention c);
const char* scheme_name(Scheme s);
/// Parse names as the command line spells them; throw InvalidArgument naming `option`.
FitMethod parse_method(const std::string& s, const char* option = "--method");
DType parse_dtype_option(const std::string& s, const char* option = "--dtype");
Scheme parse_scheme(const std::string& s, const char* option = "--scheme");
/// "qkern", "pytorch", "tensorrt", "onnxruntime" (or "ort"), "tflite", "fbgemm".
Convention parse_convention(const std::string& s, const char* option = "--tool");

/// Fits one layer. Throws DataError naming the layer (no finite value observed), InvalidArgument
/// for settings the convention does not support (e.g. tensorrt + affine).
LayerFit fit_layer(const LayerState& layer, const FitSettings& settings);

/// SQNR (dB) of quantizing the values counted by `signed_hist` with `p`, the values of each bin taken
/// as evenly spread over it (8 points per bin): 10 log10(sum x^2 / sum (dq(q(x)) - x)^2). +Inf when
/// the estimated noise is zero.
struct SqnrSums {
  double signal = 0.0, noise = 0.0;
  void add(const HistogramView& signed_hist, const QuantParams& p);
  double db() const;
};

/// Summary statistics of a layer (`qkern stats`): elements, counts by kind, min, max,
/// percentiles of x (p0.01, p0.1, p1, p50, p99, p99.9, p99.99) and of |x| (p99.9, p99.99).
std::map<std::string, double> layer_statistics(const LayerState& layer);

}  // namespace qkern::tool
