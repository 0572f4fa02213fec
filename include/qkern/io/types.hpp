// qkern — SPDX-License-Identifier: Apache-2.0
//
// io/types.hpp: vocabulary of the tensor file readers and writers: element types, the FileError
// every reader throws (naming the file, the tensor key and the problem), checked size arithmetic.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "qkern/core/abi.hpp"
#include "qkern/core/error.hpp"

namespace qkern {
namespace io {
inline namespace QKERN_ABI_NS {

/// Element types the readers understand (the union of .npy and safetensors numeric types).
enum class ElementType { f16, bf16, f32, f64, i8, i16, i32, i64, u8, u16, u32, u64, boolean };

/// Bytes per element.
inline std::size_t element_size(ElementType t) {
  switch (t) {
    case ElementType::i8:
    case ElementType::u8:
    case ElementType::boolean:
      return 1;
    case ElementType::f16:
    case ElementType::bf16:
    case ElementType::i16:
    case ElementType::u16:
      return 2;
    case ElementType::f32:
    case ElementType::i32:
    case ElementType::u32:
      return 4;
    case ElementType::f64:
    case ElementType::i64:
    case ElementType::u64:
      return 8;
  }
  return 1;
}

/// Lower-case name ("f16", "bf16", "f32", ..., "bool").
inline const char* element_type_name(ElementType t) {
  switch (t) {
    case ElementType::f16:
      return "f16";
    case ElementType::bf16:
      return "bf16";
    case ElementType::f32:
      return "f32";
    case ElementType::f64:
      return "f64";
    case ElementType::i8:
      return "i8";
    case ElementType::i16:
      return "i16";
    case ElementType::i32:
      return "i32";
    case ElementType::i64:
      return "i64";
    case ElementType::u8:
      return "u8";
    case ElementType::u16:
      return "u16";
    case ElementType::u32:
      return "u32";
    case ElementType::u64:
      return "u64";
    case ElementType::boolean:
      return "bool";
  }
  return "?";
}

}  // namespace QKERN_ABI_NS

/// (Outside the ABI namespace, core/abi.hpp: one type in every translation unit, so a catch
/// anywhere sees what any TU throws; its non-virtual members are always inlined.)
/// A tensor file is malformed, truncated, or asks for something unsupported; or it cannot be
/// opened, read or written. what() reads "qkern: <file>: tensor '<key>': <problem>" (the tensor part
/// only when a key is known).
class FileError : public qkern::DataError {
 public:
  QKERN_ALWAYS_INLINE FileError(std::string file, std::string key, const std::string& problem)
      : qkern::DataError(file + ": " + (key.empty() ? std::string() : "tensor '" + key + "': ") + problem),
        file_(std::move(file)),
        key_(std::move(key)),
        problem_(problem) {}
  QKERN_ALWAYS_INLINE FileError(const FileError&) = default;
  QKERN_ALWAYS_INLINE const std::string& file() const noexcept { return file_; }
  QKERN_ALWAYS_INLINE const std::string& key() const noexcept { return key_; }
  QKERN_ALWAYS_INLINE const std::string& problem() const noexcept { return problem_; }

 private:
  std::string file_, key_, problem_;
};

inline namespace QKERN_ABI_NS {

namespace detail {

/// a * b, or false on overflow of std::size_t.
inline bool checked_mul(std::size_t a, std::size_t b, std::size_t& out) {
  if (a != 0 && b > static_cast<std::size_t>(-1) / a) return false;
  out = a * b;
  return true;
}

/// Product of the shape (1 for rank 0) times `elem` bytes, or false on overflow.
inline bool shape_bytes(const std::vector<std::size_t>& shape, std::size_t elem, std::size_t& count,
                        std::size_t& bytes) {
  std::size_t c = 1;
  for (std::size_t d : shape)
    if (!checked_mul(c, d, c)) return false;
  count = c;
  return checked_mul(c, elem, bytes);
}

inline std::string shape_string(const std::vector<std::size_t>& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

inline bool host_is_little_endian() {
  const std::uint16_t one = 1;
  unsigned char b;
  std::memcpy(&b, &one, 1);
  return b == 1;
}

}  // namespace detail
}  // namespace QKERN_ABI_NS
}  // namespace io
}  // namespace qkern
