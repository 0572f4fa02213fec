// qkern tests — SPDX-License-Identifier: Apache-2.0
//
// test_custom_range.cpp: RangeOptions::range, the custom code range (PyTorch's quant_min /
// quant_max): how it combines with narrow_range / reduce_range, PyTorch's customized-range
// symmetric zero point, and its validation. Agreement with PyTorch's observers is in test_golden.cpp.
#include "arch_test_util.hpp"
#include "qkern/core/choose_params.hpp"

namespace {

using namespace qkern;

RangeOptions custom(Scheme s, QRange r, bool reduce = false) {
  RangeOptions o;
  o.scheme = s;
  o.reduce_range = reduce;
  o.range = r;
  return o;
}

TEST(CustomRange, ReplacesTheDtypeRangeUnderEveryConvention) {
  for (Convention conv :
       {Convention::qkern, Convention::pytorch, Convention::onnxruntime, Convention::tflite, Convention::fbgemm}) {
    const QuantParams p = choose_params(-1.0, 3.0, DType::int8, custom(Scheme::affine, {-8, 7}), conv);
    EXPECT_EQ(p.qmin, -8) << int(conv);
    EXPECT_EQ(p.qmax, 7) << int(conv);
    EXPECT_NO_THROW(validate(p));
  }
  // ONNX Runtime's symmetric table (-127, 127) is bypassed by a custom range.
  const QuantParams ort =
      choose_params(-1.0, 1.0, DType::int8, custom(Scheme::symmetric, {-128, 127}), Convention::onnxruntime);
  EXPECT_EQ(ort.qmin, -128);
}

TEST(CustomRange, ReduceRangeFloorHalvesItAsPyTorchDoes) {
  const QuantParams p =
      choose_params(-1.0, 1.0, DType::int8, custom(Scheme::affine, {-127, 127}, true), Convention::pytorch);
  EXPECT_EQ(p.qmin, -64);  // -127 // 2
  EXPECT_EQ(p.qmax, 63);
}

TEST(CustomRange, PyTorchSymmetricUnsignedZeroPointIsTheFlooredMidpoint) {
  // observer.py: 128 for quint8's default range, (quant_min + quant_max) // 2 once a range is given,
  // even when it is [0, 255].
  EXPECT_EQ(choose_params(-1.0, 1.0, DType::uint8, {Scheme::symmetric}, Convention::pytorch).zero_point, 128);
  EXPECT_EQ(choose_params(-1.0, 1.0, DType::uint8, custom(Scheme::symmetric, {0, 255}), Convention::pytorch).zero_point,
            127);
  EXPECT_EQ(choose_params(-1.0, 1.0, DType::uint8, custom(Scheme::symmetric, {0, 15}), Convention::pytorch).zero_point,
            7);
  EXPECT_EQ(
      choose_params(-1.0, 1.0, DType::int8, custom(Scheme::symmetric, {-127, 127}), Convention::pytorch).zero_point, 0);
}

TEST(CustomRange, InvalidRangesNameTheArgument) {
  const auto expect_invalid = [](QRange r, DType t, bool reduce) {
    try {
      choose_params(-1.0, 1.0, t, custom(Scheme::affine, r, reduce), Convention::pytorch);
      ADD_FAILURE() << "[" << r.qmin << ", " << r.qmax << "] accepted";
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find("options.range"), std::string::npos) << e.what();
    }
  };
  expect_invalid({0, 256}, DType::uint8, false);  // outside the dtype
  expect_invalid({-129, 0}, DType::int8, false);
  expect_invalid({3, 3}, DType::int8, false);    // empty
  expect_invalid({1, 15}, DType::uint8, false);  // without 0
  expect_invalid({-5, -1}, DType::int8, false);
  expect_invalid({0, 1}, DType::uint8, true);  // empty after reduce_range: [0, 0]
}

}  // namespace
