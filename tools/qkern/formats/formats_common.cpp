// qkern — SPDX-License-Identifier: Apache-2.0
//
// formats_common.cpp: shared helpers of the calibration formats (see formats_common.hpp).
#include "formats_common.hpp"

#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <system_error>

namespace qkern::tool {

// ---- public helpers -----------------------------------------------------------------------------

std::string format_double(double v) {
  if (!std::isfinite(v))
    throw qkern::InvalidArgument("value", "cannot write a non-finite number (" + std::to_string(v) + ")");
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  // sci = [-]d[.ddd]e(+|-)XX : split into sign, digits, exponent.
  std::string sign;
  std::size_t pos = 0;
  if (sci[0] == '-') {
    sign = "-";
    pos = 1;
  }
  const std::size_t e = sci.find('e');
  std::string digits;
  for (std::size_t i = pos; i < e; ++i)
    if (sci[i] != '.') digits += sci[i];
  const int exp10 = std::stoi(sci.substr(e + 1));
  // Python repr (float_repr_style 'short', mode 'r'): decpt = exp10 + 1; fixed notation when
  // -4 < decpt <= 16, exponent notation otherwise.
  const int decpt = exp10 + 1;
  const int n = static_cast<int>(digits.size());
  std::string out = sign;
  if (decpt > -4 && decpt <= 16) {
    if (decpt <= 0) {
      out += "0." + std::string(static_cast<std::size_t>(-decpt), '0') + digits;
    } else if (decpt < n) {
      out += digits.substr(0, static_cast<std::size_t>(decpt)) + "." + digits.substr(static_cast<std::size_t>(decpt));
    } else {
      out += digits + std::string(static_cast<std::size_t>(decpt - n), '0') + ".0";
    }
  } else {
    out += digits.substr(0, 1);
    if (n > 1) out += "." + digits.substr(1);
    const int x = decpt - 1;
    out += x < 0 ? "e-" : "e+";
    const int ax = x < 0 ? -x : x;
    if (ax < 10) out += "0";
    out += std::to_string(ax);
  }
  return out;
}

qkern::DType dtype_from_name(const std::string& name, const char* argument) {
  static const qkern::DType all[] = {qkern::DType::int4,  qkern::DType::uint4,  qkern::DType::int8, qkern::DType::uint8,
                                     qkern::DType::int16, qkern::DType::uint16, qkern::DType::int32};
  for (qkern::DType t : all)
    if (name == qkern::dtype_name(t)) return t;
  throw qkern::InvalidArgument(argument,
                               "unknown dtype '" + name + "' (int4, uint4, int8, uint8, int16, uint16, int32)");
}

namespace {
bool same_double(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  std::uint64_t x, y;
  std::memcpy(&x, &a, 8);
  std::memcpy(&y, &b, 8);
  return x == y;
}
bool same_doubles(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!same_double(a[i], b[i])) return false;
  return true;
}
}  // namespace

bool operator==(const LayerCalibration& a, const LayerCalibration& b) {
  if (a.summary.size() != b.summary.size()) return false;
  for (auto ia = a.summary.begin(), ib = b.summary.begin(); ia != a.summary.end(); ++ia, ++ib)
    if (ia->first != ib->first || !same_double(ia->second, ib->second)) return false;
  return a.name == b.name && a.dtype == b.dtype && a.qmin == b.qmin && a.qmax == b.qmax && a.scheme == b.scheme &&
         a.method == b.method && a.convention == b.convention && a.axis == b.axis && same_doubles(a.scales, b.scales) &&
         a.zero_points == b.zero_points && same_doubles(a.range_min, b.range_min) &&
         same_doubles(a.range_max, b.range_max) && same_doubles(a.observed_min, b.observed_min) &&
         same_doubles(a.observed_max, b.observed_max) && a.finite == b.finite && a.nan == b.nan &&
         a.pos_inf == b.pos_inf && a.neg_inf == b.neg_inf && a.kind == b.kind;
}

bool operator==(const CalibrationSet& a, const CalibrationSet& b) { return a.layers == b.layers && a.meta == b.meta; }

