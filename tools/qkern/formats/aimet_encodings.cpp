// qkern — SPDX-License-Identifier: Apache-2.0
//
// aimet_encodings.cpp: AIMET encodings, legacy format version 0.6.1 (the format AIMET 1.x writes
// by default, AIMET 2.x with encoding_version="0.6.1", and Qualcomm's QNN / QAIRT converters read as
// --quantization_overrides):
//
//   {"activation_encodings": {"<tensor>": [Encoding, ...]},   one Encoding per tensor, or one per
//    "param_encodings":      {"<tensor>": [Encoding, ...]},   channel (per-channel weights)
//    "version": "0.6.1"}
//   Encoding = {"bitwidth": 8, "dtype": "int", "is_symmetric": "True"|"False", "max": float,
//               "min": float, "offset": int, "scale": float}
//
// Semantics (QNN: float = (unsigned code + offset) * scale): the legacy encoding always describes the
// unsigned grid 0 .. 2^bitwidth - 1, so offset = qmin_of_the_signed_type - zero_point (int8
// symmetric: offset = -128), min = offset * scale, max = (offset + 2^bitwidth - 1) * scale, all
// float32. Transcribed from AIMET 2.x aimet_torch/v2/quantization/encodings/base.py
// AffineEncoding._to_legacy_format ("Legacy behavior is to shift offset by qmin") and written as
// aimet_common.utils.save_json_yaml does: json.dump(sort_keys=True, indent=4).
#include <cmath>
#include <set>

#include "formats_common.hpp"

