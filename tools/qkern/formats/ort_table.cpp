// qkern — SPDX-License-Identifier: Apache-2.0
//
// ort_table.cpp: ONNX Runtime's calibration table, as
// onnxruntime/python/tools/quantization/quant_utils.py write_calibration_table(calibration_cache)
// writes it for the TensorsData that calibrator.compute_data() returns (ONNX Runtime main after
// PR #22166 "Fix conversion of TensorData, TensorsData to json" (1.20) and PR #28221 (2026-05),
// which moved the encoder to calibrate.py as CalibrationCacheEncoder without changing the output):
//
//   calibration.json   json.dumps(TensorsData, cls=CalibrationCacheEncoder), one line:
//     {"CLS": "TensorsData", "data": {"<tensor>": {"lowest": {"data": [-1.5], "dtype": "float32",
//      "CLS": "numpy.array"}, "highest": {...}, "CLS": "TensorData"}, ...},
//      "calibration_method": {"CLS": "CalibrationMethod", "value": "CalibrationMethod.MinMax"}}
//   calibration.cache  for key in sorted(keys): key + " " + str(max(float(highest), float(lowest)))
//
// MinMaxCalibrater's lowest / highest are float32 arrays of shape (1,) per tensor ((C,) per channel:
// ReduceMin/ReduceMax keepdims=1 then Reshape to [-1]); ndarray -> {"data": tolist(), "dtype",
// "CLS": "numpy.array"}. Readers also accept the plain {name: TensorData} object and the list form
// {name: [lowest, highest]} older releases wrote (before 1.17).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>
#include <system_error>

#include "formats_common.hpp"

namespace qkern::tool {

namespace {

using detail::Json;

std::string ort_method(const CalibrationSet& set) {
  // One CalibrationMethod for the whole table (TensorsData carries one). qkern methods without an
  // ONNX Runtime counterpart are written as MinMax: quantize_static only reads lowest / highest.
  std::string m;
  for (const LayerCalibration& l : set.layers) {
    if (detail::is_weight(l)) continue;
    if (m.empty())
      m = l.method;
    else if (m != l.method)
      return "MinMax";
  }
  if (m == "entropy") return "Entropy";
  if (m == "percentile") return "Percentile";
  if (m == "distribution") return "Distribution";
  return "MinMax";
}

std::string numpy_array(const std::vector<double>& v) {
  std::string s = "{\"data\": [";
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) s += ", ";
    s += detail::format_float32(v[i]);
  }
  return s + "], \"dtype\": \"float32\", \"CLS\": \"numpy.array\"}";
}

std::vector<const LayerCalibration*> activations(const CalibrationSet& set) {
  std::vector<const LayerCalibration*> out;
  std::set<std::string> seen;
  for (const LayerCalibration& l : set.layers) {
    detail::validate_layer(l);
    if (detail::is_weight(l)) continue;  // the table holds activation ranges only
    if (!seen.insert(l.name).second) throw qkern::InvalidArgument("layer '" + l.name + "'", "duplicate layer name");
    if (l.range_min.empty()) throw qkern::InvalidArgument("layer '" + l.name + "'", "no fitted range to export");
    out.push_back(&l);
  }
  return out;
}

// A float32 value: a number, a list of numbers, or {"data": number | [numbers], "dtype", "CLS"}.
std::vector<double> read_values(const Json& v, const std::string& source, const std::string& path) {
  std::vector<double> out;
  if (v.is_object()) {
    const Json& data = detail::require_member(v, "data", source, path);
    if (v.contains("dtype")) {
      const std::string& dt = detail::get_string(v["dtype"], source, detail::key_path(path, "dtype"));
      if (dt != "float32" && dt != "float16" && dt != "float64")
        detail::fail_key(source, detail::key_path(path, "dtype"), "expected a float dtype, found '" + dt + "'");
    }
    return read_values(data, source, detail::key_path(path, "data"));
  }
  if (v.is_array()) {
    for (std::size_t i = 0; i < v.size(); ++i) {
      const Json& x = v[i];
      if (x.is_array() && x.size() == 1 && x[0].is_number()) {  // shape (C, 1)
        out.push_back(detail::get_double(x[0], source, detail::key_path(detail::key_path(path, i), 0)));
      } else {
        out.push_back(detail::get_double(x, source, detail::key_path(path, i)));
      }
    }
    if (out.empty()) detail::fail_key(source, path, "empty array");
    return out;
  }
  if (v.is_number()) return {v.get<double>()};
  detail::fail_key(source, path, "expected a number, a list of numbers or a numpy.array object");
}

