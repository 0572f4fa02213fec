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

inline bool finite_bits(float f) {
  std::uint32_t b;
  std::memcpy(&b, &f, 4);
  return (b & 0x7f800000u) != 0x7f800000u;
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

/// Histograms and observers fed NaN (both signs, any payload) and +-Inf at every lane position: no
/// crash, no out-of-bounds write (the clang -ffast-math SIGSEGV of issue 10: a NaN converted to bin
/// 0x80000000), every value counted by kind, the bins equal the scalar reference.
inline int check_nonfinite_histograms() {
  const float nan = from_bits(0x7fc00000u), neg_nan = from_bits(0xffc00001u), inf = from_bits(0x7f800000u);
  std::vector<float> x;
  std::uint64_t nans = 0, pinf = 0, ninf = 0;
  for (int i = 0; i < 203; ++i) {  // full vectors on every arch, a tail, a special value in every lane
    float v = static_cast<float>((i * 37) % 101) / 50.0f - 1.0f;
    if (i % 7 == 3) {
      v = (i % 2) ? nan : neg_nan;
      ++nans;
    } else if (i % 11 == 5) {
      v = inf;
      ++pinf;
    } else if (i % 13 == 6) {
      v = -inf;
      ++ninf;
    }
    x.push_back(v);
  }
  std::uint64_t finite = 0;
  for (float v : x) finite += finite_bits(v) ? 1 : 0;
  if (finite + nans + pinf + ninf != x.size()) return fail("test data: overlapping special values");
  int bad = 0;
  for (auto mode : {qkern::HistogramValues::signed_values, qkern::HistogramValues::absolute_values}) {
    qkern::HistogramObserver h(64, mode);
    h.update(x.data(), x.size());
    h.update(x.data() + 1, 1);  // a NaN-free single value
    const qkern::ValueCounts c = h.histogram().counts();
    const std::uint64_t one = finite_bits(x[1]) ? 1 : 0;
    if (c.finite != finite + one || c.nan != nans || c.pos_inf != pinf || c.neg_inf != ninf) {
      std::fprintf(stderr, "FAIL: HistogramObserver counts %llu/%llu/%llu/%llu\n",
                   static_cast<unsigned long long>(c.finite), static_cast<unsigned long long>(c.nan),
                   static_cast<unsigned long long>(c.pos_inf), static_cast<unsigned long long>(c.neg_inf));
      ++bad;
    }
    const qkern::HistogramView v = h.view();
    if (v.total() != c.finite) bad += fail("HistogramObserver bins do not hold every finite value");
    const qkern::PercentileEstimate p = qkern::percentile(v, 99.99);
    const qkern::MinMax r = h.range();
    if (!(p.value >= r.min && p.value <= r.max)) bad += fail("percentile outside the observed range");
  }
  qkern::FixedHistogram f(-1.0f, 1.0f, 16);
  f.update(x.data(), x.size());
  std::vector<std::uint64_t> ref(16 + qkern::kHistogramExtraSlots, 0);
  qkern::reference::histogram(x.data(), x.size(), f.binning(), ref.data());
  for (std::size_t i = 0; i < ref.size(); ++i)
    if (f.bin_counts()[i] != ref[i]) {
      std::fprintf(stderr, "FAIL: FixedHistogram slot %zu: %llu, reference %llu\n", i,
                   static_cast<unsigned long long>(f.bin_counts()[i]), static_cast<unsigned long long>(ref[i]));
      ++bad;
    }
  const qkern::MinMax m = qkern::minmax(x.data(), x.size());
  if (m.counts.nan != nans || m.counts.finite != finite || !(m.min >= -1.0f) || !(m.max <= 1.0f))
    bad += fail("minmax with non-finite values");
  return bad == 0 ? 0 : 1;
}

/// All checks; prints the arch the kernels ran on.
inline int run_all(const char* expected_version) {
  int rc = check_version(expected_version);
  rc |= check_quantize();
  rc |= check_nonfinite_histograms();
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
