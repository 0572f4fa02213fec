// qkern tool — SPDX-License-Identifier: Apache-2.0
#include "export.hpp"

#include "calibration_result.hpp"

namespace qkern::tool {
namespace {

LayerCalibration to_calibration(const LayerFit& f) {
  LayerCalibration c;
  c.name = f.name;
  c.dtype = f.dtype;
  c.qmin = f.qmin;
  c.qmax = f.qmax;
  c.scheme = f.scheme;
  c.method = f.method;
  c.convention = f.convention;
  c.axis = f.axis;
  c.scales = f.scales;
  c.zero_points = f.zero_points;
  c.range_min = f.range_min;
  c.range_max = f.range_max;
  c.observed_min = f.observed_min;
  c.observed_max = f.observed_max;
  c.finite = f.finite;
  c.nan = f.nan;
  c.pos_inf = f.pos_inf;
  c.neg_inf = f.neg_inf;
  c.summary = f.summary;
  c.kind = "activation";
  return c;
}

}  // namespace

const std::vector<ExportFormat>& export_formats() {
  static const std::vector<ExportFormat> formats = {
      {"trt-cache", "trt.cache", "tensorrt", "symmetric"},
      {"ort-table", "calibration.json", "onnxruntime", "affine"},
      {"ort-cache", "calibration.cache", "onnxruntime", "affine"},
      {"aimet", "aimet_encodings.json", "qkern", "symmetric"},
      {"qkern-json", "qkern.json", "qkern", "symmetric"},
  };
  return formats;
}

const ExportFormat& export_format(const std::string& name) {
  for (const ExportFormat& f : export_formats())
    if (name == f.name) return f;
  throw InvalidArgument("--format",
                        "unknown format '" + name + "' (trt-cache, ort-table, ort-cache, aimet, qkern-json)");
}

void write_export(const std::string& format, const std::string& path, const std::vector<LayerFit>& fits,
                  const std::map<std::string, std::string>& meta) {
  CalibrationSet set;
  set.meta = meta;
  for (const LayerFit& f : fits) {
    if (format == "trt-cache" && f.axis >= 0)
      throw DataError(path + ": layer '" + f.name +
                      "': a TensorRT calibration cache holds one dynamic range per tensor, not per-channel "
                      "parameters (fit without --per-channel)");
    set.layers.push_back(to_calibration(f));
  }
  if (format == "trt-cache")
    write_trt_cache(path, set);
  else if (format == "ort-table")
    write_ort_table(path, set);
  else if (format == "ort-cache")
    write_ort_cache(path, set);
  else if (format == "aimet")
    write_aimet_encodings(path, set);
  else if (format == "qkern-json")
    write_qkern_json(path, set);
  else
    export_format(format);  // throws
}

std::map<std::string, LayerParams> read_params(const std::string& path) {
  const CalibrationSet set = read_qkern_json(path);
  std::map<std::string, LayerParams> out;
  for (const LayerCalibration& c : set.layers) {
    LayerParams p;
    p.name = c.name;
    p.dtype = c.dtype;
    p.qmin = static_cast<std::int32_t>(c.qmin);
    p.qmax = static_cast<std::int32_t>(c.qmax);
    p.axis = c.axis;
    const std::size_t n = c.scales.size();
    if (n == 0 || c.zero_points.size() != n || (c.axis < 0 && n != 1))
      throw DataError(path + ": layer '" + c.name + "': " + std::to_string(n) + " scales and " +
                      std::to_string(c.zero_points.size()) + " zero points" +
                      (c.axis < 0 ? " for per-tensor parameters" : ""));
    for (std::size_t i = 0; i < n; ++i) {
      p.scales.push_back(static_cast<float>(c.scales[i]));
      p.zero_points.push_back(static_cast<std::int32_t>(c.zero_points[i]));
    }
    try {
      p.convention = parse_convention(c.convention.empty() ? "qkern" : c.convention, "convention");
      for (std::size_t i = 0; i < n; ++i)
        validate(QuantParams::make(p.dtype, p.scales[i], p.zero_points[i], QRange{p.qmin, p.qmax}));
    } catch (const InvalidArgument& e) {
      throw DataError(path + ": layer '" + c.name + "': " + e.what());
    }
    out.emplace(c.name, std::move(p));
  }
  return out;
}

}  // namespace qkern::tool
