// qkern — SPDX-License-Identifier: Apache-2.0
//
// strict_float.hpp: float32 / float64 arithmetic that keeps IEEE semantics whatever the caller's
// flags (-ffp-contract=fast, -ffast-math, -march=native). The tool-parity modes (PyTorch's
// histogram update and search, its BatchNorm folding, ModelOpt's bin growth) reproduce another
// program's float32 operation sequence, so each operation must round on its own: a contracted
// a * b + c, a reassociated sum or a division turned into a multiplication by a reciprocal would
// change the last bit. Every operand and result passes through an empty asm statement (GCC, clang)
// that the optimiser cannot see through; elsewhere through a volatile. Non-finite tests read the
// bits (-ffinite-math-only may fold std::isnan to false).
#pragma once

#include <cstdint>
#include <cstring>

namespace qkern {
namespace strict {

template <class T>
inline T opaque(T v) {
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__)) && defined(__SSE2__)
  __asm__("" : "+x"(v));
#elif (defined(__GNUC__) || defined(__clang__)) && defined(__aarch64__)
  __asm__("" : "+w"(v));
#else
  volatile T t = v;
  v = t;
#endif
  return v;
}

template <class T>
inline T add(T a, T b) {
  return opaque(T(opaque(a) + opaque(b)));
}
template <class T>
inline T sub(T a, T b) {
  return opaque(T(opaque(a) - opaque(b)));
}
template <class T>
inline T mul(T a, T b) {
  return opaque(T(opaque(a) * opaque(b)));
}
template <class T>
inline T div(T a, T b) {
  return opaque(T(opaque(a) / opaque(b)));
}

/// True for a finite float, from its bits.
inline bool finite(float v) {
  std::uint32_t b;
  std::memcpy(&b, &v, 4);
  return (b & 0x7f800000u) != 0x7f800000u;
}
inline bool finite(double v) {
  std::uint64_t b;
  std::memcpy(&b, &v, 8);
  return (b & 0x7ff0000000000000ull) != 0x7ff0000000000000ull;
}
inline bool is_nan(float v) {
  std::uint32_t b;
  std::memcpy(&b, &v, 4);
  return (b & 0x7fffffffu) > 0x7f800000u;
}

/// Ordered comparisons on values that are known not to be NaN (the compiler may assume so under
/// -ffinite-math-only, which is then correct).
template <class T>
inline bool less(T a, T b) {
  return opaque(a) < opaque(b);
}

}  // namespace strict
}  // namespace qkern
