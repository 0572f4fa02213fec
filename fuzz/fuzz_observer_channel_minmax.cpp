// qkern fuzzing — SPDX-License-Identifier: Apache-2.0
// fuzz_observer_channel_minmax.cpp: PerChannelMinMaxObserver::deserialize (see observer_fuzz.hpp);
// the populated side has 3 channels (blobs with another count fail to merge with InvalidArgument).
#include "observer_fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const qkern::PerChannelMinMaxObserver populated = [] {
    qkern::PerChannelMinMaxObserver o(3);
    const std::vector<float> x = qkern_fuzz::sample_data();
    o.update(x.data(), qkern::ChannelLayout{x.size() / 3, 3, 1});
    return o;
  }();
  return qkern_fuzz::run(data, size, populated, true);
}
