// qkern tool tests — SPDX-License-Identifier: Apache-2.0
//
// test_doctor_streaming.cpp: the doctor's streaming collection (doctor/collection.hpp) against the
// in-memory statistics of the same layers: on the embedded dump (one file per layer), on the same
// samples split over several .npz / safetensors files with odd sample counts, any thread count,
// and with layers larger than the sampling budget. No timing here (tools/qkern/bench/).
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "collect.hpp"
#include "collection.hpp"
#include "doctor.hpp"
#include "doctor_test_util.hpp"
#include "qkern/io.hpp"

namespace {

namespace fs = std::filesystem;
using namespace qkern;
using namespace qkern::tool;
using namespace qkern::tool::doctor;

using doctor_test::kDigits;
using doctor_test::scratch;

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

bool same_minmax(const MinMax& a, const MinMax& b) {
  return std::memcmp(&a.min, &b.min, sizeof(float)) == 0 && std::memcmp(&a.max, &b.max, sizeof(float)) == 0 &&
         a.counts.finite == b.counts.finite && a.counts.nan == b.counts.nan && a.counts.pos_inf == b.counts.pos_inf &&
         a.counts.neg_inf == b.counts.neg_inf;
}

// Moments: bit-identical when `exact`, else equal to double rounding (a different summation split).
void expect_same(const Collection& s, const Collection& m, bool exact_moments) {
  ASSERT_EQ(s.layers.size(), m.layers.size());
  for (std::size_t i = 0; i < s.layers.size(); ++i) {
    const LayerStats &a = s.layers[i], &b = m.layers[i];
    SCOPED_TRACE(a.name);
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.shape, b.shape);
    EXPECT_EQ(a.stride, b.stride);
    EXPECT_TRUE(same_bits(a.kept, b.kept));
    EXPECT_TRUE(same_minmax(a.range, b.range));
    ASSERT_EQ(a.channel_ranges.size(), b.channel_ranges.size());
    for (std::size_t c = 0; c < a.channel_ranges.size(); ++c)
      EXPECT_TRUE(same_minmax(a.channel_ranges[c], b.channel_ranges[c])) << "channel " << c;
    ASSERT_EQ(a.moments.has_value(), b.moments.has_value());
    if (!a.moments) continue;
    ASSERT_EQ(a.moments->channels(), b.moments->channels());
    for (std::size_t c = 0; c < a.moments->channels(); ++c) {
      EXPECT_EQ(a.moments->count(c), b.moments->count(c));
      if (exact_moments) {
        EXPECT_EQ(a.moments->mean(c), b.moments->mean(c)) << "channel " << c;
        EXPECT_EQ(a.moments->variance(c), b.moments->variance(c)) << "channel " << c;
      } else {
        EXPECT_NEAR(a.moments->mean(c), b.moments->mean(c), 1e-12 * (1 + std::fabs(b.moments->mean(c))));
        EXPECT_NEAR(a.moments->variance(c), b.moments->variance(c), 1e-12 * (1 + b.moments->variance(c)));
      }
    }
  }
  EXPECT_EQ(s.image_count, m.image_count);
  EXPECT_TRUE(same_bits(s.images, m.images));
}

CollectionOptions digits_options(unsigned threads) {
  CollectionOptions o;
  o.threads = threads;
  o.moment_layers = {"conv1", "conv2"};
  return o;
}

// The embedded calibration samples of `dump` as `parts` files holding every layer, split at `cuts`
// (sample indices), alternately .npz and .safetensors.
void write_split(const std::string& from, const fs::path& to, const std::vector<std::size_t>& cuts) {
  const std::vector<Tensor> layers = load_layers(from);
  fs::create_directories(to);
  for (std::size_t p = 0; p + 1 < cuts.size(); ++p) {
    std::vector<io::TensorRef> refs;
    for (const Tensor& t : layers) {
      std::vector<std::size_t> shape = t.shape;
      shape[0] = cuts[p + 1] - cuts[p];
      refs.push_back({t.name, io::ElementType::f32, shape, t.data.data() + cuts[p] * t.per_sample()});
    }
    const std::string stem = (to / ("part" + std::to_string(p))).string();
    if (p % 2 == 0)
      io::write_npz(stem + ".npz", refs);
    else
      io::write_safetensors(stem + ".safetensors", refs);
  }
}

TEST(DoctorStreaming, EmbeddedDumpsEqualTheInMemoryStatistics) {
  for (const char* set : {"bn", "nobn", "broken/repeated", "broken/uniform_noise", "broken/single_colour",
                          "broken/unnormalized", "broken/double_normalized"}) {
    SCOPED_TRACE(set);
    const std::string dir = kDigits + "/" + set + "/calib";
    for (unsigned threads : {1u, 2u, 5u}) {
      const Collection s = collect_dump(list_dump(dir), digits_options(threads));
      const Collection m = collect_in_memory(load_layers(dir), digits_options(threads));
      expect_same(s, m, /*exact_moments=*/true);  // one file per layer: the same summation
      // collect's observers: the state `qkern collect` writes, byte for byte.
      CollectOptions co;
      co.threads = threads;
      EXPECT_EQ(s.state.serialize(), collect(list_inputs({dir}), co).serialize());
      EXPECT_EQ(s.files, 6u);
    }
  }
}