LayerCalibration make_layer(const std::string& name, std::vector<double> lo, std::vector<double> hi,
                            const std::string& method, const std::string& source, const std::string& path) {
  if (lo.size() != hi.size())
    detail::fail_key(source, path,
                     "lowest has " + std::to_string(lo.size()) + " values, highest " + std::to_string(hi.size()));
  bool symmetric = true;
  for (std::size_t i = 0; i < lo.size(); ++i) {
    if (!std::isfinite(lo[i]) || !std::isfinite(hi[i])) detail::fail_key(source, path, "non-finite range");
    if (lo[i] > hi[i])
      detail::fail_key(source, path,
                       "lowest " + format_double(lo[i]) + " > highest " + format_double(hi[i]) + " (index " +
                           std::to_string(i) + ")");
    if (lo[i] != -hi[i]) symmetric = false;
  }
  LayerCalibration l;
  l.name = name;
  l.scheme = symmetric ? "symmetric" : "affine";
  // ONNX Runtime's defaults: QInt8 for symmetric, QUInt8 activations otherwise. The table carries
  // ranges only: scales / zero points are left for the caller to fit.
  l.dtype = symmetric ? qkern::DType::int8 : qkern::DType::uint8;
  l.qmin = symmetric ? -128 : 0;
  l.qmax = symmetric ? 127 : 255;
  l.method = method;
  l.convention = "onnxruntime";
  l.axis = lo.size() > 1 ? 1 : -1;  // per-channel activations keep axis 1 (CalibraterBase per_channel)
  l.range_min = std::move(lo);
  l.range_max = std::move(hi);
  return l;
}

}  // namespace

std::string write_ort_table_string(const CalibrationSet& set) {
  const auto layers = activations(set);
  std::string s = "{\"CLS\": \"TensorsData\", \"data\": {";
  bool first = true;
  for (const LayerCalibration* l : layers) {
    if (!first) s += ", ";
    first = false;
    s += detail::json_quote(l->name, "layer '" + l->name + "'") + ": {\"lowest\": " + numpy_array(l->range_min) +
         ", \"highest\": " + numpy_array(l->range_max) + ", \"CLS\": \"TensorData\"}";
  }
  s += "}, \"calibration_method\": {\"CLS\": \"CalibrationMethod\", \"value\": \"CalibrationMethod." + ort_method(set) +
       "\"}}";
  return s;  // json.dumps adds no trailing newline and write_calibration_table none either
}

void write_ort_table(const std::string& path, const CalibrationSet& set) {
  detail::write_text_file(path, write_ort_table_string(set));
}

std::string write_ort_cache_string(const CalibrationSet& set) {
  auto layers = activations(set);
  std::sort(layers.begin(), layers.end(),
            [](const LayerCalibration* a, const LayerCalibration* b) { return a->name < b->name; });
  std::string s;
  for (const LayerCalibration* l : layers) {
    if (l->range_min.size() != 1)
      throw qkern::InvalidArgument("layer '" + l->name + "'",
                                   "calibration.cache holds one value per tensor; this layer is per channel");
    if (l->name.find(' ') != std::string::npos)
      throw qkern::InvalidArgument("layer '" + l->name + "'",
                                   "calibration.cache separates name and value by a space; the name contains one");
    // ONNX Runtime writes max(highest, lowest) (not max |.|): see docs/formats.md.
    const double hi = static_cast<float>(l->range_max[0]);
    const double lo = static_cast<float>(l->range_min[0]);
    s += l->name + " " + format_double(hi >= lo ? hi : lo) + "\n";
  }
  return s;
}

void write_ort_cache(const std::string& path, const CalibrationSet& set) {
  detail::write_text_file(path, write_ort_cache_string(set));
}

