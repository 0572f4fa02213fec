// qkern — SPDX-License-Identifier: Apache-2.0
//
// aimet_encodings.cpp: AIMET encodings, format versions 0.6.1 (written by default) and 1.0.0 (the format AIMET 1.x
// writes by default, AIMET 2.x with encoding_version="0.6.1", and Qualcomm's QNN / QAIRT converters read as
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
//
// Version 1.0.0 (aimet_torch onnx_utils _get_activation_encodings / _get_param_encodings) lists
// {"name", "dtype": "INT", "enc_type": "PER_TENSOR" | "PER_CHANNEL", "bw", "is_sym": bool, "scale": [...],
// "offset": [...]} per tensor, with the same scale and offset as 0.6.1, plus "excluded_layers".
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
  std::string offset_path;  // for error messages
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
  out.offset_path = off_path;
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

// Builds one layer from its encodings (one per tensor, or one per channel).
void add_layer(const std::string& name, const char* kind, const std::vector<Entry>& entries, bool per_channel,
               const std::string& source, const std::string& path, CalibrationSet& set) {
  const Entry& e0 = entries[0];
  LayerCalibration l;
  l.name = name;
  l.kind = kind;
  l.method = "unknown";
  l.convention = "unknown";
  l.scheme = e0.symmetric ? "symmetric" : "affine";
  l.axis = per_channel ? 0 : -1;  // the encodings give no axis: AIMET's per-channel axis is the output channel
  const std::int64_t half = std::int64_t{1} << (e0.bitwidth - 1);
  // Signed when the encoding is the symmetric signed grid (offset -2^(bw-1)) or 32-bit; else the
  // unsigned grid with zero point -offset.
  bool is_signed = e0.symmetric || e0.bitwidth == 32;
  for (const Entry& e : entries)
    if (e.offset != -half) is_signed = e0.bitwidth == 32;
  l.dtype = dtype_for(e0.bitwidth, is_signed);
  const qkern::QRange r = qkern::full_range(l.dtype);
  l.qmin = r.qmin;
  l.qmax = r.qmax;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    if (e.bitwidth != e0.bitwidth || e.symmetric != e0.symmetric)
      detail::fail_key(source, path, "bitwidth / is_symmetric differ between the channels of one tensor");
    const std::int64_t zp = static_cast<std::int64_t>(r.qmin) - e.offset;
    if (zp < r.qmin || zp > r.qmax)
      detail::fail_key(source, e.offset_path,
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

// 0.x layout: {"<tensor>": [Encoding, ...]}.
void read_section_legacy(const Json& sec, const std::string& sec_path, const char* kind, const std::string& source,
                         CalibrationSet& set, std::set<std::string>& seen) {
  if (!sec.is_object()) detail::fail_key(source, sec_path, "expected an object (tensor name -> encodings)");
  for (auto it = sec.begin(); it != sec.end(); ++it) {
    const std::string path = detail::key_path(sec_path, it.key());
    if (it.key().empty()) detail::fail_key(source, path, "empty tensor name");
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
    add_layer(it.key(), kind, entries, entries.size() > 1, source, path, set);
  }
}

// 1.0.0 layout: [{"name", "dtype": "INT", "enc_type": "PER_TENSOR" | "PER_CHANNEL", "bw", "is_sym",
// "scale": [...], "offset": [...]}, ...] (offsets as in 0.x; AIMET derives 1.0.0 from the legacy dicts).
void read_section_v1(const Json& sec, const std::string& sec_path, const char* kind, const std::string& source,
                     CalibrationSet& set, std::set<std::string>& seen) {
  if (!sec.is_array()) detail::fail_key(source, sec_path, "expected a list of encodings (version 1.0.0)");
  for (std::size_t k = 0; k < sec.size(); ++k) {
    const std::string path = detail::key_path(sec_path, k);
    const Json& e = sec[k];
    if (!e.is_object()) detail::fail_key(source, path, "expected an encoding object");
    const std::string& name =
        detail::get_string(detail::require_member(e, "name", source, path), source, detail::key_path(path, "name"));
    if (name.empty()) detail::fail_key(source, detail::key_path(path, "name"), "empty tensor name");
    if (!seen.insert(name).second)
      detail::fail_key(source, detail::key_path(path, "name"), "tensor '" + name + "' appears twice");
    const std::string& dt =
        detail::get_string(detail::require_member(e, "dtype", source, path), source, detail::key_path(path, "dtype"));
    if (dt != "INT" && dt != "int")
      detail::fail_key(source, detail::key_path(path, "dtype"),
                       "dtype '" + dt + "' is not an integer encoding (float encodings carry no quantization grid)");
    std::string enc_type = "PER_TENSOR";
    if (e.contains("enc_type"))
      enc_type = detail::get_string(e["enc_type"], source, detail::key_path(path, "enc_type"));
    if (enc_type != "PER_TENSOR" && enc_type != "PER_CHANNEL")
      detail::fail_key(source, detail::key_path(path, "enc_type"),
                       "encoding type '" + enc_type + "' not supported (PER_TENSOR, PER_CHANNEL)");
    const std::string bw_path = detail::key_path(path, "bw");
    const std::int64_t bw = detail::get_int64(detail::require_member(e, "bw", source, path), source, bw_path);
    if (bw != 4 && bw != 8 && bw != 16 && bw != 32)
      detail::fail_key(source, bw_path, "bitwidth " + std::to_string(bw) + " not supported (4, 8, 16 or 32)");
    const bool sym = e.contains("is_sym") && parse_bool_string(e["is_sym"], source, detail::key_path(path, "is_sym"));
    const Json& scales = detail::require_member(e, "scale", source, path);
    const Json& offsets = detail::require_member(e, "offset", source, path);
    const std::string sp = detail::key_path(path, "scale"), op = detail::key_path(path, "offset");
    if (!scales.is_array() || scales.empty()) detail::fail_key(source, sp, "expected a non-empty list of scales");
    if (!offsets.is_array() || offsets.size() != scales.size())
      detail::fail_key(source, op, "expected a list of offsets as long as the scales");
    if (enc_type == "PER_TENSOR" && scales.size() != 1)
      detail::fail_key(source, sp, "PER_TENSOR with " + std::to_string(scales.size()) + " scales");
    std::vector<Entry> entries;
    for (std::size_t i = 0; i < scales.size(); ++i) {
      Entry x{};
      x.bitwidth = static_cast<int>(bw);
      x.symmetric = sym;
      x.scale = detail::get_double(scales[i], source, detail::key_path(sp, i));
      if (!(x.scale > 0.0) || !std::isfinite(x.scale))
        detail::fail_key(source, detail::key_path(sp, i), "scale must be finite and > 0");
      x.offset_path = detail::key_path(op, i);
      x.offset = detail::get_int64(offsets[i], source, x.offset_path);
      entries.push_back(x);
    }
    add_layer(name, kind, entries, enc_type == "PER_CHANNEL", source, path, set);
  }
}

}  // namespace

namespace {

// 1.0.0 entry, as aimet_torch/onnx_utils' _get_activation_encodings / _get_param_encodings build it
// from the legacy dicts (same scale and offset), dumped with sort_keys=True, indent=4.
std::string v1_entry(const LayerCalibration& l) {
  const int bw = qkern::bit_width(l.dtype);
  const std::string in = "            ";
  std::string s = "        {\n";
  s += in + "\"bw\": " + std::to_string(bw) + ",\n";
  s += in + "\"dtype\": \"INT\",\n";
  s += in + "\"enc_type\": \"" + (l.scales.size() > 1 ? "PER_CHANNEL" : "PER_TENSOR") + "\",\n";
  s += in + "\"is_sym\": " + (l.scheme == "symmetric" ? "true" : "false") + ",\n";
  s += in + "\"name\": " + detail::json_quote(l.name, "layer '" + l.name + "'") + ",\n";
  std::string offs, scs;
  for (std::size_t c = 0; c < l.scales.size(); ++c) {
    const std::int64_t offset = static_cast<std::int64_t>(qkern::full_range(l.dtype).qmin) - l.zero_points[c];
    const float scale = static_cast<float>(l.scales[c]);
    if (!(scale > 0.0f) || !std::isfinite(scale))
      throw qkern::InvalidArgument("layer '" + l.name + "'",
                                   "scale " + format_double(l.scales[c]) + " is not a usable float32 AIMET scale");
    offs += std::string(c ? ",\n" : "") + in + "    " + std::to_string(offset);
    scs += std::string(c ? ",\n" : "") + in + "    " + format_double(scale);
  }
  s += in + "\"offset\": [\n" + offs + "\n" + in + "],\n";
  s += in + "\"scale\": [\n" + scs + "\n" + in + "]\n";
  return s + "        }";
}

std::string v1_section(const std::vector<const LayerCalibration*>& layers) {
  if (layers.empty()) return "[]";
  std::string s = "[\n";
  for (std::size_t i = 0; i < layers.size(); ++i) s += (i ? ",\n" : "") + v1_entry(*layers[i]);
  return s + "\n    ]";
}

}  // namespace

std::string write_aimet_encodings_string(const CalibrationSet& set, const std::string& version) {
  if (version != "0.6.1" && version != "1.0.0")
    throw qkern::InvalidArgument("version", "AIMET encodings version must be 0.6.1 or 1.0.0, got '" + version + "'");
  std::map<std::string, const LayerCalibration*> act, par;
  std::vector<const LayerCalibration*> act_list, par_list;  // set order (1.0.0 lists)
  for (const LayerCalibration& l : set.layers) {
    detail::validate_layer(l);
    if (l.scales.empty())
      throw qkern::InvalidArgument("layer '" + l.name + "'", "no fitted scale / zero point to export");
    if (act.count(l.name) || par.count(l.name))
      throw qkern::InvalidArgument("layer '" + l.name + "'", "duplicate layer name");
    (detail::is_weight(l) ? par : act)[l.name] = &l;
    (detail::is_weight(l) ? par_list : act_list).push_back(&l);
  }
  if (version == "1.0.0") {
    std::string s = "{\n    \"activation_encodings\": " + v1_section(act_list) + ",\n";
    s += "    \"excluded_layers\": [],\n";
    s += "    \"param_encodings\": " + v1_section(par_list) + ",\n";
    return s + "    \"version\": \"1.0.0\"\n}";
  }
  std::string s = "{\n    \"activation_encodings\": " + section(act) + ",\n";
  s += "    \"param_encodings\": " + section(par) + ",\n";
  s += "    \"version\": \"" + std::string(kVersion) + "\"\n}";
  return s;
}

void write_aimet_encodings(const std::string& path, const CalibrationSet& set, const std::string& version) {
  detail::write_text_file(path, write_aimet_encodings_string(set, version));
}

CalibrationSet read_aimet_encodings_string(const std::string& text, const std::string& source) {
  const Json root = detail::parse_json(text, source);
  if (!root.is_object())
    detail::fail_key(source, "", "expected a JSON object with activation_encodings / param_encodings");
  CalibrationSet set;
  bool v1 = false;
  if (root.contains("version")) {
    const std::string& v = detail::get_string(root["version"], source, "/version");
    v1 = v.rfind("1.", 0) == 0;
    if (!v1 && (v.empty() || v[0] != '0'))
      detail::fail_key(source, "/version",
                       "AIMET encodings version " + v +
                           " is not supported (0.x such as 0.6.1, and 1.0.0; 2.0.0 is ONNX QDQ-aligned)");
    set.meta["aimet_version"] = v;
  }
  if (!root.contains("activation_encodings") && !root.contains("param_encodings"))
    detail::fail_key(source, "", "neither activation_encodings nor param_encodings present");
  std::set<std::string> seen;
  for (const auto& [key, kind] : {std::pair<const char*, const char*>{"activation_encodings", "activation"},
                                  std::pair<const char*, const char*>{"param_encodings", "weight"}}) {
    if (!root.contains(key)) continue;
    const Json& sec = root[key];
    const std::string path = detail::key_path("", key);
    if (v1) {
      read_section_v1(sec, path, kind, source, set, seen);
    } else {
      if (sec.is_array())
        detail::fail_key(source, path,
                         "a list of encodings is the 1.0.0 layout but the file says version " +
                             (set.meta.count("aimet_version") ? set.meta["aimet_version"] : std::string("(none)")));
      read_section_legacy(sec, path, kind, source, set, seen);
    }
  }
  return set;
}

CalibrationSet read_aimet_encodings(const std::string& path) {
  return read_aimet_encodings_string(detail::read_text_file(path), path);
}

}  // namespace qkern::tool
