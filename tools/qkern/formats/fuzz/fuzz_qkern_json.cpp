// qkern — SPDX-License-Identifier: Apache-2.0
//
// fuzz_qkern_json.cpp: libFuzzer target for read_qkern_json_string (tools/qkern/formats); the checks are in
// fuzz_format.hpp. Seeds: corpus/qkern_json/.
#include "fuzz_format.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace qkern::tool;
  return fuzz::run_format_target(
      data, size, [](const std::string& text) { return read_qkern_json_string(text, "fuzz"); },
      [](const CalibrationSet& s) { return write_qkern_json_string(s); });
}