TEST(DoctorStreaming, SplitOverFilesWithOddChunksEqualsInMemory) {
  const fs::path dir = scratch("split");
  const std::string calib = kDigits + "/bn/calib";
  write_split(calib, dir / "calib", {0, 1, 38, 91, 92, 128});  // chunks of 1, 37, 53, 1, 36 samples
  const Collection m = collect_in_memory(load_layers(calib), digits_options(1));
  const Collection one = collect_dump(list_dump((dir / "calib").string()), digits_options(1));
  EXPECT_EQ(one.files, 5u);
  expect_same(one, m, /*exact_moments=*/false);
  for (unsigned threads : {2u, 3u, 8u}) {
    const Collection s = collect_dump(list_dump((dir / "calib").string()), digits_options(threads));
    expect_same(s, one, /*exact_moments=*/true);  // any thread count: bit-identical
    EXPECT_EQ(s.state.serialize(), one.state.serialize());
  }
  CollectOptions co;
  EXPECT_EQ(one.state.serialize(), collect(list_inputs({calib}), co).serialize());

  // The whole doctor: every result and both reports identical to the unsplit dump's.
  Inputs in;
  in.dump = kDigits + "/bn";
  const Report a = run(in);
  Inputs split = a.inputs;
  split.dump = dir.string();
  const Report b = run(split);
  auto without_dump = [&](std::string s) {
    for (const std::string& dump : {dir.string(), kDigits + "/bn"})
      for (std::size_t p; (p = s.find(dump)) != std::string::npos;) s.replace(p, dump.size(), "DUMP");
    return s;
  };
  EXPECT_EQ(without_dump(format_text(a)), without_dump(format_text(b)));
  EXPECT_EQ(without_dump(format_html(a)), without_dump(format_html(b)));
  fs::remove_all(dir);
}

TEST(DoctorStreaming, LayersOverTheBudgetKeepEveryKthSampleWithinIt) {
  const fs::path dir = scratch("budget");
  const std::string calib = kDigits + "/bn/calib";
  write_split(calib, dir / "calib", {0, 7, 64, 65, 128});
  for (std::size_t budget : {1000u, 4096u, 20000u}) {
    SCOPED_TRACE(budget);
    CollectionOptions o = digits_options(3);
    o.sample_values = budget;
    o.max_images = 10;
    const Collection s = collect_dump(list_dump((dir / "calib").string()), o);
    const Collection m = collect_in_memory(load_layers(calib), o);
    expect_same(s, m, /*exact_moments=*/false);
    const std::vector<Tensor> full = load_layers(calib);
    for (const LayerStats& l : s.layers) {
      SCOPED_TRACE(l.name);
      const std::size_t S = l.per_sample();
      // The bound: at most max(2 samples, budget) values, and every stride-th sample exactly.
      EXPECT_LE(l.kept.size(), std::max(2 * S, budget));
      EXPECT_GE(l.kept_samples(), 2u);
      const Tensor* t = nullptr;
      for (const Tensor& x : full)
        if (x.name == l.name) t = &x;
      ASSERT_NE(t, nullptr);
      for (std::size_t k = 0; k < l.kept_samples(); ++k)
        EXPECT_EQ(0, std::memcmp(l.kept.data() + k * S, t->data.data() + k * l.stride * S, S * sizeof(float)));
      EXPECT_EQ(l.kept_samples(), (l.samples() + l.stride - 1) / l.stride);
      if (S * 128 > budget) {
        EXPECT_GT(l.stride, 1u);
      }
    }
    EXPECT_EQ(s.image_count, 128u);
    EXPECT_EQ(s.images.size(), 10u * 64u);
  }
  // The doctor on a sampled collection: every check still runs and says what was sampled.
  Inputs in;
  in.dump = dir.string();
  in.model = kDigits + "/bn";
  Options o;
  o.sample_values = 2000;
  o.max_images = 40;
  const Report r = run(in, o);
  const std::string text = format_text(r);
  // input: 64 values a sample, 2000 kept values: room for 31 samples, so one in 5 (26 of 128).
  EXPECT_NE(text.find("layer 'input': the histogram, reference distance and range check use one sample in 5 (26 "
                      "of 128"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("image content checks on the first 40 of 128 images"), std::string::npos) << text;
  for (const LayerRow& l : r.layers)
    if (l.bn.empty()) {
      EXPECT_TRUE(l.range.has_value()) << l.name;
    }
  fs::remove_all(dir);
}

TEST(DoctorStreaming, SplitFilesWithDifferentSampleShapesNameFileAndLayer) {
  const fs::path dir = scratch("badsplit");
  std::vector<float> x(2 * 3 * 4, 0.5f);
  io::write_npz((dir / "a.npz").string(), {{"conv1", io::ElementType::f32, {2, 3, 4}, x.data()}});
  io::write_npz((dir / "b.npz").string(), {{"conv1", io::ElementType::f32, {2, 4, 3}, x.data()}});
  try {
    collect_dump(list_dump(dir.string()), digits_options(2));
    ADD_FAILURE() << "no error";
  } catch (const DataError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("b.npz"), std::string::npos) << what;
    EXPECT_NE(what.find("conv1"), std::string::npos) << what;
  }
  fs::remove_all(dir);
}

TEST(DoctorStreaming, DumpOfFilesWithoutTensorsIsAnErrorNamingIt) {
  const fs::path dir = scratch("empty");
  io::write_npz((dir / "a.npz").string(), {});
  Inputs in;
  in.dump = dir.string();
  try {
    run(in);
    ADD_FAILURE() << "no error";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find(dir.string()), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

}  // namespace