namespace detail {

// ---- files and errors ---------------------------------------------------------------------------

std::string read_text_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw qkern::DataError("'" + path + "' is a directory, not a file");
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw qkern::DataError("cannot open file '" + path + "' for reading");
  // Calibration files are kilobytes to a few megabytes; refuse to slurp something absurd.
  constexpr std::streamoff kMaxBytes = std::streamoff{256} << 20;
  const std::streamoff size = in.tellg();
  if (size < 0) throw qkern::DataError("cannot determine the size of file '" + path + "'");
  if (size > kMaxBytes)
    throw qkern::DataError("file '" + path + "' is " + std::to_string(size) +
                           " bytes, more than the 256 MiB a calibration file can reasonably be");
  in.seekg(0);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw qkern::DataError("error while reading file '" + path + "'");
  return ss.str();
}

void write_text_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw qkern::DataError("cannot open file '" + path + "' for writing");
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  out.flush();
  if (!out) throw qkern::DataError("error while writing file '" + path + "'");
}

void fail_line(const std::string& source, std::size_t line, const std::string& problem) {
  throw qkern::DataError(source + ": line " + std::to_string(line) + ": " + problem);
}

void fail_key(const std::string& source, const std::string& key_path, const std::string& problem) {
  throw qkern::DataError(source + ": key " + (key_path.empty() ? std::string("/") : key_path) + ": " + problem);
}

void fail_file(const std::string& source, const std::string& problem) {
  throw qkern::DataError(source + ": " + problem);
}

// ---- JSON ---------------------------------------------------------------------------------------

namespace {
struct JsonReject {
  std::string problem;
};

// SAX handler: nlohmann's DOM builder plus duplicate-key and depth checks and the key order of
// the root object and of root["data"]. (nlohmann's callback parser rescans the parent object at
// every end_object, quadratic in the number of tensors; the plain DOM builder is linear.)
class StrictSax {
 public:
  StrictSax(Json& result, JsonKeyOrder* order) : dom_(result, true), order_(order) {}

  bool null() { return dom_.null(); }
  bool boolean(bool v) { return dom_.boolean(v); }
  bool number_integer(Json::number_integer_t v) { return dom_.number_integer(v); }
  bool number_unsigned(Json::number_unsigned_t v) { return dom_.number_unsigned(v); }
  bool number_float(Json::number_float_t v, const Json::string_t& s) { return dom_.number_float(v, s); }
  bool string(Json::string_t& v) { return dom_.string(v); }
  bool binary(Json::binary_t& v) { return dom_.binary(v); }
  bool start_object(std::size_t n) {
    enter();
    keys_.emplace_back();
    return dom_.start_object(n);
  }
  bool key(Json::string_t& k) {
    if (!keys_.back().insert(k).second) throw JsonReject{"duplicate key \"" + k + "\""};
    if (order_ && depth_ == 1) {
      root_key_ = k;
      order_->root.push_back(k);
    } else if (order_ && depth_ == 2 && root_key_ == "data" && in_object_.size() == 2 && in_object_[0]) {
      order_->data.push_back(k);
    }
    return dom_.key(k);
  }
  bool end_object() {
    keys_.pop_back();
    leave();
    return dom_.end_object();
  }
  bool start_array(std::size_t n) {
    enter(false);
    return dom_.start_array(n);
  }
  bool end_array() {
    leave();
    return dom_.end_array();
  }
  template <class Exception>
  bool parse_error(std::size_t pos, const std::string& token, const Exception& ex) {
    return dom_.parse_error(pos, token, ex);  // throws (exceptions allowed)
  }

 private:
  static constexpr int kMaxDepth = 64;
  void enter(bool object = true) {
    if (++depth_ > kMaxDepth) throw JsonReject{"nesting deeper than " + std::to_string(kMaxDepth) + " levels"};
    in_object_.push_back(object);
  }
  void leave() {
    --depth_;
    in_object_.pop_back();
  }
  nlohmann::detail::json_sax_dom_parser<Json> dom_;
  JsonKeyOrder* order_;
  int depth_ = 0;
  std::vector<bool> in_object_;              // kind of each open container
  std::vector<std::set<std::string>> keys_;  // keys seen in each open object
  std::string root_key_;                     // the root object's key being parsed
};
}  // namespace

