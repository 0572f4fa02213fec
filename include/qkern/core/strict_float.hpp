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

#include <math.h>

#include <cmath>
#include <cstdint>
#include <cstring>

#include "qkern/core/abi.hpp"

namespace qkern {
inline namespace QKERN_ABI_NS {
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
// Division and square root run the SSE instructions themselves on x86 (inline asm with GCC /
// clang): clang's -ffast-math otherwise replaces a / b and sqrt by reciprocal(-square-root)
// estimates with a Newton step, which are not correctly rounded (also through the _mm_* intrinsics,
// which clang lowers to generic IR).
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__)) && defined(__SSE2__)
#define QKERN_STRICT_X86_ASM 1
#else
#define QKERN_STRICT_X86_ASM 0
#endif

inline float div(float a, float b) {
#if QKERN_STRICT_X86_ASM
  __asm__("divss %1, %0" : "+x"(a) : "x"(b));
  return a;
#else
  return opaque(opaque(a) / opaque(b));
#endif
}
inline double div(double a, double b) {
#if QKERN_STRICT_X86_ASM
  __asm__("divsd %1, %0" : "+x"(a) : "x"(b));
  return a;
#else
  return opaque(opaque(a) / opaque(b));
#endif
}

/// a * b + c with one rounding: libm's fmaf / fma (correctly rounded), called through a volatile
/// function pointer, because -ffast-math lets clang split std::fma into a multiply and an add on
/// targets without an FMA instruction.
inline float fma(float a, float b, float c) {
  float (*volatile f)(float, float, float) = ::fmaf;
  return f(a, b, c);
}
inline double fma(double a, double b, double c) {
  double (*volatile f)(double, double, double) = ::fma;
  return f(a, b, c);
}

/// Correctly rounded square root.
inline float sqrt(float v) {
#if QKERN_STRICT_X86_ASM
  float r;
  __asm__("sqrtss %1, %0" : "=x"(r) : "x"(v));
  return r;
#else
  return opaque(std::sqrt(opaque(v)));
#endif
}
inline double sqrt(double v) {
#if QKERN_STRICT_X86_ASM
  double r;
  __asm__("sqrtsd %1, %0" : "=x"(r) : "x"(v));
  return r;
#else
  return opaque(std::sqrt(opaque(v)));
#endif
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
}  // namespace QKERN_ABI_NS
}  // namespace qkern
