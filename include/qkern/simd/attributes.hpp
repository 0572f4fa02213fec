// qkern — SPDX-License-Identifier: Apache-2.0
//
// attributes.hpp: compiler attributes the kernels' hot loops need. xsimd 8.1's operations are
// plain inline functions and a kernel's lane op is a lambda; GCC's inliner gives up on them inside
// a large loop body and calls the op once per vector (measured: 3-4x slower quantize loops). A
// loop driver marked QKERN_FLATTEN has every call inside it inlined.
#pragma once

#if defined(__GNUC__) || defined(__clang__)
#define QKERN_FLATTEN __attribute__((flatten))
#else
#define QKERN_FLATTEN
#endif