Json parse_json(const std::string& text, const std::string& source, JsonKeyOrder* order) {
  Json result;
  StrictSax sax(result, order);
  try {
    Json::sax_parse(text, &sax);
  } catch (const JsonReject& r) {
    fail_file(source, "invalid JSON: " + r.problem);
  } catch (const Json::exception& e) {
    // e.what() is "[json.exception.parse_error.101] parse error at line L, column C: ..."
    std::string what = e.what();
    const std::size_t p = what.find("] ");
    fail_file(source, "invalid JSON: " + (p == std::string::npos ? what : what.substr(p + 2)));
  }
  return result;
}

std::string key_path(const std::string& parent, const std::string& key) {
  std::string k;
  for (char c : key) {
    if (c == '~')
      k += "~0";
    else if (c == '/')
      k += "~1";
    else
      k += c;
  }
  return parent + "/" + k;
}

std::string key_path(const std::string& parent, std::size_t index) { return parent + "/" + std::to_string(index); }

namespace {
const char* type_name(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::object:
      return "an object";
    case Json::value_t::array:
      return "an array";
    case Json::value_t::string:
      return "a string";
    case Json::value_t::boolean:
      return "a boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return "an integer";
    case Json::value_t::number_float:
      return "a number";
    default:
      return "an unsupported value";
  }
}
}  // namespace

const Json& require_member(const Json& object, const std::string& key, const std::string& source,
                           const std::string& path) {
  if (!object.is_object()) fail_key(source, path, std::string("expected an object, found ") + type_name(object));
  auto it = object.find(key);
  if (it == object.end()) fail_key(source, key_path(path, key), "missing");
  return *it;
}

double get_double(const Json& v, const std::string& source, const std::string& path) {
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) {  // non-finite values as qkern JSON writes them
    const std::string& s = v.get_ref<const std::string&>();
    if (s == "nan") return std::numeric_limits<double>::quiet_NaN();
    if (s == "inf") return std::numeric_limits<double>::infinity();
    if (s == "-inf") return -std::numeric_limits<double>::infinity();
  }
  fail_key(source, path, std::string("expected a number, found ") + type_name(v));
}

std::int64_t get_int64(const Json& v, const std::string& source, const std::string& path) {
  if (v.is_number_unsigned()) {
    const std::uint64_t u = v.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      fail_key(source, path, "integer " + std::to_string(u) + " out of range");
    return static_cast<std::int64_t>(u);
  }
  if (v.is_number_integer()) return v.get<std::int64_t>();
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::isfinite(d) && std::trunc(d) == d && std::fabs(d) < 9.0e15) return static_cast<std::int64_t>(d);
    fail_key(source, path, "expected an integer, found " + format_double(d));
  }
  fail_key(source, path, std::string("expected an integer, found ") + type_name(v));
}

std::uint64_t get_uint64(const Json& v, const std::string& source, const std::string& path) {
  if (v.is_number_unsigned()) return v.get<std::uint64_t>();
  if (v.is_number_integer()) {
    const std::int64_t i = v.get<std::int64_t>();
    if (i < 0) fail_key(source, path, "expected a non-negative integer, found " + std::to_string(i));
    return static_cast<std::uint64_t>(i);
  }
  fail_key(source, path, std::string("expected a non-negative integer, found ") + type_name(v));
}

const std::string& get_string(const Json& v, const std::string& source, const std::string& path) {
  if (!v.is_string()) fail_key(source, path, std::string("expected a string, found ") + type_name(v));
  return v.get_ref<const std::string&>();
}

