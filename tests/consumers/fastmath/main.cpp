// qkern — SPDX-License-Identifier: Apache-2.0
// main.cpp: header-only consumer compiled with -ffast-math; exit code 0 when NaN, +-Inf and ties
// quantize as defined and equal the scalar reference.
#include "consumer_checks.hpp"

#if !defined(__FAST_MATH__)
#error "this consumer must be compiled with -ffast-math"
#endif
#if defined(QKERN_DISPATCH)
#error "the fast-math consumer is header-only: the kernels must be compiled with the user's flags"
#endif

int main() { return consumer::run_all(QKERN_EXPECTED_VERSION); }
