// qkern — SPDX-License-Identifier: Apache-2.0
//
// io/npy.hpp: NumPy .npy format 1.0, 2.0 and 3.0 (numpy/lib/_format_impl.py): parsing from memory
// into a zero-copy TensorView, and writing.
//
// Layout: "\x93NUMPY", major, minor, header length (uint16 LE for 1.0, uint32 LE for 2.0/3.0), the
// header (a Python dict literal with exactly the keys 'descr', 'fortran_order', 'shape', padded with
// spaces and ending in '\n'), then the data: prod(shape) elements, C or Fortran order.
//
// Accepted: descr '<'/'>'/'='/'|' + f2 f4 f8 i1 i2 i4 i8 u1 u2 u4 u8 b1 (and '?'); big-endian data
// is byte-swapped on conversion (TensorView::byte_swapped); Fortran order is transposed on
// conversion. Rejected with a FileError naming the file and tensor: bad magic, unknown version,
// header longer than 10000 bytes (numpy's own default limit) or past the end of the file, a header
// that is not exactly such a dict (unknown or missing or repeated keys, non-integer shape, non-bool
// fortran_order), object arrays (pickles), structured / string / complex / datetime dtypes, a shape
// whose byte size overflows, and data shorter or longer than the shape requires.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "qkern/core/abi.hpp"
#include "qkern/io/tensor_view.hpp"
#include "qkern/io/types.hpp"

