// qkern — SPDX-License-Identifier: Apache-2.0
//
// test_parity_ort.cpp: Convention::onnxruntime equals ONNX Runtime's quant_utils.compute_scale_zp
// (with get_qmin_qmax_for_qType's full / symmetric / reduced tables) bit for bit on float32 ranges:
// tests/golden/data/parity_ort_scale_zp.txt, written by tests/golden/generate_parity_golden.py from a
// numpy transcription of ORT main (2026-12). ORT subtracts the range ends in float32 before widening
// to float64; the random ranges in the file are ones where that rounding moves the scale.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <string>

#include "fit_golden_util.hpp"
#include "qkern/core/choose_params.hpp"

namespace {

qkern::DType dtype_named(const std::string& s) {
  if (s == "int8") return qkern::DType::int8;
  if (s == "uint8") return qkern::DType::uint8;
  if (s == "int16") return qkern::DType::int16;
  if (s == "uint16") return qkern::DType::uint16;
  if (s == "int4") return qkern::DType::int4;
  if (s == "uint4") return qkern::DType::uint4;
  ADD_FAILURE() << "unknown dtype " << s;
  return qkern::DType::int8;
}

std::uint32_t bits(float x) {
  std::uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
}

TEST(ParityOrt, ComputeScaleZpEqualsOnnxRuntime) {
  int rows = 0, float32_difference_rounded = 0;
  for (const auto& f : qkern_test::golden_lines("parity_ort_scale_zp.txt")) {
    ASSERT_EQ(f.size(), 7u);
    qkern::RangeOptions o;
    o.scheme = f[1] == "1" ? qkern::Scheme::symmetric : qkern::Scheme::affine;
    o.reduce_range = f[2] == "1";
    const float lo = qkern_test::f32_from_hex(f[3]), hi = qkern_test::f32_from_hex(f[4]);
    const float want_scale = qkern_test::f32_from_hex(f[5]);
    const int want_zp = std::stoi(f[6]);
    const qkern::QuantParams p = qkern::choose_params(lo, hi, dtype_named(f[0]), o, qkern::Convention::onnxruntime);
    EXPECT_EQ(bits(p.scale), bits(want_scale)) << f[0] << " sym " << f[1] << " reduce " << f[2] << " [" << lo << ", "
                                               << hi << "]: " << p.scale << " vs " << want_scale;
    EXPECT_EQ(p.zero_point, want_zp) << f[0] << " sym " << f[1] << " reduce " << f[2] << " [" << lo << ", " << hi
                                     << "]";
    const float l0 = lo < 0.0f ? lo : 0.0f, h0 = hi > 0.0f ? hi : 0.0f;
    if (double(h0 - l0) != double(h0) - double(l0)) ++float32_difference_rounded;
    ++rows;
  }
  EXPECT_GT(rows, 1000);
  EXPECT_GT(float32_difference_rounded, 100);  // the file exercises the float32 subtraction
}

// Where ORT's float32 difference overflows (range wider than FLT_MAX) its scale is +Inf; qkern keeps a
// finite scale from the float64 difference (the README's deviation list).
TEST(ParityOrt, RangeWiderThanFloatMaxKeepsAFiniteScale) {
  const float big = std::numeric_limits<float>::max();
  qkern::RangeOptions o;
  o.scheme = qkern::Scheme::affine;
  const qkern::QuantParams p = qkern::choose_params(-big, big, qkern::DType::int8, o, qkern::Convention::onnxruntime);
  EXPECT_EQ(p.scale, static_cast<float>(2.0 * double(big) / 255.0));
  EXPECT_EQ(p.zero_point, 0);
  o.scheme = qkern::Scheme::symmetric;
  const qkern::QuantParams s = qkern::choose_params(-big, big, qkern::DType::uint8, o, qkern::Convention::onnxruntime);
  EXPECT_EQ(s.scale, static_cast<float>(2.0 * double(big) / 254.0));
  EXPECT_EQ(s.zero_point, 127);
}

}  // namespace
