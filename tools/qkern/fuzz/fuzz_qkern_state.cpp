// qkern tool — SPDX-License-Identifier: Apache-2.0
//
// fuzz_qkern_state.cpp: libFuzzer target for the calibration state reader
// (CalibrationState::deserialize, tools/qkern/src/state.cpp). Any input must either load or throw
// qkern::DataError; what loads must serialize, load again to the same bytes, merge with itself and
// fit every layer without crashing. Seeds: tools/qkern/fuzz/corpus/qkern_state/ (states written by
// `qkern collect` on data/digits with few bins).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "fitting.hpp"
#include "state.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace qkern::tool;
  const std::vector<std::uint8_t> bytes(data, data + size);
  CalibrationState s;
  try {
    s = CalibrationState::deserialize(bytes, "fuzz");
  } catch (const qkern::DataError&) {
    return 0;
  }
  const std::vector<std::uint8_t> again = s.serialize();
  if (CalibrationState::deserialize(again, "fuzz-roundtrip").serialize() != again) std::abort();
  CalibrationState twice = s;
  twice.merge(s);
  for (const LayerState& l : twice.layers) {
    for (bool per_channel : {false, true}) {
      FitSettings fs;
      fs.per_channel = per_channel;
      fs.method = qkern::FitMethod::percentile;
      try {
        (void)fit_layer(l, fs);
        (void)layer_statistics(l);
      } catch (const qkern::DataError&) {  // e.g. a layer without finite values
      }
    }
  }
  return 0;
}
