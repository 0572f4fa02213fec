// qkern — SPDX-License-Identifier: Apache-2.0
//
// fuzz_ort_table.cpp: libFuzzer target for read_ort_table_string (tools/qkern/formats); the checks are in
// fuzz_format.hpp. Seeds: corpus/ort_table/.
#include "fuzz_format.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace qkern::tool;
  return fuzz::run_format_target(
      data, size, [](const std::string& text) { return read_ort_table_string(text, "fuzz"); },
      [](const CalibrationSet& s) { return write_ort_table_string(s); });
}
