// qkern fuzzing — SPDX-License-Identifier: Apache-2.0
// fuzz_observer_moving_average_channel_minmax.cpp: MovingAveragePerChannelMinMaxObserver::deserialize
// (see observer_fuzz.hpp), 3 channels on the populated side.
#include "observer_fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const qkern::MovingAveragePerChannelMinMaxObserver populated = [] {
    qkern::MovingAveragePerChannelMinMaxObserver o(3, 0.5f);
    const std::vector<float> x = qkern_fuzz::sample_data();
    for (std::size_t i = 0; i + 60 <= x.size(); i += 60) o.update(x.data() + i, qkern::ChannelLayout{20, 3, 1});
    return o;
  }();
  return qkern_fuzz::run(data, size, populated, false);
}
