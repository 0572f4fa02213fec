// qkern — SPDX-License-Identifier: Apache-2.0
//
// dtype.hpp: the quantized types, their storage and their code ranges.
#pragma once

#include <cstdint>
#include <limits>
#include <type_traits>

#include "qkern/core/abi.hpp"

namespace qkern {
inline namespace QKERN_ABI_NS {

/// A quantized element type. int4/uint4 are held one code per byte (int8_t / uint8_t storage);
/// pack_int4 / unpack_int4 convert to and from two codes per byte.
enum class DType : std::uint8_t { int4, uint4, int8, uint8, int16, uint16, int32 };

/// An inclusive range of integer codes [qmin, qmax].
struct QRange {
  std::int32_t qmin;
  std::int32_t qmax;
  constexpr std::int64_t levels() const { return std::int64_t{qmax} - qmin; }
  friend constexpr bool operator==(QRange a, QRange b) { return a.qmin == b.qmin && a.qmax == b.qmax; }
};

/// Full code range of a type: int8 [-128, 127], uint4 [0, 15], ...
constexpr QRange full_range(DType t) {
  switch (t) {
    case DType::int4:
      return {-8, 7};
    case DType::uint4:
      return {0, 15};
    case DType::int8:
      return {-128, 127};
    case DType::uint8:
      return {0, 255};
    case DType::int16:
      return {-32768, 32767};
    case DType::uint16:
      return {0, 65535};
    case DType::int32:
      return {std::numeric_limits<std::int32_t>::min(), std::numeric_limits<std::int32_t>::max()};
  }
  return {0, 0};
}

/// Narrow ("restricted", symmetric) range: signed types drop their most negative code
/// (int8 -> [-127, 127], the TensorRT / ONNX symmetric tables); unsigned types are unchanged.
constexpr QRange narrow_range(DType t) {
  QRange r = full_range(t);
  if (r.qmin < 0) r.qmin += 1;
  return r;
}

constexpr bool is_signed(DType t) { return full_range(t).qmin < 0; }

/// Number of value bits (4, 8, 16 or 32).
constexpr int bit_width(DType t) {
  switch (t) {
    case DType::int4:
    case DType::uint4:
      return 4;
    case DType::int8:
    case DType::uint8:
      return 8;
    case DType::int16:
    case DType::uint16:
      return 16;
    case DType::int32:
      return 32;
  }
  return 0;
}

constexpr const char* dtype_name(DType t) {
  switch (t) {
    case DType::int4:
      return "int4";
    case DType::uint4:
      return "uint4";
    case DType::int8:
      return "int8";
    case DType::uint8:
      return "uint8";
    case DType::int16:
      return "int16";
    case DType::uint16:
      return "uint16";
    case DType::int32:
      return "int32";
  }
  return "?";
}

/// The C++ storage type of each DType (int4 lives in int8_t, uint4 in uint8_t).
template <DType T>
struct storage;
template <>
struct storage<DType::int4> {
  using type = std::int8_t;
};
template <>
struct storage<DType::uint4> {
  using type = std::uint8_t;
};
template <>
struct storage<DType::int8> {
  using type = std::int8_t;
};
template <>
struct storage<DType::uint8> {
  using type = std::uint8_t;
};
template <>
struct storage<DType::int16> {
  using type = std::int16_t;
};
template <>
struct storage<DType::uint16> {
  using type = std::uint16_t;
};
template <>
struct storage<DType::int32> {
  using type = std::int32_t;
};
template <DType T>
using storage_t = typename storage<T>::type;

/// True for the integer types qkern's quantize kernels write.
template <class Q>
inline constexpr bool is_quantized_storage_v =
    std::is_same<Q, std::int8_t>::value || std::is_same<Q, std::uint8_t>::value ||
    std::is_same<Q, std::int16_t>::value || std::is_same<Q, std::uint16_t>::value ||
    std::is_same<Q, std::int32_t>::value;

/// The code range a storage type can hold.
template <class Q>
constexpr QRange storage_range() {
  return {static_cast<std::int32_t>(std::numeric_limits<Q>::min()),
          static_cast<std::int32_t>(std::numeric_limits<Q>::max())};
}

/// True when codes of `t` are stored in `Q`.
template <class Q>
constexpr bool stored_in(DType t) {
  switch (t) {
    case DType::int4:
    case DType::int8:
      return std::is_same<Q, std::int8_t>::value;
    case DType::uint4:
    case DType::uint8:
      return std::is_same<Q, std::uint8_t>::value;
    case DType::int16:
      return std::is_same<Q, std::int16_t>::value;
    case DType::uint16:
      return std::is_same<Q, std::uint16_t>::value;
    case DType::int32:
      return std::is_same<Q, std::int32_t>::value;
  }
  return false;
}

}  // namespace QKERN_ABI_NS
}  // namespace qkern
