// qkern fuzzing — SPDX-License-Identifier: Apache-2.0
// fuzz_observer_minmax.cpp: MinMaxObserver::deserialize (see observer_fuzz.hpp).
#include "observer_fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const qkern::MinMaxObserver populated = [] {
    qkern::MinMaxObserver o;
    const std::vector<float> x = qkern_fuzz::sample_data();
    o.update(x.data(), x.size());
    return o;
  }();
  return qkern_fuzz::run(data, size, populated, true);
}