namespace qkern {
namespace io {
inline namespace QKERN_ABI_NS {

/// Largest accepted .npy header (numpy's default max_header_size).
constexpr std::size_t kNpyMaxHeaderSize = 10000;

namespace detail {

struct NpyHeader {
  ElementType dtype = ElementType::f32;
  bool byte_swapped = false;
  bool fortran_order = false;
  std::vector<std::size_t> shape;
  std::size_t data_offset = 0;
};

// Strict parser of the header dict: {'descr': <str>, 'fortran_order': <True|False>, 'shape': <tuple>}
// in any key order, single or double quotes, optional trailing comma, surrounding whitespace.
class NpyDictParser {
 public:
  NpyDictParser(const char* p, std::size_t n, const std::string& file, const std::string& key)
      : p_(p), end_(p + n), file_(file), key_(key) {}

  NpyHeader parse() {
    NpyHeader h;
    bool have_descr = false, have_order = false, have_shape = false;
    std::string descr;
    skip_ws();
    expect('{');
    skip_ws();
    while (peek() != '}') {
      const std::string k = string_literal();
      skip_ws();
      expect(':');
      skip_ws();
      if (k == "descr") {
        if (have_descr) fail("header repeats the key 'descr'");
        have_descr = true;
        if (peek() == '[') fail("structured dtypes (a list descr) are not supported");
        if (peek() != '\'' && peek() != '"') fail("'descr' is not a string");
        descr = string_literal();
      } else if (k == "fortran_order") {
        if (have_order) fail("header repeats the key 'fortran_order'");
        have_order = true;
        h.fortran_order = boolean();
      } else if (k == "shape") {
        if (have_shape) fail("header repeats the key 'shape'");
        have_shape = true;
        h.shape = tuple();
      } else {
        fail("header has the unexpected key '" + k + "' (expected exactly descr, fortran_order, shape)");
      }
      skip_ws();
      if (peek() == ',') {
        ++p_;
        skip_ws();
      } else if (peek() != '}') {
        fail("header dict: expected ',' or '}'");
      }
    }
    ++p_;
    skip_ws();
    if (p_ != end_) fail("header has text after the dict");
    if (!have_descr || !have_order || !have_shape)
      fail("header does not contain the keys descr, fortran_order and shape");
    parse_descr(descr, h);
    return h;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    ::qkern::detail::raise(FileError(file_, key_, "invalid .npy header: " + what));
  }
  char peek() const {
    if (p_ == end_) fail("header ends early");
    return *p_;
  }
  void skip_ws() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }
  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++p_;
  }
  std::string string_literal() {
    const char q = peek();
    if (q != '\'' && q != '"') fail("expected a quoted key");
    ++p_;
    std::string s;
    while (peek() != q) {
      const char c = *p_++;
      if (c == '\\' || static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f)
        fail("unsupported character in a string");
      if (s.size() > 64) fail("string too long");
      s += c;
    }
    ++p_;
    return s;
  }
  bool boolean() {
    if (end_ - p_ >= 4 && std::memcmp(p_, "True", 4) == 0) {
      p_ += 4;
      return true;
    }
    if (end_ - p_ >= 5 && std::memcmp(p_, "False", 5) == 0) {
      p_ += 5;
      return false;
    }
    fail("'fortran_order' is not True or False");
  }
  std::vector<std::size_t> tuple() {
    if (peek() != '(') fail("'shape' is not a tuple");
    ++p_;
    std::vector<std::size_t> shape;
    skip_ws();
    bool trailing_comma = false;
    while (peek() != ')') {
      if (peek() < '0' || peek() > '9') fail("'shape' holds a value that is not a non-negative integer");
      std::size_t v = 0;
      while (p_ != end_ && *p_ >= '0' && *p_ <= '9') {
        const std::size_t digit = static_cast<std::size_t>(*p_ - '0');
        if (v > (static_cast<std::size_t>(-1) - digit) / 10) fail("'shape' dimension overflows");
        v = v * 10 + digit;
        ++p_;
      }
      if (p_ != end_ && *p_ == 'L') ++p_;  // Python 2 long suffix
      if (shape.size() >= 64) fail("'shape' has more than 64 dimensions");
      shape.push_back(v);
      skip_ws();
      if (peek() == ',') {
        ++p_;
        skip_ws();
        trailing_comma = true;
      } else if (peek() != ')') {
        fail("'shape' holds a value that is not a non-negative integer (or lacks a ',')");
      } else {
        trailing_comma = false;
      }
    }
    if (shape.size() == 1 && !trailing_comma) fail("'shape' is a parenthesised integer, not a tuple");
    ++p_;
    return shape;
  }
  void parse_descr(const std::string& d, NpyHeader& h) const {
    if (d.empty()) fail("'descr' is empty");
    std::size_t i = 0;
    char order = '=';
    if (d[0] == '<' || d[0] == '>' || d[0] == '=' || d[0] == '|') order = d[i++];
    const std::string t = d.substr(i);
    if (t.empty()) fail("'descr' '" + d + "' has no type");
    const char kind = t[0];
    if (kind == 'O')
      ::qkern::detail::raise(
          FileError(file_, key_, "object arrays (pickled Python objects, descr '" + d + "') are not supported"));
    if (kind == 'V')
      ::qkern::detail::raise(FileError(file_, key_, "structured / void dtypes (descr '" + d + "') are not supported"));
    std::size_t size = 0;
    if (t == "?") {
      size = 1;
    } else {
      if (t.size() < 2 || t.size() > 3) ::qkern::detail::raise(FileError(file_, key_, "unsupported dtype '" + d + "'"));
      for (std::size_t k = 1; k < t.size(); ++k)
        if (t[k] < '0' || t[k] > '9') ::qkern::detail::raise(FileError(file_, key_, "unsupported dtype '" + d + "'"));
      size = static_cast<std::size_t>(std::stoul(t.substr(1)));
    }
    ElementType et;
    if (t == "?" || (kind == 'b' && size == 1))
      et = ElementType::boolean;
    else if (kind == 'f' && size == 2)
      et = ElementType::f16;
    else if (kind == 'f' && size == 4)
      et = ElementType::f32;
    else if (kind == 'f' && size == 8)
      et = ElementType::f64;
    else if (kind == 'i' && size == 1)
      et = ElementType::i8;
    else if (kind == 'i' && size == 2)
      et = ElementType::i16;
    else if (kind == 'i' && size == 4)
      et = ElementType::i32;
    else if (kind == 'i' && size == 8)
      et = ElementType::i64;
    else if (kind == 'u' && size == 1)
      et = ElementType::u8;
    else if (kind == 'u' && size == 2)
      et = ElementType::u16;
    else if (kind == 'u' && size == 4)
      et = ElementType::u32;
    else if (kind == 'u' && size == 8)
      et = ElementType::u64;
    else
      ::qkern::detail::raise(FileError(file_, key_, "unsupported dtype '" + d + "'"));
    if (order == '|' && size != 1) fail("'descr' '" + d + "' has no byte order for a multi-byte type");
    h.dtype = et;
    const bool little = host_is_little_endian();
    h.byte_swapped = size > 1 && ((order == '<' && !little) || (order == '>' && little));
  }

  const char* p_;
  const char* end_;
  const std::string& file_;
  const std::string& key_;
};

}  // namespace detail

/// Parses the .npy image bytes[0, size) (a whole file or .npz member). The returned view's data points
/// into `bytes` (not necessarily aligned to the element size). Throws FileError(file, name, ...).
inline TensorView parse_npy(const void* bytes, std::size_t size, const std::string& file, const std::string& name) {
  const unsigned char* p = static_cast<const unsigned char*>(bytes);
  if (size < 10 || std::memcmp(p, "\x93NUMPY", 6) != 0)
    ::qkern::detail::raise(FileError(file, name, "not a .npy file (bad magic)"));
  const unsigned major = p[6], minor = p[7];
  if (minor != 0 || major < 1 || major > 3)
    ::qkern::detail::raise(FileError(
        file, name, "unsupported .npy format version " + std::to_string(major) + "." + std::to_string(minor)));
  std::size_t hlen, start;
  if (major == 1) {
    hlen = static_cast<std::size_t>(p[8]) | static_cast<std::size_t>(p[9]) << 8;
    start = 10;
  } else {
    if (size < 12) ::qkern::detail::raise(FileError(file, name, "truncated .npy header"));
    hlen = static_cast<std::size_t>(p[8]) | static_cast<std::size_t>(p[9]) << 8 |
           static_cast<std::size_t>(p[10]) << 16 | static_cast<std::size_t>(p[11]) << 24;
    start = 12;
  }
  if (hlen > kNpyMaxHeaderSize)
    ::qkern::detail::raise(FileError(
        file, name,
        ".npy header too long (" + std::to_string(hlen) + " bytes, limit " + std::to_string(kNpyMaxHeaderSize) + ")"));
  if (hlen > size - start)
    ::qkern::detail::raise(FileError(file, name,
                                     "truncated .npy header (" + std::to_string(hlen) + " bytes declared, " +
                                         std::to_string(size - start) + " present)"));
  detail::NpyHeader h = detail::NpyDictParser(reinterpret_cast<const char*>(p + start), hlen, file, name).parse();
  h.data_offset = start + hlen;
  std::size_t count = 0, bytes_needed = 0;
  if (!detail::shape_bytes(h.shape, element_size(h.dtype), count, bytes_needed))
    ::qkern::detail::raise(
        FileError(file, name, "shape " + detail::shape_string(h.shape) + " overflows the address space"));
  const std::size_t have = size - h.data_offset;
  if (have < bytes_needed)
    ::qkern::detail::raise(FileError(file, name,
                                     "truncated data: shape " + detail::shape_string(h.shape) + " of " +
                                         element_type_name(h.dtype) + " needs " + std::to_string(bytes_needed) +
                                         " bytes, " + std::to_string(have) + " present"));
  if (have > bytes_needed)
    ::qkern::detail::raise(FileError(file, name,
                                     "size mismatch: shape " + detail::shape_string(h.shape) + " of " +
                                         element_type_name(h.dtype) + " needs " + std::to_string(bytes_needed) +
                                         " bytes, but " + std::to_string(have) + " follow the header"));
  TensorView v;
  v.name = name;
  v.dtype = h.dtype;
  v.shape = std::move(h.shape);
  v.fortran_order = h.fortran_order;
  v.byte_swapped = h.byte_swapped;
  v.data = reinterpret_cast<const std::byte*>(p + h.data_offset);
  return v;
}

namespace detail {

inline const char* npy_descr(ElementType t) {
  const bool le = host_is_little_endian();
  switch (t) {
    case ElementType::f16:
      return le ? "<f2" : ">f2";
    case ElementType::f32:
      return le ? "<f4" : ">f4";
    case ElementType::f64:
      return le ? "<f8" : ">f8";
    case ElementType::i8:
      return "|i1";
    case ElementType::i16:
      return le ? "<i2" : ">i2";
    case ElementType::i32:
      return le ? "<i4" : ">i4";
    case ElementType::i64:
      return le ? "<i8" : ">i8";
    case ElementType::u8:
      return "|u1";
    case ElementType::u16:
      return le ? "<u2" : ">u2";
    case ElementType::u32:
      return le ? "<u4" : ">u4";
    case ElementType::u64:
      return le ? "<u8" : ">u8";
    case ElementType::boolean:
      return "|b1";
    case ElementType::bf16:
      return nullptr;
  }
  return nullptr;
}

// Validates t and returns its data size in bytes; `what` names the argument in errors.
inline std::size_t tensor_ref_bytes(const TensorRef& t, const char* what) {
  std::size_t count = 0, bytes = 0;
  if (!shape_bytes(t.shape, element_size(t.dtype), count, bytes))
    ::qkern::detail::raise(InvalidArgument(what, "tensor '" + t.name + "': shape overflows"));
  if (bytes != 0 && t.data == nullptr)
    ::qkern::detail::raise(InvalidArgument(what, "tensor '" + t.name + "': data is null"));
  return bytes;
}

/// The complete .npy image of t (format 1.0, or 2.0 when the header exceeds 65535 bytes).
inline std::string npy_image(const TensorRef& t, const char* what) {
  const char* descr = npy_descr(t.dtype);
  if (descr == nullptr)
    ::qkern::detail::raise(
        InvalidArgument(what, "tensor '" + t.name + "': bf16 has no .npy dtype (use safetensors, or convert)"));
  const std::size_t bytes = tensor_ref_bytes(t, what);
  std::string dict =
      std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': " + shape_string(t.shape) + ", }";
  std::size_t prefix = 10;
  std::size_t total = prefix + dict.size() + 1;
  if (total - prefix > 65535) prefix = 12;
  total = prefix + dict.size() + 1;
  const std::size_t pad = (64 - total % 64) % 64;
  const std::size_t hlen = dict.size() + pad + 1;
  std::string out("\x93NUMPY", 6);
  out += static_cast<char>(prefix == 10 ? 1 : 2);
  out += '\0';
  out += static_cast<char>(hlen & 0xff);
  out += static_cast<char>((hlen >> 8) & 0xff);
  if (prefix == 12) {
    out += static_cast<char>((hlen >> 16) & 0xff);
    out += static_cast<char>((hlen >> 24) & 0xff);
  }
  out += dict;
  out.append(pad, ' ');
  out += '\n';
  if (bytes != 0) out.append(static_cast<const char*>(t.data), bytes);
  return out;
}

inline void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) ::qkern::detail::raise(FileError(path, "", "cannot open for writing"));
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  f.close();
  if (!f) ::qkern::detail::raise(FileError(path, "", "write failed"));
}

}  // namespace detail

/// Writes t as a .npy file (format 1.0, or 2.0 for headers over 65535 bytes), C order, native byte
/// order. Throws InvalidArgument for bf16 (numpy has no such dtype), FileError on I/O failure.
inline void write_npy(const std::string& path, const TensorRef& t) {
  detail::write_file(path, detail::npy_image(t, "t"));
}

}  // namespace QKERN_ABI_NS
}  // namespace io
}  // namespace qkern
