// qkern — SPDX-License-Identifier: Apache-2.0
//
// float_env.hpp: pins the floating-point environment for the duration of a kernel call, so results
// never depend on the caller's rounding mode or flush-to-zero state (fault catalogue DT-2, DT-3).
#pragma once

#if defined(__SSE__) || defined(__x86_64__) || defined(_M_X64)
#include <xmmintrin.h>
#define QKERN_HAS_MXCSR 1
#else
#include <cfenv>
#define QKERN_HAS_MXCSR 0
#endif

#include "qkern/core/abi.hpp"

namespace qkern {
namespace simd {

/// (Outside the ABI namespace, used by the kernels too: always inlined, see core/abi.hpp.)
/// RAII: round-to-nearest-even, no flush-to-zero, no denormals-are-zero, exceptions masked; the
/// caller's state is restored on exit. On x86 this is one MXCSR write each way (a few cycles), so
/// every public entry point takes one and the kernels may rely on cvtps2dq and on x / scale being
/// IEEE round-to-nearest.
class FloatEnvironmentGuard {
 public:
  QKERN_ALWAYS_INLINE FloatEnvironmentGuard() {
#if QKERN_HAS_MXCSR
    saved_ = _mm_getcsr();
    if ((saved_ & kControlBits) != kDefault) _mm_setcsr(kDefault);
#else
    saved_ = std::fegetround();
    if (saved_ != FE_TONEAREST) std::fesetround(FE_TONEAREST);
#endif
  }
  QKERN_ALWAYS_INLINE ~FloatEnvironmentGuard() {
#if QKERN_HAS_MXCSR
    if ((saved_ & kControlBits) != kDefault) _mm_setcsr(saved_);
#else
    if (saved_ != FE_TONEAREST) std::fesetround(saved_);
#endif
  }
  FloatEnvironmentGuard(const FloatEnvironmentGuard&) = delete;
  FloatEnvironmentGuard& operator=(const FloatEnvironmentGuard&) = delete;

 private:
#if QKERN_HAS_MXCSR
  static constexpr unsigned kDefault = 0x1F80u;     // all exceptions masked, RNE, FTZ = DAZ = 0
  static constexpr unsigned kControlBits = ~0x3Fu;  // ignore the sticky exception flags
  unsigned saved_;
#else
  int saved_;
#endif
};

}  // namespace simd
}  // namespace qkern
