// qkern — SPDX-License-Identifier: Apache-2.0
//
// qkern_json.cpp: the lossless qkern calibration JSON (format "qkern-calibration", version 1).
//
//   {"format": "qkern-calibration", "version": 1, "meta": {"k": "v", ...},
//    "layers": [{"name", "kind", "dtype", "qmin", "qmax", "scheme", "method", "convention", "axis",
//                "scales": [...], "zero_points": [...], "range_min": [...], "range_max": [...],
//                "observed_min": [...], "observed_max": [...],
//                "counts": {"finite", "nan", "pos_inf", "neg_inf"}, "summary": {"k": number, ...}}]}
//
// Doubles are written as the shortest decimal that reads back to the same double (Python repr
// spelling); non-finite doubles as the strings "nan", "inf", "-inf". Reading a file written here
// gives back an equal CalibrationSet (operator==, bitwise on doubles, all NaNs equal).
#include <cmath>
#include <set>

#include "formats_common.hpp"

namespace qkern::tool {

namespace {

using detail::Json;

std::string num(double v) {
  if (std::isnan(v)) return "\"nan\"";
  if (std::isinf(v)) return v > 0 ? "\"inf\"" : "\"-inf\"";
  return format_double(v);
}

std::string doubles(const std::vector<double>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + num(v[i]);
  return s + "]";
}

std::string ints(const std::vector<std::int64_t>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

std::vector<double> read_doubles(const Json& obj, const char* key, const std::string& source, const std::string& path) {
  const std::string p = detail::key_path(path, key);
  const Json& a = detail::require_member(obj, key, source, path);
  if (!a.is_array()) detail::fail_key(source, p, "expected an array of numbers");
  std::vector<double> out;
  out.reserve(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) out.push_back(detail::get_double(a[i], source, detail::key_path(p, i)));
  return out;
}

const std::string& read_string(const Json& obj, const char* key, const std::string& source, const std::string& path) {
  return detail::get_string(detail::require_member(obj, key, source, path), source, detail::key_path(path, key));
}

std::int64_t read_int(const Json& obj, const char* key, const std::string& source, const std::string& path) {
  return detail::get_int64(detail::require_member(obj, key, source, path), source, detail::key_path(path, key));
}

}  // namespace

std::string write_qkern_json_string(const CalibrationSet& set) {
  std::set<std::string> seen;
  std::string s = "{\n  \"format\": \"" + std::string(kQkernJsonFormat) +
                  "\",\n  \"version\": " + std::to_string(kQkernJsonVersion) + ",\n  \"meta\": {";
  bool first = true;
  for (const auto& [k, v] : set.meta) {
    s += std::string(first ? "" : ",") + "\n    " + detail::json_quote(k, "meta key") + ": " +
         detail::json_quote(v, "meta value");
    first = false;
  }
  s += set.meta.empty() ? "},\n" : "\n  },\n";
  s += "  \"layers\": [";
  first = true;
  for (const LayerCalibration& l : set.layers) {
    detail::validate_layer(l);
    if (!seen.insert(l.name).second) throw qkern::InvalidArgument("layer '" + l.name + "'", "duplicate layer name");
    const std::string what = "layer '" + l.name + "'";
    s += std::string(first ? "" : ",") + "\n    {\n";
    first = false;
    s += "      \"name\": " + detail::json_quote(l.name, what) + ",\n";
    s += "      \"kind\": " + detail::json_quote(l.kind, what) + ",\n";
    s += "      \"dtype\": \"" + std::string(qkern::dtype_name(l.dtype)) + "\",\n";
    s += "      \"qmin\": " + std::to_string(l.qmin) + ",\n";
    s += "      \"qmax\": " + std::to_string(l.qmax) + ",\n";
    s += "      \"scheme\": " + detail::json_quote(l.scheme, what) + ",\n";
    s += "      \"method\": " + detail::json_quote(l.method, what) + ",\n";
    s += "      \"convention\": " + detail::json_quote(l.convention, what) + ",\n";
    s += "      \"axis\": " + std::to_string(l.axis) + ",\n";
    s += "      \"scales\": " + doubles(l.scales) + ",\n";
    s += "      \"zero_points\": " + ints(l.zero_points) + ",\n";
    s += "      \"range_min\": " + doubles(l.range_min) + ",\n";
    s += "      \"range_max\": " + doubles(l.range_max) + ",\n";
    s += "      \"observed_min\": " + doubles(l.observed_min) + ",\n";
    s += "      \"observed_max\": " + doubles(l.observed_max) + ",\n";
    s += "      \"counts\": {\"finite\": " + std::to_string(l.finite) + ", \"nan\": " + std::to_string(l.nan) +
         ", \"pos_inf\": " + std::to_string(l.pos_inf) + ", \"neg_inf\": " + std::to_string(l.neg_inf) + "},\n";
    s += "      \"summary\": {";
    bool f2 = true;
    for (const auto& [k, v] : l.summary) {
      s += std::string(f2 ? "" : ", ") + detail::json_quote(k, what + " summary key") + ": " + num(v);
      f2 = false;
    }
    s += "}\n    }";
  }
  s += set.layers.empty() ? "]\n}\n" : "\n  ]\n}\n";
  return s;
}

void write_qkern_json(const std::string& path, const CalibrationSet& set) {
  detail::write_text_file(path, write_qkern_json_string(set));
}

CalibrationSet read_qkern_json_string(const std::string& text, const std::string& source) {
  const Json root = detail::parse_json(text, source);
  if (!root.is_object()) detail::fail_key(source, "", "expected a JSON object");
  const std::string& format = read_string(root, "format", source, "");
  if (format != kQkernJsonFormat)
    detail::fail_key(source, "/format", "expected \"" + std::string(kQkernJsonFormat) + "\", found \"" + format + "\"");
  const std::int64_t version = read_int(root, "version", source, "");
  if (version != kQkernJsonVersion)
    detail::fail_key(source, "/version", "version " + std::to_string(version) + " is not supported (1)");
  CalibrationSet set;
  if (root.contains("meta")) {
    const Json& meta = root["meta"];
    if (!meta.is_object()) detail::fail_key(source, "/meta", "expected an object of strings");
    for (auto it = meta.begin(); it != meta.end(); ++it)
      set.meta[it.key()] = detail::get_string(it.value(), source, detail::key_path("/meta", it.key()));
  }
  const Json& layers = detail::require_member(root, "layers", source, "");
  if (!layers.is_array()) detail::fail_key(source, "/layers", "expected an array of layers");
  std::set<std::string> seen;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const std::string path = detail::key_path("/layers", i);
    const Json& o = layers[i];
    if (!o.is_object()) detail::fail_key(source, path, "expected a layer object");
    LayerCalibration l;
    l.name = read_string(o, "name", source, path);
    if (o.contains("kind")) l.kind = detail::get_string(o["kind"], source, detail::key_path(path, "kind"));
    try {
      l.dtype = dtype_from_name(read_string(o, "dtype", source, path));
    } catch (const qkern::InvalidArgument& e) {
      detail::fail_key(source, detail::key_path(path, "dtype"), e.what());
    }
    l.qmin = read_int(o, "qmin", source, path);
    l.qmax = read_int(o, "qmax", source, path);
    l.scheme = read_string(o, "scheme", source, path);
    l.method = read_string(o, "method", source, path);
    l.convention = read_string(o, "convention", source, path);
    const std::int64_t axis = read_int(o, "axis", source, path);
    if (axis < -1 || axis > 64) detail::fail_key(source, detail::key_path(path, "axis"), "axis out of range");
    l.axis = static_cast<int>(axis);
    l.scales = read_doubles(o, "scales", source, path);
    {
      const std::string p = detail::key_path(path, "zero_points");
      const Json& a = detail::require_member(o, "zero_points", source, path);
      if (!a.is_array()) detail::fail_key(source, p, "expected an array of integers");
      for (std::size_t k = 0; k < a.size(); ++k)
        l.zero_points.push_back(detail::get_int64(a[k], source, detail::key_path(p, k)));
    }
    l.range_min = read_doubles(o, "range_min", source, path);
    l.range_max = read_doubles(o, "range_max", source, path);
    l.observed_min = read_doubles(o, "observed_min", source, path);
    l.observed_max = read_doubles(o, "observed_max", source, path);
    if (o.contains("counts")) {
      const Json& c = o["counts"];
      const std::string p = detail::key_path(path, "counts");
      if (!c.is_object()) detail::fail_key(source, p, "expected an object");
      l.finite =
          detail::get_uint64(detail::require_member(c, "finite", source, p), source, detail::key_path(p, "finite"));
      l.nan = detail::get_uint64(detail::require_member(c, "nan", source, p), source, detail::key_path(p, "nan"));
      l.pos_inf =
          detail::get_uint64(detail::require_member(c, "pos_inf", source, p), source, detail::key_path(p, "pos_inf"));
      l.neg_inf =
          detail::get_uint64(detail::require_member(c, "neg_inf", source, p), source, detail::key_path(p, "neg_inf"));
    }
    if (o.contains("summary")) {
      const Json& sm = o["summary"];
      const std::string p = detail::key_path(path, "summary");
      if (!sm.is_object()) detail::fail_key(source, p, "expected an object of numbers");
      for (auto it = sm.begin(); it != sm.end(); ++it)
        l.summary[it.key()] = detail::get_double(it.value(), source, detail::key_path(p, it.key()));
    }
    detail::validate_parsed_layer(l, source, path);
    if (!seen.insert(l.name).second)
      detail::fail_key(source, detail::key_path(path, "name"), "duplicate layer name '" + l.name + "'");
    set.layers.push_back(std::move(l));
  }
  return set;
}

CalibrationSet read_qkern_json(const std::string& path) {
  return read_qkern_json_string(detail::read_text_file(path), path);
}

}  // namespace qkern::tool
