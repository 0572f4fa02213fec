// qkern fuzzing — SPDX-License-Identifier: Apache-2.0
// fuzz_observer_channel_histogram.cpp: PerChannelHistogramObserver (ChannelStreamingHistogram)
// deserialize, merge with a populated 2-channel, 8-bin observer, fit and round-trip (see
// observer_fuzz.hpp).
#include "observer_fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const qkern::PerChannelHistogramObserver populated = [] {
    qkern::PerChannelHistogramObserver o(2, 8);
    const std::vector<float> x = qkern_fuzz::sample_data();
    o.update(x.data(), qkern::ChannelLayout{x.size() / 2, 2, 1});
    return o;
  }();
  return qkern_fuzz::run(data, size, populated, true);
}
