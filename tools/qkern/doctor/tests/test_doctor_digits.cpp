// qkern tool tests — SPDX-License-Identifier: Apache-2.0
//
// test_doctor_digits.cpp: the checklist on the embedded real dump (data/digits, made by
// data/digits/make_dump.py): the good set passes clean, every broken variant is caught by the check
// meant for it, and the measured values behind docs/doctor.md's default thresholds are printed.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "doctor.hpp"
#include "doctor_test_util.hpp"

namespace {

using namespace qkern;
using namespace qkern::analysis;
using namespace qkern::tool::doctor;

using doctor_test::kDigits;

Report doctor(const std::string& dump, const std::string& model = "") {
  Inputs in;
  in.dump = kDigits + "/" + dump;
  if (!model.empty()) in.model = kDigits + "/" + model;
  return run(in);
}

std::vector<const Diagnosis*> failing(const Report& r, const std::string& check) {
  std::vector<const Diagnosis*> v;
  for (const Diagnosis& d : r.diagnoses)
    if (d.check == check && d.severity != Severity::ok) v.push_back(&d);
  return v;
}

std::string all_findings(const Report& r) {
  std::string s;
  for (const Diagnosis& d : r.diagnoses) s += describe(d) + "\n";
  return s;
}

TEST(DoctorDigits, GoodSetPassesClean) {
  const Report r = doctor("bn");
  EXPECT_EQ(r.calibration_samples, 128u);
  for (const Diagnosis& d : r.diagnoses) EXPECT_EQ(d.severity, Severity::ok) << describe(d);
  for (Suspect s : {Suspect::emulation, Suspect::calibration, Suspect::evaluation, Suspect::ranges}) {
    EXPECT_TRUE(r.checked(s));
    EXPECT_EQ(r.verdict(s), Severity::ok);
  }
  // Every check ran: BN statistics on both BN layers, reference distance on every layer.
  std::size_t bn = 0, ref = 0;
  for (const Diagnosis& d : r.diagnoses) {
    bn += d.check == "bn_statistics";
    ref += d.check == "reference_distance";
  }
  EXPECT_EQ(bn, 2u);
  EXPECT_EQ(ref, 6u);
  const std::string text = format_text(r);
  EXPECT_NE(text.find("1. FP emulation"), std::string::npos);
  EXPECT_NE(text.find("relu2"), std::string::npos);
}

TEST(DoctorDigits, RepeatedImageIsCaught) {
  const Report r = doctor("broken/repeated", "bn");
  const auto d = failing(r, "repeated_images");
  ASSERT_EQ(d.size(), 1u) << all_findings(r);
  EXPECT_EQ(d[0]->severity, Severity::failed);
  EXPECT_EQ(d[0]->samples.size(), 32u);
  EXPECT_EQ(r.verdict(Suspect::calibration), Severity::failed);
}

TEST(DoctorDigits, UniformNoiseIsCaught) {
  const Report r = doctor("broken/uniform_noise", "bn");
  const auto d = failing(r, "neighbour_correlation");
  ASSERT_EQ(d.size(), 1u) << all_findings(r);
  EXPECT_GE(d[0]->samples.size(), 30u);
  const auto ref = failing(r, "reference_distance");
  ASSERT_FALSE(ref.empty());
  EXPECT_EQ(ref[0]->layer, "input");
  EXPECT_EQ(r.verdict(Suspect::calibration), Severity::failed);
}

TEST(DoctorDigits, SingleColourImagesAreCaught) {
  const Report r = doctor("broken/single_colour", "bn");
  const auto d = failing(r, "single_colour_images");
  ASSERT_EQ(d.size(), 1u) << all_findings(r);
  EXPECT_EQ(d[0]->samples.size(), 32u);
  EXPECT_FALSE(failing(r, "bn_statistics").empty());  // conv1's median KL 0.4 nats
}

TEST(DoctorDigits, UnnormalizedInputsAreCaughtAsNotAQuantizationProblem) {
  const Report r = doctor("broken/unnormalized", "bn");
  EXPECT_EQ(r.verdict(Suspect::emulation), Severity::failed);
  ASSERT_TRUE(r.emulation);
  EXPECT_TRUE(r.emulation->mismatch);
  const auto bn = failing(r, "bn_statistics");
  ASSERT_EQ(bn.size(), 2u) << all_findings(r);
  EXPECT_EQ(bn[0]->severity, Severity::failed);
  EXPECT_NE(bn[0]->action.find("unnormalized"), std::string::npos) << bn[0]->action;
}

TEST(DoctorDigits, FirstDivergingLayerOfARealEmulationDump) {
  // data/digits/emulation (make_emulation.py): 32 test images through the BN model, preprocessed
  // once (original) and twice (the emulation's pipeline).
  Inputs in;
  in.dump = kDigits + "/broken/double_normalized";
  in.model = kDigits + "/bn";
  in.original_layers = kDigits + "/emulation/original";
  in.emulated_layers = kDigits + "/emulation/double_normalized";
  const Report r = run(in);
  ASSERT_TRUE(r.emulation);
  EXPECT_EQ(r.emulation->first_diverging, 0);
  ASSERT_EQ(r.emulation->layers.size(), 6u);
  EXPECT_EQ(r.emulation->layers[0].layer, "input");
  // (x - mean) / std applied again: slope 1 / std, intercept -mean / std (meta.json normalization).
  EXPECT_NEAR(r.emulation->layers[0].slope, 1.0 / 0.37563660740852356, 1e-4);
  EXPECT_NEAR(r.emulation->layers[0].intercept, -0.3041837513446808 / 0.37563660740852356, 1e-4);
  EXPECT_EQ(r.emulation->diagnosis.layer, "input");
  EXPECT_NE(r.emulation->diagnosis.action.find("normalization applied twice"), std::string::npos)
      << r.emulation->diagnosis.action;
  // The original against itself: no layer diverges.
  in.emulated_layers = in.original_layers;
  in.emulated = in.original = kDigits + "/bn/test_logits_float.npy";
  const Report same = run(in);
  ASSERT_TRUE(same.emulation);
  EXPECT_EQ(same.emulation->first_diverging, -1);
  EXPECT_EQ(same.verdict(Suspect::emulation), Severity::ok);
}

TEST(DoctorDigits, DoubleNormalizationIsCaught) {
  const Report r = doctor("broken/double_normalized", "bn");
  EXPECT_EQ(r.verdict(Suspect::emulation), Severity::failed);
  const auto bn = failing(r, "bn_statistics");
  ASSERT_EQ(bn.size(), 2u) << all_findings(r);
  EXPECT_EQ(bn[0]->severity, Severity::failed);
}

TEST(DoctorDigits, ModelWithoutBatchNormIsReportedAndWideChannelsAreCaught) {
  const Report r = doctor("nobn");
  // No BN statistics: the check is reported as not run, and conv layers are marked as without BN.
  bool noted = false;
  for (const std::string& n : r.notes) noted |= n.find("no BatchNorm") != std::string::npos;
  EXPECT_TRUE(noted);
  const LayerRow* conv2 = nullptr;
  for (const LayerRow& l : r.layers)
    if (l.name == "conv2") conv2 = &l;
  ASSERT_NE(conv2, nullptr);
  ASSERT_TRUE(conv2->range);
  EXPECT_FALSE(conv2->range->has_batchnorm);
  // The digits net's ranges are narrow (spread <= 1.4): suspect 4 rightly passes on it. Scaling one
  // channel of conv2 by 64 (and the next layer's weights by 1/64, an exact function-preserving
  // rescaling through ReLU, the inverse of cross-layer equalization) gives the wide-channel layer
  // the check is for, from the same real activations.
  std::vector<Tensor> layers = load_layers(kDigits + "/nobn/calib");
  Tensor* t = nullptr;
  for (Tensor& l : layers)
    if (l.name == "conv2") t = &l;
  ASSERT_NE(t, nullptr);
  const ChannelLayout sl = t->sample_layout();
  for (std::size_t s = 0; s < t->samples(); ++s)
    for (std::size_t i = 0; i < sl.inner; ++i) t->data[(s * sl.channels + 5) * sl.inner + i] *= 64.0f;
  const RangeCheck rc = check_ranges("conv2", t->data.data(), t->samples(), sl, false);
  EXPECT_TRUE(rc.spread.flagged);
  EXPECT_EQ(rc.diagnosis.channels, (std::vector<std::size_t>{5}));
  EXPECT_NE(rc.diagnosis.severity, Severity::ok) << describe(rc.diagnosis);
  EXPECT_NE(rc.diagnosis.action.find("per channel"), std::string::npos);
  EXPECT_NE(rc.diagnosis.action.find("BatchNorm"), std::string::npos);
}

// The measurements behind docs/doctor.md (printed; the assertions are the tests above).
TEST(DoctorDigits, MeasuredValues) {
  std::printf("%-28s %8s %8s %8s %8s %8s %8s %8s %8s\n", "set", "bn1KL", "bn2KL", "maxJS", "inputJS", "corr", "mincorr",
              "emuSQNR", "dupfrac");
  for (const char* v : {"bn", "broken/repeated", "broken/uniform_noise", "broken/single_colour", "broken/unnormalized",
                        "broken/double_normalized"}) {
    const Report r = doctor(v, "bn");
    double kl[2] = {0, 0}, maxjs = 0, injs = 0, dup = 0;
    for (const LayerRow& l : r.layers) {
      if (l.bn_check) kl[l.name == "conv1" ? 0 : 1] = l.bn_check->median_kl;
      if (l.reference) {
        maxjs = std::max(maxjs, l.reference->js_bits);
        if (l.name == "input") injs = l.reference->js_bits;
      }
    }
    for (const Diagnosis& d : r.diagnoses)
      if (d.check == "repeated_images") dup = d.value;
    double lowest = 1.0;
    if (r.images)
      for (double c : r.images->correlation)
        if (c == c) lowest = std::min(lowest, c);
    std::printf("%-28s %8.3g %8.3g %8.3g %8.3g %8.3g %8.3g %8.3g %8.3g\n", v, kl[0], kl[1], maxjs, injs,
                r.images ? r.images->median_correlation : 0.0, lowest, r.emulation ? r.emulation->outputs.sqnr_db : 0.0,
                dup);
  }
  // Sampling variation of the good set: its four disjoint 32-sample quarters (the broken sets have 32).
  const std::vector<Tensor> layers = load_layers(kDigits + "/bn/calib");
  const std::vector<Tensor> bnp = load_file(kDigits + "/bn/bn.npz");
  auto param = [&](const std::string& n) {
    for (const Tensor& t : bnp)
      if (t.name == n) return t.data;
    return std::vector<float>{};
  };
  for (std::size_t q = 0; q < 4; ++q) {
    double kl[2];
    for (int k = 0; k < 2; ++k) {
      const std::string conv = k ? "conv2" : "conv1", bn = k ? "bn2" : "bn1";
      for (const Tensor& t : layers)
        if (t.name == conv) {
          const ChannelLayout sl = t.sample_layout();
          ChannelMoments m;
          m.update(t.data.data() + q * 32 * t.per_sample(), {32, sl.channels, sl.inner});
          kl[k] =
              check_batchnorm_statistics(conv, m, param(bn + ".running_mean"), param(bn + ".running_var")).median_kl;
        }
    }
    std::printf("bn quarter %zu (32 samples)        %8.3g %8.3g\n", q, kl[0], kl[1]);
    EXPECT_LT(std::max(kl[0], kl[1]), DomainCheckOptions{}.bn_kl_nats / 10.0);
  }
}

}  // namespace
