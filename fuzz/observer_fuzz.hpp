// qkern fuzzing — SPDX-License-Identifier: Apache-2.0
//
// observer_fuzz.hpp: the body shared by the fuzz_observer_<kind> targets. Observer state files are
// input from disk (issue 10), so each target feeds the bytes to <Observer>::deserialize and, when
// they load, checks what the loader promises:
//   - canonical encoding: serialize(deserialize(blob)) == blob, byte for byte;
//   - merge both ways with a populated observer (DataError allowed only for a count overflow);
//     exact observers give the same state both ways;
//   - fitting (min-max, and for histograms percentile / MSE / entropy) never crashes; any error is
//     a qkern error, and a percentile lies in the observer's exact range;
//   - the merged states serialize and load back identically.
// Any other exception, a sanitizer report or an abort() is a finding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "qkern/calib/serialization.hpp"
#include "qkern/qkern.hpp"

namespace qkern_fuzz {

[[noreturn]] inline void finding(const char* what) {
  std::fprintf(stderr, "fuzz finding: %s\n", what);
  std::abort();
}

// Data with both signs, zeros, a wide range, NaN and +-Inf (the populated side of every merge).
inline std::vector<float> sample_data() {
  std::vector<float> x;
  for (int i = 0; i < 300; ++i) x.push_back(static_cast<float>((i * 7919) % 613 - 300) / 37.0f);
  x.push_back(0.0f);
  x.push_back(-0.0f);
  x.push_back(1e6f);
  x.push_back(std::numeric_limits<float>::quiet_NaN());
  x.push_back(std::numeric_limits<float>::infinity());
  x.push_back(-std::numeric_limits<float>::infinity());
  return x;
}

template <class F>
inline void expect_qkern_errors_only(F&& f) {
  try {
    f();
  } catch (const qkern::InvalidArgument&) {
  } catch (const qkern::DataError&) {
  }
}

template <class Obs>
inline void check_roundtrip(const Obs& o) {
  const std::vector<std::uint8_t> s = o.serialize();
  if (Obs::deserialize(s).serialize() != s) finding("a serialized state does not load back identically");
}

// Fits every observer offers; histogram observers also take the histogram methods.
template <class Obs>
inline void fit_all(const Obs& o) {
  expect_qkern_errors_only([&] { (void)o.qparams(qkern::DType::int8); });
  expect_qkern_errors_only(
      [&] { (void)o.qparams(qkern::DType::uint8, qkern::RangeOptions{}, qkern::Convention::pytorch); });
  if constexpr (std::is_same<Obs, qkern::HistogramObserver>::value) {
    for (auto m : {qkern::FitMethod::percentile, qkern::FitMethod::mse, qkern::FitMethod::entropy}) {
      qkern::FitOptions fo;
      fo.scheme = o.histogram().values() == qkern::HistogramValues::absolute_values ? qkern::Scheme::symmetric
                                                                                    : qkern::Scheme::affine;
      if (m == qkern::FitMethod::entropy) fo.scheme = qkern::Scheme::symmetric;
      expect_qkern_errors_only([&] { (void)o.qparams(m, qkern::DType::int8, fo); });
    }
    if (o.histogram().has_finite()) {
      const qkern::MinMax r = o.range();
      for (double p : {0.0, 50.0, 99.99, 100.0}) {
        const qkern::PercentileEstimate e = qkern::percentile(o.view(), p);
        if (!(e.value >= r.min && e.value <= r.max)) finding("percentile outside the observer's exact range");
      }
    }
  }
  if constexpr (std::is_same<Obs, qkern::PerChannelHistogramObserver>::value) {
    qkern::FitOptions fo;
    fo.scheme = qkern::Scheme::symmetric;
    expect_qkern_errors_only([&] { (void)o.qparams(qkern::FitMethod::percentile, qkern::DType::int8, fo); });
  }
}

// The envelope's payload size and checksum recomputed for the bytes as they are: random mutations
// almost never keep an FNV-1a checksum valid, so without this the fuzzer would only ever exercise
// the envelope check and not the content checks behind it.
inline void fix_envelope(std::vector<std::uint8_t>& b) {
  if (b.size() < 24) return;
  const std::uint64_t payload = b.size() - 24;
  for (int i = 0; i < 8; ++i) b[8 + i] = static_cast<std::uint8_t>(payload >> (8 * i));
  const std::uint64_t sum = qkern::detail::fnv1a64(b.data(), b.size() - 8);
  for (int i = 0; i < 8; ++i) b[b.size() - 8 + i] = static_cast<std::uint8_t>(sum >> (8 * i));
}

// Input layout of every observer target: one control byte, then the blob. Control bit 1: fix the
// envelope (see fix_envelope) before loading; bit 0 is the target's own choice (e.g. value mode).
// Deserialize, then merge with `populated` both ways, fit, and round-trip.
template <class Obs>
inline int run(const std::uint8_t* data, std::size_t size, const Obs& populated, bool exact_merge) {
  if (size == 0) return 0;
  std::vector<std::uint8_t> blob(data + 1, data + size);
  if (data[0] & 2) fix_envelope(blob);
  Obs loaded = populated;
  try {
    loaded = Obs::deserialize(blob);
  } catch (const qkern::DataError&) {
    return 0;  // rejected: fine
  }
  if (loaded.serialize() != blob) finding("a non-canonical encoding was accepted");
  fit_all(loaded);
  Obs a = loaded, b = populated;
  bool a_ok = true, b_ok = true;
  try {
    a.merge(populated);
  } catch (const qkern::DataError&) {
    a_ok = false;
  } catch (const qkern::InvalidArgument&) {
    a_ok = false;  // different bin count / channel count / value mode
  }
  try {
    b.merge(loaded);
  } catch (const qkern::DataError&) {
    b_ok = false;
  } catch (const qkern::InvalidArgument&) {
    b_ok = false;
  }
  if (a_ok != b_ok) finding("merge succeeds one way and fails the other");
  if (!a_ok && a.serialize() != loaded.serialize()) finding("a failed merge changed the observer");
  if (a_ok) {
    if (exact_merge && a.serialize() != b.serialize()) finding("an exact merge is not commutative");
    fit_all(a);
    check_roundtrip(a);
    check_roundtrip(b);
  }
  return 0;
}

}  // namespace qkern_fuzz
