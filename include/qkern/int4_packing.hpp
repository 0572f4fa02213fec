// qkern — SPDX-License-Identifier: Apache-2.0
//
// int4_packing.hpp: two 4-bit codes per byte, element 0 in the low nibble and element 1 in the high
// nibble (ONNX / ONNX Runtime Int4x2 order). For odd n the last byte's high nibble is 0.
// Packed size: (n + 1) / 2 bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "qkern/core/abi.hpp"
#include "qkern/core/error.hpp"

namespace qkern {
inline namespace QKERN_ABI_NS {

inline std::size_t packed_int4_size(std::size_t n) { return (n + 1) / 2; }

namespace detail {
template <class Q>
void pack_nibbles(const Q* codes, std::uint8_t* packed, std::size_t n, int lo, int hi) {
  for (std::size_t i = 0; i < n; ++i)
    if (codes[i] < lo || codes[i] > hi)
      throw_invalid("codes", "codes[" + std::to_string(i) + "] = " + std::to_string(int(codes[i])) + " is outside [" +
                                 std::to_string(lo) + ", " + std::to_string(hi) + "]");
  for (std::size_t i = 0; i + 1 < n; i += 2)
    packed[i / 2] = static_cast<std::uint8_t>((codes[i] & 0x0F) | ((codes[i + 1] & 0x0F) << 4));
  if (n % 2) packed[n / 2] = static_cast<std::uint8_t>(codes[n - 1] & 0x0F);
}
}  // namespace detail

/// Packs int4 codes (in [-8, 7], held in int8_t) two per byte. Throws InvalidArgument naming
/// "codes" (with the index) if a code is out of range; nothing is written then.
inline void pack_int4(const std::int8_t* codes, std::uint8_t* packed, std::size_t n) {
  detail::pack_nibbles(codes, packed, n, -8, 7);
}

/// Packs uint4 codes (in [0, 15], held in uint8_t) two per byte.
inline void pack_uint4(const std::uint8_t* codes, std::uint8_t* packed, std::size_t n) {
  detail::pack_nibbles(codes, packed, n, 0, 15);
}

/// Unpacks n int4 codes (sign-extended into int8_t).
inline void unpack_int4(const std::uint8_t* packed, std::int8_t* codes, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const int nib = (packed[i / 2] >> (4 * (i % 2))) & 0x0F;
    codes[i] = static_cast<std::int8_t>(nib >= 8 ? nib - 16 : nib);
  }
}

/// Unpacks n uint4 codes into uint8_t.
inline void unpack_uint4(const std::uint8_t* packed, std::uint8_t* codes, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) codes[i] = static_cast<std::uint8_t>((packed[i / 2] >> (4 * (i % 2))) & 0x0F);
}

}  // namespace QKERN_ABI_NS
}  // namespace qkern
