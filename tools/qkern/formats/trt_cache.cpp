// qkern — SPDX-License-Identifier: Apache-2.0
//
// trt_cache.cpp: TensorRT INT8 calibration cache (text form, TensorRT 7.x - 10.x).
//
//   TRT-8601-EntropyCalibration2        header: TRT-<version>-<calibrator>
//   input: 3c23d70a                     <tensor name>: <hex of the float32 scale bits, big-endian>
//
// Checked against the readers: ONNX Runtime's TensorRT EP ReadDynamicRange
// (onnxruntime/core/providers/tensorrt/tensorrt_execution_provider_utils.h: strtoul(hex, 16),
// bits -> float, dynamic range = scale * 127) and NVIDIA ModelOpt import_scales_from_calib_cache
// (modelopt/onnx/quantization/calib_utils.py: line.split(": "), struct.unpack("!f",
// bytes.fromhex(hex))). See docs/formats.md for the traps (names with ':', bare "0").
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <set>

#include "formats_common.hpp"

namespace qkern::tool {

namespace {

std::uint32_t float_bits(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

float bits_float(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

void validate_header(const std::string& header) {
  bool ok = header.size() > 4 && header.compare(0, 4, "TRT-") == 0;
  for (char c : header)
    if (c == '\n' || c == '\r' || c == ':') ok = false;
  if (!ok)
    throw qkern::InvalidArgument(
        "header", "a TensorRT cache header looks like TRT-8601-EntropyCalibration2, got '" + header + "'");
}

std::string method_from_header(const std::string& header) {
  const std::size_t dash = header.find('-', 4);
  const std::string algo = dash == std::string::npos ? std::string() : header.substr(dash + 1);
  if (algo.rfind("Entropy", 0) == 0) return "entropy";
  if (algo.rfind("MinMax", 0) == 0) return "minmax";
  if (algo.rfind("Legacy", 0) == 0) return "percentile";
  return "unknown";
}

}  // namespace

std::string write_trt_cache_string(const CalibrationSet& set, const std::string& header) {
  validate_header(header);
  std::string out = header + "\n";
  std::set<std::string> seen;
  for (const LayerCalibration& l : set.layers) {
    detail::validate_layer(l);
    if (detail::is_weight(l)) continue;  // weights are quantized by TensorRT itself, not calibrated
    if (!seen.insert(l.name).second) throw qkern::InvalidArgument("layer '" + l.name + "'", "duplicate layer name");
    if (l.axis != -1 || l.range_min.size() != 1)
      throw qkern::InvalidArgument(
          "layer '" + l.name + "'",
          "a TensorRT calibration cache holds one per-tensor range per tensor; this layer is " +
              std::string(l.axis != -1 ? "per channel" : "not fitted (no range)"));
    const double amax = std::fmax(std::fabs(l.range_min[0]), std::fabs(l.range_max[0]));
    const float scale = static_cast<float>(amax) / 127.0f;
    if (!(scale > 0.0f) || !std::isfinite(scale))
      throw qkern::InvalidArgument("layer '" + l.name + "'",
                                   "amax " + format_double(amax) +
                                       " gives no finite positive float32 scale (TensorRT would write a bare 0, "
                                       "which it and ModelOpt treat as a failed calibration)");
    char hex[16];
    std::snprintf(hex, sizeof hex, "%08x", static_cast<unsigned>(float_bits(scale)));
    out += l.name + ": " + hex + "\n";
  }
  return out;
}

void write_trt_cache(const std::string& path, const CalibrationSet& set, const std::string& header) {
  detail::write_text_file(path, write_trt_cache_string(set, header));
}

CalibrationSet read_trt_cache_string(const std::string& text, const std::string& source) {
  CalibrationSet set;
  std::set<std::string> seen;
  std::size_t pos = 0, line_no = 0;
  bool have_header = false;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!have_header) {
      if (line.size() <= 4 || line.compare(0, 4, "TRT-") != 0)
        detail::fail_line(source, line_no,
                          "not a TensorRT calibration cache: the first line must be the calibrator header "
                          "(TRT-<version>-<calibrator>), found '" +
                              line.substr(0, 80) + "'");
      if (line.find_first_of(":\t ") != std::string::npos || line.find('\0') != std::string::npos)
        detail::fail_line(source, line_no, "malformed header '" + line.substr(0, 80) + "'");
      set.meta["trt_header"] = line;
      have_header = true;
      continue;
    }
    if (line.find_first_not_of(" \t") == std::string::npos) continue;  // blank line
    // The hex value never contains ':', tensor names may ("onnx::Conv_329"): split at the last ':'.
    const std::size_t colon = line.rfind(':');
    if (colon == std::string::npos || colon == 0)
      detail::fail_line(source, line_no, "expected '<tensor name>: <hex scale>', found '" + line.substr(0, 80) + "'");
    const std::string name = line.substr(0, colon);
    std::string value = line.substr(colon + 1);
    const std::size_t b = value.find_first_not_of(" \t");
    const std::size_t e = value.find_last_not_of(" \t");
    value = b == std::string::npos ? std::string() : value.substr(b, e - b + 1);
    if (value.empty() || value.size() > 8 || value.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
      detail::fail_line(
          source, line_no,
          "tensor '" + name + "': expected the scale as 1 to 8 hex digits, found '" + value.substr(0, 80) + "'");
    const std::uint32_t bits = static_cast<std::uint32_t>(std::stoul(value, nullptr, 16));
    const float scale = bits_float(bits);
    if (!std::isfinite(scale) || scale < 0.0f || (scale == 0.0f && bits != 0))
      detail::fail_line(source, line_no,
                        "tensor '" + name + "': scale bits " + value + " are not a finite non-negative float32");
    if (!seen.insert(name).second) detail::fail_line(source, line_no, "tensor '" + name + "' appears twice");
    LayerCalibration l;
    l.name = name;
    l.dtype = qkern::DType::int8;
    l.qmin = -127;
    l.qmax = 127;
    l.scheme = "symmetric";
    l.method = method_from_header(set.meta["trt_header"]);
    l.convention = "tensorrt";
    l.axis = -1;
    const double s = static_cast<double>(scale);
    if (scale > 0.0f) {  // a bare 0 (TensorRT's "uniformly zero tensor") leaves scales empty
      l.scales = {s};
      l.zero_points = {0};
    }
    l.range_min = {-127.0 * s};
    l.range_max = {127.0 * s};
    set.layers.push_back(std::move(l));
  }
  if (!have_header) detail::fail_file(source, "empty file: not a TensorRT calibration cache");
  return set;
}

CalibrationSet read_trt_cache(const std::string& path) {
  return read_trt_cache_string(detail::read_text_file(path), path);
}

}  // namespace qkern::tool
