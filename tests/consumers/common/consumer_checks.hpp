// qkern — SPDX-License-Identifier: Apache-2.0
// consumer_checks.hpp: what every packaging consumer (tests/consumers/*) checks through the public API.
//
// Written to stay correct when compiled with -ffast-math (the fastmath consumer): special values are
// made and recognised by their bits, never with isnan/isinf or x != x.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <qkern/qkern.hpp>
#include <string>
#include <vector>

namespace consumer {

inline float from_bits(std::uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}

inline int fail(const char* what) {
  std::fprintf(stderr, "FAIL: %s\n", what);
  return 1;
}

/// The header's version macros against the version CMake found (the consumer's CMakeLists passes it
/// as QKERN_EXPECTED_VERSION, "major.minor.patch").
inline int check_version(const char* expected) {
  const std::string macros = std::to_string(QKERN_VERSION_MAJOR) + "." + std::to_string(QKERN_VERSION_MINOR) + "." +
                             std::to_string(QKERN_VERSION_PATCH);
  if (macros != expected) {
    std::fprintf(stderr, "FAIL: QKERN_VERSION_* say %s, CMake found %s\n", macros.c_str(), expected);
    return 1;
  }
  if (macros != QKERN_VERSION_STRING || macros != qkern::version_string) return fail("QKERN_VERSION_STRING disagrees");
  if (QKERN_VERSION != QKERN_VERSION_MAJOR * 10000 + QKERN_VERSION_MINOR * 100 + QKERN_VERSION_PATCH)
    return fail("QKERN_VERSION disagrees with its parts");
  return 0;
}

/// int8, scale 0.5, zero point 3: quantize a vector with every special value and exact ties (at
/// positions that land in the vector body and in the tail) and compare with the scalar reference and
/// with the values the definition gives (NaN -> zero point, +-Inf saturate, ties to even).
inline int check_quantize() {
  const float nan = from_bits(0x7fc00000u), neg_nan = from_bits(0xffc00001u), inf = from_bits(0x7f800000u);
  const float denormal = from_bits(0x00000001u);
  struct Case {
    float x;
    std::int8_t expect;
  };
  const Case cases[] = {
      {nan, 3},      {neg_nan, 3},    {inf, 127},    {-inf, -128},  {0.25f, 3},      // 0.5 -> 0
      {0.75f, 5},    {1.25f, 5},      {-0.25f, 3},   {-0.75f, 1},   {-1.25f, 1},     // 1.5 -> 2, 2.5 -> 2, ...
      {-0.0f, 3},    {0.0f, 3},       {denormal, 3}, {1e30f, 127},  {-1e30f, -128},  //
      {62.25f, 127}, {-65.75f, -128}, {10.0f, 23},   {-10.0f, -17}, {0.3f, 4},
  };
  const qkern::QuantParams p = qkern::QuantParams::make(qkern::DType::int8, 0.5f, 3);
  std::vector<float> x;
  std::vector<std::int8_t> expect;
  for (int rep = 0; rep < 3; ++rep)  // 60 values: full vectors on every arch plus a tail
    for (const Case& c : cases) {
      x.push_back(c.x);
      expect.push_back(c.expect);
    }
  x.push_back(nan);  // and a NaN as the very last (tail) element
  expect.push_back(3);
  std::vector<std::int8_t> q(x.size(), 0x55), r(x.size(), 0x66);
  qkern::quantize(x.data(), q.data(), x.size(), p);
  qkern::reference::quantize(x.data(), r.data(), x.size(), p);
  int bad = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (q[i] != r[i] || q[i] != expect[i]) {
      std::uint32_t bits;
      std::memcpy(&bits, &x[i], 4);
      std::fprintf(stderr, "FAIL: x[%zu] = %g (0x%08x): quantize %d, reference %d, definition %d\n", i,
                   static_cast<double>(x[i]), static_cast<unsigned>(bits), q[i], r[i], expect[i]);
      ++bad;
    }
  }
  return bad == 0 ? 0 : 1;
}

/// Both checks; prints the arch the kernels ran on.
inline int run_all(const char* expected_version) {
  int rc = check_version(expected_version);
  rc |= check_quantize();
  std::printf("qkern %s, kernels on %s: %s\n", qkern::version_string, qkern::dispatch::selected_arch_name(),
              rc == 0 ? "ok" : "FAILED");
  return rc;
}

/// With argv[1], also checks the arch runtime dispatch selected (e.g. "sse2" under QKERN_MAX_ARCH=sse2).
inline int check_selected_arch(int argc, char** argv) {
  if (argc < 2) return 0;
  if (std::strcmp(argv[1], qkern::dispatch::selected_arch_name()) != 0) {
    std::fprintf(stderr, "FAIL: dispatch selected %s, expected %s\n", qkern::dispatch::selected_arch_name(), argv[1]);
    return 1;
  }
  return 0;
}

}  // namespace consumer
