// qkern — SPDX-License-Identifier: Apache-2.0
//
// io/safetensors.hpp: the safetensors format (huggingface/safetensors README and
// safetensors/src/tensor.rs): an 8-byte little-endian header size N, N bytes of UTF-8 JSON
// {"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ..., "__metadata__":
// {"k": "v"}}, then the byte buffer (offsets relative to its start, little-endian, row-major).
//
// Reader checks (FileError naming file, tensor and problem): N <= 100,000,000 (HeaderTooLarge) and
// N + 8 <= file size; the header is strict JSON (io/json.hpp) whose top level is an object;
// __metadata__ is an object of strings; every tensor entry has dtype (F16 BF16 F32 F64 I8 I16 I32
// I64 U8 U16 U32 U64 BOOL; others are unsupported), shape (non-negative integers) and data_offsets
// [begin, end] with begin <= end, end - begin == prod(shape) * size (no overflow); sorted by offset,
// the tensors must tile the buffer exactly (no overlap, no hole, nothing after the last one),
// as the reference implementation requires. Unknown fields inside an entry are ignored (as
// serde does); duplicate keys are rejected.
// Writer: tensors sorted by descending alignment then name, contiguous; header padded with spaces
// to a multiple of 8 bytes.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "qkern/core/abi.hpp"
#include "qkern/io/json.hpp"
#include "qkern/io/npy.hpp"
#include "qkern/io/tensor_view.hpp"
#include "qkern/io/types.hpp"

