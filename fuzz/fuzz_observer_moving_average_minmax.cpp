// qkern fuzzing — SPDX-License-Identifier: Apache-2.0
// fuzz_observer_moving_average_minmax.cpp: MovingAverageMinMaxObserver::deserialize (see
// observer_fuzz.hpp). Its merge is an approximation, not required to commute bit for bit.
#include "observer_fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const qkern::MovingAverageMinMaxObserver populated = [] {
    qkern::MovingAverageMinMaxObserver o(0.25f);
    const std::vector<float> x = qkern_fuzz::sample_data();
    for (std::size_t i = 0; i + 50 <= x.size(); i += 50) o.update(x.data() + i, 50);
    return o;
  }();
  return qkern_fuzz::run(data, size, populated, false);
}
