// qkern — SPDX-License-Identifier: Apache-2.0
//
// fuzz_aimet_encodings.cpp: libFuzzer target for read_aimet_encodings_string (tools/qkern/formats); the checks are in
// fuzz_format.hpp. Seeds: corpus/aimet_encodings/.
#include "fuzz_format.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace qkern::tool;
  return fuzz::run_format_target(
      data, size, [](const std::string& text) { return read_aimet_encodings_string(text, "fuzz"); },
      [](const CalibrationSet& s) { return write_aimet_encodings_string(s); });
}