std::string json_quote(const std::string& s, const std::string& what) {
  static const char* hex = "0123456789abcdef";
  auto u16 = [&](std::string& out, unsigned cu) {
    out += "\\u";
    out += hex[(cu >> 12) & 0xF];
    out += hex[(cu >> 8) & 0xF];
    out += hex[(cu >> 4) & 0xF];
    out += hex[cu & 0xF];
  };
  std::string out = "\"";
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  for (std::size_t i = 0; i < n;) {
    const unsigned c = p[i];
    if (c < 0x80) {
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\b':
          out += "\\b";
          break;
        case '\f':
          out += "\\f";
          break;
        default:
          if (c < 0x20 || c == 0x7f) {  // Python escapes everything outside ' '..'~'
            u16(out, c);
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    // Decode one UTF-8 sequence strictly.
    unsigned cp = 0;
    std::size_t len = 0;
    if (c >= 0xC2 && c <= 0xDF) {
      cp = c & 0x1F;
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      cp = c & 0x0F;
      len = 3;
    } else if (c >= 0xF0 && c <= 0xF4) {
      cp = c & 0x07;
      len = 4;
    } else {
      throw qkern::InvalidArgument(what, "invalid UTF-8 in '" + s + "'");
    }
    if (i + len > n) throw qkern::InvalidArgument(what, "truncated UTF-8 in '" + s + "'");
    for (std::size_t k = 1; k < len; ++k) {
      const unsigned cc = p[i + k];
      if ((cc & 0xC0) != 0x80) throw qkern::InvalidArgument(what, "invalid UTF-8 in '" + s + "'");
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
      throw qkern::InvalidArgument(what, "invalid UTF-8 in '" + s + "'");
    if (cp >= 0x10000) {
      const unsigned v = cp - 0x10000;
      u16(out, 0xD800 + (v >> 10));
      u16(out, 0xDC00 + (v & 0x3FF));
    } else {
      u16(out, cp);
    }
    i += len;
  }
  out += "\"";
  return out;
}

std::string format_float32(double v) { return format_double(static_cast<double>(static_cast<float>(v))); }

// ---- validation ---------------------------------------------------------------------------------

namespace {
// Returns an empty string when the layer is consistent, else the problem.
std::string layer_problem(const LayerCalibration& l) {
  if (l.name.empty()) return "empty layer name";
  if (l.name.find_first_of("\n\r") != std::string::npos) return "layer name contains a line break";
  const qkern::QRange r = qkern::full_range(l.dtype);
  if (r.qmin == 0 && r.qmax == 0) return "unknown dtype";
  if (l.qmin > l.qmax) return "qmin " + std::to_string(l.qmin) + " > qmax " + std::to_string(l.qmax);
  if (l.qmin < r.qmin || l.qmax > r.qmax)
    return "code range [" + std::to_string(l.qmin) + ", " + std::to_string(l.qmax) + "] outside " +
           qkern::dtype_name(l.dtype);
  if (l.scheme != "symmetric" && l.scheme != "affine") return "scheme '" + l.scheme + "' is not symmetric or affine";
  if (l.axis < -1) return "axis " + std::to_string(l.axis) + " < -1";
  if (l.scales.size() != l.zero_points.size()) return "scales and zero_points differ in length";
  if (l.range_min.size() != l.range_max.size()) return "range_min and range_max differ in length";
  if (l.observed_min.size() != l.observed_max.size()) return "observed_min and observed_max differ in length";
  if (l.axis == -1 && (l.scales.size() > 1 || l.range_min.size() > 1 || l.observed_min.size() > 1))
    return "per-tensor layer (axis -1) with more than one scale or range";
  if (l.axis >= 0 && !l.scales.empty() && !l.range_min.empty() && l.scales.size() != l.range_min.size())
    return "scales and range_min differ in length";
  for (std::size_t i = 0; i < l.scales.size(); ++i) {
    if (!(l.scales[i] > 0.0) || !std::isfinite(l.scales[i]))
      return "scale " + std::to_string(l.scales[i]) + " (index " + std::to_string(i) + ") is not finite and > 0";
    if (l.zero_points[i] < l.qmin || l.zero_points[i] > l.qmax)
      return "zero point " + std::to_string(l.zero_points[i]) + " (index " + std::to_string(i) +
             ") outside the code range";
  }
  for (std::size_t i = 0; i < l.range_min.size(); ++i) {
    if (!std::isfinite(l.range_min[i]) || !std::isfinite(l.range_max[i]))
      return "non-finite fitted range (index " + std::to_string(i) + ")";
    if (l.range_min[i] > l.range_max[i]) return "range_min > range_max (index " + std::to_string(i) + ")";
  }
  return {};
}
}  // namespace

void validate_layer(const LayerCalibration& layer) {
  const std::string p = layer_problem(layer);
  if (!p.empty()) throw qkern::InvalidArgument("layer '" + layer.name + "'", p);
}

void validate_parsed_layer(const LayerCalibration& layer, const std::string& source, const std::string& path) {
  const std::string p = layer_problem(layer);
  if (!p.empty()) fail_key(source, path, "layer '" + layer.name + "': " + p);
}

bool is_weight(const LayerCalibration& layer) { return layer.kind == "weight"; }

}  // namespace detail
}  // namespace qkern::tool