namespace qkern::tool {

namespace {

using detail::Json;

constexpr const char* kVersion = "0.6.1";

std::string encoding_entry(const LayerCalibration& l, std::size_t c, const std::string& indent) {
  const int bw = qkern::bit_width(l.dtype);
  const std::int64_t offset = static_cast<std::int64_t>(qkern::full_range(l.dtype).qmin) - l.zero_points[c];
  const float scale = static_cast<float>(l.scales[c]);
  const float fmin = scale * static_cast<float>(offset);
  const float fmax = scale * static_cast<float>(offset + ((std::int64_t{1} << bw) - 1));
  if (!(scale > 0.0f) || !std::isfinite(fmin) || !std::isfinite(fmax))
    throw qkern::InvalidArgument("layer '" + l.name + "'",
                                 "scale " + format_double(l.scales[c]) + " is not a usable float32 AIMET scale");
  const std::string in = indent + "    ";
  std::string s = indent + "{\n";
  s += in + "\"bitwidth\": " + std::to_string(bw) + ",\n";
  s += in + "\"dtype\": \"int\",\n";
  s += in + "\"is_symmetric\": \"" + (l.scheme == "symmetric" ? "True" : "False") + "\",\n";
  s += in + "\"max\": " + format_double(fmax) + ",\n";
  s += in + "\"min\": " + format_double(fmin) + ",\n";
  s += in + "\"offset\": " + std::to_string(offset) + ",\n";
  s += in + "\"scale\": " + format_double(scale) + "\n";
  s += indent + "}";
  return s;
}

std::string section(const std::map<std::string, const LayerCalibration*>& layers) {
  if (layers.empty()) return "{}";
  std::string s = "{\n";
  bool first = true;
  for (const auto& [name, l] : layers) {
    if (!first) s += ",\n";
    first = false;
    s += "        " + detail::json_quote(name, "layer '" + name + "'") + ": [\n";
    for (std::size_t c = 0; c < l->scales.size(); ++c) {
      if (c) s += ",\n";
      s += encoding_entry(*l, c, "            ");
    }
    s += "\n        ]";
  }
  return s + "\n    }";
}

bool parse_bool_string(const Json& v, const std::string& source, const std::string& path) {
  if (v.is_boolean()) return v.get<bool>();
  const std::string& s = detail::get_string(v, source, path);
  if (s == "True" || s == "true") return true;
  if (s == "False" || s == "false") return false;
  detail::fail_key(source, path, "expected \"True\" or \"False\", found \"" + s + "\"");
}

struct Entry {
  int bitwidth;
  bool symmetric;
  std::int64_t offset;
  double scale;
  bool has_range;
  double min, max;
};

Entry read_entry(const Json& e, const std::string& source, const std::string& path) {
  if (!e.is_object()) detail::fail_key(source, path, "expected an encoding object");
  Entry out{};
  if (e.contains("dtype")) {
    const std::string& dt = detail::get_string(e["dtype"], source, detail::key_path(path, "dtype"));
    if (dt != "int" && dt != "INT")
      detail::fail_key(source, detail::key_path(path, "dtype"),
                       "dtype '" + dt + "' is not an integer encoding (float encodings carry no quantization grid)");
  }
  const std::string bw_path = detail::key_path(path, "bitwidth");
  const std::int64_t bw = detail::get_int64(detail::require_member(e, "bitwidth", source, path), source, bw_path);
  if (bw != 4 && bw != 8 && bw != 16 && bw != 32)
    detail::fail_key(source, bw_path, "bitwidth " + std::to_string(bw) + " not supported (4, 8, 16 or 32)");
  out.bitwidth = static_cast<int>(bw);
  out.symmetric = e.contains("is_symmetric") &&
                  parse_bool_string(e["is_symmetric"], source, detail::key_path(path, "is_symmetric"));
  const std::string off_path = detail::key_path(path, "offset");
  out.offset = detail::get_int64(detail::require_member(e, "offset", source, path), source, off_path);
  const std::string sc_path = detail::key_path(path, "scale");
  out.scale = detail::get_double(detail::require_member(e, "scale", source, path), source, sc_path);
  if (!(out.scale > 0.0) || !std::isfinite(out.scale))
    detail::fail_key(source, sc_path, "scale must be finite and > 0, found " + std::to_string(out.scale));
  out.has_range = e.contains("min") && e.contains("max");
  if (out.has_range) {
    out.min = detail::get_double(e["min"], source, detail::key_path(path, "min"));
    out.max = detail::get_double(e["max"], source, detail::key_path(path, "max"));
    if (!std::isfinite(out.min) || !std::isfinite(out.max) || out.min > out.max)
      detail::fail_key(source, path, "min / max are not a finite range");
  }
  return out;
}

qkern::DType dtype_for(int bw, bool is_signed) {
  switch (bw) {
    case 4:
      return is_signed ? qkern::DType::int4 : qkern::DType::uint4;
    case 8:
      return is_signed ? qkern::DType::int8 : qkern::DType::uint8;
    case 16:
      return is_signed ? qkern::DType::int16 : qkern::DType::uint16;
    default:
      return qkern::DType::int32;
  }
}

void read_section(const Json& root, const char* key, const char* kind, const std::string& source, CalibrationSet& set,
                  std::set<std::string>& seen) {
  if (!root.contains(key)) return;
  const Json& sec = root[key];
  const std::string sec_path = detail::key_path("", key);
  if (sec.is_array())
    detail::fail_key(source, sec_path,
                     "a list of encodings is the AIMET 1.0.0 / 2.0.0 layout; only the 0.x layout "
                     "(tensor name -> list of encodings) is supported");
  if (!sec.is_object()) detail::fail_key(source, sec_path, "expected an object (tensor name -> encodings)");
  for (auto it = sec.begin(); it != sec.end(); ++it) {
    const std::string path = detail::key_path(sec_path, it.key());
    if (!seen.insert(it.key()).second)
      detail::fail_key(source, path, "tensor '" + it.key() + "' is both an activation and a parameter");
    const Json& list = it.value();
    std::vector<Entry> entries;
    if (list.is_object()) {  // some writers emit a single encoding instead of a list of one
      entries.push_back(read_entry(list, source, path));
    } else if (list.is_array()) {
      if (list.empty()) detail::fail_key(source, path, "empty list of encodings");
      for (std::size_t i = 0; i < list.size(); ++i)
        entries.push_back(read_entry(list[i], source, detail::key_path(path, i)));
    } else {
      detail::fail_key(source, path, "expected a list of encodings");
    }
    const Entry& e0 = entries[0];
    LayerCalibration l;
    l.name = it.key();
    l.kind = kind;
    l.method = "unknown";
    l.convention = "unknown";
    l.scheme = e0.symmetric ? "symmetric" : "affine";
    l.axis = entries.size() > 1 ? 0 : -1;  // legacy encodings give no axis: AIMET's per-channel axis is 0
    const std::int64_t half = std::int64_t{1} << (e0.bitwidth - 1);
    // Signed when the encoding is the symmetric signed grid (offset -2^(bw-1)) or 32-bit; else the
    // unsigned grid with zero point -offset.
    bool is_signed = e0.bitwidth == 32;
    if (e0.symmetric) {
      is_signed = true;
      for (const Entry& e : entries)
        if (e.offset != -half) is_signed = e0.bitwidth == 32;
    }
    l.dtype = dtype_for(e0.bitwidth, is_signed);
    const qkern::QRange r = qkern::full_range(l.dtype);
    l.qmin = r.qmin;
    l.qmax = r.qmax;
    for (std::size_t i = 0; i < entries.size(); ++i) {
      const Entry& e = entries[i];
      const std::string ep = list.is_array() ? detail::key_path(path, i) : path;
      if (e.bitwidth != e0.bitwidth || e.symmetric != e0.symmetric)
        detail::fail_key(source, ep, "bitwidth / is_symmetric differ between the channels of one tensor");
      const std::int64_t zp = static_cast<std::int64_t>(r.qmin) - e.offset;
      if (zp < r.qmin || zp > r.qmax)
        detail::fail_key(source, detail::key_path(ep, "offset"),
                         "offset " + std::to_string(e.offset) + " puts the zero point outside the " +
                             std::to_string(e.bitwidth) + "-bit grid");
      l.scales.push_back(e.scale);
      l.zero_points.push_back(zp);
      const double lo = (static_cast<double>(r.qmin) - static_cast<double>(zp)) * e.scale;
      const double hi = (static_cast<double>(r.qmax) - static_cast<double>(zp)) * e.scale;
      l.range_min.push_back(e.has_range ? e.min : lo);
      l.range_max.push_back(e.has_range ? e.max : hi);
    }
    detail::validate_parsed_layer(l, source, path);
    set.layers.push_back(std::move(l));
  }
}

}  // namespace

std::string write_aimet_encodings_string(const CalibrationSet& set) {
  std::map<std::string, const LayerCalibration*> act, par;
  for (const LayerCalibration& l : set.layers) {
    detail::validate_layer(l);
    if (l.scales.empty())
      throw qkern::InvalidArgument("layer '" + l.name + "'", "no fitted scale / zero point to export");
    if (act.count(l.name) || par.count(l.name))
      throw qkern::InvalidArgument("layer '" + l.name + "'", "duplicate layer name");
    (detail::is_weight(l) ? par : act)[l.name] = &l;
  }
  std::string s = "{\n    \"activation_encodings\": " + section(act) + ",\n";
  s += "    \"param_encodings\": " + section(par) + ",\n";
  s += "    \"version\": \"" + std::string(kVersion) + "\"\n}";
  return s;
}

void write_aimet_encodings(const std::string& path, const CalibrationSet& set) {
  detail::write_text_file(path, write_aimet_encodings_string(set));
}

CalibrationSet read_aimet_encodings_string(const std::string& text, const std::string& source) {
  const Json root = detail::parse_json(text, source);
  if (!root.is_object())
    detail::fail_key(source, "", "expected a JSON object with activation_encodings / param_encodings");
  CalibrationSet set;
  if (root.contains("version")) {
    const std::string& v = detail::get_string(root["version"], source, "/version");
    if (v.empty() || v[0] != '0')
      detail::fail_key(source, "/version",
                       "AIMET encodings version " + v + " is not supported (the legacy 0.x layout is, e.g. 0.6.1)");
    set.meta["aimet_version"] = v;
  }
  if (!root.contains("activation_encodings") && !root.contains("param_encodings"))
    detail::fail_key(source, "", "neither activation_encodings nor param_encodings present");
  std::set<std::string> seen;
  read_section(root, "activation_encodings", "activation", source, set, seen);
  read_section(root, "param_encodings", "weight", source, set, seen);
  return set;
}

CalibrationSet read_aimet_encodings(const std::string& path) {
  return read_aimet_encodings_string(detail::read_text_file(path), path);
}

}  // namespace qkern::tool