CalibrationSet read_ort_table_string(const std::string& text, const std::string& source) {
  detail::JsonKeyOrder order;
  const Json root = detail::parse_json(text, source, &order);
  if (!root.is_object()) detail::fail_key(source, "", "expected a JSON object (tensor name -> range)");
  CalibrationSet set;
  const Json* data = &root;
  const std::vector<std::string>* keys = &order.root;
  std::string data_path;
  std::string method = "unknown";
  if (root.contains("CLS") && root["CLS"].is_string() && root["CLS"].get_ref<const std::string&>() == "TensorsData") {
    data = &detail::require_member(root, "data", source, "");
    keys = &order.data;
    data_path = "/data";
    if (!data->is_object()) detail::fail_key(source, data_path, "expected an object (tensor name -> TensorData)");
    if (root.contains("calibration_method")) {
      const Json& cm = root["calibration_method"];
      const std::string cm_path = "/calibration_method";
      const std::string& v = detail::get_string(detail::require_member(cm, "value", source, cm_path), source,
                                                detail::key_path(cm_path, "value"));
      static const std::pair<const char*, const char*> known[] = {{"CalibrationMethod.MinMax", "minmax"},
                                                                  {"CalibrationMethod.Entropy", "entropy"},
                                                                  {"CalibrationMethod.Percentile", "percentile"},
                                                                  {"CalibrationMethod.Distribution", "distribution"}};
      bool found = false;
      for (const auto& k : known)
        if (v == k.first) {
          method = k.second;
          found = true;
        }
      if (!found)
        detail::fail_key(source, detail::key_path(cm_path, "value"), "unknown calibration method '" + v + "'");
    }
    set.meta["ort_calibration_method"] = method;
  }
  if (keys->size() != data->size()) detail::fail_file(source, "internal error: JSON key order lost");
  for (const std::string& name : *keys) {  // file order
    const std::string path = detail::key_path(data_path, name);
    const Json& e = data->at(name);
    if (name.empty()) detail::fail_key(source, path, "empty tensor name");
    if (e.is_array()) {  // [lowest, highest] (before ONNX Runtime 1.17)
      if (e.size() != 2) detail::fail_key(source, path, "expected [lowest, highest]");
      set.layers.push_back(make_layer(name, read_values(e[0], source, detail::key_path(path, 0)),
                                      read_values(e[1], source, detail::key_path(path, 1)), method, source, path));
    } else if (e.is_object()) {
      if (e.contains("CLS")) {
        const std::string& cls = detail::get_string(e["CLS"], source, detail::key_path(path, "CLS"));
        if (cls != "TensorData")
          detail::fail_key(source, detail::key_path(path, "CLS"), "expected TensorData, found '" + cls + "'");
      }
      const Json& lo = detail::require_member(e, "lowest", source, path);
      const Json& hi = detail::require_member(e, "highest", source, path);
      set.layers.push_back(make_layer(name, read_values(lo, source, detail::key_path(path, "lowest")),
                                      read_values(hi, source, detail::key_path(path, "highest")), method, source,
                                      path));
    } else {
      detail::fail_key(source, path, "expected a TensorData object or [lowest, highest]");
    }
  }
  if (set.layers.empty()) detail::fail_file(source, "no tensors in the calibration table");
  return set;
}

CalibrationSet read_ort_table(const std::string& path) {
  return read_ort_table_string(detail::read_text_file(path), path);
}

CalibrationSet read_ort_cache_string(const std::string& text, const std::string& source) {
  CalibrationSet set;
  std::set<std::string> seen;
  std::size_t pos = 0, line_no = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    const std::size_t sp = line.rfind(' ');
    if (sp == std::string::npos || sp == 0)
      detail::fail_line(source, line_no, "expected '<tensor name> <value>', found '" + line.substr(0, 80) + "'");
    const std::string name = line.substr(0, sp);
    const std::string value = line.substr(sp + 1);
    double v = 0.0;
    const auto r = std::from_chars(value.data(), value.data() + value.size(), v);  // locale-independent
    const bool ok = r.ec == std::errc() && r.ptr == value.data() + value.size();
    if (!ok || !std::isfinite(v))
      detail::fail_line(source, line_no,
                        "tensor '" + name + "': expected a finite number, found '" + value.substr(0, 80) + "'");
    v = std::fabs(v);  // max(highest, lowest) is negative for an all-negative tensor
    if (!seen.insert(name).second) detail::fail_line(source, line_no, "tensor '" + name + "' appears twice");
    // The TensorRT EP reads the value as a symmetric dynamic range [-v, v].
    set.layers.push_back(make_layer(name, {-v}, {v}, "unknown", source, "line " + std::to_string(line_no)));
  }
  if (set.layers.empty()) detail::fail_file(source, "no tensors in calibration.cache");
  return set;
}

CalibrationSet read_ort_cache(const std::string& path) {
  return read_ort_cache_string(detail::read_text_file(path), path);
}

}  // namespace qkern::tool
