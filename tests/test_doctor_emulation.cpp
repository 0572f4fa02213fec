// qkern tests — SPDX-License-Identifier: Apache-2.0
//
// test_doctor_emulation.cpp: suspect 1 of the checklist: float emulation vs the original model,
// "not a quantization problem", the first diverging layer and the affine (normalization) signature.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "qkern/analysis/emulation_checks.hpp"

namespace {

using namespace qkern;
using namespace qkern::analysis;

// A two-layer linear "model" on 16-value inputs: hidden = relu(W1 x), out = W2 hidden (4 classes).
struct TinyModel {
  std::vector<float> w1, w2;
  TinyModel() {
    std::mt19937 rng(11);
    std::normal_distribution<float> g(0.0f, 0.5f);
    w1.resize(8 * 16);
    w2.resize(4 * 8);
    for (float& v : w1) v = g(rng);
    for (float& v : w2) v = g(rng);
  }
  void run(const float* x, float* hidden, float* out) const {
    for (int j = 0; j < 8; ++j) {
      float s = 0.0f;
      for (int i = 0; i < 16; ++i) s += w1[static_cast<std::size_t>(j * 16 + i)] * x[i];
      hidden[j] = s > 0.0f ? s : 0.0f;
    }
    for (int k = 0; k < 4; ++k) {
      float s = 0.0f;
      for (int j = 0; j < 8; ++j) s += w2[static_cast<std::size_t>(k * 8 + j)] * hidden[j];
      out[k] = s;
    }
  }
};

struct Trace {
  std::vector<float> input, hidden, out;
};

Trace run(const TinyModel& m, const std::vector<float>& inputs, std::size_t n) {
  Trace r{inputs, std::vector<float>(n * 8), std::vector<float>(n * 4)};
  for (std::size_t s = 0; s < n; ++s) m.run(&inputs[s * 16], &r.hidden[s * 8], &r.out[s * 4]);
  return r;
}

std::vector<LayerPair> pairs(const Trace& a, const Trace& b) {
  return {{"input", a.input.data(), b.input.data(), a.input.size()},
          {"fc1", a.hidden.data(), b.hidden.data(), a.hidden.size()},
          {"fc2", a.out.data(), b.out.data(), a.out.size()}};
}

std::vector<float> inputs(std::size_t n) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::vector<float> x(n * 16);
  for (float& v : x) v = u(rng);
  return x;
}

TEST(DoctorEmulation, MatchingEmulationIsOk) {
  const TinyModel m;
  const std::size_t n = 200;
  const Trace a = run(m, inputs(n), n);
  Trace b = a;
  for (float& v : b.out) v = std::nextafter(v, 1e30f);  // float rounding differences only
  const EmulationCheck r = check_emulation(a.out.data(), b.out.data(), n, 4, pairs(a, b));
  EXPECT_FALSE(r.mismatch);
  EXPECT_EQ(r.first_diverging, -1);
  EXPECT_GT(r.outputs.sqnr_db, 100.0);
  EXPECT_EQ(r.diagnosis.severity, Severity::ok);
  EXPECT_EQ(r.diagnosis.suspect, Suspect::emulation);
}

TEST(DoctorEmulation, NormalizationAppliedTwiceIsNotAQuantizationProblem) {
  const TinyModel m;
  const std::size_t n = 200;
  const std::vector<float> x = inputs(n);
  std::vector<float> twice = x;
  for (float& v : twice) v = (v - 0.5f) / 0.25f;  // the emulation normalizes again
  const Trace a = run(m, x, n), b = run(m, twice, n);
  const EmulationCheck r = check_emulation(a.out.data(), b.out.data(), n, 4, pairs(a, b));
  EXPECT_TRUE(r.mismatch);
  EXPECT_EQ(r.first_diverging, 0);
  EXPECT_NEAR(r.layers[0].slope, 4.0, 1e-4);
  EXPECT_NEAR(r.layers[0].intercept, -2.0, 1e-4);
  EXPECT_EQ(r.diagnosis.severity, Severity::failed);
  EXPECT_EQ(r.diagnosis.layer, "input");
  EXPECT_FALSE(r.diagnosis.samples.empty());
  EXPECT_NE(r.diagnosis.action.find("not a quantization problem"), std::string::npos);
  EXPECT_NE(r.diagnosis.action.find("normalization"), std::string::npos);
  EXPECT_LT(r.diagnosis.value, r.diagnosis.threshold);
}

TEST(DoctorEmulation, FirstDivergingLayerAfterAgreeingOnes) {
  const TinyModel m;
  const std::size_t n = 100;
  const Trace a = run(m, inputs(n), n);
  Trace b = a;
  // fc1's channels come out in another order in the emulation (a layout bug): not affine.
  for (std::size_t s = 0; s < n; ++s)
    std::reverse(b.hidden.begin() + static_cast<std::ptrdiff_t>(s * 8),
                 b.hidden.begin() + static_cast<std::ptrdiff_t>(s * 8 + 8));
  for (std::size_t s = 0; s < n; ++s) {
    float* o = &b.out[s * 4];
    for (int k = 0; k < 4; ++k) {
      float sum = 0.0f;
      for (int j = 0; j < 8; ++j)
        sum += m.w2[static_cast<std::size_t>(k * 8 + j)] * b.hidden[s * 8 + static_cast<std::size_t>(j)];
      o[k] = sum;
    }
  }
  const EmulationCheck r = check_emulation(a.out.data(), b.out.data(), n, 4, pairs(a, b));
  EXPECT_TRUE(r.mismatch);
  EXPECT_EQ(r.first_diverging, 1);
  EXPECT_EQ(r.diagnosis.layer, "fc1");
  EXPECT_NE(r.diagnosis.evidence.find("after 'input' agreed"), std::string::npos) << r.diagnosis.evidence;
  EXPECT_NE(r.diagnosis.action.find("compare the two implementations"), std::string::npos);
}

TEST(DoctorEmulation, OneFlippedDecisionFailsAndIsNamed) {
  std::vector<float> a(10 * 3, 0.0f), b;
  for (std::size_t s = 0; s < 10; ++s) a[s * 3 + s % 3] = 1.0f;
  b = a;
  // sample 7 (class 7 % 3 == 1 in the original) becomes class 2 in the emulation
  b[7 * 3 + 2] = 2.0f;
  const EmulationCheck r = check_emulation(a.data(), b.data(), 10, 3);
  EXPECT_EQ(r.flipped, (std::vector<std::size_t>{7}));
  EXPECT_TRUE(r.mismatch);
  EXPECT_EQ(r.diagnosis.samples, (std::vector<std::size_t>{7}));
  EmulationCheckOptions o;
  o.decision_flip_fraction = 0.2;
  o.output_sqnr_db = 0.0;
  EXPECT_FALSE(check_emulation(a.data(), b.data(), 10, 3, {}, o).mismatch);
}

TEST(DoctorEmulation, BadArgumentsAreNamed) {
  std::vector<float> a(4);
  try {
    check_emulation(a.data(), nullptr, 1, 4);
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_EQ(e.argument(), "emulated");
  }
  try {
    check_emulation(a.data(), a.data(), 1, 4, {{"x", a.data(), nullptr, 4}});
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_EQ(e.argument(), "layers[0]");
  }
}

}  // namespace
