// qkern tests — SPDX-License-Identifier: Apache-2.0
//
// test_choose_params.cpp: parameters from a range under every convention: the defining formulas on
// simple ranges, and valid results (never NaN, Inf or a zero scale) on degenerate ones. Exact
// agreement with PyTorch is checked against golden vectors in test_golden.cpp.
#include "arch_test_util.hpp"

namespace {

using namespace qkern;

const Convention kConventions[] = {Convention::qkern,    Convention::pytorch, Convention::onnxruntime,
                                   Convention::tensorrt, Convention::tflite,  Convention::fbgemm};
const DType kDTypes[] = {DType::int4, DType::uint4, DType::int8, DType::uint8, DType::int16, DType::uint16};

TEST(ChooseParams, EveryConventionGivesValidParametersOnDegenerateRanges) {  // SF-2, SF-3, SF-7, SF-8, SF-15
  const double fmax = std::numeric_limits<float>::max();
  const std::pair<double, double> ranges[] = {{0, 0},          {2.5, 2.5},    {-2.5, -2.5}, {1e-38, 1e-38},
                                              {-1e-40, 1e-40}, {-fmax, fmax}, {0, fmax},    {-fmax, 0},
                                              {-1e-30, 1e-30}, {-3, 5},       {0, 1e-45},   {7e-46, 7e-46}};
  for (Convention conv : kConventions)
    for (DType t : kDTypes)
      for (Scheme s : {Scheme::affine, Scheme::symmetric})
        for (bool narrow : {false, true})
          for (bool reduce : {false, true})
            for (bool pow2 : {false, true})
              for (auto r : ranges) {
                if (conv == Convention::tensorrt && s == Scheme::affine) continue;
                const RangeOptions o{s, narrow, reduce, pow2};
                QuantParams p;
                ASSERT_NO_THROW(p = choose_params(r.first, r.second, t, o, conv));
                EXPECT_NO_THROW(validate(p)) << "convention " << int(conv) << " " << dtype_name(t) << " [" << r.first
                                             << ", " << r.second << "] scale " << p.scale << " zp " << p.zero_point;
                if (pow2) {
                  int e;
                  EXPECT_EQ(std::frexp(p.scale, &e), 0.5f) << "power-of-two scale, got " << p.scale;
                }
              }
}

TEST(ChooseParams, RangeIsWidenedToIncludeZero) {
  const QuantParams p = choose_params(2.0, 4.0, DType::uint8);
  EXPECT_EQ(p.zero_point, 0);
  EXPECT_FLOAT_EQ(p.scale, 4.0f / 255.0f);
  const QuantParams n = choose_params(-4.0, -2.0, DType::uint8);
  EXPECT_EQ(n.zero_point, 255);
}

TEST(ChooseParams, SymmetricConventionsDifferInTheirDivisor) {
  // qkern: amax / 127, so +amax is representable; PyTorch: amax / 127.5, +amax clips to 127.
  EXPECT_EQ(choose_params(-1.0, 127.0, DType::int8, {Scheme::symmetric}).scale, 1.0f);
  EXPECT_EQ(choose_params(-1.0, 127.5, DType::int8, {Scheme::symmetric}, Convention::pytorch).scale, 1.0f);
  const QuantParams trt = choose_params(-254.0, 3.0, DType::int8, {Scheme::symmetric}, Convention::tensorrt);
  EXPECT_EQ(trt.scale, 2.0f);
  EXPECT_EQ(trt.qmin, -127) << "TensorRT is narrow range";
  EXPECT_EQ(trt.zero_point, 0);
  EXPECT_EQ(choose_params(-1.0, 1.0, DType::uint8, {Scheme::symmetric}, Convention::pytorch).zero_point, 128);
}

TEST(ChooseParams, ReduceRangeFollowsEachConventionsTable) {
  RangeOptions o;
  o.reduce_range = true;
  const QuantParams pt = choose_params(-1.0, 1.0, DType::int8, o, Convention::pytorch);
  EXPECT_EQ(pt.qmin, -64);
  EXPECT_EQ(pt.qmax, 63);
  const QuantParams ort = choose_params(-1.0, 1.0, DType::int8, o, Convention::onnxruntime);
  EXPECT_EQ(ort.qmin, -64);
  EXPECT_EQ(ort.qmax, 64);
  o.narrow_range = true;
  o.reduce_range = false;
  EXPECT_EQ(choose_params(-1.0, 1.0, DType::int8, o).qmin, -127);
}

TEST(ChooseParams, TfliteNudgesTheZeroPointToAnIntegerTiesAway) {
  // [-1, 2] over uint8: scale 3/255, zp from min = 85 exactly; [-0.5, 2.05]: 0.5 / (2.55/255) = 50.
  const QuantParams p = choose_params(-1.0, 2.0, DType::uint8, {}, Convention::tflite);
  EXPECT_EQ(p.zero_point, 85);
  EXPECT_TRUE(p.arithmetic == Arithmetic::tflite());
}

TEST(ChooseParams, InvalidRangesAreRejectedNamingTheArgument) {
  EXPECT_THROW(choose_params(std::nan(""), 1.0, DType::int8), InvalidArgument);
  EXPECT_THROW(choose_params(0.0, std::numeric_limits<double>::infinity(), DType::int8), InvalidArgument);
  EXPECT_THROW(choose_params(2.0, 1.0, DType::int8), InvalidArgument);
  EXPECT_THROW(choose_params(-1.0, 1.0, DType::int8, {Scheme::affine}, Convention::tensorrt), InvalidArgument);
  try {
    choose_params(3.0, 1.0, DType::int8);
  } catch (const InvalidArgument& e) {
    EXPECT_EQ(e.argument(), "min");
  }
}

TEST(ChooseParams, PerChannelFitsEachChannelIndependently) {  // QZ-14
  std::vector<MinMax> ranges(3);
  ranges[0] = {-1.0f, 1.0f, {10, 0, 0, 0}};
  ranges[1] = {0.0f, 0.0f, {10, 0, 0, 0}};  // all zero
  ranges[2] = {-100.0f, 50.0f, {10, 0, 0, 0}};
  const ChannelQuantParams p = choose_params(ranges, DType::int8, {Scheme::symmetric});
  EXPECT_EQ(p.scale[0], choose_params(ranges[0], DType::int8, {Scheme::symmetric}).scale);
  EXPECT_EQ(p.scale[1], 1.0f);
  EXPECT_EQ(p.scale[2], choose_params(ranges[2], DType::int8, {Scheme::symmetric}).scale);
  EXPECT_NO_THROW(validate(p, ChannelLayout{1, 3, 1}));
}

}  // namespace