namespace qkern {
namespace io {
inline namespace QKERN_ABI_NS {

/// Largest accepted safetensors header (the reference implementation's limit).
constexpr std::size_t kSafetensorsMaxHeaderSize = 100000000;

namespace detail {

inline bool safetensors_dtype(const std::string& s, ElementType& t) {
  static const std::pair<const char*, ElementType> table[] = {
      {"F16", ElementType::f16},     {"BF16", ElementType::bf16}, {"F32", ElementType::f32}, {"F64", ElementType::f64},
      {"I8", ElementType::i8},       {"I16", ElementType::i16},   {"I32", ElementType::i32}, {"I64", ElementType::i64},
      {"U8", ElementType::u8},       {"U16", ElementType::u16},   {"U32", ElementType::u32}, {"U64", ElementType::u64},
      {"BOOL", ElementType::boolean}};
  for (const auto& e : table)
    if (s == e.first) {
      t = e.second;
      return true;
    }
  return false;
}

inline const char* safetensors_dtype_name(ElementType t) {
  switch (t) {
    case ElementType::f16:
      return "F16";
    case ElementType::bf16:
      return "BF16";
    case ElementType::f32:
      return "F32";
    case ElementType::f64:
      return "F64";
    case ElementType::i8:
      return "I8";
    case ElementType::i16:
      return "I16";
    case ElementType::i32:
      return "I32";
    case ElementType::i64:
      return "I64";
    case ElementType::u8:
      return "U8";
    case ElementType::u16:
      return "U16";
    case ElementType::u32:
      return "U32";
    case ElementType::u64:
      return "U64";
    case ElementType::boolean:
      return "BOOL";
  }
  return "?";
}

struct SafetensorsContents {
  std::vector<TensorView> tensors;  // ascending data offset
  std::map<std::string, std::string> metadata;
};

inline SafetensorsContents read_safetensors(const unsigned char* p, std::size_t size, const std::string& file) {
  if (size < 8) ::qkern::detail::raise(FileError(file, "", "truncated safetensors file: no 8-byte header size"));
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | p[i];
  if (n > kSafetensorsMaxHeaderSize)
    ::qkern::detail::raise(FileError(file, "",
                                     "safetensors header too long (" + std::to_string(n) + " bytes, limit " +
                                         std::to_string(kSafetensorsMaxHeaderSize) + ")"));
  if (n > size - 8)
    ::qkern::detail::raise(FileError(file, "",
                                     "truncated safetensors file: header size " + std::to_string(n) + " but only " +
                                         std::to_string(size - 8) + " bytes follow"));
  JsonValue header;
#if QKERN_NO_EXCEPTIONS
  // Without exceptions the JSON error goes to the error handler as it is (it names the byte offset).
  header = parse_json(reinterpret_cast<const char*>(p + 8), static_cast<std::size_t>(n));
#else
  try {
    header = parse_json(reinterpret_cast<const char*>(p + 8), static_cast<std::size_t>(n));
  } catch (const JsonError& e) {
    ::qkern::detail::raise(FileError(file, "", std::string("invalid safetensors header JSON: ") + e.what()));
  }
#endif
  if (!header.is_object()) ::qkern::detail::raise(FileError(file, "", "safetensors header is not a JSON object"));
  const unsigned char* buffer = p + 8 + n;
  const std::size_t buffer_size = size - 8 - static_cast<std::size_t>(n);
  SafetensorsContents out;
  struct Span {
    std::uint64_t begin, end;
    std::size_t index;
  };
  std::vector<Span> spans;
  for (const auto& kv : header.object) {
    const std::string& key = kv.first;
    const JsonValue& e = kv.second;
    if (key == "__metadata__") {
      if (!e.is_object()) ::qkern::detail::raise(FileError(file, key, "__metadata__ is not an object"));
      for (const auto& m : e.object) {
        if (!m.second.is_string())
          ::qkern::detail::raise(FileError(file, key, "__metadata__ value of '" + m.first + "' is not a string"));
        out.metadata[m.first] = m.second.text;
      }
      continue;
    }
    if (!e.is_object()) ::qkern::detail::raise(FileError(file, key, "header entry is not an object"));
    const JsonValue* dtype = e.find("dtype");
    const JsonValue* shape = e.find("shape");
    const JsonValue* offsets = e.find("data_offsets");
    if (dtype == nullptr || !dtype->is_string())
      ::qkern::detail::raise(FileError(file, key, "missing or non-string 'dtype'"));
    if (shape == nullptr || !shape->is_array())
      ::qkern::detail::raise(FileError(file, key, "missing or non-array 'shape'"));
    if (offsets == nullptr || !offsets->is_array() || offsets->array.size() != 2)
      ::qkern::detail::raise(FileError(file, key, "'data_offsets' is not an array [begin, end]"));
    TensorView v;
    v.name = key;
    if (!safetensors_dtype(dtype->text, v.dtype))
      ::qkern::detail::raise(FileError(file, key, "unsupported dtype '" + dtype->text + "'"));
    for (const JsonValue& d : shape->array) {
      std::uint64_t x;
      if (!d.as_uint64(x) || x > static_cast<std::uint64_t>(static_cast<std::size_t>(-1)))
        ::qkern::detail::raise(FileError(file, key, "'shape' holds a value that is not a non-negative integer"));
      v.shape.push_back(static_cast<std::size_t>(x));
    }
    std::uint64_t b, en;
    if (!offsets->array[0].as_uint64(b) || !offsets->array[1].as_uint64(en))
      ::qkern::detail::raise(FileError(file, key, "'data_offsets' holds a value that is not a non-negative integer"));
    if (b > en)
      ::qkern::detail::raise(
          FileError(file, key, "data_offsets begin " + std::to_string(b) + " > end " + std::to_string(en)));
    std::size_t count = 0, bytes = 0;
    if (!shape_bytes(v.shape, element_size(v.dtype), count, bytes))
      ::qkern::detail::raise(FileError(file, key, "shape " + shape_string(v.shape) + " overflows the address space"));
    if (en - b != bytes)
      ::qkern::detail::raise(FileError(file, key,
                                       "size mismatch: shape " + shape_string(v.shape) + " of " + dtype->text +
                                           " needs " + std::to_string(bytes) + " bytes, data_offsets [" +
                                           std::to_string(b) + ", " + std::to_string(en) + "] hold " +
                                           std::to_string(en - b)));
    if (en > buffer_size)
      ::qkern::detail::raise(FileError(file, key,
                                       "data_offsets [" + std::to_string(b) + ", " + std::to_string(en) +
                                           "] outside the data buffer (" + std::to_string(buffer_size) + " bytes)"));
    v.data = reinterpret_cast<const std::byte*>(buffer + b);
    v.byte_swapped = element_size(v.dtype) > 1 && !host_is_little_endian();
    spans.push_back({b, en, out.tensors.size()});
    out.tensors.push_back(std::move(v));
  }
  std::stable_sort(spans.begin(), spans.end(),
                   [](const Span& x, const Span& y) { return x.begin != y.begin ? x.begin < y.begin : x.end < y.end; });
  std::uint64_t at = 0;
  std::string prev;
  for (const Span& s : spans) {
    const std::string& name = out.tensors[s.index].name;
    if (s.begin < at)
      ::qkern::detail::raise(FileError(file, name, "data_offsets overlap those of tensor '" + prev + "'"));
    if (s.begin > at)
      ::qkern::detail::raise(FileError(file, name,
                                       "hole in the data buffer: bytes [" + std::to_string(at) + ", " +
                                           std::to_string(s.begin) + ") belong to no tensor"));
    at = s.end;
    prev = name;
  }
  if (at != buffer_size)
    ::qkern::detail::raise(FileError(
        file, "",
        "data buffer not covered: tensors end at byte " + std::to_string(at) + " of " + std::to_string(buffer_size)));
  std::vector<TensorView> ordered;
  ordered.reserve(spans.size());
  for (const Span& s : spans) ordered.push_back(std::move(out.tensors[s.index]));
  out.tensors = std::move(ordered);
  return out;
}

}  // namespace detail

/// Writes `ts` as a safetensors file with optional __metadata__ (string -> string). Tensor names must
/// be unique and not "__metadata__"; bytes are written in this machine's order (safetensors is
/// little-endian: a big-endian host throws InvalidArgument).
inline void write_safetensors(const std::string& path, const std::vector<TensorRef>& ts,
                              const std::map<std::string, std::string>& metadata = {}) {
  if (!detail::host_is_little_endian())
    ::qkern::detail::raise(InvalidArgument("ts", "safetensors writing needs a little-endian host"));
  std::vector<std::size_t> order(ts.size());
  for (std::size_t i = 0; i < ts.size(); ++i) {
    order[i] = i;
    if (ts[i].name == "__metadata__")
      ::qkern::detail::raise(InvalidArgument("ts", "a tensor cannot be named __metadata__"));
    for (std::size_t j = 0; j < i; ++j)
      if (ts[j].name == ts[i].name)
        ::qkern::detail::raise(InvalidArgument("ts", "duplicate tensor name '" + ts[i].name + "'"));
  }
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const std::size_t sa = element_size(ts[a].dtype), sb = element_size(ts[b].dtype);
    return sa != sb ? sa > sb : ts[a].name < ts[b].name;
  });
  std::string json = "{";
  bool first = true;
  if (!metadata.empty()) {
    json += "\"__metadata__\":{";
    bool f2 = true;
    for (const auto& kv : metadata) {
      if (!f2) json += ",";
      f2 = false;
      json += json_quote(kv.first) + ":" + json_quote(kv.second);
    }
    json += "}";
    first = false;
  }
  std::size_t offset = 0;
  std::vector<std::size_t> sizes(ts.size());
  for (std::size_t i : order) {
    sizes[i] = detail::tensor_ref_bytes(ts[i], "ts");
    if (!first) json += ",";
    first = false;
    json += json_quote(ts[i].name) + ":{\"dtype\":\"" + detail::safetensors_dtype_name(ts[i].dtype) + "\",\"shape\":[";
    for (std::size_t k = 0; k < ts[i].shape.size(); ++k) json += (k ? "," : "") + std::to_string(ts[i].shape[k]);
    json += "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(offset + sizes[i]) + "]}";
    offset += sizes[i];
  }
  json += "}";
  json.append((8 - json.size() % 8) % 8, ' ');
  std::string out(8, '\0');
  std::uint64_t n = json.size();
  for (int b = 0; b < 8; ++b) out[static_cast<std::size_t>(b)] = static_cast<char>((n >> (8 * b)) & 0xff);
  out += json;
  for (std::size_t i : order)
    if (sizes[i] != 0) out.append(static_cast<const char*>(ts[i].data), sizes[i]);
  detail::write_file(path, out);
}

}  // namespace QKERN_ABI_NS
}  // namespace io
}  // namespace qkern
