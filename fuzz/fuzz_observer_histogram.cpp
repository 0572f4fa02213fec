// qkern fuzzing — SPDX-License-Identifier: Apache-2.0
// fuzz_observer_histogram.cpp: HistogramObserver (StreamingHistogram) deserialize, then merge with
// a populated 16-bin observer in the blob's value mode, fit and round-trip (see observer_fuzz.hpp).
// Bit 0 of the control byte picks signed or |x| values for the populated side.
#include "observer_fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const qkern::HistogramObserver populated[2] = {[] {
                                                          qkern::HistogramObserver o(16);
                                                          const std::vector<float> x = qkern_fuzz::sample_data();
                                                          o.update(x.data(), x.size());
                                                          return o;
                                                        }(),
                                                        [] {
                                                          qkern::HistogramObserver o(
                                                              16, qkern::HistogramValues::absolute_values);
                                                          const std::vector<float> x = qkern_fuzz::sample_data();
                                                          o.update(x.data(), 40);
                                                          o.update(x.data() + 40, x.size() - 40);
                                                          return o;
                                                        }()};
  if (size == 0) return 0;
  return qkern_fuzz::run(data, size, populated[data[0] & 1], true);
}
