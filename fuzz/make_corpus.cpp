// qkern fuzzing — SPDX-License-Identifier: Apache-2.0
//
// make_corpus.cpp: writes the seed corpora of the observer fuzzers (fuzz/corpus/observer_<kind>/):
// serialized states of a few small observers (empty, one value, zeros, both signs, NaN/Inf, grown
// ranges, |x| mode). Regenerate with
//   c++ -std=c++17 -O1 -Iinclude fuzz/make_corpus.cpp -o /tmp/make_corpus && /tmp/make_corpus fuzz/corpus
// (run from the repository root). Each seed is a control byte (see write()) and a serialized state.
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "qkern/qkern.hpp"

namespace {

std::string root;

// Every observer target reads a control byte first (observer_fuzz.hpp): bit 1 = fix the envelope,
// bit 0 = the target's choice (histogram: |x| mode).
void write(const std::string& kind, int n, const std::vector<std::uint8_t>& blob, int mode = 0) {
  const std::string dir = root + "/observer_" + kind;
  std::vector<std::uint8_t> bytes;
  bytes.push_back(static_cast<std::uint8_t>(2 | mode));
  bytes.insert(bytes.end(), blob.begin(), blob.end());
  std::ofstream(dir + "/seed_" + std::to_string(n), std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: make_corpus <fuzz/corpus dir> (the observer_<kind> dirs must exist)\n");
    return 2;
  }
  root = argv[1];
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  const std::vector<std::vector<float>> batches = {
      {},         {0.0f},           {0.0f, -0.0f, 0.0f},  {-1.5f, 2.25f, 0.125f, 3.0f}, {nan, inf, -inf, 0.5f},
      {nan, nan}, {1e-30f, 2e-30f}, {-1e20f, 7.0f, 1e20f}};
  int n = 0;
  for (const auto& b : batches) {
    qkern::MinMaxObserver m;
    m.update(b.data(), b.size());
    write("minmax", n, m.serialize());
    qkern::MovingAverageMinMaxObserver a(0.25f);
    a.update(b.data(), b.size());
    a.update(b.data(), b.size() / 2);
    write("moving_average_minmax", n, a.serialize());
    ++n;
  }
  n = 0;
  for (std::size_t k = 0; k + 1 < batches.size(); ++k) {
    std::vector<float> x = batches[k];
    x.insert(x.end(), batches[k + 1].begin(), batches[k + 1].end());
    if (x.size() % 2) x.push_back(1.0f);
    const qkern::ChannelLayout l{x.size() / 2, 2, 1};
    const qkern::ChannelLayout l3{1, 3, 1};
    qkern::PerChannelMinMaxObserver c(2);
    c.update(x.data(), l);
    write("channel_minmax", n, c.serialize());
    qkern::MovingAveragePerChannelMinMaxObserver ca(3, 0.5f);
    if (x.size() >= 3) ca.update(x.data(), l3);
    write("moving_average_channel_minmax", n, ca.serialize());
    qkern::PerChannelHistogramObserver ch(2, 8);
    ch.update(x.data(), l);
    write("channel_histogram", n, ch.serialize());
    ++n;
  }
  n = 0;
  for (const auto& b : batches) {
    for (int mode = 0; mode < 2; ++mode) {
      qkern::HistogramObserver h(mode == 0 && n % 2 ? 8 : 16, mode ? qkern::HistogramValues::absolute_values
                                                                   : qkern::HistogramValues::signed_values);
      h.update(b.data(), b.size());
      h.update(b.data(), b.size() / 2);
      write("histogram", 2 * n + mode, h.serialize(), mode);
    }
    ++n;
  }
  return 0;
}
