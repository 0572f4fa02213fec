// qkern — SPDX-License-Identifier: Apache-2.0
//
// formats_common.hpp: internals shared by the calibration exporters / importers (not installed):
// file I/O, error messages that name the file and line / key, a strict JSON parse (duplicate keys,
// depth), typed JSON accessors, a JSON string escaper that spells strings as Python's json.dumps
// does, and layer validation.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "calibration_result.hpp"

namespace qkern::tool::detail {

using Json = nlohmann::json;  // std::map objects: O(log n) lookups (ordered_json inserts in O(n))

/// Whole file as bytes; DataError naming the file when it cannot be opened or read, or is larger
/// than 256 MiB.
std::string read_text_file(const std::string& path);
/// Writes (truncates) the file; DataError naming the file on failure.
void write_text_file(const std::string& path, const std::string& content);

/// DataError "<source>: line <n>: <problem>".
[[noreturn]] void fail_line(const std::string& source, std::size_t line, const std::string& problem);
/// DataError "<source>: key <path>: <problem>" (path like /activation_encodings/conv1/0/scale).
[[noreturn]] void fail_key(const std::string& source, const std::string& key_path, const std::string& problem);
/// DataError "<source>: <problem>".
[[noreturn]] void fail_file(const std::string& source, const std::string& problem);

/// The file order of the keys of the root object, and of the object under the root key "data"
/// (Json objects are sorted maps; ONNX Runtime tables list tensors in calibration order).
struct JsonKeyOrder {
  std::vector<std::string> root;
  std::vector<std::string> data;
};

/// Parses JSON text; rejects syntax errors (with line and column), duplicate keys in an object
/// and nesting deeper than 64 levels, each as a DataError naming the source.
Json parse_json(const std::string& text, const std::string& source, JsonKeyOrder* order = nullptr);

/// JSON pointer-like path segment append ("/" + key with '~' and '/' escaped as in RFC 6901).
std::string key_path(const std::string& parent, const std::string& key);
std::string key_path(const std::string& parent, std::size_t index);

/// Typed accessors: the value at `path` must have the type, else DataError naming source and path.
const Json& require_member(const Json& object, const std::string& key, const std::string& source,
                           const std::string& path);
double get_double(const Json& v, const std::string& source, const std::string& path);
std::int64_t get_int64(const Json& v, const std::string& source, const std::string& path);  ///< integral floats too
std::uint64_t get_uint64(const Json& v, const std::string& source, const std::string& path);
const std::string& get_string(const Json& v, const std::string& source, const std::string& path);

/// `"..."` with the escapes of Python's json.dumps(ensure_ascii=True): \" \\ \n \r \t \b \f,
/// other control characters and every non-ASCII code point as \uXXXX (UTF-16 surrogate pairs above
/// U+FFFF). Invalid UTF-8 throws InvalidArgument naming `what`.
std::string json_quote(const std::string& s, const std::string& what = "name");

/// Python's str(float(np.float32(v))): the float32 value of v, printed as repr of a double.
std::string format_float32(double v);

/// Checks the invariants every writer relies on (name non-empty and free of newlines, qmin <= qmax
/// inside the dtype, scheme known, vector sizes consistent with axis, scales finite and > 0); throws
/// InvalidArgument naming the layer.
void validate_layer(const LayerCalibration& layer);
/// Same checks on a parsed layer; DataError naming source and key path instead.
void validate_parsed_layer(const LayerCalibration& layer, const std::string& source, const std::string& path);

/// Layers kind == "weight" are parameters; everything else is an activation.
bool is_weight(const LayerCalibration& layer);

}  // namespace qkern::tool::detail
